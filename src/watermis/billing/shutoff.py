"""Shutoff and restore lists (F6.4): meters to shut off for long arrears, and meters shut
off whose customers have paid since, so installers can restore them.

Both are set-based: one SQL query gives a page (with its count), whatever the
number of accounts. A customer is in arrears when a bill of it is overdue
(``due_on`` before the as-of date) and still open (amount − allocations > 0),
see ``bills.with_status``. Only accounts whose cached balance is below zero
can have an open bill (an account never holds open debits and open credit
together), so the bills read are only those of accounts in debt.

Recording a shutoff or a restore is ``customers.services.record_shutoff``.
"""

from decimal import Decimal

from django.db.models import Count, Exists, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.expressions import RawSQL

from watermis.core.scoping import visible_zone_ids
from watermis.customers.models import (
    Meter,
    MeterEvent,
    MeterEventKind,
    MeterKind,
    MeterStatus,
    ValveState,
)
from watermis.system.params import get_param

from .bills import with_status
from .models import Account, Bill, BillKind, BillState, EntryKind, LedgerEntry

PAID_KINDS = (EntryKind.PAYMENT, EntryKind.DEPOSIT, EntryKind.TRANSFER_IN)


def shutoff_thresholds(months=None, amount=None):
    """The months and amount rules in force: the given ones, else the parameters."""
    return (
        months if months is not None else get_param("shutoff.arrears_months"),
        amount if amount is not None else get_param("shutoff.arrears_amount"),
    )


def overdue_bills(on, queryset=None):
    """Issued regular bills due before ``on`` with something still open (annotated)."""
    queryset = Bill.objects.all() if queryset is None else queryset
    queryset = queryset.filter(
        state=BillState.ISSUED, kind=BillKind.REGULAR, amount__gt=0, due_on__lt=on
    )
    return with_status(queryset).filter(open_amount__gt=0)


def may_be_in_arrears(on, bills):
    """Customers (a subquery of ids) whose debt is more than what is open on their bills
    not due yet as of ``on``: only they can have an overdue bill open.

    An account's debt (−balance) is the sum of its open debits. When the bills not
    due yet hold at least that much open, nothing overdue is open. So the bill history
    is read only for the customers left, not for every account with a current bill
    (most accounts, at any time). ``bills``: the operator's bills.
    """
    pending = (
        with_status(
            bills.filter(
                state=BillState.ISSUED, kind=BillKind.REGULAR, amount__gt=0, due_on__gte=on
            )
        )
        .values("customer_id")
        .annotate(pending=Sum("open_amount"))
        .values("customer_id", "pending")
        .order_by()
    )
    pending_sql, params = pending.query.sql_with_params()
    account = Account._meta.db_table
    return RawSQL(  # noqa: S611 - only table names and the ORM's own SQL
        f"SELECT a.customer_id FROM {account} a"  # noqa: S608 - table names, no input
        f" LEFT JOIN ({pending_sql}) p ON p.customer_id = a.customer_id"
        " WHERE a.balance < 0 AND -a.balance > COALESCE(p.pending, 0)",
        params,
    )


def shutoff_candidates(user, on, *, months=None, amount=None, zone=None, area=None, book=None):
    """Meters to shut off as of ``on``: one row (a dict) per customer meter in service with
    an open valve whose customer has overdue bills of at least ``months`` billing months
    or at least ``amount`` overdue (parameters ``shutoff.arrears_*`` when not given).

    Rows: meter_pk, meter_number, customer_id, account_no, name, address, phone,
    book_code, route_order, months, oldest, overdue. Only the operator's zones (the
    bills' and the meters'); ``user`` None sees every zone.
    """
    months, amount = shutoff_thresholds(months, amount)
    bills = Bill.objects.all() if user is None else Bill.objects.restrict(user, "view")
    bills = overdue_bills(on, bills.filter(customer_id__in=may_be_in_arrears(on, bills)))
    # every condition on the meter in one filter(): one join, the same meter
    meter = {
        "customer__meters__kind": MeterKind.CUSTOMER,
        "customer__meters__status": MeterStatus.ACTIVE,
        "customer__meters__valve_state": ValveState.OPEN,
    }
    zones = visible_zone_ids(user) if user is not None else None
    if zones is not None:
        meter["customer__meters__zone__in"] = zones
    if zone is not None:
        meter["customer__meters__zone"] = zone
    bills = bills.filter(**meter)
    if area is not None:
        bills = bills.filter(customer__book__area=area)
    if book is not None:
        bills = bills.filter(customer__book=book)
    return (
        bills.values(
            "customer_id",
            meter_pk=F("customer__meters__id"),
            meter_number=F("customer__meters__number"),
            account_no=F("customer__account_no"),
            name=F("customer__name"),
            address=F("customer__address"),
            phone=F("customer__phone"),
            book_code=F("customer__book__code"),
            route_order=F("customer__route_order"),
        )
        .annotate(
            months=Count("month", distinct=True), oldest=Min("month"), overdue=Sum("open_amount")
        )
        .filter(Q(months__gte=months) | Q(overdue__gte=Decimal(amount)))
        .order_by("-overdue", "account_no", "meter_number")
    )


def customer_overdue(customer_id, on):
    """One customer's overdue figures as of ``on``: months, oldest month, amount."""
    figures = overdue_bills(on, Bill.objects.filter(customer_id=customer_id)).aggregate(
        months=Count("month", distinct=True), oldest=Min("month"), overdue=Sum("open_amount")
    )
    figures["overdue"] = (figures["overdue"] or Decimal("0.00")).quantize(Decimal("0.01"))
    return figures


def restore_candidates(user, on, *, zone=None, area=None, book=None):
    """Meters shut off (valve closed, last shutoff/restore event a shutoff) whose customer
    has nothing overdue as of ``on``: annotated with ``shut_on``, ``shut_reason`` and
    ``paid_on`` (the last payment since the shutoff, if any)."""
    zones = visible_zone_ids(user) if user is not None else None
    last = MeterEvent.objects.filter(
        meter=OuterRef("pk"), kind__in=(MeterEventKind.SHUTOFF, MeterEventKind.RESTORE)
    ).order_by("-on", "-id")
    overdue = overdue_bills(on, Bill.objects.filter(customer_id=OuterRef("customer_id")))
    paid = LedgerEntry.objects.filter(
        customer_id=OuterRef("customer_id"),
        kind__in=PAID_KINDS,
        reversed_by__isnull=True,
        business_date__gte=OuterRef("shut_on"),
    ).order_by("-business_date", "-id")
    meters = Meter.objects.in_zones(zones).filter(
        kind=MeterKind.CUSTOMER, status=MeterStatus.ACTIVE, valve_state=ValveState.CLOSED
    )
    if zone is not None:
        meters = meters.filter(zone=zone)
    if area is not None:
        meters = meters.filter(customer__book__area=area)
    if book is not None:
        meters = meters.filter(customer__book=book)
    return (
        meters.annotate(
            last_kind=Subquery(last.values("kind")[:1]),
            shut_on=Subquery(last.values("on")[:1]),
            shut_reason=Subquery(last.values("reason")[:1]),
        )
        .filter(last_kind=MeterEventKind.SHUTOFF)
        .exclude(Exists(overdue))
        .annotate(paid_on=Subquery(paid.values("business_date")[:1]))
        .select_related("customer__book")
        .order_by(F("paid_on").desc(nulls_last=True), "customer__account_no", "number")
    )
