"""Reading counter payments: the cashier's day-end (F8.1 data), zone totals of cross-zone
payments (F1.2), waiver totals (F7.8, F8.5). Everything is summed in SQL from the rows
the services wrote; the callers pass the restricted querysets (the operator's scope).

Day-end, per cashier and business day:

- payments taken: count and amount credited (paid on bills + change kept), by method;
- reversals made that day by that operator (a cashier's own, or a supervisor's of any
  payment): count and amount, by method — money given back that day;
- net by method = taken − reversed; **cash expected in the drawer** = the net of cash;
- late-fee waivers granted that day by that operator (not reversed with their payment):
  count and amount;
- payments for customers of other zones (cross-zone): count and amount.

A day's takings (the home page's dashboard), from the ledger: :func:`takings_on`.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from watermis.billing.models import EntryKind
from watermis.core.money import FEN

from .bank import CHANNEL as BANK_CHANNEL
from .collection import CHANNEL as COLLECTOR_CHANNEL
from .models import CounterMethod, DepositChannel, LateFeeWaiver

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)
CREDIT = F("amount") + F("change_kept")


def _fen(value):
    return Decimal(value or 0).quantize(FEN)  # SQLite sums decimals as floats


@dataclass
class DayEndRow:
    """One cashier's day at the counter."""

    cashier_id: int
    cashier: str
    day: object
    count: int = 0
    taken: Decimal = ZERO
    reversed_count: int = 0
    reversed: Decimal = ZERO
    waiver_count: int = 0
    waived: Decimal = ZERO
    cross_count: int = 0
    cross_amount: Decimal = ZERO
    by_method: dict = field(default_factory=dict)  # method → [taken, reversed]

    @property
    def net(self):
        return self.taken - self.reversed

    def method_net(self, method):
        taken, reversed_ = self.by_method.get(method, (ZERO, ZERO))
        return taken - reversed_

    @property
    def cash_expected(self):
        return self.method_net(CounterMethod.CASH)

    def methods(self):
        """(method value, label, net) of every method, in the choices' order."""
        return [(m.value, m.label, self.method_net(m.value)) for m in CounterMethod]


def _in_dates(queryset, field_name, date_from, date_to):
    if date_from:
        queryset = queryset.filter(**{f"{field_name}__gte": date_from})
    if date_to:
        queryset = queryset.filter(**{f"{field_name}__lte": date_to})
    return queryset


def in_zone(payments, zone):
    """Payments of customers of ``zone`` or taken by cashiers of it (F1.2: both)."""
    if zone is None:
        return payments
    return payments.filter(Q(zone=zone) | Q(cashier_zone=zone))


