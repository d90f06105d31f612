"""Month-end (F3.26): refused while anything is unbilled, then closes, records and opens the next."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from watermis.billing import billrun, ledger, monthend
from watermis.billing.models import EntryKind, MonthEnd
from watermis.core.models import AuditEntry
from watermis.readings.models import PeriodStatus, ReadingPeriod

from .billing_town import build_town, open_month, read, run_tasks

D = Decimal
OCT = datetime.date(2026, 10, 1)
NOV = datetime.date(2026, 11, 1)
TODAY = datetime.date(2026, 11, 3)


@pytest.fixture
def town(org, admin):
    return build_town(org, admin)


def test_month_end_waits_for_the_bill_run_then_closes_and_opens_the_next(town, admin, manager):
    open_month(admin, town, OCT)
    m1, m2, _m3 = town["meters"]
    read(admin, m1, OCT, "124")
    read(admin, m2, OCT, "130")
    checks = monthend.month_checks(town["zone"], OCT)
    assert not checks.ready and "not billed" in checks.problems[0]
    assert "not read" in checks.notes[0]
    with pytest.raises(ValidationError, match="not billed"):
        monthend.close_month(manager, town["zone"], OCT, today=TODAY)
    billrun.start_run(admin, town["zone"], OCT, issued_on=datetime.date(2026, 10, 25))
    with pytest.raises(ValidationError, match="running"):
        monthend.close_month(manager, town["zone"], OCT, today=TODAY)
    run_tasks()
    ledger.post_entry(
        admin,
        town["customers"][0],
        EntryKind.PAYMENT,
        D("96.00"),
        business_date=OCT.replace(day=28),
    )
    record = monthend.close_month(manager, town["zone"], OCT, "十月月结", today=TODAY)
    assert (record.bills, record.billed, record.collected) == (2, D("216.00"), D("96.00"))
    assert (record.arrears, record.credit) == (D("120.00"), D("0.00"))
    assert not ReadingPeriod.objects.filter(month=OCT, status=PeriodStatus.OPEN).exists()
    assert ReadingPeriod.objects.filter(month=NOV, status=PeriodStatus.OPEN).exists()
    assert AuditEntry.objects.filter(verb="close_month", actor=manager).exists()
    # A closed month takes no more bill runs and cannot close twice.
    with pytest.raises(ValidationError, match="closed"):
        billrun.start_run(admin, town["zone"], OCT)
    with pytest.raises(ValidationError, match="closed already"):
        monthend.close_month(manager, town["zone"], OCT, today=TODAY)
    assert MonthEnd.objects.count() == 1


def test_months_close_in_order_and_only_by_managers(town, admin, manager, clerk_a):
    open_month(admin, town, OCT)
    open_month(admin, town, NOV)
    with pytest.raises(ValidationError, match="2026-10 first"):
        monthend.close_month(manager, town["zone"], NOV, today=TODAY)
    with pytest.raises(PermissionDenied):
        monthend.close_month(clerk_a, town["zone"], OCT, today=TODAY)


def test_held_reads_block_the_month(town, admin, manager):
    from watermis.readings.models import Reading, ReadingState

    open_month(admin, town, OCT)
    read(admin, town["meters"][0], OCT, "124")
    Reading.objects.filter(meter=town["meters"][1]).update(state=ReadingState.HELD)
    with pytest.raises(ValidationError, match="held"):
        monthend.close_month(manager, town["zone"], OCT, today=TODAY)
