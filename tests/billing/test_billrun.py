"""Bill runs: reads become bills, lines and ledger entries once, book by book, resumably."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from watermis.billing import billrun, ledger
from watermis.billing.models import (
    Bill,
    BillLine,
    BillRunBook,
    BookStatus,
    EntryKind,
    LedgerEntry,
    RunStatus,
)
from watermis.customers import services as customer_services
from watermis.customers.models import MeterShare
from watermis.readings import services as reading_services
from watermis.readings.models import Reading
from watermis.tariffs import services as tariff_services

from .billing_town import build_town, open_month, read, run_tasks

D = Decimal
OCT = datetime.date(2026, 10, 1)
NOV = datetime.date(2026, 11, 1)
DEC = datetime.date(2026, 12, 1)
JAN = datetime.date(2027, 1, 1)


@pytest.fixture
def town(org, admin):
    return build_town(org, admin)


def bill_month(admin, town, month, **kw):
    run = billrun.start_run(admin, town["zone"], month, issued_on=month.replace(day=25), **kw)
    run_tasks()
    run.refresh_from_db()
    return run


def amounts(month):
    return {
        b.customer.name: b.amount
        for b in Bill.objects.filter(month=month).select_related("customer")
    }


def test_a_run_bills_each_read_once_with_lines_entries_and_balances(town, admin):
    open_month(admin, town, OCT)
    m1, m2, m3 = town["meters"]
    read(admin, m1, OCT, "124")
    read(admin, m2, OCT, "130")
    read(admin, m3, OCT, "100")  # nothing used: the 2 m³ minimum
    run = bill_month(admin, town, OCT)
    assert billrun.run_status(run) == RunStatus.DONE and run.finished_at
    assert amounts(OCT) == {"住户1": D("96.00"), "住户2": D("120.00"), "住户3": D("8.00")}
    minimum = Bill.objects.get(meter=m3)
    assert (minimum.read_volume, minimum.volume) == (D("0.00"), D("2.00"))
    assert minimum.due_on == OCT.replace(day=25) + datetime.timedelta(days=30)
    assert minimum.cycle_start == datetime.date(2026, 1, 1) and minimum.cycle_to_date == D("2.00")
    lines = BillLine.objects.filter(bill__meter=m1).order_by("id")
    assert [(line.item.code, line.tier, line.volume, line.amount) for line in lines] == [
        ("W", 1, D("24.00"), D("72.00")),
        ("S", None, D("24.00"), D("24.00")),
    ]
    assert ledger.balance_of(town["customers"][0].pk) == D("-96.00")
    entry = Bill.objects.get(meter=m1).entry
    assert (entry.kind, entry.posted_by, entry.period) == (EntryKind.BILL, admin, OCT)
    assert Reading.objects.filter(period__month=OCT, billed=True).count() == 3
    book = run.books.get()
    assert book.bill_count == 3 and book.amount == D("224.00")
    assert book.totals["items"]["W"] == ["水费", "56.00", "168.00"]
    # A second run of the month finds nothing new; a preview says so too.
    again = bill_month(admin, town, OCT)
    assert again.books.get().bill_count == 0 and Bill.objects.count() == 3
    preview = bill_month(admin, town, OCT, dry_run=True)
    assert preview.books.get().totals["bills"] == 0


def test_a_preview_writes_nothing_and_lists_what_waits(town, admin):
    open_month(admin, town, OCT)
    m1, m2, _m3 = town["meters"]
    read(admin, m1, OCT, "124")
    read(admin, m2, OCT, "130")
    run = bill_month(admin, town, OCT, dry_run=True)
    totals = run.books.get().totals
    assert totals["bills"] == 2 and totals["amount"] == "216.00" and totals["waiting"] == 1
    assert Bill.objects.count() == 0 and LedgerEntry.objects.count() == 0
    assert not Reading.objects.filter(billed=True).exists()
    summary = billrun.run_summary(run)
    assert summary["items"] == [
        ("S", ["污水处理费", D("54.00"), D("54.00")]),
        ("W", ["水费", D("54.00"), D("162.00")]),
    ]


def test_tier_year_continues_across_months_and_restarts_in_january(town, admin):
    m1 = town["meters"][0]
    for month, current in ((OCT, "270"), (NOV, "290"), (DEC, "301")):
        open_month(admin, town, month)
        read(admin, m1, month, current)
        bill_month(admin, town, month)
    open_month(admin, town, JAN)
    read(admin, m1, JAN, "332")  # 31 m³ from Dec 20 to Jan 20: 11 days in 2026, 20 in 2027
    bill_month(admin, town, JAN)
    bills = {b.month: b for b in Bill.objects.filter(meter=m1)}
    assert bills[OCT].amount == D("170.00") * 4  # 170 m³ of tier 1: 3.00 + 1.00 sewage
    # November: 10 m³ to reach 180, then 10 m³ of tier 2
    assert [(line.tier, line.volume) for line in bills[NOV].lines.filter(item__code="W")] == [
        (1, D("10.00")),
        (2, D("10.00")),
    ]
    assert bills[NOV].cycle_to_date == D("190.00")
    assert bills[DEC].cycle_to_date == D("201.00")
    jan = [
        (line.tier, line.volume, line.price_from)
        for line in bills[JAN].lines.filter(item__code="W")
    ]
    assert jan == [
        (2, D("11.00"), datetime.date(2025, 1, 1)),
        (1, D("20.00"), datetime.date(2025, 1, 1)),
    ]
    assert bills[JAN].cycle_start == JAN and bills[JAN].cycle_to_date == D("20.00")


def test_a_price_change_inside_the_period_splits_the_volume_by_days(town, admin):
    open_month(admin, town, OCT)
    tariff_services.create_version(
        admin,
        town["tariff"],
        {
            "effective_from": datetime.date(2026, 10, 11),
            "tier_mode": "cyclic",
            "tiers": [D("180"), D("260"), None],
            "prices": [
                (town["water"], 1, D("3.60")),
                (town["water"], 2, D("4.80")),
                (town["water"], 3, D("7.20")),
                (town["sewage"], None, D("1.00")),
            ],
        },
        today=datetime.date(2026, 10, 1),
    )
    read(admin, town["meters"][0], OCT, "130")  # 30 m³ over 30 days: 20 old, 10 new
    bill_month(admin, town, OCT)
    bill = Bill.objects.get()
    water = [(line.volume, line.unit_price) for line in bill.lines.filter(item__code="W")]
    assert water == [(D("20.00"), D("3.0000")), (D("10.00"), D("3.6000"))]
    assert bill.amount == D("60.00") + D("36.00") + D("30.00")


def test_parent_meter_bills_its_volume_less_the_sub_meters(town, admin):
    parent = town["meters"][0]
    sub = customer_services.add_meter(
        admin,
        town["customers"][1],
        {
            "number": "M001S",
            "installed_on": datetime.date(2026, 9, 20),
            "initial_reading": D("0"),
            "tariff": town["tariff"],
            "parent": parent,
        },
    )
    open_month(admin, town, OCT)
    read(admin, parent, OCT, "140")  # 40 m³ through the parent
    run = bill_month(admin, town, OCT)
    assert "sub-meter" in next(iter(run.books.get().totals["skipped"]))
    assert not Bill.objects.filter(meter=parent).exists()
    read(admin, sub, OCT, "15")
    bill_month(admin, town, OCT)
    assert Bill.objects.get(meter=parent).volume == D("25.00")
    assert Bill.objects.get(meter=sub).volume == D("15.00")


def test_a_shared_meter_bills_each_household_its_share(town, admin):
    c1, c2, c3 = town["customers"]
    shared = town["meters"][2]
    MeterShare.objects.create(meter=shared, customer=c2, ratio=D("0.3333"))
    MeterShare.objects.create(meter=shared, customer=c3, ratio=D("0.6667"))
    open_month(admin, town, OCT)
    read(admin, shared, OCT, "130")
    bill_month(admin, town, OCT)
    shares = {b.customer_id: b.volume for b in Bill.objects.filter(meter=shared)}
    assert shares == {c2.pk: D("10.00"), c3.pk: D("20.00")}
    assert sum(shares.values()) == D("30.00")


def test_a_split_read_gives_one_bill_per_part(town, admin):
    open_month(admin, town, OCT)
    reading = read(admin, town["meters"][0], OCT, "130")
    reading_services.split_reading(
        admin, reading, [(D("12"), "住宅"), (D("18"), "商铺")], "两个用途"
    )
    bill_month(admin, town, OCT)
    assert sorted(Bill.objects.values_list("part", "volume")) == [(1, D("12.00")), (2, D("18.00"))]


def test_open_credit_pays_the_new_bill_at_once(town, admin):
    customer = town["customers"][0]
    ledger.post_entry(admin, customer, EntryKind.PAYMENT, D("50.00"), business_date=OCT)
    open_month(admin, town, OCT)
    read(admin, town["meters"][0], OCT, "124")
    bill_month(admin, town, OCT)
    assert ledger.balance_of(customer.pk) == D("-46.00")
    bill = Bill.objects.get()
    assert sum(a.amount for a in bill.entry.allocations_in.all()) == D("50.00")


def test_deposits_pay_the_new_bills_right_after_the_run(town, admin):
    """F4.3: with ``deposits.transfer_after_bill_run`` on (the default) each book pays its
    new bills from the deposits in its own transaction; off, the bills wait."""
    from watermis.payments.models import DepositTransfer, TransferRun, TransferTrigger

    rich, poor = town["customers"][0], town["customers"][1]
    ledger.post_entry(admin, rich, EntryKind.DEPOSIT, D("500.00"), business_date=OCT)
    ledger.post_entry(admin, poor, EntryKind.DEPOSIT, D("1.00"), business_date=OCT)
    open_month(admin, town, OCT)
    read(admin, town["meters"][0], OCT, "124")
    read(admin, town["meters"][1], OCT, "130")
    run = bill_month(admin, town, OCT)
    transfer_run = TransferRun.objects.get(bill_run=run)
    assert transfer_run.trigger == TransferTrigger.BILL_RUN and transfer_run.finished_at
    bill = Bill.objects.get(customer=rich)
    moved = DepositTransfer.objects.get(run=transfer_run)
    assert moved.customer == rich and moved.amount == bill.amount
    assert ledger.balance_of(rich.pk) == 0
    assert ledger.deposit_of(rich.pk) == D("500.00") - bill.amount
    assert ledger.deposit_of(poor.pk) == D("1.00")  # does not cover its bill
    assert transfer_run.customers == 1 and transfer_run.amount == bill.amount


def test_no_transfer_after_the_run_when_the_parameter_says_so(town, admin):
    from watermis.payments.models import TransferRun
    from watermis.system.models import Parameter

    Parameter.objects.create(key="deposits.transfer_after_bill_run", value="0")
    rich = town["customers"][0]
    ledger.post_entry(admin, rich, EntryKind.DEPOSIT, D("500.00"), business_date=OCT)
    open_month(admin, town, OCT)
    read(admin, town["meters"][0], OCT, "124")
    bill_month(admin, town, OCT)
    assert not TransferRun.objects.exists()
    assert ledger.deposit_of(rich.pk) == D("500.00") and ledger.balance_of(rich.pk) < 0


def test_a_finished_run_brings_the_reports_facts_up_to_date(town, admin):
    """The reports' facts take a run's bills in the background as soon as the run ends."""
    from watermis.reports import checks
    from watermis.reports.models import EntryFact

    open_month(admin, town, OCT)
    read(admin, town["meters"][0], OCT, "124")
    bill_month(admin, town, OCT)  # runs the queued tasks, the facts' refresh among them
    bill = Bill.objects.get()
    fact = EntryFact.objects.get(kind=EntryKind.BILL, period=OCT)
    assert (fact.bills, fact.amount, fact.volume) == (1, bill.amount, bill.volume)
    assert checks.compare() == []


def test_a_book_that_fails_half_way_leaves_nothing_and_resumes(town, admin, monkeypatch):
    open_month(admin, town, OCT)
    for meter, current in zip(town["meters"], ("124", "130", "100"), strict=True):
        read(admin, meter, OCT, current)
    real_write = billrun.bulk.write_rows

    def crash_on_lines(table, columns, rows):
        if table == "billing_billline":
            raise RuntimeError("worker killed")
        real_write(table, columns, rows)

    monkeypatch.setattr(billrun.bulk, "write_rows", crash_on_lines)
    run = bill_month(admin, town, OCT)
    book = run.books.get()
    assert book.status == BookStatus.FAILED and "worker killed" in book.error
    assert billrun.run_status(run) == RunStatus.FAILED
    assert Bill.objects.count() == 0 and LedgerEntry.objects.count() == 0
    assert not Reading.objects.filter(billed=True).exists()
    monkeypatch.setattr(billrun.bulk, "write_rows", real_write)
    assert billrun.resume_run(admin, run) == 1
    run_tasks()
    book.refresh_from_db()
    assert book.status == BookStatus.DONE and book.bill_count == 3
    assert Bill.objects.count() == 3
    with pytest.raises(ValidationError, match="done"):
        billrun.resume_run(admin, run)


def test_a_worker_keeps_a_runs_tariffs_for_its_books_and_loads_them_again_on_a_retry(town, admin):
    open_month(admin, town, OCT)
    run = bill_month(admin, town, OCT)
    book = run.books.select_related("run").get()
    kept = billrun._tariffs_of_run(book)
    assert billrun._tariffs_of_run(book) is kept
    book.attempts = 2  # a resumed book: the tariffs may have been mended meanwhile
    assert billrun._tariffs_of_run(book) is not kept


def test_a_tariff_kept_without_a_version_is_looked_up_again(town, admin):
    from watermis.billing.pricing import TariffBook

    category = town["tariff"].category
    bare = tariff_services.create_tariff(
        admin, {"code": "NEW", "name": "新水价", "category": category}
    )
    tariffs = TariffBook()
    assert tariffs.specs({bare.pk})[bare.pk] == []
    assert tariffs.item_id("W")  # the items are loaded
    item = tariff_services.create_price_item(
        admin, {"code": "X", "name": "新项目", "sort_order": 9}
    )
    tariff_services.create_version(
        admin,
        bare,
        {"effective_from": datetime.date(2026, 1, 1), "prices": [(item, None, D("2.50"))]},
        today=datetime.date(2025, 12, 1),
    )
    assert len(tariffs.specs({bare.pk})[bare.pk]) == 1
    assert tariffs.item_id("X") == item.pk  # an item added after the first lookup


def test_a_second_real_run_waits_for_the_first(town, admin):
    open_month(admin, town, OCT)
    billrun.start_run(admin, town["zone"], OCT)
    with pytest.raises(ValidationError, match="running"):
        billrun.start_run(admin, town["zone"], OCT)
    billrun.start_run(admin, town["zone"], OCT, dry_run=True)  # a preview may run alongside
    run_tasks()
    billrun.start_run(admin, town["zone"], OCT)


def test_closed_months_and_other_zones_are_refused(town, admin, clerk_a, org):
    with pytest.raises(ValidationError, match="no reading period"):
        billrun.start_run(admin, town["zone"], OCT)
    period = open_month(admin, town, OCT)[0]
    reading_services.close_period(admin, period)
    with pytest.raises(ValidationError, match="closed"):
        billrun.start_run(admin, town["zone"], OCT)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        billrun.start_run(clerk_a, org["zone_b"], OCT)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_book_bill_it_once(org, admin):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    town = build_town(org, admin)
    open_month(admin, town, OCT)
    for meter, current in zip(town["meters"], ("124", "130", "100"), strict=True):
        read(admin, meter, OCT, current)
    run = billrun.start_run(admin, town["zone"], OCT, issued_on=OCT.replace(day=25))
    book_id = run.books.get().pk
    barrier = threading.Barrier(2)
    errors = []

    def work():
        try:
            barrier.wait()
            billrun.bill_book(book_id)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Bill.objects.count() == 3 and LedgerEntry.objects.count() == 3
    assert BillRunBook.objects.get(pk=book_id).status == BookStatus.DONE
    from watermis.billing.verify import verify_books

    assert verify_books() == []


def test_correcting_a_billed_read_cancels_and_bills_it_again(town, admin):
    open_month(admin, town, OCT)
    meter, customer = town["meters"][0], town["customers"][0]
    read(admin, meter, OCT, "124")
    bill_month(admin, town, OCT)
    first = Bill.objects.get()
    read(admin, meter, OCT, "130")  # the reader typed 124 for 130
    first.refresh_from_db()
    assert first.state == "cancelled" and first.cancel_entry.reverses == first.entry
    again = Bill.objects.get(state="issued")
    assert again.amount == D("120.00") and again.due_on == first.due_on
    assert ledger.balance_of(customer.pk) == D("-120.00")
    assert Reading.objects.get(pk=again.reading_id).billed


def test_a_read_whose_bill_is_paid_does_not_change(town, admin):
    open_month(admin, town, OCT)
    meter, customer = town["meters"][0], town["customers"][0]
    read(admin, meter, OCT, "124")
    bill_month(admin, town, OCT)
    ledger.post_entry(admin, customer, EntryKind.PAYMENT, D("10.00"), business_date=OCT)
    with pytest.raises(ValidationError, match="red bill"):
        read(admin, meter, OCT, "130")
    assert Bill.objects.get().amount == D("96.00")
