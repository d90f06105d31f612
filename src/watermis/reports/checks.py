"""The facts checked against the ledger itself (``manage.py check_facts``, and the tests).

Each comparison sums the same money twice, once from the facts and once straight
from the ledger's entries, allocations and bill lines, by billing month, business
month and zone; any difference is a fault (the facts are rebuilt with
``manage.py check_facts --rebuild``).
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import F, Sum
from django.db.models.functions import Coalesce, TruncMonth

from watermis.billing.models import Allocation, BillLine, LedgerEntry

from .models import NO_MONTH, EntryFact, LineFact, SettlementFact

ZERO = Decimal("0.00")


def _collect(rows, key, value="amount"):
    result = defaultdict(lambda: ZERO)
    for row in rows:
        result[tuple(row[k] for k in key)] += Decimal(str(row[value] or 0))
    return {k: v.quantize(Decimal("0.01")) for k, v in result.items() if v}


def _month(value):
    return value.date() if hasattr(value, "date") else value


def entries_by_ledger():
    rows = (
        LedgerEntry.objects.annotate(
            fact_kind=Coalesce("reverses__kind", "kind"),
            fact_period=Coalesce("period", NO_MONTH),
            fact_month=TruncMonth("business_date"),
        )
        .values("fact_month", "fact_period", "zone_id", "fact_kind", "reverses_id")
        .annotate(total=Sum("amount"))
    )
    return _collect(
        (
            {
                "month": _month(r["fact_month"]),
                "period": r["fact_period"],
                "zone": r["zone_id"],
                "kind": r["fact_kind"],
                "reversal": r["reverses_id"] is not None,
                "amount": r["total"],
            }
            for r in rows
        ),
        ("month", "period", "zone", "kind", "reversal"),
    )


def entries_by_facts():
    rows = EntryFact.objects.values("month", "period", "zone_id", "kind", "reversal").annotate(
        total=Sum("amount")
    )
    return _collect(
        ({**r, "zone": r["zone_id"], "amount": r["total"]} for r in rows),
        ("month", "period", "zone", "kind", "reversal"),
    )


def lines_by_ledger():
    """Bill lines of the bills (and red bills) whose entry is posted, by billing month and item;
    a cancelled bill's lines once more, as reversed."""
    posted = BillLine.objects.annotate(
        fact_period=F("bill__month"), zone=F("bill__zone_id")
    ).values("fact_period", "zone", "item_id")
    rows = [{**r, "reversal": False} for r in posted.annotate(total=Sum("amount"))]
    rows += [
        {**r, "reversal": True}
        for r in posted.filter(bill__cancel_entry__isnull=False).annotate(total=Sum("amount"))
    ]
    return _collect(
        ({**r, "amount": r["total"]} for r in rows),
        ("fact_period", "zone", "item_id", "reversal"),
    )


def lines_by_facts():
    rows = LineFact.objects.values("period", "zone_id", "item_id", "reversal").annotate(
        total=Sum("amount")
    )
    return _collect(
        (
            {"fact_period": r["period"], "zone": r["zone_id"], **r, "amount": r["total"]}
            for r in rows
        ),
        ("fact_period", "zone", "item_id", "reversal"),
    )


def settlements_by_ledger():
    rows = (
        Allocation.objects.annotate(
            fact_period=Coalesce("debit__period", NO_MONTH),
            fact_month=TruncMonth("made_by__business_date"),
            zone=F("debit__zone_id"),
            credit_kind=F("credit__kind"),
        )
        .values("fact_period", "fact_month", "zone", "credit_kind")
        .annotate(total=Sum("amount"))
    )
    return _collect(
        ({**r, "fact_month": _month(r["fact_month"]), "amount": r["total"]} for r in rows),
        ("fact_period", "fact_month", "zone", "credit_kind"),
    )


def settlements_by_facts():
    rows = SettlementFact.objects.values("period", "month", "zone_id", "credit_kind").annotate(
        total=Sum("amount")
    )
    return _collect(
        (
            {
                "fact_period": r["period"],
                "fact_month": r["month"],
                "zone": r["zone_id"],
                "credit_kind": r["credit_kind"],
                "amount": r["total"],
            }
            for r in rows
        ),
        ("fact_period", "fact_month", "zone", "credit_kind"),
    )


def _differences(name, ledger, facts):
    return [
        f"{name} {key}: ledger {ledger.get(key, ZERO)}, facts {facts.get(key, ZERO)}"
        for key in sorted(set(ledger) | set(facts), key=str)
        if ledger.get(key, ZERO) != facts.get(key, ZERO)
    ]


def compare():
    """Differences between the facts and the ledger, as sentences (empty: they agree).
    Refresh the facts first: rows posted since the last refresh are not in them yet."""
    return [
        *_differences("entries", entries_by_ledger(), entries_by_facts()),
        *_differences("bill lines", lines_by_ledger(), lines_by_facts()),
        *_differences("settlements", settlements_by_ledger(), settlements_by_facts()),
    ]
