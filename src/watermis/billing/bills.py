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

from django.db.models import (
    Case,
    CharField,
    DecimalField,
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

from .models import Allocation, Bill, BillKind, BillState, BillStatus, EntryKind

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


def open_bills(customer_id=None, queryset=None):
    """Issued regular bills with something still to pay, oldest first, annotated."""
    queryset = Bill.objects.all() if queryset is None else queryset
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    queryset = queryset.filter(state=BillState.ISSUED, kind=BillKind.REGULAR, amount__gt=0)
    return with_status(queryset).filter(open_amount__gt=0).order_by("due_on", "month", "id")


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
