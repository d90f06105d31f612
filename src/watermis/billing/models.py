"""The customer ledger (DESIGN.md "Money and the ledger"; issue 6).

Every account has append-only entries. Each entry names its **direction**:

- ``debit``: the customer owes more (a bill, a late fee, money refunded to the
  customer, a transfer out, the reversal of a credit);
- ``credit``: the customer owes less (a payment, a prepaid deposit, a waiver, a
  write-off, a red bill, a transfer in, the reversal of a debit).

Amounts are always positive. An account holds two pots:

- the **bill account**: bills, late fees, payments, waivers, write-offs, red bills
  and transfers in. Its ``balance`` is Σ credits − Σ debits: below zero arrears,
  above zero open credit (an overpayment, change kept at the counter) that pays
  the next bill as it is posted;
- the **prepaid deposit** (预存, F4): deposits and transfers out (``DEPOSIT_POT``).
  Its ``deposit`` is Σ deposits − Σ transfers out. Deposit money pays bills only
  through a deposit transfer (``payments.deposits``), which posts a ``transfer_out``
  from the deposit and a ``transfer_in`` to the bill account, settling the bills.
  Deposit entries are never allocated.

Both sums are cached on :class:`Account` and changed only in the transaction
that posts the entry, under the account's row lock (a reversal counts in the pot
of the entry it reverses). A posted entry is never changed: the
database refuses UPDATE and DELETE (triggers, migration 0002); a mistake is
undone by a reversal entry linked to it.

:class:`Allocation` says which credit settled which debit (a payment paying a
bill). Allocations are append-only too; reversing an entry adds negative
allocations that cancel its own. The ``verify`` command proves the books.

References from the rows a bill run writes by the million (entries, bills,
bill lines) carry no database foreign-key constraint (``db_constraint=False``,
docs/adr/0003): a constraint costs a trigger and a parent-row lock per row,
which is most of a bill run's commit. The rows are written from ids just read
under lock in the same transaction, the ORM still refuses to delete a parent
(``on_delete=PROTECT``), entries and lines can be neither changed nor deleted
(triggers), and ``verify`` proves that every reference leads to a row.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from watermis.core.scoping import ScopedManager
from watermis.customers.models import Customer
from watermis.org.models import BusinessUnit, Zone


class Direction(models.TextChoices):
    DEBIT = "debit", _("Debit (owes more)")
    CREDIT = "credit", _("Credit (owes less)")


class EntryKind(models.TextChoices):
    BILL = "bill", _("Water bill")
    LATE_FEE = "late_fee", _("Late fee")
    REFUND = "refund", _("Refund")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    PAYMENT = "payment", _("Payment")
    DEPOSIT = "deposit", _("Prepaid deposit")
    WAIVER = "waiver", _("Waiver")
    WRITE_OFF = "write_off", _("Write-off")
    RED_BILL = "red_bill", _("Red (negative) bill")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    REVERSAL = "reversal", _("Reversal")


DEPOSIT_POT = (EntryKind.DEPOSIT, EntryKind.TRANSFER_OUT)
# An entry of the prepaid deposit: a deposit, a transfer out, or the reversal of one.
IN_DEPOSIT = Q(kind__in=DEPOSIT_POT) | Q(kind=EntryKind.REVERSAL, reverses__kind__in=DEPOSIT_POT)
DEBIT_KINDS = (EntryKind.BILL, EntryKind.LATE_FEE, EntryKind.REFUND, EntryKind.TRANSFER_OUT)
CREDIT_KINDS = (
    EntryKind.PAYMENT,
    EntryKind.DEPOSIT,
    EntryKind.WAIVER,
    EntryKind.WRITE_OFF,
    EntryKind.RED_BILL,
    EntryKind.TRANSFER_IN,
)


class Account(models.Model):
    """A customer's ledger account: the cached sums of its entries, ``balance`` of the bill
    account and ``deposit`` of the prepaid deposit (see the module's docstring)."""

    customer = models.OneToOneField(
        Customer,
        verbose_name=_("customer"),
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="account",
    )
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    balance = models.DecimalField(_("balance"), max_digits=14, decimal_places=2, default=0)
    deposit = models.DecimalField(_("prepaid deposit"), max_digits=14, decimal_places=2, default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["customer__account_no"]

    def __str__(self):
        return f"{self.customer.account_no} {self.balance}"


class LedgerEntry(models.Model):
    """One posted amount on a customer's account: who, when, why. Never changed."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="ledger",
        db_index=False,  # billing_entry_customer_idx starts with it
        db_constraint=False,
    )
    zone = models.ForeignKey(
        Zone,
        verbose_name=_("zone"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("kind"), max_length=14, choices=EntryKind.choices)
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    posted_at = models.DateTimeField(_("posted at"))
    business_date = models.DateField(_("business date"))
    period = models.DateField(_("billing month"), null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
    )
    unit = models.ForeignKey(
        BusinessUnit,
        verbose_name=_("business unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="reversed_by",
    )
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    external_key = models.CharField(_("external reference"), max_length=64, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["customer", "posted_at", "id"]
        indexes = [
            models.Index(fields=["customer", "posted_at"], name="billing_entry_customer_idx"),
            models.Index(fields=["zone", "business_date"], name="billing_entry_zone_day_idx"),
            models.Index(fields=["business_date"], name="billing_entry_day_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_entry_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=DEBIT_KINDS, direction="debit")
                | Q(kind__in=CREDIT_KINDS, direction="credit")
                | Q(kind="reversal", reverses__isnull=False),
                name="billing_entry_kind_direction",
            ),
            models.UniqueConstraint(
                fields=["channel", "external_key"],
                condition=~Q(external_key=""),
                name="billing_entry_external_once",
            ),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.get_kind_display()} {self.amount}"

    @property
    def signed(self):
        """The entry's effect on the balance (credit +, debit −)."""
        return self.amount if self.direction == Direction.CREDIT else -self.amount


class Allocation(models.Model):
    """``amount`` of credit entry ``credit`` settles debit entry ``debit`` (negative: undone).

    ``made_by`` is the entry whose posting wrote the row: the credit itself,
    the new debit a standing credit was applied to, or a reversal.
    """

    credit = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="allocations_out"
    )
    debit = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="allocations_in")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    made_by = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="billing_allocation_not_zero")
        ]

    def __str__(self):
        return f"{self.credit_id} → {self.debit_id} {self.amount}"


