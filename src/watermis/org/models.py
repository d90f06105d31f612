"""Organisation: the company, its zones and business units, staff and operators (M1, M10, F11.1, F12)."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from watermis.core.scoping import ScopedManager, ScopedQuerySet
from watermis.core.validators import code_validator, phone_validator

credit_code_validator = RegexValidator(
    r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
    _(
        "A unified social credit code has 18 characters: digits and capital letters (no I, O, S, V, Z)."
    ),
)


class Company(models.Model):
    """The water supply company using the system (F11.1). There is exactly one row."""

    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[credit_code_validator],
    )
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(
        _("postal code"),
        max_length=6,
        blank=True,
        validators=[RegexValidator(r"^\d{6}$", _("A postal code has 6 digits."))],
    )
    phone = models.CharField(
        _("telephone"), max_length=20, blank=True, validators=[phone_validator]
    )
    service_hotline = models.CharField(
        _("service hotline"), max_length=20, blank=True, validators=[phone_validator]
    )
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    bank_account = models.CharField(
        _("bank account"),
        max_length=40,
        blank=True,
        validators=[RegexValidator(r"^[0-9 ]{8,40}$", _("A bank account has 8 to 40 digits."))],
    )
    website = models.URLField(_("website"), blank=True)

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("company")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:company")


class ZoneKind(models.TextChoices):
    URBAN = "urban", _("Urban district")
    TOWNSHIP = "township", _("Township")


class Zone(models.Model):
    """A business zone (营业分区, F1.1): an urban district or a township, with its own statistics."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ZoneKind.choices)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = "pk"

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:zone_detail", args=[self.pk])


class UnitKind(models.TextChoices):
    HALL = "hall", _("Business hall")
    OFFICE = "office", _("Business office")
    POINT = "point", _("Collection point")
    DEPARTMENT = "department", _("Department")


class BusinessUnit(models.Model):
    """A business unit (营业单位, F10.1) inside a zone.

    ``shares_data``: whether this unit's data may be seen by operators of
    other units who hold the permission ``org.view_shared_data``.
    """

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=50, unique=True)
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="units"
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=UnitKind.choices, default=UnitKind.HALL
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(
        _("telephone"), max_length=20, blank=True, validators=[phone_validator]
    )
    shares_data = models.BooleanField(_("shares data with other units"), default=False)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("business unit")
        verbose_name_plural = _("business units")
        ordering = ["zone__sort_order", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:unit_detail", args=[self.pk])


class EmployeeRole(models.TextChoices):
    READER = "reader", _("Meter reader")
    COLLECTOR = "collector", _("Collector")
    INSTALLER = "installer", _("Installer")
    INSPECTOR = "inspector", _("Inspector")


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Employee(models.Model):
    """A member of staff (F10.2). One person can hold several field roles (F10.3–F10.6)."""

    code = models.CharField(
        _("staff number"), max_length=20, unique=True, validators=[code_validator]
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50, db_index=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    phone = models.CharField(
        _("mobile phone"), max_length=20, blank=True, validators=[phone_validator]
    )
    unit = models.ForeignKey(
        BusinessUnit,
        verbose_name=_("business unit"),
        on_delete=models.PROTECT,
        related_name="employees",
    )
    is_reader = models.BooleanField(_("meter reader"), default=False)
    is_collector = models.BooleanField(_("collector"), default=False)
    is_installer = models.BooleanField(_("installer"), default=False)
    is_inspector = models.BooleanField(_("inspector"), default=False)
    hired_on = models.DateField(_("hired on"), null=True, blank=True)
    active = models.BooleanField(_("in service"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = "unit__zone"

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def get_absolute_url(self):
        return reverse("org:employee_detail", args=[self.pk])

    def role_labels(self):
        return [role.label for role in EmployeeRole if getattr(self, f"is_{role.value}")]


class OperatorQuerySet(ScopedQuerySet):
    pass


class OperatorManager(UserManager.from_queryset(OperatorQuerySet)):
    pass


class Operator(AbstractUser):
    """A person who signs in (F12.5): linked to an employee and a business unit.

    The zones an operator sees are the unit's zone, the zones granted here,
    every zone with ``all_zones``, and, with ``org.view_shared_data``, the
    zones of units that share their data.
    """

    name = models.CharField(pgettext_lazy("person", "name"), max_length=50, blank=True)
    employee = models.OneToOneField(
        Employee,
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="operator",
    )
    unit = models.ForeignKey(
        BusinessUnit,
        verbose_name=_("business unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="operators",
    )
    zones = models.ManyToManyField(
        Zone, verbose_name=_("other zones granted"), blank=True, related_name="+"
    )
    all_zones = models.BooleanField(_("sees every zone"), default=False)
    failed_logins = models.PositiveIntegerField(_("failed sign-ins in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)

    objects = OperatorManager()
    zone_scope = "unit__zone"
    scope_includes_unzoned = True
    journal_exclude = ("password", "last_login", "failed_logins")

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        ordering = ["username"]
        permissions = [
            ("manage_roles", _("Manage roles and permissions")),
            ("view_shared_data", _("See the data of units that share it")),
        ]

    def __str__(self):
        return f"{self.name or self.username} ({self.username})" if self.name else self.username

    def get_absolute_url(self):
        return reverse("org:operator_detail", args=[self.pk])

    def visible_zone_ids(self):
        """Zone ids this operator may see, or None for all (see the class docstring)."""
        if self.is_superuser or self.all_zones:
            return None
        zones = set(self.zones.values_list("pk", flat=True))
        if self.unit_id:
            zones.add(self.unit.zone_id)
        if self.has_perm("org.view_shared_data"):
            zones |= set(
                BusinessUnit.objects.filter(shares_data=True).values_list("zone_id", flat=True)
            )
        return zones

    def is_locked(self, now=None):
        return bool(self.locked_until and self.locked_until > (now or timezone.now()))


class LoginEventKind(models.TextChoices):
    LOGIN = "login", _("Signed in")
    FAILED = "failed", _("Failed sign-in")
    LOCKED = "locked", _("Refused: locked")
    LOGOUT = "logout", _("Signed out")
    SWITCH = "switch", _("Switched operator")


class LoginEvent(models.Model):
    """One sign-in attempt, sign-out or operator switch (F12.3). Append-only."""

    at = models.DateTimeField(_("time"), db_index=True)
    username = models.CharField(_("user name entered"), max_length=150, db_index=True)
    operator = models.ForeignKey(
        Operator,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="login_events",
        db_constraint=False,
    )
    kind = models.CharField(_("event"), max_length=10, choices=LoginEventKind.choices)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    zone_id = models.BigIntegerField(_("zone"), null=True, blank=True)

    objects = ScopedManager()
    zone_scope = "zone_id"
    scope_includes_unzoned = True

    class Meta:
        verbose_name = _("login event")
        verbose_name_plural = _("login history")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.get_kind_display()}"
