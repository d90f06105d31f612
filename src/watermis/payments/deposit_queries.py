"""Read helpers of the prepaid-deposit pages and API (F4.1–F4.6): the voucher's context, the
balances (F4.5) with their zone totals, the deposit pot's ledger entries (F4.6) and the
result report of a transfer run. Nothing here writes; the money moves in :mod:`.deposits`.
"""

from decimal import Decimal

from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from watermis.billing.bill_tables import money
from watermis.billing.models import (
    IN_DEPOSIT,
    Account,
    Direction,
    EntryKind,
    LedgerEntry,
)
from watermis.customers.models import Customer
from watermis.documents import sources
from watermis.org.models import Zone

from .deposits import bills_paid, voucher_number
from .models import CounterMethod, DepositChannel

ZERO = Decimal("0.00")
REPORT_CHUNK = 2000

# ------------------------------------------------------------------------- the voucher


def method_label(deposit):
    """How the money came: the counter's method, or the channel."""
    if deposit.channel == DepositChannel.COUNTER:
        return CounterMethod(deposit.method).label if deposit.method else ""
    return DepositChannel(deposit.channel).label


def voucher_context(deposit, printed_by="", on=None):
    """The context of a deposit voucher (``DocumentKind.DEPOSIT_VOUCHER``; the fields of
    ``documents/catalogue.py``)."""
    customer = Customer.objects.select_related("category", "zone", "book").get(
        pk=deposit.customer_id
    )
    return {
        **sources.common_data(printed_by, on or timezone.localdate()),
        "voucher": {
            "number": voucher_number(deposit),
            "issued_on": timezone.localtime(deposit.at).date(),
            "operator": sources.operator_name(deposit.operator),
            "remark": deposit.note,
        },
        "customer": sources.customer_data(customer),
        "deposit": {
            "amount": deposit.amount,
            "method": str(method_label(deposit)),
            "balance_before": deposit.balance_before,
            "balance_after": deposit.balance_after,
        },
    }


# ------------------------------------------------------------------------- deposits


def deposit_totals(queryset):
    """Count, taken, corrected and net of a (filtered) deposit queryset."""
    sums = queryset.order_by().aggregate(
        n=Count("pk"),
        taken=Sum("amount"),
        corrected=Sum("amount", filter=Q(correction__isnull=False)),
    )
    taken, corrected = money(sums["taken"] or ZERO), money(sums["corrected"] or ZERO)
    return {"count": sums["n"], "taken": taken, "corrected": corrected, "net": taken - corrected}


# ------------------------------------------------------------------------- balances (F4.5)


def deposit_accounts(actor):
    """The accounts ``actor`` sees that hold a deposit (above or below zero)."""
    return (
        Account.objects.restrict(actor)
        .exclude(deposit=0)
        .select_related("customer", "customer__book", "zone")
    )


def balance_totals(queryset):
    """Count and sum of the deposits of ``queryset`` (accounts), and of those below zero."""
    sums = queryset.order_by().aggregate(
        n=Count("pk"),
        total=Sum("deposit"),
        negative=Sum("deposit", filter=Q(deposit__lt=0)),
        negative_n=Count("pk", filter=Q(deposit__lt=0)),
    )
    return {
        "count": sums["n"],
        "total": money(sums["total"] or ZERO),
        "negative": money(sums["negative"] or ZERO),
        "negative_count": sums["negative_n"],
    }


def zone_balances(queryset):
    """[(zone, accounts, deposit total)] of ``queryset`` (accounts), by zone code."""
    rows = (
        queryset.order_by()
        .values("zone_id")
        .annotate(n=Count("pk"), total=Sum("deposit"))
        .values_list("zone_id", "n", "total")
    )
    zones = Zone.objects.in_bulk([zone_id for zone_id, _n, _t in rows])
    result = [(zones[zone_id], n, money(total or ZERO)) for zone_id, n, total in rows]
    return sorted(result, key=lambda row: row[0].code)


# ------------------------------------------------------------------------- entries (F4.6)