# ---------------------------------------------------------------- bills


class BillKind(models.TextChoices):
    REGULAR = "regular", _("Bill")
    RED = "red", _("Red (negative) bill")


class BillState(models.TextChoices):
    ISSUED = "issued", _("Issued")
    CANCELLED = "cancelled", _("Cancelled")


class BillStatus(models.TextChoices):
    """What a bill's allocations say (derived, never stored; see ``bills.with_status``)."""

    UNPAID = "unpaid", _("Unpaid")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    WRITTEN_OFF = "written_off", _("Written off")
    INSPECTION = "inspection", _("Transferred to inspection")
    CANCELLED = "cancelled", _("Cancelled")
    CREDIT = "credit", _("Credit (red bill)")


class Bill(models.Model):
    """One bill of one meter (or one share or split part of it) for one billing month.

    Its money lives in the ledger: ``entry`` is the bill's debit (a red bill's
    credit); a bill of zero has no entry. Amounts and lines never change; a
    wrong bill is cancelled (open month, ``cancel_entry`` reverses its entry)
    or offset by a red bill (closed month). Paid, partly paid, written off are
    read from the entry's allocations.
    """

    kind = models.CharField(
        _("kind"), max_length=8, choices=BillKind.choices, default=BillKind.REGULAR
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        db_index=False,
        related_name="bills",
        db_constraint=False,
    )
    zone = models.ForeignKey(
        Zone,
        verbose_name=_("zone"),
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="+",
    )
    book = models.ForeignKey(
        "customers.Book",
        verbose_name=_("reading book"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="+",
    )
    meter = models.ForeignKey(
        "customers.Meter",
        verbose_name=_("meter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bills",
        db_constraint=False,
    )
    reading = models.ForeignKey(
        "readings.Reading",
        verbose_name=_("meter reading"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="bills",
    )
    part = models.PositiveSmallIntegerField(
        _("part"), default=0, help_text=_("0: the whole read; a split part or a share's number.")
    )
    month = models.DateField(_("billing month"))  # billing_bill_month_idx starts with it
    period_start = models.DateField(_("from (previous reading)"))
    period_end = models.DateField(_("to (this reading)"))
    previous = models.DecimalField(
        _("previous reading"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    current = models.DecimalField(
        _("current reading"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    read_volume = models.DecimalField(_("metered volume"), max_digits=12, decimal_places=2)
    volume = models.DecimalField(_("billed volume"), max_digits=12, decimal_places=2)
    tariff = models.ForeignKey(
        "tariffs.Tariff",
        verbose_name=_("tariff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="+",
    )
    household_size = models.PositiveSmallIntegerField(_("household size"), default=0)
    cycle_start = models.DateField(_("tier year from"), null=True, blank=True)
    cycle_to_date = models.DecimalField(
        _("tier-year volume after this bill"), max_digits=14, decimal_places=2, default=0
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"), db_index=True)
    entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("ledger entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bill",
        db_constraint=False,
    )
    run_book = models.ForeignKey(
        "BillRunBook",
        verbose_name=_("bill run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="bill_set",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=BillState.choices, default=BillState.ISSUED
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="corrections",
    )
    inspection = models.BooleanField(_("transferred to inspection"), default=False)
    late_fee_exempt = models.BooleanField(_("no late fee"), default=False)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="+",
    )
    cancel_entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("cancelling entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="cancelled_bill",
    )

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        ordering = ["-month", "customer_id", "id"]
        indexes = [
            models.Index(fields=["customer", "month"], name="billing_bill_customer_idx"),
            models.Index(fields=["zone", "month"], name="billing_bill_zone_month_idx"),
            # the bill lists' order (newest month, newest bill first) read straight off it
            models.Index(fields=["month", "id"], name="billing_bill_month_idx"),
            models.Index(
                fields=["corrects"],
                condition=Q(corrects__isnull=False),
                name="billing_bill_corrects_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reading", "customer", "part"],
                condition=Q(state="issued", kind="regular"),
                name="billing_bill_once_per_read",
            ),
            models.CheckConstraint(
                condition=Q(kind="regular", amount__gte=0) | Q(kind="red", amount__lt=0),
                name="billing_bill_sign_by_kind",
            ),
        ]
        permissions = [
            ("run_billing", _("Run and preview bill runs")),
            ("correct_bill", _("Cancel bills and request red bills")),
            ("approve_correction", _("Approve red bills")),
            ("close_month", _("Close a zone's billing month")),
        ]

    def __str__(self):
        return f"{self.pk} {self.month:%Y-%m} {self.amount}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("billing:bill_detail", args=[self.pk])


class BillLine(models.Model):
    """One priced line of a bill: an item, its tier, volume × unit price = amount (to the fen)."""

    class Kind(models.TextChoices):
        WATER = "water", _("Price item")
        QUOTA = "quota", _("Over-quota surcharge")
        FEE = "fee", _("Extra fee")

    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )
    item = models.ForeignKey(
        "tariffs.PriceItem",
        verbose_name=_("price item"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices, default=Kind.WATER)
    tier = models.PositiveSmallIntegerField(_("tier"), null=True, blank=True)
    volume = models.DecimalField(_("volume"), max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=4)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    price_from = models.DateField(_("price in force from"))

    class Meta:
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")
        ordering = ["bill", "id"]

    def __str__(self):
        return f"{self.bill_id} {self.item_id} {self.amount}"


# ---------------------------------------------------------------- bill runs


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Finished with errors")


class BillRun(models.Model):
    """A bill run (or its dry-run preview) of one zone's billing month, book by book."""

    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("billing month"))
    dry_run = models.BooleanField(_("preview only"), default=False)
    issued_on = models.DateField(_("bill date"))
    due_on = models.DateField(_("due on"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("bill run")
        verbose_name_plural = _("bill runs")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.zone} {self.month:%Y-%m}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("billing:run_detail", args=[self.pk])


class BookStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BillRunBook(models.Model):
    """One book of a bill run: billed in one transaction, so a book is all done or not at all.

    ``totals`` holds what the book billed (or would bill): bills, volume and
    amount, by price item, and the reads left out with why.
    """

    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="books")
    period = models.ForeignKey(
        "readings.ReadingPeriod",
        verbose_name=_("reading period"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    book = models.ForeignKey(
        "customers.Book", verbose_name=_("reading book"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=BookStatus.choices, default=BookStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    bill_count = models.PositiveIntegerField(_("bills"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=0)
    volume = models.DecimalField(_("billed volume"), max_digits=16, decimal_places=2, default=0)
    totals = models.JSONField(_("totals"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("bill run book")
        verbose_name_plural = _("bill run books")
        ordering = ["run", "book__code"]
        constraints = [
            models.UniqueConstraint(fields=["run", "book"], name="billing_runbook_once"),
        ]

    def __str__(self):
        return f"{self.run} {self.book_id}"


# ---------------------------------------------------------------- late fees, write-offs


class LateFeeCharge(models.Model):
    """A late fee charged on a bill: how it was computed, and its ledger entry."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="late_fees")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="late_fee")
    accrues_from = models.DateField(_("accrues from"))
    through = models.DateField(_("through"))
    days = models.PositiveIntegerField(_("days"))
    principal = models.DecimalField(_("unpaid principal"), max_digits=14, decimal_places=2)
    daily_rate = models.DecimalField(_("daily rate"), max_digits=8, decimal_places=6)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("late fee")
        verbose_name_plural = _("late fees")
        ordering = ["bill", "through"]

    def __str__(self):
        return f"{self.bill_id} {self.through} {self.amount}"


class WriteOffState(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ApprovalRequest(models.Model):
    """What a clerk asks and a different manager decides (write-offs, red bills)."""

    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200)
    state = models.CharField(
        _("state"), max_length=10, choices=WriteOffState.choices, default=WriteOffState.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        abstract = True
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"{self.bill_id} {self.amount} {self.state}"


class WriteOff(ApprovalRequest):
    """A bad-debt write-off (F3.21): a clerk asks, a different manager approves, then the ledger."""

    bill = models.ForeignKey(
        Bill, verbose_name=_("bill"), on_delete=models.PROTECT, related_name="write_offs"
    )
    entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("ledger entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="write_off",
    )

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("write-off")
        verbose_name_plural = _("write-offs")
        permissions = [("approve_writeoff", _("Approve bad-debt write-offs"))]
        constraints = [
            models.UniqueConstraint(
                fields=["bill"],
                condition=Q(state="requested"),
                name="billing_writeoff_one_open_request",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_writeoff_positive"),
        ]


class MonthEnd(models.Model):
    """A zone's closed billing month (F3.26), with the figures it closed on."""

    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("billing month"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"))
    bills = models.PositiveIntegerField(_("bills"), default=0)
    billed = models.DecimalField(_("billed"), max_digits=16, decimal_places=2, default=0)
    collected = models.DecimalField(_("collected"), max_digits=16, decimal_places=2, default=0)
    arrears = models.DecimalField(_("arrears carried"), max_digits=16, decimal_places=2, default=0)
    credit = models.DecimalField(_("credit carried"), max_digits=16, decimal_places=2, default=0)
    deposits = models.DecimalField(
        _("prepaid deposits carried"), max_digits=16, decimal_places=2, default=0
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedManager()
    zone_scope = "zone"

    class Meta:
        verbose_name = _("month-end close")
        verbose_name_plural = _("month-end closes")
        ordering = ["-month", "zone"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "month"], name="billing_monthend_once"),
        ]

    def __str__(self):
        return f"{self.zone} {self.month:%Y-%m}"


class RedBillRequest(ApprovalRequest):
    """A request for a red (negative) bill against a wrong bill (F3.22): a clerk asks, a
    different manager approves, and the approval issues the red bill and its ledger credit.

    ``amount`` is what the red bill takes off (positive here; the red bill's own
    amount is its negative). ``month``: the red bill's billing month, empty for
    the zone's open month when approved. Access follows the bill permissions
    (``view_bill``, ``correct_bill``, ``approve_correction``), so the model has
    none of its own.
    """

    bill = models.ForeignKey(
        Bill,
        verbose_name=_("bill corrected"),
        on_delete=models.PROTECT,
        related_name="red_bill_requests",
    )
    month = models.DateField(_("billing month"), null=True, blank=True)
    red_bill = models.OneToOneField(
        Bill,
        verbose_name=_("red bill"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="red_bill_request",
    )

    class Meta(ApprovalRequest.Meta):
        verbose_name = _("red bill request")
        verbose_name_plural = _("red bill requests")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["bill"],
                condition=Q(state="requested"),
                name="billing_redbill_one_open_request",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_redbill_positive"),
        ]
