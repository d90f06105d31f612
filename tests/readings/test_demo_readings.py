"""Demo readings: 24 months per book up to the current month, a consistent closing chain,
seasonality, anomalies, held reads, master meters with their loss; and the handheld
bulk path on a demo book."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from watermis.core.models import AuditEntry
from watermis.customers.models import Book
from watermis.demo import build_demo
from watermis.readings import queries
from watermis.readings.models import (
    Anomaly,
    PeriodStatus,
    Reading,
    ReadingPeriod,
    ReadingState,
)

TODAY = datetime.date(2026, 11, 24)
CURRENT = datetime.date(2026, 11, 1)


@pytest.fixture
def demo(db):
    return build_demo(seed=3, customers=400, today=TODAY)


def test_periods_and_states(demo):
    data = demo["reading_data"]
    assert data["readings"] == Reading.objects.count() > 400 * 20
    books = Book.objects.filter(active=True)
    for book in books:
        months = list(ReadingPeriod.objects.filter(book=book).values_list("month", flat=True))
        assert len(months) == 24 and max(months) == CURRENT
        assert min(months) == datetime.date(2024, 12, 1)
    open_months = set(
        ReadingPeriod.objects.filter(status=PeriodStatus.OPEN).values_list("month", flat=True)
    )
    assert open_months == {CURRENT, datetime.date(2026, 10, 1)}
    last_month = Reading.objects.filter(
        period__month=datetime.date(2026, 10, 1), period__book__isnull=False
    )
    assert not last_month.filter(state=ReadingState.PENDING).exists()
    current = Reading.objects.filter(period__month=CURRENT, period__book__isnull=False)
    pending = current.filter(state=ReadingState.PENDING).count()
    assert 0.2 * current.count() < pending < 0.8 * current.count()
    assert Reading.objects.filter(state=ReadingState.HELD).exists()
    assert not Reading.objects.filter(
        state=ReadingState.HELD, period__status=PeriodStatus.CLOSED
    ).exists()
    assert AuditEntry.objects.filter(verb="open_period").count() == ReadingPeriod.objects.count()


def test_closing_chain_and_volumes(demo):
    rows = Reading.objects.exclude(state=ReadingState.PENDING).order_by(
        "meter_id", "period__month", "sequence"
    )
    last = {}
    for meter_id, previous, closing, volume, current in rows.values_list(
        "meter_id", "previous", "closing", "volume", "current"
    ):
        if meter_id in last:
            assert previous == last[meter_id], meter_id
        assert volume >= 0 and current is not None
        last[meter_id] = closing
    # pending reads of the current month start where the last read ended
    for r in Reading.objects.filter(state=ReadingState.PENDING, period__month=CURRENT)[:200]:
        if r.meter_id in last:
            assert r.previous == last[r.meter_id]


def test_seasonality_and_anomalies(demo):
    per_month = dict(
        Reading.objects.filter(period__book__isnull=False, period__month__lt=CURRENT)
        .values_list("period__month")
        .annotate(v=Sum("volume"))
        .values_list("period__month", "v")
    )
    july = per_month[datetime.date(2026, 7, 1)]
    january = per_month[datetime.date(2026, 1, 1)]
    assert july > january * Decimal("1.25")
    anomalies = dict(
        Reading.objects.exclude(anomaly="").values_list("anomaly").annotate(n=Count("id"))
    )
    for code in (Anomaly.ZERO, Anomaly.ROLLOVER, Anomaly.SUPERVISOR):
        assert anomalies.get(code, 0) >= 1, (code, anomalies)
    estimate = Reading.objects.filter(estimated=True, period__month__lt=CURRENT).first()
    assert estimate is not None
    after = Reading.objects.get(
        meter=estimate.meter, period__month=_next(estimate.period.month), sequence=1
    )
    assert after.previous_estimated and after.previous == estimate.closing
    assert after.volume > 0  # the true-up
    assert Reading.objects.filter(rolled_over=True, volume__lt=100).exists()


def test_master_meters_lose_8_to_15_percent(demo):
    month = datetime.date(2026, 9, 1)
    rates = [r for r in queries.loss_rates(None, month) if r["rate"] is not None]
    assert rates
    for rate in rates:
        assert Decimal("7") <= rate["rate"] <= Decimal("14"), rate


def _next(month):
    return (month + datetime.timedelta(days=32)).replace(day=1)


def test_a_demo_book_round_trips_through_a_handheld_file(demo):
    import csv
    import io

    from watermis.org.models import Operator
    from watermis.readings import handheld

    admin = Operator.objects.get(username="admin")

    period = (
        ReadingPeriod.objects.filter(month=CURRENT, book__isnull=False)
        .filter(readings__state=ReadingState.PENDING)
        .distinct()
        .first()
    )
    out = io.BytesIO()
    handheld.write_csv(out, [period])
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    col = {h: i for i, h in enumerate(rows[0])}
    filled = 0
    for row in rows[1:]:
        if row[col["本次读数"]] == "":
            average = Decimal(row[col["月均用量"]] or "12")
            row[col["本次读数"]] = str(Decimal(row[col["上次读数"]]) + average.quantize(Decimal(1)))
            row[col["抄表日期"]] = TODAY.isoformat()
            filled += 1
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    data = io.BytesIO(text.getvalue().encode("utf-8-sig"))
    result = handheld.import_file(admin, data, "book.csv", today=TODAY)
    assert result.ok, result.errors[:5]
    assert result.saved + result.held == filled and result.unchanged == len(rows) - 1 - filled
    assert not period.readings.filter(state=ReadingState.PENDING).exists()