class PotKind:
    """What a deposit-pot entry is, for people: a deposit, its correction, a transfer out of
    the deposit, the undo of a transfer."""

    DEPOSIT = "deposit"
    CORRECTION = "correction"
    TRANSFER = "transfer"
    UNDO = "undo"

    choices = [
        (DEPOSIT, gettext_lazy("Deposit")),
        (CORRECTION, gettext_lazy("Correction")),
        (TRANSFER, gettext_lazy("Transfer to bills")),
        (UNDO, gettext_lazy("Transfer undone")),
    ]
    labels = dict(choices)

    filters = {
        DEPOSIT: Q(kind=EntryKind.DEPOSIT),
        CORRECTION: Q(kind=EntryKind.REVERSAL, reverses__kind=EntryKind.DEPOSIT),
        TRANSFER: Q(kind=EntryKind.TRANSFER_OUT),
        UNDO: Q(kind=EntryKind.REVERSAL, reverses__kind=EntryKind.TRANSFER_OUT),
    }


def pot_entries(actor):
    """The deposit pot's ledger entries ``actor`` sees, annotated with ``pot_kind`` (a
    :class:`PotKind`) and ``deposit_channel`` (the channel of the deposit behind them)."""
    return (
        LedgerEntry.objects.restrict(actor)
        .filter(IN_DEPOSIT)
        .annotate(
            pot_kind=Case(
                *[When(q, then=Value(kind)) for kind, q in PotKind.filters.items()],
                output_field=CharField(),
            ),
            deposit_channel=Case(
                When(kind=EntryKind.DEPOSIT, then=F("deposit_record__channel")),
                When(
                    kind=EntryKind.REVERSAL,
                    reverses__kind=EntryKind.DEPOSIT,
                    then=F("reverses__deposit_record__channel"),
                ),
                default=Value(""),
                output_field=CharField(),
            ),
        )
        .select_related("customer", "zone", "posted_by")
    )


def entry_totals(queryset):
    """Count, money into the deposit and money out of it, of ``queryset`` (pot entries)."""
    sums = queryset.order_by().aggregate(
        n=Count("pk"),
        money_in=Sum("amount", filter=Q(direction=Direction.CREDIT)),
        money_out=Sum("amount", filter=Q(direction=Direction.DEBIT)),
    )
    money_in, money_out = money(sums["money_in"] or ZERO), money(sums["money_out"] or ZERO)
    return {"count": sums["n"], "in": money_in, "out": money_out, "net": money_in - money_out}


# ------------------------------------------------------------------------- transfer runs


def run_zone_totals(transfers):
    """[(zone, customers, bills, amount, undone amount)] of a run's transfers, by zone code."""
    rows = (
        transfers.order_by()
        .values("zone_id")
        .annotate(
            n=Count("pk"),
            bills=Sum("bills"),
            total=Sum("amount"),
            undone=Sum("amount", filter=Q(undo__isnull=False)),
        )
        .values_list("zone_id", "n", "bills", "total", "undone")
    )
    zones = Zone.objects.in_bulk([row[0] for row in rows])
    result = [
        (zones[zone_id], n, bills or 0, money(total or ZERO), money(undone or ZERO))
        for zone_id, n, bills, total, undone in rows
    ]
    return sorted(result, key=lambda row: row[0].code)


def transfer_report_rows(transfers):
    """One row per bill a run's ``transfers`` paid (late fees counted with their bill):
    (account, name, zone, bill, billing month, amount paid, undone), in bulk queries a chunk
    of transfers at a time (the same sums as ``deposits.transfer_bills``)."""
    transfers = transfers.select_related("customer", "zone").order_by("customer_id", "pk")
    chunk = []
    for transfer in transfers.annotate(undone=Count("undo")).iterator(REPORT_CHUNK):
        chunk.append(transfer)
        if len(chunk) == REPORT_CHUNK:
            yield from _report_chunk(chunk)
            chunk = []
    if chunk:
        yield from _report_chunk(chunk)


def _report_chunk(transfers):
    paid = bills_paid([t.in_entry_id for t in transfers])
    for transfer in transfers:
        for bill, amount in paid.get(transfer.in_entry_id, []):
            yield (
                transfer.customer.account_no,
                transfer.customer.name,
                str(transfer.zone),
                bill.pk,
                f"{bill.month:%Y-%m}",
                money(amount),
                _("Yes") if transfer.undone else _("No"),
            )


def report_header():
    return [
        _("Account"),
        _("Customer"),
        _("Zone"),
        _("Bill"),
        _("Billing month"),
        _("Amount paid"),
        _("Undone"),
    ]