def day_end(payments, waivers=None, *, date_from=None, date_to=None, cashier=None):
    """:class:`DayEndRow` per cashier and day, by day then cashier's name.

    ``payments``: the counter payments to count (restricted, filtered by zone);
    ``waivers``: the waivers to count (restricted likewise), or None.
    """
    rows = {}

    def row(cashier_id, name, day):
        key = (day, cashier_id)
        if key not in rows:
            rows[key] = DayEndRow(cashier_id=cashier_id, cashier=name, day=day)
        return rows[key]

    taken = _in_dates(payments, "business_date", date_from, date_to)
    if cashier is not None:
        taken = taken.filter(cashier=cashier)
    for item in (
        taken.order_by()
        .values("cashier_id", "cashier__name", "cashier__username", "business_date", "method")
        .annotate(
            n=Count("id"),
            total=Coalesce(Sum(CREDIT, output_field=MONEY), ZERO, output_field=MONEY),
            cross_n=Count("id", filter=Q(cross_zone=True)),
            cross=Sum(CREDIT, filter=Q(cross_zone=True), output_field=MONEY),
        )
    ):
        target = row(
            item["cashier_id"],
            item["cashier__name"] or item["cashier__username"],
            item["business_date"],
        )
        amount = _fen(item["total"])
        target.count += item["n"]
        target.taken += amount
        target.cross_count += item["cross_n"]
        target.cross_amount += _fen(item["cross"])
        pair = target.by_method.setdefault(item["method"], [ZERO, ZERO])
        pair[0] += amount
    undone = _in_dates(
        payments.filter(reversal_entry__isnull=False), "reversed_on", date_from, date_to
    )
    if cashier is not None:
        undone = undone.filter(reversed_by=cashier)
    for item in (
        undone.order_by()
        .values(
            "reversed_by_id",
            "reversed_by__name",
            "reversed_by__username",
            "reversed_on",
            "method",
        )
        .annotate(n=Count("id"), total=Sum(CREDIT, output_field=MONEY))
    ):
        target = row(
            item["reversed_by_id"],
            item["reversed_by__name"] or item["reversed_by__username"],
            item["reversed_on"],
        )
        amount = _fen(item["total"])
        target.reversed_count += item["n"]
        target.reversed += amount
        pair = target.by_method.setdefault(item["method"], [ZERO, ZERO])
        pair[1] += amount
    if waivers is not None:
        granted = _in_dates(
            waivers.filter(payment__reversal_entry__isnull=True),
            "business_date",
            date_from,
            date_to,
        )
        if cashier is not None:
            granted = granted.filter(operator=cashier)
        for item in (
            granted.order_by()
            .values("operator_id", "operator__name", "operator__username", "business_date")
            .annotate(n=Count("payment_id", distinct=True), total=Sum("amount"))
        ):
            target = row(
                item["operator_id"],
                item["operator__name"] or item["operator__username"],
                item["business_date"],
            )
            target.waiver_count += item["n"]
            target.waived += _fen(item["total"])
    return sorted(rows.values(), key=lambda r: (r.day, r.cashier, r.cashier_id))


def day_end_totals(rows):
    """The sums of :func:`day_end` rows (a :class:`DayEndRow` without a cashier)."""
    total = DayEndRow(cashier_id=0, cashier="", day=None)
    for r in rows:
        total.count += r.count
        total.taken += r.taken
        total.reversed_count += r.reversed_count
        total.reversed += r.reversed
        total.waiver_count += r.waiver_count
        total.waived += r.waived
        total.cross_count += r.cross_count
        total.cross_amount += r.cross_amount
        for method, (taken, reversed_) in r.by_method.items():
            pair = total.by_method.setdefault(method, [ZERO, ZERO])
            pair[0] += taken
            pair[1] += reversed_
    return total


def zone_totals(payments, *, date_from=None, date_to=None, cashier=None):
    """Payments not reversed by the customer's zone and the cashier's zone (F1.2: a
    cross-zone payment counts for both): [{customer zone, cashier zone, count, amount}]."""
    kept = _in_dates(
        payments.filter(reversal_entry__isnull=True), "business_date", date_from, date_to
    )
    if cashier is not None:
        kept = kept.filter(cashier=cashier)
    rows = (
        kept.order_by()
        .values("zone__name", "cashier_zone__name")
        .annotate(n=Count("id"), total=Sum(CREDIT, output_field=MONEY))
        .order_by("zone__name", "cashier_zone__name")
    )
    return [
        {
            "zone": r["zone__name"],
            "cashier_zone": r["cashier_zone__name"] or "",
            "cross": r["zone__name"] != r["cashier_zone__name"] and r["cashier_zone__name"],
            "count": r["n"],
            "amount": _fen(r["total"]),
        }
        for r in rows
    ]


def waiver_totals(waivers):
    """Count and amount of a (filtered) waiver queryset, and how many were above the limit."""
    result = waivers.order_by().aggregate(
        n=Count("id"), total=Sum("amount"), above=Count("id", filter=Q(authoriser__isnull=False))
    )
    return {"count": result["n"], "amount": _fen(result["total"]), "above": result["above"]}


def payments_for(queryset):
    """Payments with what a list shows, in one query."""
    return queryset.select_related("customer", "zone", "cashier", "cashier_zone", "reversed_by")


def waivers_for(queryset):
    return queryset.select_related(
        "customer",
        "customer__book",
        "customer__category",
        "bill",
        "zone",
        "operator",
        "authoriser",
        "payment",
    )


