"""The customer ledger (DESIGN.md "Money and the ledger"; issue 6).

Every account has append-only entries. Each entry names its **direction**:

- ``debit``: the customer owes more (a bill, a late fee, money refunded to the
  customer, a transfer out, the reversal of a credit);
- ``credit``: the customer owes less (a payment, a prepaid deposit, a waiver, a
  write-off, a red bill, a transfer in, the reversal of a debit).

Amounts are always positive. An account's balance is Σ credits − Σ debits:
above zero the customer has credit (prepaid), below zero arrears. The balance
is cached on :class:`Account` and changed only in the transaction that posts
the entry, under the account's row lock. A posted entry is never changed: the
database refuses UPDATE and DELETE (triggers, migration 0002); a mistake is
undone by a reversal entry linked to it.

:class:`Allocation` says which credit settled which debit (a payment paying a
bill). Allocations are append-only too; reversing an entry adds negative
allocations that cancel its own. The ``verify`` command proves the books.
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
    """A customer's ledger account: the cached balance of its entries."""

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
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="ledger"
    )
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=14, choices=EntryKind.choices)
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    posted_at = models.DateTimeField(_("posted at"), db_index=True)
    business_date = models.DateField(_("business date"), db_index=True)
    period = models.DateField(_("billing month"), null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        BusinessUnit,
        verbose_name=_("business unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
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
            models.Index(fields=["customer", "posted_at"], name="billing_entry_customer_idx")
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
