"""Invoices and receipts (F3.1, F3.6–F3.19, F7.6, F11.9, F11.10; DOMAIN.md section 5).

- :class:`InvoiceKind`: a kind of invoice or receipt, the document it prints
  with, paper or electronic, and the price items it covers (the company's own
  revenue items, the items collected for other bodies, or all).
- :class:`InvoiceStock`: a range of paper numbers a supervisor issues to one
  operator. The operator prints only from their own stock; numbers are taken in
  order under the stock's row lock (:mod:`.numbering`), never twice, and none is
  skipped without a record: each number taken is a :class:`NumberUse`, either an
  invoice (issued or void, it stays) or a spoiled form with its reason.
- :class:`Invoice`: one issued invoice or receipt, with the bills it covers
  (:class:`InvoiceBill`) and its tax lines (:class:`InvoiceLine`). Electronic
  invoices also keep the provider's number, files and status. An invoice is never
  edited: it is voided (paper), offset by a red invoice (``red_of``), or reprinted.

A bill's items are on at most one live invoice per part (own items, agency
items, receipt): the partial unique constraint ``invoices_bill_once_live`` holds
it in the database, whatever the pages or the counter do at the same time.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from watermis.core.scoping import ScopedManager
from watermis.core.validators import code_validator
from watermis.documents.models import DocumentKind

INVOICE_DOCUMENTS = (
    DocumentKind.WATER_INVOICE,
    DocumentKind.AGENCY_INVOICE,
    DocumentKind.RECEIPT,
)


class Medium(models.TextChoices):
    PAPER = "paper", _("Paper (numbered forms from stock)")
    ELECTRONIC = "electronic", _("Electronic (numbered by the e-invoice provider)")


class Coverage(models.TextChoices):
    """Which price items of a bill a kind of invoice covers (``PriceItem.revenue_kind``)."""

    OWN = "own", _("Water items (company revenue)")
    AGENCY = "agency", _("Agency items (collected for other bodies)")
    ALL = "all", _("All items")


class Part(models.TextChoices):
    """The part of a bill an invoice row stands for; one live invoice per bill and part."""

    OWN = "own", _("Water items")
    AGENCY = "agency", _("Agency items")
    RECEIPT = "receipt", _("Receipt")


class InvoiceType(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary invoice (普通发票)")
    SPECIAL = "special", _("Special VAT invoice (专用发票)")


class InvoiceKind(models.Model):
    """A kind of invoice or receipt (F11.9)."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=50, unique=True)
    document = models.CharField(
        _("printed as"),
        max_length=20,
        choices=[(kind.value, kind.label) for kind in INVOICE_DOCUMENTS],
        help_text=_("The document layout it prints with."),
    )
    medium = models.CharField(
        _("medium"), max_length=10, choices=Medium.choices, default=Medium.PAPER
    )
    coverage = models.CharField(
        _("items covered"), max_length=8, choices=Coverage.choices, default=Coverage.OWN
    )
    invoice_type = models.CharField(
        _("invoice type"), max_length=10, choices=InvoiceType.choices, default=InvoiceType.ORDINARY
    )
    number_width = models.PositiveSmallIntegerField(
        _("digits of a number"),
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Paper numbers are printed with leading zeros to this many digits."),
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("invoice kind")
        verbose_name_plural = _("invoice kinds")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("invoices:kind_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.document == DocumentKind.RECEIPT:
            if self.medium != Medium.PAPER:
                errors["medium"] = _("A receipt is printed on paper from stock.")
            if self.coverage != Coverage.ALL:
                errors["coverage"] = _("A receipt covers all items of the bills it receipts.")
        elif self.document == DocumentKind.AGENCY_INVOICE and self.coverage != Coverage.AGENCY:
            errors["coverage"] = _("An agency-fee invoice covers the agency items.")
        elif self.document == DocumentKind.WATER_INVOICE and self.coverage == Coverage.AGENCY:
            errors["coverage"] = _(
                "A water invoice covers the water items, or all items; agency items alone "
                "print as an agency-fee invoice."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_receipt(self):
        return self.document == DocumentKind.RECEIPT

    @property
    def uses_stock(self):
        return self.medium == Medium.PAPER

    @property
    def parts(self):
        """The bill parts an invoice of this kind stands for."""
        if self.is_receipt:
            return (Part.RECEIPT,)
        if self.coverage == Coverage.ALL:
            return (Part.OWN, Part.AGENCY)
        return (Part(self.coverage),)


class StockState(models.TextChoices):
    ISSUED = "issued", _("In use")
    EXHAUSTED = "exhausted", _("Used up")
    RETURNED = "returned", _("Returned")


class InvoiceStock(models.Model):
    """A range of paper invoice numbers issued to one operator (F11.10).

    ``next`` is the next number to print; the range is used up when it passes
    ``last``. A returned stock keeps only the numbers used (``first`` to
    ``next - 1``); the rest may be issued again as a new stock.
    """

    kind = models.ForeignKey(
        InvoiceKind, verbose_name=_("invoice kind"), on_delete=models.PROTECT, related_name="stocks"
    )
    code = models.CharField(
        _("invoice code"),
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9-]*$", _("Use letters, digits or '-'."))],
        help_text=_("The code (series) printed on the forms, e.g. a 12-digit invoice code."),
    )
    first = models.PositiveBigIntegerField(_("first number"), validators=[MinValueValidator(1)])
    last = models.PositiveBigIntegerField(_("last number"), validators=[MinValueValidator(1)])
    next = models.PositiveBigIntegerField(_("next number"))
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        related_name="invoice_stocks",
    )
    zone = models.ForeignKey(
        "org.Zone",
        verbose_name=_("zone"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=StockState.choices, default=StockState.ISSUED
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"))
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("returned by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"
    scope_includes_unzoned = True

    class Meta:
        verbose_name = _("invoice stock")
        verbose_name_plural = _("invoice stocks")
        ordering = ["kind", "code", "first"]
        indexes = [
            models.Index(fields=["operator", "kind", "state"], name="invoices_stock_own_idx")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(first__lte=F("last")), name="invoices_stock_range"),
            models.CheckConstraint(
                condition=Q(next__gte=F("first"), next__lte=F("last") + 1),
                name="invoices_stock_next_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.code} {self.format(self.first)}–{self.format(self.last)}"

    def get_absolute_url(self):
        return reverse("invoices:stock_detail", args=[self.pk])

    def format(self, sequence):
        """A number of this stock as printed (leading zeros to the kind's width)."""
        return str(sequence).zfill(self.kind.number_width)

    @property
    def used(self):
        return self.next - self.first

    @property
    def remaining(self):
        return self.last - self.next + 1 if self.state == StockState.ISSUED else 0

    @property
    def held_until(self):
        """The last number this stock holds: all of them, or the used ones once returned."""
        return self.next - 1 if self.state == StockState.RETURNED else self.last


class NumberUseKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice printed")
    SPOILED = "spoiled", _("Form spoiled")


class NumberUse(models.Model):
    """One number taken from a stock: the invoice printed on it, or the spoiled form and why."""

    stock = models.ForeignKey(
        InvoiceStock, verbose_name=_("stock"), on_delete=models.PROTECT, related_name="uses"
    )
    sequence = models.PositiveBigIntegerField(_("number (sequence)"))
    number = models.CharField(_("number"), max_length=40)
    use = models.CharField(_("used for"), max_length=8, choices=NumberUseKind.choices)
    invoice = models.OneToOneField(
        "Invoice",
        verbose_name=_("invoice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="number_use",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    zone = models.ForeignKey(
        "org.Zone",
        verbose_name=_("zone"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ScopedManager()
    zone_scope = "zone"
    scope_includes_unzoned = True

    class Meta:
        verbose_name = _("invoice number used")
        verbose_name_plural = _("invoice numbers used")
        ordering = ["stock", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["stock", "sequence"], name="invoices_number_once"),
            models.CheckConstraint(
                condition=Q(use="invoice", invoice__isnull=False)
                | (Q(use="spoiled", invoice__isnull=True) & ~Q(reason="")),
                name="invoices_number_use_kind",
            ),
        ]

    def __str__(self):
        return f"{self.stock.code} {self.number} {self.get_use_display()}"


class InvoiceState(models.TextChoices):
    ISSUED = "issued", _("Issued")
    VOID = "void", _("Void")
    REVERSED = "reversed", _("Offset by a red invoice")


class Origin(models.TextChoices):
    PAYMENT = "payment", _("At payment")
    AFTER_PAYMENT = "after_payment", _("After payment (reissue)")
    COLLECTION = "collection", _("Walking collection, before payment")
    RED = "red", _("Red invoice")


class BuyerType(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COMPANY = "company", _("Company or organisation")


class Invoice(models.Model):
    """An issued invoice or receipt. Never edited: voided, offset by a red one, or reprinted.

    ``amount`` is the total including tax (negative on a red invoice), ``net_amount``
    and ``tax_amount`` its split by the tax lines. ``customer`` is the first
    customer of the bills (``combined``: several). Electronic invoices keep the
    provider's number, status and files (PDF, XML) in Django's storage.
    """

    kind = models.ForeignKey(
        InvoiceKind, verbose_name=_("invoice kind"), on_delete=models.PROTECT, related_name="+"
    )
    medium = models.CharField(_("medium"), max_length=10, choices=Medium.choices)
    code = models.CharField(_("invoice code"), max_length=20, blank=True)
    number = models.CharField(_("number"), max_length=40)
    stock = models.ForeignKey(
        InvoiceStock,
        verbose_name=_("stock"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    sequence = models.PositiveBigIntegerField(_("number (sequence)"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=InvoiceState.choices, default=InvoiceState.ISSUED
    )
    origin = models.CharField(_("how issued"), max_length=14, choices=Origin.choices)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        "org.BusinessUnit",
        verbose_name=_("business unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    zone = models.ForeignKey(
        "org.Zone", verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    combined = models.BooleanField(_("several customers"), default=False)
    issued_at = models.DateTimeField(_("issued at"))
    business_date = models.DateField(_("business date"))
    buyer_name = models.CharField(_("buyer"), max_length=100)
    buyer_tax_id = models.CharField(_("buyer's tax id"), max_length=30, blank=True)
    buyer_type = models.CharField(
        _("buyer type"), max_length=10, choices=BuyerType.choices, default=BuyerType.INDIVIDUAL
    )
    buyer_address = models.CharField(_("buyer's address and telephone"), max_length=200, blank=True)
    seller_name = models.CharField(_("seller"), max_length=100)
    seller_tax_id = models.CharField(_("seller's tax id"), max_length=30, blank=True)
    amount = models.DecimalField(_("total incl. tax"), max_digits=14, decimal_places=2)
    net_amount = models.DecimalField(_("net amount"), max_digits=14, decimal_places=2)
    tax_amount = models.DecimalField(_("tax"), max_digits=14, decimal_places=2)
    tax_inclusive = models.BooleanField(_("prices include tax"), default=True)
    remark = models.CharField(_("remark"), max_length=200, blank=True)
    payment = models.ForeignKey(
        "billing.LedgerEntry",
        verbose_name=_("payment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    payment_method = models.CharField(_("paid by"), max_length=40, blank=True)
    received = models.DecimalField(
        _("received"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    change = models.DecimalField(
        _("change given"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    balance_before = models.DecimalField(
        _("prepaid balance before"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    balance_after = models.DecimalField(
        _("prepaid balance after"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    red_of = models.ForeignKey(
        "self",
        verbose_name=_("red invoice of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="red_invoices",
    )
    red_reason = models.CharField(_("reason for the red invoice"), max_length=200, blank=True)
    red_confirmation_no = models.CharField(
        _("red-letter confirmation number"), max_length=40, blank=True
    )
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=200, blank=True)
    reprints = models.PositiveIntegerField(_("copies reprinted"), default=0)
    invoice_type = models.CharField(
        _("invoice type"), max_length=10, choices=InvoiceType.choices, default=InvoiceType.ORDINARY
    )
    provider = models.CharField(_("e-invoice provider"), max_length=40, blank=True)
    request_id = models.CharField(_("request id"), max_length=40, blank=True)
    provider_status = models.CharField(_("provider status"), max_length=20, blank=True)
    # Names of the provider's files in Django's default storage (``files.store_file``).
    pdf_file = models.CharField(_("PDF file"), max_length=200, blank=True)
    xml_file = models.CharField(_("XML file"), max_length=200, blank=True)
    ofd_file = models.CharField(_("OFD file"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["zone", "business_date"], name="invoices_zone_day_idx"),
            models.Index(fields=["number"], name="invoices_number_idx"),
            models.Index(fields=["operator", "business_date"], name="invoices_operator_day_idx"),
            # the invoice list's order (newest day, highest number first), read backwards
            models.Index(fields=["business_date", "number"], name="invoices_day_number_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "code", "number"], name="invoices_number_unique"
            ),
            models.UniqueConstraint(
                fields=["stock", "sequence"],
                condition=Q(stock__isnull=False),
                name="invoices_stock_sequence_unique",
            ),
            models.CheckConstraint(
                condition=Q(red_of__isnull=True, amount__gt=0)
                | Q(red_of__isnull=False, amount__lt=0),
                name="invoices_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=Q(state="issued")
                | (Q(state__in=("void", "reversed"), voided_at__isnull=False) & ~Q(void_reason="")),
                name="invoices_void_has_reason",
            ),
        ]
        permissions = [("void_invoice", _("Void invoices they issued"))]

    def __str__(self):
        return self.display_number

    def get_absolute_url(self):
        return reverse("invoices:invoice_detail", args=[self.pk])

    @property
    def display_number(self):
        return f"{self.code} {self.number}".strip()

    @property
    def is_red(self):
        return self.red_of_id is not None

    @property
    def is_live(self):
        return self.state == InvoiceState.ISSUED


class InvoiceBill(models.Model):
    """A bill's part on an invoice and its amount (negative for a red bill or a red invoice).

    ``live`` goes off when the invoice is voided or offset in full, so the bill
    can be invoiced again; one live row per bill and part, by constraint.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="bill_rows")
    bill = models.ForeignKey(
        "billing.Bill",
        verbose_name=_("bill"),
        on_delete=models.PROTECT,
        related_name="invoice_rows",
    )
    part = models.CharField(_("part"), max_length=8, choices=Part.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    live = models.BooleanField(_("live"), default=True)

    class Meta:
        verbose_name = _("invoiced bill")
        verbose_name_plural = _("invoiced bills")
        ordering = ["invoice", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bill", "part"], condition=Q(live=True), name="invoices_bill_once_live"
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="invoices_bill_not_zero"),
        ]

    def __str__(self):
        return f"{self.invoice_id} {self.bill_id} {self.part} {self.amount}"


class InvoiceLine(models.Model):
    """A tax line of an invoice: goods or service, quantity × unit price, tax rate and tax.

    ``amount`` includes tax (water prices are tax-inclusive); ``net`` + ``tax`` = ``amount``.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField(_("line"))
    item = models.ForeignKey(
        "tariffs.PriceItem",
        verbose_name=_("price item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("goods or service"), max_length=100)
    tax_code = models.CharField(_("tax classification code"), max_length=19, blank=True)
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    tier = models.PositiveSmallIntegerField(_("tier"), null=True, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    amount = models.DecimalField(_("amount incl. tax"), max_digits=14, decimal_places=2)
    tax_treatment = models.CharField(_("tax treatment"), max_length=12)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4)
    net = models.DecimalField(_("net amount"), max_digits=14, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=14, decimal_places=2)
    collected_for = models.CharField(_("collected for"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position"]

    def __str__(self):
        return f"{self.invoice_id} {self.name} {self.amount}"


class ItemTaxCode(models.Model):
    """How a price item appears on invoices: goods or service name, tax classification code, unit."""

    item = models.OneToOneField(
        "tariffs.PriceItem",
        verbose_name=_("price item"),
        on_delete=models.PROTECT,
        related_name="tax_code",
    )
    goods_name = models.CharField(
        _("goods or service name"),
        max_length=100,
        help_text=_("As the tax system prints it, e.g. *水冰雪*自来水."),
    )
    tax_code = models.CharField(
        _("tax classification code"),
        max_length=19,
        validators=[RegexValidator(r"^\d{19}$", _("A tax classification code has 19 digits."))],
    )
    unit = models.CharField(_("unit"), max_length=10, blank=True, default="吨")

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("tax code of a price item")
        verbose_name_plural = _("tax codes of price items")
        ordering = ["item__sort_order", "item__code"]

    def __str__(self):
        return f"{self.item} {self.tax_code}"

    def get_absolute_url(self):
        return reverse("invoices:taxcode_edit", args=[self.pk])


class EInvoiceSequence(models.Model):
    """The local e-invoice provider's counter of one number prefix (year, province, channel)."""

    prefix = models.CharField(_("prefix"), max_length=5, unique=True)
    next_value = models.PositiveBigIntegerField(_("next number"), default=1)

    class Meta:
        verbose_name = _("e-invoice number sequence")
        verbose_name_plural = _("e-invoice number sequences")
        default_permissions = ()

    def __str__(self):
        return f"{self.prefix} {self.next_value}"
