"""The reports reconcile with the ledger: facts equal the ledger's own sums, and every
report's totals equal the same figure summed straight from entries, bills and balances."""

from decimal import Decimal

from django.db.models import Q, Sum

from watermis.billing.models import Account, Allocation, Bill, BillKind, EntryKind, LedgerEntry
from watermis.reports import checks, queries

from .conftest import FIRST, LAST

ZERO = Decimal("0.00")


def money(value):
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def entry_sum(**filters):
    plain = LedgerEntry.objects.filter(reverses__isnull=True, **filters).aggregate(s=Sum("amount"))
    undone = LedgerEntry.objects.filter(
        **{f"reverses__{k}": v for k, v in filters.items()}
    ).aggregate(s=Sum("amount"))
    return money(plain["s"]) - money(undone["s"])


def test_facts_equal_the_ledger(db, demo):
    assert LedgerEntry.objects.count() > 1000
    assert checks.compare() == []


def test_statistics_reconcile(db, demo):
    everything = queries.Selection(FIRST, LAST, group_by="zone")
    table = queries.statistics(everything)
    total = table.total
    regular = Bill.objects.filter(kind=BillKind.REGULAR)
    billed = money(regular.aggregate(s=Sum("amount"))["s"]) - money(
        regular.filter(cancel_entry__isnull=False).aggregate(s=Sum("amount"))["s"]
    )
    assert total["billed"] == billed > 0
    assert total["red"] == -money(
        Bill.objects.filter(kind=BillKind.RED).aggregate(s=Sum("amount"))["s"]
    )
    assert total["late_fees"] == entry_sum(kind=EntryKind.LATE_FEE)
    assert total["received"] == entry_sum(kind=EntryKind.PAYMENT) > 0
    arrears = -money(Account.objects.filter(balance__lt=0).aggregate(s=Sum("balance"))["s"])
    assert total["outstanding"] == arrears > 0
    # every row: billed + late fees = paid + waived + written off + red-credited + outstanding
    for row in [*table.rows, total]:
        assert row["billed"] + row["late_fees"] == (
            row["paid"]
            + row["waived"]
            + row["written_off"]
            + row["red_credited"]
            + row["outstanding"]
        ), row
    # the groups add up to the total, whatever the grouping
    for group_by in ("zone", "book", "reader", "category", "tariff", "month"):
        other = queries.statistics(queries.Selection(FIRST, LAST, group_by=group_by))
        assert other.total["billed"] == total["billed"], group_by
        assert sum(r["billed"] for r in other.rows) == total["billed"], group_by
        assert sum(r["outstanding"] for r in other.rows) == total["outstanding"], group_by


def test_revenue_by_item_reconciles(db, demo):
    table = queries.revenue_by_item(queries.Selection(FIRST, LAST, group_by="zone"))
    from watermis.billing.models import BillLine

    lines = BillLine.objects.filter(Q(bill__cancel_entry__isnull=True))
    assert table.total["billed"] == money(lines.aggregate(s=Sum("amount"))["s"]) > 0
    stats = queries.statistics(queries.Selection(FIRST, LAST, group_by="zone")).total
    assert table.total["billed"] == stats["billed"] - stats["red"]
    paid_bills = money(
        Allocation.objects.filter(
            debit__kind=EntryKind.BILL, credit__kind__in=queries.PAID_KINDS
        ).aggregate(s=Sum("amount"))["s"]
    )
    assert table.total["paid"] == paid_bills > 0


def test_waivers_and_bad_debts_reconcile(db, demo):
    everything = queries.Selection(FIRST, LAST, group_by="month")
    assert queries.waivers(everything).total["net"] == entry_sum(kind=EntryKind.WAIVER)
    assert queries.bad_debts(everything).total["net"] == entry_sum(kind=EntryKind.WRITE_OFF)


def test_trend_and_year_over_year_reconcile(db, demo):
    import datetime

    first, last = datetime.date(2025, 11, 1), datetime.date(2026, 10, 1)
    rows = queries.trend(queries.Selection(first, last))
    assert [r["month"] for r in rows][:2] == ["2025-11", "2025-12"] and len(rows) == 12
    stats = queries.statistics(queries.Selection(first, last)).total
    assert sum(r["billed"] for r in rows) == stats["billed"]
    assert sum(r["volume"] for r in rows) == stats["volume"]
    october = rows[-1]
    a_year_before = datetime.date(2025, 10, 1)
    old = queries.statistics(queries.Selection(a_year_before, a_year_before)).total
    assert october["billed_last_year"] == old["billed"] > 0
    expected = ((october["billed"] - old["billed"]) / old["billed"] * 100).quantize(Decimal("0.1"))
    assert october["billed_change"] == expected


def test_arrears_ageing_adds_up_to_the_arrears(db, demo):
    import datetime

    buckets = queries.ageing(queries.Selection(FIRST, LAST), datetime.date(2026, 11, 1))
    arrears = -money(Account.objects.filter(balance__lt=0).aggregate(s=Sum("balance"))["s"])
    assert sum(amount for _label, amount, _share in buckets) == arrears > 0
    assert buckets[-1][1] >= 0 and len(buckets) == 5
