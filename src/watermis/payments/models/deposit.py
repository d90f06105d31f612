"""Prepaid deposits (预存水费, F4.1–F4.6; issue 9).

The money lives in the ledger's prepaid deposit (``billing.models``, ``DEPOSIT_POT``):
a deposit is one ``deposit`` entry, a correction its reversal, a transfer a
``transfer_out`` from the deposit and a ``transfer_in`` to the bill account that
settles the bills; undoing a transfer reverses both. These tables are the record
around those entries, each written once and never changed:

- :class:`Deposit`: who took how much for whom, when, how (counter method or an
  outside channel with its reference), what was tendered and given back, the
  deposit balance after it.
- :class:`DepositCorrection`: a wrong deposit reversed (F4.2): by whom, why.
- :class:`TransferRun`: one deposit transfer (F4.3) of a zone or of the company,
  started by hand or right after a bill run; its progress and totals.
- :class:`DepositTransfer`: what one run took from one customer's deposit; the
  bills it paid are the allocations of its ``in_entry``.
- :class:`TransferUndo`: a transfer undone (F4.4): by whom, why.

A run writes its transfers by the hundred thousand, so, as billing's bulk tables do
(docs/adr/0003), their references carry no database constraint; ``verify`` proves
that each leads to a row.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from watermis.core.scoping import ScopedManager


class DepositChannel(models.TextChoices):
    """Where a deposit came in: the counter, or an outside channel (its callback's
    reference is the ledger entry's idempotency key)."""

    COUNTER = "counter", _("Counter")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    BANK = "bank", _("Bank")
    ONLINE = "online", _("Online banking")


class Deposit(models.Model):
    """One prepaid deposit: the ledger entry it posted and the cash around it."""

    entry = models.OneToOneField(
        "billing.LedgerEntry",
        verbose_name=_("ledger entry"),
        on_delete=models.PROTECT,
        related_name="deposit_record",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="deposits",
    )
    zone = models.ForeignKey(
        "org.Zone", verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
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
    channel = models.CharField(
        _("channel"), max_length=10, choices=DepositChannel.choices, default=DepositChannel.COUNTER
    )
    method = models.CharField(_("method"), max_length=10, blank=True)
    reference = models.CharField(_("channel reference"), max_length=64, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    tendered = models.DecimalField(_("tendered"), max_digits=14, decimal_places=2)
    change = models.DecimalField(_("change"), max_digits=14, decimal_places=2, default=0)
    balance_before = models.DecimalField(_("deposit before"), max_digits=14, decimal_places=2)
    balance_after = models.DecimalField(_("deposit after"), max_digits=14, decimal_places=2)
    at = models.DateTimeField(_("taken at"))
    business_date = models.DateField(_("business date"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("prepaid deposit")
        verbose_name_plural = _("prepaid deposits")
        ordering = ["-at", "-id"]
        permissions = [
            ("take_deposit", _("Can take prepaid deposits")),
            ("correct_any_deposit", _("Can correct any operator's deposit, any day")),
        ]
        indexes = [models.Index(fields=["business_date", "operator"], name="payments_deposit_day")]

    def __str__(self):
        return f"{self.customer_id} {self.amount}"

    def get_absolute_url(self):
        return reverse("payments:deposit_detail", args=[self.pk])


class DepositCorrection(models.Model):
    """A wrong deposit reversed by a linked ledger entry (F4.2); the deposit row stays."""

    deposit = models.OneToOneField(
        Deposit, verbose_name=_("deposit"), on_delete=models.PROTECT, related_name="correction"
    )
    entry = models.OneToOneField(
        "billing.LedgerEntry",
        verbose_name=_("reversal entry"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("corrected by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField(_("corrected at"))
    business_date = models.DateField(_("business date"))
    balance_after = models.DecimalField(_("deposit after"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("deposit correction")
        verbose_name_plural = _("deposit corrections")

    def __str__(self):
        return f"{self.deposit_id}: {self.reason}"


class TransferTrigger(models.TextChoices):
    MANUAL = "manual", _("Started by hand")
    BILL_RUN = "bill_run", _("After a bill run")
    COUNTER = "counter", _("At a deposit")


class TransferRun(models.Model):
    """One deposit transfer (F4.3): of a zone (or the company), by hand or after a bill run.

    ``customers``/``bills``/``amount`` count what the run transferred so far (each chunk
    adds its own as it commits); ``candidates`` how many accounts it set out to look at.
    """

    zone = models.ForeignKey(
        "org.Zone",
        verbose_name=_("zone"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: every zone the operator sees."),
    )
    trigger = models.CharField(
        _("started"), max_length=10, choices=TransferTrigger.choices, default=TransferTrigger.MANUAL
    )
    bill_run = models.OneToOneField(
        "billing.BillRun",
        verbose_name=_("bill run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deposit_transfer",
    )
    business_date = models.DateField(_("business date"))
    partial = models.BooleanField(_("partial cover"), default=False)
    overdraft = models.DecimalField(
        _("overdraft allowed"), max_digits=14, decimal_places=2, default=0
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    candidates = models.PositiveIntegerField(_("accounts to look at"), default=0)
    looked_at = models.PositiveIntegerField(_("accounts looked at"), default=0)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    bills = models.PositiveIntegerField(_("bills"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=0)
    error = models.TextField(_("error"), blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("deposit transfer run")
        verbose_name_plural = _("deposit transfer runs")
        ordering = ["-started_at", "-id"]
        permissions = [
            ("run_transfer", _("Can run deposit transfers")),
            ("undo_transfer", _("Can undo deposit transfers")),
        ]

    def __str__(self):
        return f"#{self.pk} {self.business_date}"

    def get_absolute_url(self):
        return reverse("payments:transfer_detail", args=[self.pk])


class DepositTransfer(models.Model):
    """What one run took from one customer's deposit to pay their bills."""

    run = models.ForeignKey(
        TransferRun,
        verbose_name=_("run"),
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="transfers",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="deposit_transfers",
    )
    zone = models.ForeignKey(
        "org.Zone",
        verbose_name=_("zone"),
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
    )
    out_entry = models.OneToOneField(
        "billing.LedgerEntry",
        verbose_name=_("transfer out"),
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
    )
    in_entry = models.OneToOneField(
        "billing.LedgerEntry",
        verbose_name=_("transfer in"),
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="deposit_transfer",
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    bills = models.PositiveIntegerField(_("bills"))
    deposit_before = models.DecimalField(_("deposit before"), max_digits=14, decimal_places=2)
    deposit_after = models.DecimalField(_("deposit after"), max_digits=14, decimal_places=2)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("deposit transfer")
        verbose_name_plural = _("deposit transfers")
        ordering = ["run", "customer"]
        indexes = [models.Index(fields=["customer", "run"], name="payments_transfer_customer")]

    def __str__(self):
        return f"{self.customer_id} {self.amount}"


class TransferUndo(models.Model):
    """A transfer undone (F4.4): its two entries reversed, the bills open again."""

    transfer = models.OneToOneField(
        DepositTransfer, verbose_name=_("transfer"), on_delete=models.PROTECT, related_name="undo"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField(_("undone at"))
    business_date = models.DateField(_("business date"))

    class Meta:
        verbose_name = _("undone deposit transfer")
        verbose_name_plural = _("undone deposit transfers")

    def __str__(self):
        return f"{self.transfer_id}: {self.reason}"