def receipt_lines(payment):
    """The payment's bills with their months and meters, oldest first."""
    return list(
        payment.lines.select_related("bill", "bill__meter").order_by(
            "bill__due_on", "bill__month", "bill_id"
        )
    )


def payment_waivers(payment):
    return list(LateFeeWaiver.objects.filter(payment=payment).select_related("authoriser", "bill"))


# ------------------------------------------------------------------ a day's takings

TAKEN_KINDS = (EntryKind.PAYMENT, EntryKind.DEPOSIT)
CHANNEL_LABELS = {
    **{c.value: c.label for c in DepositChannel},  # outside channels (WeChat Pay, Alipay...)
    "": _("Counter"),
    BANK_CHANNEL: _("Bank deduction"),
    COLLECTOR_CHANNEL: _("Walking collection"),
}


@dataclass
class Takings:
    """Money of one kind taken on a day: what came in, and what was reversed that day
    (of that day's or of an earlier day's takings)."""

    count: int = 0
    amount: Decimal = ZERO
    reversed_count: int = 0
    reversed: Decimal = ZERO

    @property
    def net(self):
        return self.amount - self.reversed

    def add(self, reversal, count, amount):
        if reversal:
            self.reversed_count += count
            self.reversed += amount
        else:
            self.count += count
            self.amount += amount


@dataclass
class Way:
    """One way payments came in: a counter method, or a channel (bank, collector...)."""

    channel: str
    method: str | None
    label: str
    takings: Takings = field(default_factory=Takings)


@dataclass
class DayTakings:
    """Payments and prepaid deposits of a business day: totals, payments by way, per zone."""

    payments: Takings = field(default_factory=Takings)
    deposits: Takings = field(default_factory=Takings)
    ways: list = field(default_factory=list)  # [Way] of payments, counter methods first
    zones: dict = field(default_factory=dict)  # zone id → {"payments": .., "deposits": ..}


def _way_order(way):
    methods = list(CounterMethod.values)
    if way.channel == "" and way.method in methods:
        return (0, methods.index(way.method), "")
    return (1 if way.channel == "" else 2, 0, way.channel)


def way_label(channel, method):
    """A payment's way as the dashboard names it: its counter method, else its channel."""
    if channel == "" and method:
        return CounterMethod(method).label if method in CounterMethod.values else method
    return CHANNEL_LABELS.get(channel, channel)


def takings_on(entries, day):
    """What came in on business day ``day`` among ``entries`` (the operator's ledger
    entries), in one grouped query: payment and prepaid-deposit credits of that day, less
    the reversals of such credits posted that day (money given back that day, as the
    cashier's day-end counts it). Payments are split by way: a counter payment by the
    method of its counter record, any other by its ledger channel. Entries count in the
    customer's zone."""
    rows = (
        entries.filter(business_date=day)
        .filter(
            Q(kind__in=TAKEN_KINDS) | Q(kind=EntryKind.REVERSAL, reverses__kind__in=TAKEN_KINDS)
        )
        .order_by()
        .values(
            "zone_id",
            "kind",
            "channel",
            "counter_payment__method",
            "reverses__kind",
            "reverses__channel",
            "reverses__counter_payment__method",
        )
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    result = DayTakings()
    ways = {}
    for row in rows:
        reversal = row["kind"] == EntryKind.REVERSAL
        prefix = "reverses__" if reversal else ""
        kind = row[f"{prefix}kind"]
        amount = _fen(row["total"])
        zone = result.zones.setdefault(
            row["zone_id"], {"payments": Takings(), "deposits": Takings()}
        )
        if kind == EntryKind.DEPOSIT:
            result.deposits.add(reversal, row["n"], amount)
            zone["deposits"].add(reversal, row["n"], amount)
            continue
        result.payments.add(reversal, row["n"], amount)
        zone["payments"].add(reversal, row["n"], amount)
        channel = row[f"{prefix}channel"]
        method = row[f"{prefix}counter_payment__method"] if channel == "" else None
        key = (channel, method)
        if key not in ways:
            ways[key] = Way(channel, method, way_label(channel, method))
        ways[key].takings.add(reversal, row["n"], amount)
    result.ways = sorted(ways.values(), key=_way_order)
    return result
