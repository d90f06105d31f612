"""Bank collection (F3.23, DOMAIN.md 6.1): banks and their file layouts, deduction batches,
their lines, and the bank's result files imported against them.

A customer is mandated for bank deduction when their record says so (``payment_method`` =
bank, a bank account, the bank's name; customers.models.Customer). :class:`Bank` says how its
files look (docs/bank-collection.md) and which customers it serves: those whose bank name
starts with ``customer_bank_prefix``.

A :class:`BankBatch` is one file sent to one bank for one zone. Each :class:`BankBatchLine`
asks the bank to deduct one bill's open amount. A line is ``sent`` until the bank's result
file says ``paid`` or ``failed``, or the batch is cancelled (``released``). While a line is
``sent`` its bill is *at the bank*: no other batch takes it (a partial unique index) and the
counter refuses it (``bank_queries.bills_at_bank``). Lines change only through
``payments.bank`` (the services), in the transaction that also writes the ledger.

References from lines written by the hundred thousand (bill, customer, payment entry) carry
no database constraint, as the bill run's rows do (docs/adr/0003): they are written from ids
read in the same transaction, and the ORM still refuses to delete a parent.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from watermis.core.scoping import ScopedManager
from watermis.core.validators import code_validator


class FileFormat(models.TextChoices):
    FIXED = "fixed", _("Fixed-width")
    CSV = "csv", _("Delimited (CSV)")


class FileEncoding(models.TextChoices):
    GBK = "gbk", "GBK"
    UTF8 = "utf-8", "UTF-8"


class LineEnding(models.TextChoices):
    CRLF = "crlf", _("CR LF (Windows)")
    LF = "lf", _("LF (Unix)")


class SummaryPlace(models.TextChoices):
    NONE = "none", _("No totals record")
    HEADER = "header", _("Totals record first (header)")
    TRAILER = "trailer", _("Totals record last (trailer)")


class Bank(models.Model):
    """A bank that deducts bills from mandated customers' accounts, and its file layouts.

    ``detail_fields``, ``summary_fields`` and ``result_fields`` are lists of fields
    (``{"name", "width", "align", "pad", "value"}``), checked by
    :func:`watermis.payments.bank_formats.check_bank`; docs/bank-collection.md lists the
    field names and rules.
    """

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    customer_bank_prefix = models.CharField(
        _("customers' bank name starts with"),
        max_length=100,
        help_text=_(
            "Customers paying by bank deduction whose bank name starts with this text are "
            "deducted through this bank."
        ),
    )
    merchant_no = models.CharField(
        _("merchant number"),
        max_length=30,
        blank=True,
        help_text=_("The water company's number at this bank (the merchant field of the file)."),
    )
    file_format = models.CharField(
        _("file format"), max_length=5, choices=FileFormat.choices, default=FileFormat.FIXED
    )
    encoding = models.CharField(
        _("encoding"), max_length=5, choices=FileEncoding.choices, default=FileEncoding.GBK
    )
    line_ending = models.CharField(
        _("line ending"), max_length=4, choices=LineEnding.choices, default=LineEnding.CRLF
    )
    delimiter = models.CharField(
        _("delimiter"),
        max_length=1,
        default=",",
        blank=True,
        help_text=_("Between the fields of a delimited file: a comma, '|' or ';'."),
        validators=[RegexValidator(r"^[,|;\t]$", _("Use a comma, '|', ';' or a tab."))],
    )
    summary = models.CharField(
        _("totals record of the deduction file"),
        max_length=7,
        choices=SummaryPlace.choices,
        default=SummaryPlace.HEADER,
    )
    result_summary = models.CharField(
        _("totals record of the result file"),
        max_length=7,
        choices=SummaryPlace.choices,
        default=SummaryPlace.HEADER,
    )
    detail_fields = models.JSONField(_("deduction record fields"), default=list, blank=True)
    summary_fields = models.JSONField(_("totals record fields"), default=list, blank=True)
    result_fields = models.JSONField(_("result record fields"), default=list, blank=True)
    success_codes = models.CharField(
        _("success codes"),
        max_length=100,
        default="0000",
        help_text=_("Result codes meaning the bill was deducted, separated by commas."),
    )
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager()
    zone_scope = None

    class Meta:
        verbose_name = _("bank")
        verbose_name_plural = _("banks")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("payments:bank_detail", args=[self.pk])

    def clean(self):
        from watermis.payments.bank_formats import check_bank

        check_bank(self)

    def success_code_set(self):
        return {c.strip() for c in self.success_codes.split(",") if c.strip()}


class BatchState(models.TextChoices):
    OPEN = "open", _("At the bank")
    PARTLY = "partly", _("Partly returned")
    DONE = "done", _("Returned")
    CANCELLED = "cancelled", _("Cancelled")


class BankBatch(models.Model):
    """One deduction file for one bank and one zone: its lines, totals and what came back.

    ``line_count`` and ``amount`` are what was sent; ``paid_*`` and ``failed_*`` are set
    from the lines, in the transaction that imports a result file.
    """

    number = models.CharField(_("batch number"), max_length=40, unique=True)
    bank = models.ForeignKey(
        Bank, verbose_name=_("bank"), on_delete=models.PROTECT, related_name="batches"
    )
    zone = models.ForeignKey(
        "org.Zone", verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=BatchState.choices, default=BatchState.OPEN
    )
    books = models.ManyToManyField(
        "customers.Book", verbose_name=_("reading books"), blank=True, related_name="+"
    )
    month_from = models.DateField(_("bills from month"), null=True, blank=True)
    month_to = models.DateField(_("bills to month"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("generated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("generated at"))
    business_date = models.DateField(_("batch date"))
    line_count = models.PositiveIntegerField(_("bills sent"), default=0)
    amount = models.DecimalField(_("amount sent"), max_digits=16, decimal_places=2, default=0)
    paid_count = models.PositiveIntegerField(_("bills paid"), default=0)
    paid_amount = models.DecimalField(_("amount paid"), max_digits=16, decimal_places=2, default=0)
    failed_count = models.PositiveIntegerField(_("bills failed"), default=0)
    failed_amount = models.DecimalField(
        _("amount failed"), max_digits=16, decimal_places=2, default=0
    )
    exported_at = models.DateTimeField(_("file last downloaded at"), null=True, blank=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("file last downloaded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    export_count = models.PositiveIntegerField(_("file downloads"), default=0)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("bank batch")
        verbose_name_plural = _("bank batches")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("import_bankbatch", _("Import bank result files")),
            ("cancel_bankbatch", _("Cancel bank batches")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(paid_count__lte=models.F("line_count"))
                & Q(failed_count__lte=models.F("line_count")),
                name="payments_bankbatch_counts",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("payments:batch_detail", args=[self.pk])

    @property
    def open_count(self):
        if self.state == BatchState.CANCELLED:
            return 0
        return self.line_count - self.paid_count - self.failed_count

    @property
    def open_amount(self):
        if self.state == BatchState.CANCELLED:
            return 0
        return self.amount - self.paid_amount - self.failed_amount


class LineState(models.TextChoices):
    SENT = "sent", _("At the bank")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    RELEASED = "released", _("Released (batch cancelled)")


class BankResult(models.Model):
    """One result file imported into a batch: who, when, which file, what it did."""

    batch = models.ForeignKey(
        BankBatch, verbose_name=_("bank batch"), on_delete=models.PROTECT, related_name="results"
    )
    file_name = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    business_date = models.DateField(_("deducted on"))
    rows = models.PositiveIntegerField(_("records in the file"), default=0)
    paid = models.PositiveIntegerField(_("paid"), default=0)
    paid_amount = models.DecimalField(_("amount paid"), max_digits=16, decimal_places=2, default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    failed_amount = models.DecimalField(
        _("amount failed"), max_digits=16, decimal_places=2, default=0
    )
    repeated = models.PositiveIntegerField(
        _("imported before"),
        default=0,
        help_text=_("Records whose result was imported already: nothing was posted for them."),
    )

    objects = ScopedManager()
    zone_scope = "batch__zone"

    class Meta:
        verbose_name = _("bank result file")
        verbose_name_plural = _("bank result files")
        ordering = ["batch", "imported_at", "id"]
        default_permissions = ()

    def __str__(self):
        return f"{self.batch_id} {self.file_name}"


class BankBatchLine(models.Model):
    """One bill sent to the bank in a batch: the amount asked, the account, what came back."""

    batch = models.ForeignKey(
        BankBatch, verbose_name=_("bank batch"), on_delete=models.PROTECT, related_name="lines"
    )
    seq = models.PositiveIntegerField(_("sequence"))
    bill = models.ForeignKey(
        "billing.Bill",
        verbose_name=_("bill"),
        on_delete=models.PROTECT,
        related_name="bank_lines",
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    month = models.DateField(_("billing month"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    bank_account = models.CharField(_("bank account"), max_length=40)
    account_name = models.CharField(_("account name"), max_length=100)
    mandate_no = models.CharField(_("mandate number"), max_length=40, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=LineState.choices, default=LineState.SENT
    )
    result_code = models.CharField(_("result code"), max_length=20, blank=True)
    result_message = models.CharField(_("bank's message"), max_length=200, blank=True)
    result = models.ForeignKey(
        BankResult,
        verbose_name=_("result file"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,
    )
    entry = models.ForeignKey(
        "billing.LedgerEntry",
        verbose_name=_("payment entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    objects = ScopedManager()
    zone_scope = "batch__zone"

    class Meta:
        verbose_name = _("bank batch line")
        verbose_name_plural = _("bank batch lines")
        ordering = ["batch", "seq"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["batch", "seq"], name="payments_bankline_seq_once"),
            models.UniqueConstraint(
                fields=["bill"],
                condition=Q(state="sent"),
                name="payments_bankline_bill_once_at_bank",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_bankline_positive"),
        ]

    def __str__(self):
        return f"{self.batch_id}/{self.seq}"
