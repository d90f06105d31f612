"""Reading bills: what is paid, what is open, and the status that follows (issue 6).

A bill's status is never stored. It is read from the allocations against the
bill's ledger entry (:func:`with_status` annotates a queryset in SQL, so lists
and reports filter and sort on it):

- ``settled``: Σ allocations against the entry (payments, deposits, waivers,
  write-offs, red bills), ``open_amount`` = amount − settled;
- ``written_off``: the part settled by write-off entries.

Status, first match: cancelled; red bill (a credit); written off (nothing
open, some written off); paid (nothing open); transferred to inspection;
partly paid (something settled); unpaid.
"""

from decimal import Decimal

from django.db import models
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from watermis.core.money import FEN

from .models import Account, Allocation, Bill, BillKind, BillState, BillStatus, EntryKind

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def allocated(**filters):
    """Σ allocations against the bill's entry (``filters``: of some credits only), 0 if none."""
    rows = (
        Allocation.objects.filter(debit_id=OuterRef("entry_id"), **filters)
        .order_by()
        .values("debit_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=MONEY), Value(ZERO), output_field=MONEY)


def with_status(queryset=None):
    """Bills annotated with ``settled``, ``written_off``, ``open_amount`` and ``status``."""
    queryset = Bill.objects.all() if queryset is None else queryset
    queryset = queryset.annotate(
        settled=allocated(),
        written_off=allocated(credit__kind=EntryKind.WRITE_OFF),
    ).annotate(
        open_amount=Case(
            When(Q(state=BillState.CANCELLED) | Q(kind=BillKind.RED), then=Value(ZERO)),
            default=ExpressionWrapper(F("amount") - F("settled"), output_field=MONEY),
            output_field=MONEY,
        )
    )
    return queryset.annotate(
        status=Case(
            When(state=BillState.CANCELLED, then=Value(BillStatus.CANCELLED)),
            When(kind=BillKind.RED, then=Value(BillStatus.CREDIT)),
            When(open_amount__lte=0, written_off__gt=0, then=Value(BillStatus.WRITTEN_OFF)),
            When(open_amount__lte=0, then=Value(BillStatus.PAID)),
            When(inspection=True, then=Value(BillStatus.INSPECTION)),
            When(settled__gt=0, then=Value(BillStatus.PARTLY_PAID)),
            default=Value(BillStatus.UNPAID),
            output_field=CharField(),
        )
    )


# A bill's settlement in plain SQL over the bill row ``b``, for the reads of the counter and
# of invoicing, made for a handful of bills on every payment: Django takes longer to build
# and compile the ORM form (allocated()) than the database takes to run it. Tests hold
# both forms equal, bill by bill, in every status.
SETTLED_SQL = (
    "COALESCE((SELECT SUM(a.amount) FROM billing_allocation a WHERE a.debit_id = b.entry_id), 0)"
)
WRITTEN_OFF_SQL = (
    "COALESCE((SELECT SUM(a.amount) FROM billing_allocation a"  # noqa: S608 - a constant
    " JOIN billing_ledgerentry c ON c.id = a.credit_id"
    f" WHERE a.debit_id = b.entry_id AND c.kind = '{EntryKind.WRITE_OFF.value}'), 0)"
)


def placeholders(values):
    """``%s, %s, ...``: one parameter for each of ``values``."""
    return ", ".join(["%s"] * len(values))


def _fen(value):
    """A sum read by plain SQL as a Decimal of two places (SQLite gives floats)."""
    return Decimal(value).quantize(FEN)


def settled_bills(ids, columns="", params=()):
    """The bills ``ids`` with ``settled``, ``written_off`` (Decimals) and, by
    :func:`settle_status`, ``open_amount`` and ``status``: one SQL statement. ``columns``:
    more SQL columns over the bill ``b`` (``, EXISTS (...) AS name``) and their ``params``."""
    ids = list(ids)
    if not ids:
        return []
    sql = (
        f"SELECT b.*, {SETTLED_SQL} AS settled, {WRITTEN_OFF_SQL} AS written_off{columns}"  # noqa: S608 - no input
        f" FROM billing_bill b WHERE b.id IN ({placeholders(ids)})"
    )
    bills = list(Bill.objects.raw(sql, [*params, *ids]))
    for bill in bills:
        bill.settled, bill.written_off = _fen(bill.settled), _fen(bill.written_off)
        settle_status(bill)
    return bills


def settle_status(bill):
    """Set ``open_amount`` and ``status`` on a bill read by :func:`settled_bills`, as
    :func:`with_status` decides them (a test proves both agree on every status); returns it."""
    if bill.state == BillState.CANCELLED or bill.kind == BillKind.RED:
        bill.open_amount = ZERO
    else:
        bill.open_amount = bill.amount - bill.settled
    if bill.state == BillState.CANCELLED:
        bill.status = BillStatus.CANCELLED
    elif bill.kind == BillKind.RED:
        bill.status = BillStatus.CREDIT
    elif bill.open_amount <= 0:
        bill.status = BillStatus.WRITTEN_OFF if bill.written_off > 0 else BillStatus.PAID
    elif bill.inspection:
        bill.status = BillStatus.INSPECTION
    elif bill.settled > 0:
        bill.status = BillStatus.PARTLY_PAID
    else:
        bill.status = BillStatus.UNPAID
    return bill


def filter_bill_status(queryset, value):
    """Bills of ``value`` (a :class:`BillStatus`), as :func:`with_status` decides, in the form
    that costs least on millions of bills: the stored columns first (state, kind, inspection,
    amount), then one or two comparisons of the allocation sum (the status ``CASE`` reads it
    four or five times a bill). A test proves both put every bill in the same status."""
    if not value:
        return queryset
    if value == BillStatus.CANCELLED:
        return queryset.filter(state=BillState.CANCELLED)
    if value == BillStatus.CREDIT:
        return queryset.filter(state=BillState.ISSUED, kind=BillKind.RED)
    bills = queryset.filter(state=BillState.ISSUED, kind=BillKind.REGULAR).alias(
        status_settled=allocated()
    )
    if value in (BillStatus.PAID, BillStatus.WRITTEN_OFF):
        settled = bills.filter(status_settled__gte=F("amount")).alias(
            status_written_off=allocated(credit__kind=EntryKind.WRITE_OFF)
        )
        if value == BillStatus.WRITTEN_OFF:
            return settled.filter(status_written_off__gt=0)
        return settled.filter(status_written_off__lte=0)
    if value == BillStatus.INSPECTION:
        return bills.filter(inspection=True, status_settled__lt=F("amount"))
    if value == BillStatus.PARTLY_PAID:
        return bills.filter(inspection=False, status_settled__gt=0, status_settled__lt=F("amount"))
    if value == BillStatus.UNPAID:
        return bills.filter(inspection=False, amount__gt=0, status_settled__lte=0)
    return queryset.none()


# The statuses of a bill with something left to pay (the arrears, F7.3).
OPEN_STATUSES = (BillStatus.UNPAID, BillStatus.PARTLY_PAID, BillStatus.INSPECTION)


def filter_arrears(queryset):
    """Bills with something left to pay (unpaid, partly paid, transferred to inspection).

    Only accounts whose bill balance is below zero can have such a bill: the ledger never
    leaves open credit beside open debits (``ledger``), so an open bill means a negative
    balance. Narrowing to those accounts first lets the database go through the bills by
    account (``billing_bill_customer_idx``) instead of reading every bill's allocations.
    """
    in_debt = Account.objects.filter(balance__lt=0).values("customer_id")
    return (
        queryset.filter(
            customer_id__in=in_debt, state=BillState.ISSUED, kind=BillKind.REGULAR, amount__gt=0
        )
        .alias(arrears_settled=allocated())
        .filter(arrears_settled__lt=F("amount"))
    )


class PaidBy(models.TextChoices):
    """How a bill was paid, as the ledger tells it: the kind and channel of the paying credit."""

    COUNTER = "counter", _("At the counter")
    BANK = "bank", _("Bank deduction")
    COLLECTOR = "collector", _("Door-to-door collector")
    MOBILE = "mobile", _("Mobile or online payment")
    PREPAID = "prepaid", _("From the prepaid deposit")
    OTHER = "other", _("Other channels")


# Credits that are a payment of the customer's money (not a waiver, write-off or red bill).
PAYMENT_KINDS = (EntryKind.PAYMENT, EntryKind.TRANSFER_IN)
# Ledger channels of payments (``channel`` of the entry; the counter posts none).
COUNTER_CHANNELS = ("", "counter")
MOBILE_CHANNELS = ("wechat", "alipay", "mobile", "unionpay", "online")
NAMED_CHANNELS = (*COUNTER_CHANNELS, "bank", "collector", *MOBILE_CHANNELS)


def paid_by_q(value, prefix=""):
    """Q of payment entries (``prefix``: the path to the entry) made the :class:`PaidBy` way."""
    payment = Q(**{f"{prefix}kind": EntryKind.PAYMENT})
    channel = f"{prefix}channel"
    if value == PaidBy.PREPAID:
        return Q(**{f"{prefix}kind": EntryKind.TRANSFER_IN})
    if value == PaidBy.COUNTER:
        return payment & Q(**{f"{channel}__in": COUNTER_CHANNELS})
    if value == PaidBy.MOBILE:
        return payment & Q(**{f"{channel}__in": MOBILE_CHANNELS})
    if value in (PaidBy.BANK, PaidBy.COLLECTOR):
        return payment & Q(**{channel: value})
    if value == PaidBy.OTHER:
        return payment & ~Q(**{f"{channel}__in": NAMED_CHANNELS})
    return Q()


def payments_made(date_from=None, date_to=None, paid_by="", operator=""):
    """Allocations of payments to debits that still stand, made between ``date_from`` and
    ``date_to`` (the business date of the posting that made them: the payment, or the bill a
    standing credit paid), ``paid_by`` a :class:`PaidBy`, the payment posted by ``operator``
    (login name, exact, or name, contains). An allocation undone since (the payment or the
    debit reversed: a negative allocation of the same pair) does not count.

    Each condition reads an index: the entries' business date, the allocations' made-by,
    credit and debit keys.
    """
    allocations = Allocation.objects.filter(amount__gt=0, credit__kind__in=PAYMENT_KINDS)
    if date_from:
        allocations = allocations.filter(made_by__business_date__gte=date_from)
    if date_to:
        allocations = allocations.filter(made_by__business_date__lte=date_to)
    if paid_by:
        allocations = allocations.filter(paid_by_q(paid_by, prefix="credit__"))
    operator = (operator or "").strip()
    if operator:
        allocations = allocations.filter(
            Q(credit__posted_by__username__iexact=operator)
            | Q(credit__posted_by__name__icontains=operator)
        )
    undone = Allocation.objects.filter(
        debit_id=OuterRef("debit_id"), credit_id=OuterRef("credit_id"), amount__lt=0
    )
    return allocations.filter(~Exists(undone))


def filter_paid(queryset, **criteria):
    """Bills that received a payment of :func:`payments_made` (``criteria``): for each bill,
    whether such an allocation to its entry exists (the allocations' debit index), so a
    list reads its first page in its own order instead of first collecting every payment
    of the period (a month's are a million at a million accounts)."""
    # The test stays a per-bill subplan (in a CASE, not joined; the key bounded on both
    # sides, not hashed) instead of PostgreSQL collecting every payment of the period first.
    entry = OuterRef("entry_id")
    paid = Exists(payments_made(**criteria).filter(debit_id__gte=entry, debit_id__lte=entry))
    return queryset.alias(has_payment=Case(When(paid, then=Value(1)), default=Value(0))).filter(
        has_payment=1
    )


def paid_total(bills, **criteria):
    """Σ of the payments of :func:`payments_made` (``criteria``) to ``bills``."""
    total = (
        payments_made(**criteria)
        .filter(debit_id__in=bills.order_by().values("entry_id"))
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or ZERO


def open_bills(customer_id=None, queryset=None):
    """Issued regular bills with something still to pay, oldest first, annotated."""
    queryset = Bill.objects.all() if queryset is None else queryset
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    queryset = queryset.filter(state=BillState.ISSUED, kind=BillKind.REGULAR, amount__gt=0)
    return with_status(queryset).filter(open_amount__gt=0).order_by("due_on", "month", "id")


def bills_owing(customer_ids):
    """The bills of these customers that :func:`open_bills` gives, with ``settled`` and
    ``open_amount`` only, oldest first: the counter reads a customer's debts under the lock
    for every payment. An issued regular bill's open amount is its amount less what is
    settled, so no status is needed; plain SQL (:data:`SETTLED_SQL`). A test proves both
    give the same bills and amounts."""
    ids = list(customer_ids)
    if not ids:
        return []
    sql = (
        f"SELECT b.*, {SETTLED_SQL} AS settled FROM billing_bill b"  # noqa: S608 - no input
        f" WHERE b.customer_id IN ({placeholders(ids)})"
        " AND b.state = %s AND b.kind = %s AND b.amount > 0"
        f" AND ROUND(b.amount - {SETTLED_SQL}, 2) > 0"
        " ORDER BY b.due_on, b.month, b.id"
    )
    bills = list(Bill.objects.raw(sql, [*ids, BillState.ISSUED, BillKind.REGULAR]))
    for bill in bills:
        bill.settled = _fen(bill.settled)
        bill.open_amount = bill.amount - bill.settled
    return bills


def status_label(value):
    return BillStatus(value).label if value in BillStatus.values else value


def transfer_to_inspection(bill_ids):
    """Mark open bills as transferred to inspection-collection (F3.4); billing owns the
    column, the caller (walking collection) records who and why. Returns the ids marked."""
    ids = list(
        open_bills(queryset=Bill.objects.filter(pk__in=list(bill_ids), inspection=False))
        .select_for_update(of=("self",))
        .values_list("pk", flat=True)
    )
    Bill.objects.filter(pk__in=ids).update(inspection=True)
    return ids
