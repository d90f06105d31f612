"""Customers and their meters (M5, M6), reading areas and books (F11.6, F11.7).

Every customer belongs to a zone (through its book's area; the zone is also kept
on the customer for fast scoping). Account numbers come from a per-zone
sequence under a row lock and are never reused. Meters are never deleted:
a replaced meter is retired with its final reading, a transferred meter keeps
its history.
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from watermis.core.scoping import ScopedManager
from watermis.core.validators import code_validator, phone_validator
from watermis.org.models import Employee, Zone
from watermis.tariffs.models import Caliber, SurchargeKind, Tariff


class Area(models.Model):
    """A reading area (片区, F11.6) inside a zone."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=50)
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="areas"
    )
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("reading area")
        verbose_name_plural = _("reading areas")
        ordering = ["zone__sort_order", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:area_detail", args=[self.pk])


class ReadingCycle(models.TextChoices):
    MONTHLY = "1", _("Monthly")
    BIMONTHLY = "2", _("Every two months")
    QUARTERLY = "3", _("Quarterly")


class Book(models.Model):
    """A reading book (抄表册, F11.7): the accounts one reader reads, in walking order."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=50)
    area = models.ForeignKey(
        Area, verbose_name=_("reading area"), on_delete=models.PROTECT, related_name="books"
    )
    reader = models.ForeignKey(
        Employee,
        verbose_name=_("meter reader"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="books_read",
        limit_choices_to={"is_reader": True, "active": True},
    )
    collector = models.ForeignKey(
        Employee,
        verbose_name=_("collector"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="books_collected",
        limit_choices_to={"is_collector": True, "active": True},
    )
    cycle = models.CharField(
        _("reading cycle"), max_length=1, choices=ReadingCycle.choices, default=ReadingCycle.MONTHLY
    )
    reading_day = models.PositiveSmallIntegerField(
        _("reading day"), default=20, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    zone_scope = "area__zone"

    class Meta:
        verbose_name = _("reading book")
        verbose_name_plural = _("reading books")
        ordering = ["area__zone__sort_order", "code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("customers:book_detail", args=[self.pk])


class AccountSequence(models.Model):
    """The next account number of a zone. Taken under a row lock; numbers are never reused.

    ``pattern`` is a Python format with ``{zone}`` (the zone code) and ``{seq}``
    (the running number), e.g. ``{zone}{seq:06d}`` → DC000123.
    """

    zone = models.OneToOneField(Zone, on_delete=models.PROTECT, related_name="account_sequence")
    pattern = models.CharField(
        _("account number pattern"), max_length=40, default="{zone}{seq:06d}"
    )
    next_value = models.PositiveBigIntegerField(_("next number"), default=1)

    class Meta:
        verbose_name = _("account number sequence")
        verbose_name_plural = _("account number sequences")

    def __str__(self):
        return f"{self.zone}: {self.pattern} #{self.next_value}"


class PaymentMethod(models.TextChoices):
    COUNTER = "counter", _("At the counter")
    COLLECTOR = "collector", _("Door-to-door collector")
    BANK = "bank", _("Bank deduction")
    PREPAID = "prepaid", _("Prepaid deposit")


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("customer", "Active")
    SUSPENDED = "suspended", pgettext_lazy("customer", "Suspended")
    CLOSED = "closed", pgettext_lazy("customer", "Closed")


class Customer(models.Model):
    """A water customer's account (F5.1)."""

    account_no = models.CharField(_("account number"), max_length=30, unique=True)
    name = models.CharField(pgettext_lazy("customer", "name"), max_length=100, db_index=True)
    name_initials = models.CharField(
        _("name initials"), max_length=100, db_index=True, blank=True, editable=False
    )
    id_number = models.CharField(
        _("ID or credit code"),
        max_length=18,
        blank=True,
        validators=[
            RegexValidator(
                r"^[0-9A-Z]{15,18}$",
                _("An ID card or credit code has 15 to 18 digits and capital letters."),
            )
        ],
    )
    phone = models.CharField(
        _("telephone"), max_length=20, blank=True, db_index=True, validators=[phone_validator]
    )
    phone2 = models.CharField(
        _("other telephone"), max_length=20, blank=True, validators=[phone_validator]
    )
    address = models.CharField(_("address"), max_length=200, db_index=True)
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="customers"
    )
    book = models.ForeignKey(
        Book, verbose_name=_("reading book"), on_delete=models.PROTECT, related_name="customers"
    )
    route_order = models.PositiveIntegerField(_("route order"), default=0)
    category = models.ForeignKey(
        "tariffs.WaterCategory",
        verbose_name=_("water-use category"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    household_size = models.PositiveSmallIntegerField(
        _("household size"), default=0, validators=[MaxValueValidator(99)]
    )
    low_income = models.BooleanField(_("low-income household"), default=False)
    payment_method = models.CharField(
        _("payment method"),
        max_length=10,
        choices=PaymentMethod.choices,
        default=PaymentMethod.COUNTER,
    )
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    bank_account = models.CharField(
        _("bank account"),
        max_length=40,
        blank=True,
        validators=[RegexValidator(r"^[0-9 ]{8,40}$", _("A bank account has 8 to 40 digits."))],
    )
    mandate_no = models.CharField(_("deduction mandate number"), max_length=40, blank=True)
    mandate_signed_on = models.DateField(_("mandate signed on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    opened_on = models.DateField(_("opened on"), db_index=True)
    suspended_on = models.DateField(_("suspended on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True, db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["account_no"]
        indexes = [models.Index(fields=["book", "route_order"], name="customers_route_idx")]

    def __str__(self):
        return f"{self.account_no} {self.name}"

    def get_absolute_url(self):
        return reverse("customers:customer_detail", args=[self.pk])


class MeterKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer meter")
    DISTRICT = "district", _("District master meter")
    PLANT = "plant", _("Plant outlet meter")


class MeterStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("meter", "In service")
    REMOVED = "removed", pgettext_lazy("meter", "Removed")


class ValveState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    UNKNOWN = "unknown", _("Unknown")


class Meter(models.Model):
    """A water meter (F5.2, F6.2). Customer meters are billed; master meters never (F6.1).

    ``parent``: the parent meter of a sub-meter (套表: the parent is billed its
    volume minus its subs'). ``master``: the district or plant meter a customer
    meter sits behind, for loss rates. Shared meters list their households in
    :class:`MeterShare`.
    """

    number = models.CharField(_("meter number"), max_length=30, unique=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=MeterKind.choices, default=MeterKind.CUSTOMER
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meters",
    )
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="meters"
    )
    caliber = models.CharField(
        _("caliber"), max_length=6, choices=Caliber.choices, default=Caliber.DN15
    )
    brand = models.CharField(_("brand"), max_length=50, blank=True)
    model = models.CharField(_("model"), max_length=50, blank=True)
    digits = models.PositiveSmallIntegerField(
        _("dial digits"),
        default=5,
        validators=[MinValueValidator(3), MaxValueValidator(10)],
        help_text=_("The reading rolls over to 0 after 10^digits − 1."),
    )
    installed_on = models.DateField(_("installed on"))
    initial_reading = models.DecimalField(
        _("initial reading"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    tariff = models.ForeignKey(
        Tariff,
        verbose_name=_("tariff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    location = models.CharField(_("location"), max_length=200, blank=True)
    remote_read = models.BooleanField(_("remote reading"), default=False)
    remote_valve = models.BooleanField(_("remote valve"), default=False)
    device_address = models.CharField(_("device address"), max_length=20, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent meter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subs",
    )
    master = models.ForeignKey(
        "self",
        verbose_name=_("master meter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="behind",
        limit_choices_to={"kind__in": [MeterKind.DISTRICT, MeterKind.PLANT]},
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MeterStatus.choices, default=MeterStatus.ACTIVE
    )
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    final_reading = models.DecimalField(
        _("final reading"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    valve_state = models.CharField(
        _("valve"), max_length=8, choices=ValveState.choices, default=ValveState.OPEN
    )

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="customer", customer__isnull=False)
                | ~models.Q(kind="customer"),
                name="customers_meter_customer_has_owner",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("customers:meter_detail", args=[self.pk])

    @property
    def rollover(self):
        """The value after which the dial shows 0 again (10^digits)."""
        return 10**self.digits


class MeterShare(models.Model):
    """A household's share of a meter used by several households (ratios add up to 1)."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="shares")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="meter_shares"
    )
    ratio = models.DecimalField(
        _("share"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meter", "customer"], name="customers_share_unique")
        ]

    def __str__(self):
        return f"{self.meter} {self.customer} {self.ratio}"


class MeterEventKind(models.TextChoices):
    INSTALL = "install", _("Installed")
    REPLACE = "replace", _("Replaced")
    TRANSFER = "transfer", _("Transferred")
    SHUTOFF = "shutoff", _("Supply shut off")
    RESTORE = "restore", _("Supply restored")


class MeterEvent(models.Model):
    """What happened to a meter in the field: installation, replacement, transfer, shutoff,
    restore (F6.3–F6.5, F6.7). Append-only."""

    meter = models.ForeignKey(
        Meter, verbose_name=_("meter"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("event"), max_length=10, choices=MeterEventKind.choices)
    on = models.DateField(_("date"))
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    old_final_reading = models.DecimalField(
        _("old meter final reading"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    new_meter = models.ForeignKey(
        Meter,
        verbose_name=_("new meter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    new_initial_reading = models.DecimalField(
        _("new meter initial reading"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    from_customer = models.ForeignKey(
        Customer,
        verbose_name=_("from customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_customer = models.ForeignKey(
        Customer,
        verbose_name=_("to customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    installer = models.ForeignKey(
        Employee,
        verbose_name=_("installer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        "org.Operator",
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("meter event")
        verbose_name_plural = _("meter events")
        ordering = ["-on", "-id"]

    def __str__(self):
        return f"{self.meter} {self.get_kind_display()} {self.on}"


class CustomerSurcharge(models.Model):
    """An extra fee charged to one customer (F11.5), from ``starts_on`` until ``ends_on``.

    Never deleted: ending one sets ``ends_on``. The bill run passes those in force
    to the tariff calculator as ``BillFacts.extra_fees``.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="surcharges"
    )
    item = models.ForeignKey(
        "tariffs.PriceItem",
        verbose_name=_("price item"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=SurchargeKind.choices)
    amount = models.DecimalField(
        _("amount"), max_digits=10, decimal_places=4, validators=[MinValueValidator(0)]
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)

    objects = ScopedManager()
    zone_scope = "customer__zone"

    class Meta:
        verbose_name = _("customer surcharge")
        verbose_name_plural = _("customer surcharges")
        ordering = ["customer", "-starts_on"]

    def __str__(self):
        return f"{self.customer.account_no} {self.item} {self.amount}"

    def get_absolute_url(self):
        return reverse("customers:customer_detail", args=[self.customer_id])
