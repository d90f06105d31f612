"""Reading services (M2): periods from cycles, entry checks, confirmation, supervisor holds,
corrections, replacements, estimates, monitored meters, splits, loss rates; scoped, journaled."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from watermis.core.models import AuditEntry
from watermis.customers import services as customer_services
from watermis.readings import hooks, queries, services
from watermis.readings.models import (
    Anomaly,
    Reading,
    ReadingPeriod,
    ReadingSource,
    ReadingState,
    StatusCode,
)
from watermis.readings.services import Entry, EstimateMethod, NeedsConfirmation

from .conftest import NOV, OCT, TODAY

D = Decimal


def open_month(actor, org, month, zone="zone_a"):
    return services.open_periods(actor, org[zone], month, today=TODAY)


def row(period, meter, sequence=1):
    return Reading.objects.get(period=period, meter=meter, sequence=sequence)


def enter(actor, reading, current, day=None, **kw):
    return services.enter_reading(
        actor, reading, Entry(D(current), day or reading.period.planned_on, **kw), today=TODAY
    )


@pytest.fixture
def october(town, org, clerk_a):
    periods = open_month(clerk_a, org, OCT)
    book = next(p for p in periods if p.book_id == town["book_a"].pk)
    master = next(p for p in periods if p.book_id is None)
    return {"book": book, "master": master}


def test_open_periods_fill_rows_from_meters(town, org, clerk_a, october):
    book = october["book"]
    assert book.planned_on == datetime.date(2026, 10, 20)
    rows = list(book.readings.order_by("route_order"))
    assert {r.meter.number for r in rows} == {"M001", "M002", "M003", "M001S"}
    first = row(book, town["meters"][0])
    assert first.previous == D("100") and first.state == ReadingState.PENDING
    assert first.reader == org["emp_a"] and first.zone == org["zone_a"]
    assert [r.meter.number for r in october["master"].readings.all()] == ["Z001"]
    # zone B was not opened by a zone-A clerk; opening again adds nothing
    assert not ReadingPeriod.objects.filter(zone=org["zone_b"]).exists()
    assert open_month(clerk_a, org, OCT) == []
    assert (
        AuditEntry.objects.filter(
            object_type="readings.readingperiod", verb="open_period", actor=clerk_a
        ).count()
        == 2
    )
    with pytest.raises(PermissionDenied):
        services.open_periods(clerk_a, org["zone_b"], OCT, today=TODAY)


def test_cycles_decide_which_books_are_due(town, org, admin):
    customer_services.update_book(admin, town["book_a"], {"cycle": "2"})
    assert len(open_month(admin, org, datetime.date(2026, 9, 1))) == 2
    assert [p.book for p in open_month(admin, org, OCT)] == [None]  # only the masters
    assert town["book_a"] in [p.book for p in open_month(admin, org, NOV)]


def test_normal_entry_and_next_period_starts_from_it(town, org, clerk_a, october):
    reading = enter(clerk_a, row(october["book"], town["meters"][0]), "112.5")
    assert reading.volume == D("12.50") and reading.state == ReadingState.ENTERED
    assert reading.entered_by == clerk_a and reading.source == ReadingSource.MANUAL
    entry = AuditEntry.objects.get(object_type="readings.reading", object_id=str(reading.pk))
    assert entry.verb == "enter_reading" and entry.after["current"] == "112.50"
    (nov_book,) = [p for p in open_month(clerk_a, org, NOV) if p.book_id]
    november = row(nov_book, town["meters"][0])
    assert november.previous == D("112.50") and november.previous_on == october["book"].planned_on


def test_entry_errors_name_the_field(town, clerk_a, october):
    reading = row(october["book"], town["meters"][0])
    cases = [
        (Entry(D("90"), october["book"].planned_on), "current", "below the previous"),
        (Entry(D("100000"), october["book"].planned_on), "current", "99999"),
        (Entry(D("110"), datetime.date(2026, 12, 1)), "read_on", "future"),
        (Entry(D("110"), datetime.date(2025, 12, 1)), "read_on", "before the previous"),
        (Entry(D("110.123"), october["book"].planned_on), "current", "two decimals"),
        (Entry(D("99000"), october["book"].planned_on), "current", "more than a DN15"),
    ]
    for entry, field, text in cases:
        with pytest.raises(ValidationError) as caught:
            services.enter_reading(clerk_a, reading, entry, today=TODAY)
        assert text in " ".join(caught.value.message_dict[field]), (entry, caught.value)
    reading.refresh_from_db()
    assert reading.state == ReadingState.PENDING and reading.current is None
    assert not AuditEntry.objects.filter(object_type="readings.reading").exists()


def test_rollover_must_be_ticked_then_confirmed(town, admin, clerk_a, october):
    meter = town["meters"][1]
    customer_services.update_meter(admin, meter, {"digits": 3})
    reading = row(october["book"], meter)
    with pytest.raises(NeedsConfirmation) as caught:
        enter(clerk_a, reading, "5", rolled_over=True)
    assert [f.code for f in caught.value.findings] == ["rollover"]
    reading = enter(clerk_a, reading, "5", rolled_over=True, confirm=True, reason="表走穿")
    assert reading.volume == D("905.00") or reading.volume == D("905")


def test_unusual_reads_need_a_reason_or_are_held(town, clerk_a, october):
    reading = row(october["book"], town["meters"][0])
    Reading.objects.filter(pk=reading.pk).update(average=D("20"))
    with pytest.raises(NeedsConfirmation):
        enter(clerk_a, reading, "100")  # zero
    with pytest.raises(NeedsConfirmation):
        enter(clerk_a, reading, "100", confirm=True)  # no reason
    saved = enter(clerk_a, reading, "100", confirm=True, reason="空房")
    assert saved.state == ReadingState.ENTERED and saved.anomaly == Anomaly.ZERO
    other = row(october["book"], town["meters"][2])
    Reading.objects.filter(pk=other.pk).update(average=D("20"))
    held = services.enter_reading(
        clerk_a,
        other,
        Entry(D("140"), october["book"].planned_on, source=ReadingSource.HANDHELD),
        today=TODAY,
        hold=True,
    )
    assert held.state == ReadingState.HELD and held.anomaly == Anomaly.HIGH
    services.confirm_reading(clerk_a, held, "家里装修")
    held.refresh_from_db()
    assert held.state == ReadingState.ENTERED


def test_far_above_average_waits_for_a_supervisor(town, clerk_a, manager, october):
    reading = row(october["book"], town["meters"][0])
    Reading.objects.filter(pk=reading.pk).update(average=D("10"))
    held = enter(clerk_a, reading, "200", confirm=True, reason="漏水")
    assert held.state == ReadingState.HELD and held.anomaly == Anomaly.SUPERVISOR
    with pytest.raises(PermissionDenied):
        services.confirm_reading(clerk_a, held, "漏水")
    services.confirm_reading(manager, held, "已核实漏水")
    held.refresh_from_db()
    assert held.state == ReadingState.ENTERED and held.approved_by == manager


def test_same_entry_twice_changes_nothing(town, clerk_a, october):
    reading = row(october["book"], town["meters"][0])
    enter(clerk_a, reading, "110")
    enter(clerk_a, reading, "110")
    assert AuditEntry.objects.filter(object_type="readings.reading").count() == 1


def test_correction_needs_reason_and_moves_next_read(town, org, clerk_a, october):
    meter = town["meters"][0]
    enter(clerk_a, row(october["book"], meter), "110")
    (nov_book,) = [p for p in open_month(clerk_a, org, NOV) if p.book_id]
    enter(clerk_a, row(nov_book, meter), "125", day=datetime.date(2026, 11, 20))
    with pytest.raises(ValidationError) as caught:
        enter(clerk_a, row(october["book"], meter), "108")
    assert "reason" in caught.value.message_dict
    enter(clerk_a, row(october["book"], meter), "108", reason="抄错")
    november = row(nov_book, meter)
    assert november.previous == D("108.00") and november.volume == D("17.00")
    verbs = set(
        AuditEntry.objects.filter(object_type="readings.reading").values_list("verb", flat=True)
    )
    assert {"enter_reading", "correct_reading", "previous_corrected"} <= verbs


def test_billed_reading_changes_only_when_billing_allows(town, clerk_a, october):
    """Readings on its own (billing's hooks taken out for the test; tests/billing covers them)."""
    reading = enter(clerk_a, row(october["book"], town["meters"][0]), "110")
    Reading.objects.filter(pk=reading.pk).update(billed=True)
    recomputed = []

    def paid_guard(r):
        if r.current == D("110"):
            raise ValidationError("The bill of this reading is paid.")

    saved_guards, saved_after = list(hooks._correction_guards), list(hooks._after_correction)
    hooks._correction_guards.clear()
    hooks._after_correction.clear()
    try:
        with pytest.raises(ValidationError, match="billed"):
            enter(clerk_a, reading, "111", reason="抄错")
        hooks.register_correction_guard(paid_guard)
        hooks.register_after_correction(recomputed.append)
        with pytest.raises(ValidationError, match="paid"):
            enter(clerk_a, reading, "111", reason="抄错")
        Reading.objects.filter(pk=reading.pk).update(current=D("110.5"))
        enter(clerk_a, reading, "111", reason="抄错")
        assert [r.pk for r in recomputed] == [reading.pk]
    finally:
        hooks._correction_guards[:] = saved_guards
        hooks._after_correction[:] = saved_after


def test_closed_period_refuses(town, clerk_a, october):
    services.close_period(clerk_a, october["book"], "月结")
    with pytest.raises(ValidationError, match="closed"):
        enter(clerk_a, row(october["book"], town["meters"][0]), "110")


def test_replacement_after_opening_moves_the_row(town, admin, clerk_a, october):
    old = town["meters"][1]
    reading = row(october["book"], old)
    new = customer_services.replace_meter(
        admin,
        old,
        {"number": "M002N", "initial_reading": D("0")},
        D("128"),
        datetime.date(2026, 10, 10),
    )
    saved = enter(clerk_a, reading, "19")
    assert saved.meter == new and saved.replaced_meter == old
    assert saved.volume == D("47.00")  # (128 − 100) + (19 − 0)


def test_first_period_of_a_new_meter_includes_old_remainder(town, admin, clerk_a, org, october):
    old = town["meters"][2]
    enter(clerk_a, row(october["book"], old), "120")
    new = customer_services.replace_meter(
        admin,
        old,
        {"number": "M003N", "initial_reading": D("0")},
        D("125"),
        datetime.date(2026, 11, 5),
    )
    (nov_book,) = [p for p in open_month(clerk_a, org, NOV) if p.book_id]
    reading = row(nov_book, new)
    assert reading.replaced_meter == old and reading.old_previous == D("120.00")
    assert enter(clerk_a, reading, "10").volume == D("15.00")


def test_estimate_then_actual_trues_up(town, org, clerk_a, october):
    meter = town["meters"][0]
    estimated = services.estimate_reading(
        clerk_a,
        row(october["book"], meter),
        EstimateMethod.GIVEN,
        october["book"].planned_on,
        StatusCode.NOBODY_HOME,
        "无人在家",
        volume=D("30"),
        today=TODAY,
    )
    assert estimated.estimated and estimated.current == D("130") and estimated.volume == D("30")
    (nov_book,) = [p for p in open_month(clerk_a, org, NOV) if p.book_id]
    november = row(nov_book, meter)
    assert november.previous_estimated
    waiting = enter(
        clerk_a, november, "120", day=datetime.date(2026, 11, 20), confirm=True, reason="等针"
    )
    assert waiting.volume == 0 and waiting.closing == D("130.00")


def test_monitored_meter_three_reads_a_month(town, clerk_a, october):
    meter = town["meters"][0]
    with pytest.raises(ValidationError, match="not monitored"):
        services.add_interim_reading(
            clerk_a, october["book"], meter, Entry(D("105"), datetime.date(2026, 10, 21)), TODAY
        )
    services.start_monitoring(clerk_a, meter, datetime.date(2026, 10, 1), "疑似偷水")
    enter(clerk_a, row(october["book"], meter), "105", day=datetime.date(2026, 10, 10))
    for n, (value, day) in enumerate([("110", 20), ("116", 30)], start=2):
        reading = services.add_interim_reading(
            clerk_a,
            october["book"],
            meter,
            Entry(D(value), datetime.date(2026, 10, day)),
            TODAY,
        )
        assert reading.sequence == n and reading.volume in (D("5"), D("6"))
    with pytest.raises(ValidationError, match="at most 3"):
        services.add_interim_reading(
            clerk_a, october["book"], meter, Entry(D("120"), datetime.date(2026, 10, 31)), TODAY
        )
    assert queries.period_volumes([meter.pk], OCT)[meter.pk] == D("16.00")


def test_split_volume_into_bills(town, clerk_a, october):
    reading = enter(clerk_a, row(october["book"], town["meters"][0]), "130")
    with pytest.raises(ValidationError):
        services.split_reading(clerk_a, reading, [(D("10"), ""), (D("10"), "")], "两次出账")
    parts = services.split_reading(
        clerk_a, reading, [(D("10"), "前半月"), (D("20"), "后半月")], "过户分账"
    )
    assert [p.volume for p in parts] == [D("10"), D("20")]


def test_loss_rate_of_district_meter(town, clerk_a, october):
    book = october["book"]
    enter(clerk_a, row(book, town["meters"][0]), "130")  # 30, parent of the sub
    enter(clerk_a, row(book, town["sub"]), "10")  # inside the parent's 30
    enter(clerk_a, row(book, town["meters"][1]), "110")  # 10
    enter(clerk_a, row(october["master"], town["district"]), "50", confirm=True, reason="首月")
    (rate,) = queries.loss_rates(None, OCT)
    assert rate["master_volume"] == D("50") and rate["customer_volume"] == D("40")
    assert rate["loss"] == D("10") and rate["rate"] == D("20.00")


def test_scope_and_permission(town, org, admin, clerk_a, reader_a, cashier_a):
    (period_b,) = [p for p in open_month(admin, org, OCT, zone="zone_b") if p.book_id]
    reading_b = row(period_b, town["meters"][3])
    with pytest.raises(PermissionDenied):
        enter(clerk_a, reading_b, "110")
    with pytest.raises(PermissionDenied):
        enter(cashier_a, reading_b, "110")
    (period_a,) = [p for p in open_month(admin, org, OCT) if p.book_id]
    assert enter(reader_a, row(period_a, town["meters"][0]), "110").entered_by == reader_a


def test_still_below_the_estimate_next_month_waits_again(town, org, clerk_a, october):
    meter = town["meters"][0]
    services.estimate_reading(
        clerk_a,
        row(october["book"], meter),
        EstimateMethod.GIVEN,
        october["book"].planned_on,
        StatusCode.NOBODY_HOME,
        "无人在家",
        volume=D("30"),
        today=TODAY,
    )
    (nov_book,) = [p for p in open_month(clerk_a, org, NOV) if p.book_id]
    enter(
        clerk_a,
        row(nov_book, meter),
        "110",
        day=datetime.date(2026, 11, 20),
        confirm=True,
        reason="等针",
    )
    december = datetime.date(2026, 12, 1)
    (dec_book,) = [
        p for p in services.open_periods(clerk_a, org["zone_a"], december, today=TODAY) if p.book_id
    ]
    waiting = row(dec_book, meter)
    assert waiting.previous == D("130.00") and waiting.previous_estimated
    Reading.objects.filter(pk=waiting.pk).update(average=None)
    result = services.enter_reading(
        clerk_a,
        waiting,
        Entry(D("125"), datetime.date(2026, 11, 24), confirm=True, reason="等针"),
        today=TODAY,
    )
    assert result.volume == 0 and result.closing == D("130.00")
