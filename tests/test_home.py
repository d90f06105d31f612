"""The home page's dashboard (issue 10 item 4): today's takings, the billing months still
open, arrears and what waits for action, for the operator's zones only; figures link to
their pages only for operators who may open them; a bounded number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.conftest import make_operator
from tests.invoices.conftest import DAY, items, make_bill, pay, town  # noqa: F401 - fixtures
from tests.money_fixtures import books_add_up, english, memory_storage  # noqa: F401 - autouse
from tests.payments.conftest import NOW, bills, cashier, put_at_bank, screen  # noqa: F401

from watermis.billing import ledger, writeoffs
from watermis.billing.corrections import request_red_bill
from watermis.billing.models import Account, BillRun, BillRunBook, BookStatus, EntryKind
from watermis.customers import services as customer_services
from watermis.payments import counter
from watermis.payments.models import BankBatch, CounterMethod
from watermis.readings import services as reading_services
from watermis.readings.models import Reading, ReadingPeriod
from watermis.views import HomeView

D = Decimal
MONTH = datetime.date(2026, 11, 1)
YESTERDAY = DAY - datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch):
    """The dashboard is of ``DAY``, the day the payments below are taken."""
    monkeypatch.setattr(HomeView, "today", lambda self: DAY)


def home(login, user):
    response = login(user).get(reverse("home"))
    assert response.status_code == 200
    return response.context["board"], response.content.decode()


def deposit(customer, amount, day=DAY):
    return ledger.post_entry(None, customer, EntryKind.DEPOSIT, D(amount), business_date=day).entry


@pytest.fixture
def takings(town, bills, cashier):  # noqa: F811 - imported fixtures
    """Zone A: cash and card at the counter (the card one reversed), a bank deduction, a
    deposit, and a payment of yesterday; zone B: a payment without a counter record and a
    deposit."""
    c0, c1, c2, c3 = town["customers"]
    cash = counter.take_payment(cashier, screen(c0, [bills[c0.pk][0]]), now=NOW)
    card = counter.take_payment(
        cashier, screen(c1, [bills[c1.pk][0]], method=CounterMethod.CARD), now=NOW
    )
    counter.reverse_payment(cashier, card, "收错户了", now=NOW)
    bank = pay(bills[c2.pk][0], channel="bank")
    pay(bills[c2.pk][1], day=YESTERDAY)
    deposit(c0, "100.00")
    west = pay(bills[c3.pk][0])
    deposit(c3, "30.00")
    return {
        "cash": cash.entry.amount,
        "card": card.entry.amount,
        "bank": bank.amount,
        "west": west.amount,
    }


def ways(board):
    return {
        (way.channel, way.method): (way.takings.count, way.takings.amount, way.takings.net)
        for way, _href in board.ways
    }


def test_takings_of_the_operators_zones_less_reversals(takings, clerk_a, manager, login, org):
    cash, card, bank, west = (takings[k] for k in ("cash", "card", "bank", "west"))
    board, page = home(login, clerk_a)  # zone A only
    paid = board.takings.payments
    assert (paid.count, paid.amount) == (3, cash + card + bank)
    assert (paid.reversed_count, paid.reversed, paid.net) == (1, card, cash + bank)
    deposits = board.takings.deposits
    assert (deposits.count, deposits.net) == (1, D("100.00"))
    assert ways(board) == {
        ("", CounterMethod.CASH): (1, cash, cash),
        ("", CounterMethod.CARD): (1, card, D("0.00")),
        ("bank", None): (1, bank, bank),
    }
    assert [row.zone for row in board.by_zone] == [org["zone_a"]]
    assert f"{cash + bank:,.2f}" in page.split('id="dash-collected"', 1)[1]
    assert "1 reversed" in page and org["zone_b"].name not in page.split('id="dashboard"')[1]

    board, page = home(login, manager)  # every zone: zone B's payment and deposit count too
    paid = board.takings.payments
    assert (paid.count, paid.net) == (4, cash + bank + west)
    assert board.takings.deposits.net == D("130.00")
    assert ways(board)[("", None)] == (1, west, west)  # a counter payment without its record
    rows = {row.zone.pk: row for row in board.by_zone}
    assert rows[org["zone_a"].pk].payments.net == cash + bank
    assert rows[org["zone_b"].pk].payments.net == west
    assert rows[org["zone_b"].pk].deposits.net == D("30.00")
    assert rows[org["zone_c"].pk].payments.count == 0  # a zone with nothing still has its line


def test_takings_link_to_their_lists(takings, clerk_a, manager, login):
    day = DAY.isoformat()
    board, page = home(login, manager)
    links = {(way.channel, way.method): href for way, href in board.ways}
    assert links[("", CounterMethod.CASH)] == (
        f"{reverse('payments:payment_list')}?date_from={day}&date_to={day}&method=cash"
    )
    assert links[("bank", None)] == (
        f"{reverse('billing:entry_list')}?kind=payment&channel=bank&date_from={day}&date_to={day}"
    )
    assert links[("", None)] == (  # zone B's payment without a counter record
        f"{reverse('billing:entry_list')}?kind=payment&date_from={day}&date_to={day}"
    )
    assert board.takings_links["deposits"].startswith(reverse("payments:deposit_list"))
    for href in [*links.values(), *board.takings_links.values()]:
        assert login(manager).get(href).status_code == 200, href
    # the counter payment list answers with today's payments of that method
    listed = login(manager).get(links[("", CounterMethod.CASH)]).context["table"]
    assert [p.method for p in listed.data] == [CounterMethod.CASH]


def test_arrears_per_zone(town, bills, clerk_a, manager, login, org):  # noqa: F811
    owed = {
        zone: -sum(a.balance for a in Account.objects.filter(zone=zone, balance__lt=0))
        for zone in (org["zone_a"], org["zone_b"])
    }
    board, page = home(login, clerk_a)
    assert board.arrears["count"] == 3 and board.arrears["amount"] == owed[org["zone_a"]]
    assert board.arrears["href"] == f"{reverse('billing:bill_list')}?status=unpaid"
    board, page = home(login, manager)
    assert board.arrears["count"] == 4
    assert board.arrears["amount"] == owed[org["zone_a"]] + owed[org["zone_b"]]
    row = next(r for r in board.by_zone if r.zone == org["zone_b"])
    assert (row.arrears_count, row.arrears) == (1, owed[org["zone_b"]])
    assert row.arrears_href == (
        f"{reverse('billing:bill_list')}?status=unpaid&zone={org['zone_b'].pk}"
    )
    assert f"{owed[org['zone_b']]:,.2f}" in page


@pytest.fixture
def month_open(town, admin, org):  # noqa: F811
    """November open in both zones; zone A: one read entered, one held for confirmation;
    a bill run that billed the book, a later one whose book failed, a preview."""
    for zone in (org["zone_a"], org["zone_b"]):
        reading_services.open_periods(admin, zone, MONTH, today=DAY)
    reads = list(Reading.objects.filter(zone=org["zone_a"], period__month=MONTH).order_by("pk"))
    read = reads[0]
    reading_services.enter_reading(
        admin, read, reading_services.Entry(read.previous + 12, DAY), today=DAY
    )
    held = reading_services.enter_reading(
        admin, reads[1], reading_services.Entry(reads[1].previous, DAY), today=DAY, hold=True
    )
    assert held.state == "held"
    period = ReadingPeriod.objects.get(zone=org["zone_a"], month=MONTH)

    def run(status, dry_run=False, count=0, amount="0"):
        bill_run = BillRun.objects.create(
            zone=org["zone_a"], month=MONTH, dry_run=dry_run, issued_on=DAY, due_on=DAY
        )
        BillRunBook.objects.create(
            run=bill_run,
            period=period,
            book=town["book"],
            status=status,
            bill_count=count,
            amount=D(amount),
        )
        return bill_run

    run(BookStatus.DONE, count=3, amount="120.50")
    failed = run(BookStatus.FAILED)
    run(BookStatus.DONE, dry_run=True, count=99, amount="999.00")
    return {"failed": failed}


def test_billing_months_in_progress(month_open, clerk_a, manager, reader_a, login, org):
    board, page = home(login, manager)
    rows = {(row["zone"].pk, row["month"]): row for row in board.months}
    east = rows[(org["zone_a"].pk, MONTH)]
    assert (east["books"], east["total"], east["read"], east["held"], east["unbilled"]) == (
        1,
        4,
        2,
        1,
        1,
    )
    assert (east["books_billed"], east["books_failed"], east["bills"]) == (1, 1, 3)
    assert east["amount"] == D("120.50")  # the preview's figures are not counted
    assert east["progress_href"] == (
        f"{reverse('readings:progress')}?month=2026-11&zone={org['zone_a'].pk}"
    )
    west = rows[(org["zone_b"].pk, MONTH)]
    assert (west["total"], west["read"], west["books_billed"]) == (1, 0, 0)
    assert 'id="dash-months"' in page

    board, page = home(login, clerk_a)  # zone A only: no zone filter in the links
    assert [(row["zone"], row["month"]) for row in board.months] == [(org["zone_a"], MONTH)]
    assert board.months[0]["progress_href"] == f"{reverse('readings:progress')}?month=2026-11"
    waiting = {item.key: item for item in board.waiting}
    assert waiting["held"].count == 1 and waiting["unbilled"].count == 1
    assert waiting["held"].href == f"{reverse('readings:abnormal')}?state=held"
    assert waiting["unbilled"].href == reverse("billing:run_start")
    assert waiting["failed_books"].count == 1
    assert waiting["failed_books"].href == month_open["failed"].get_absolute_url()

    board, page = home(login, reader_a)  # reads, but no bill runs, money or links to them
    assert board.months and not board.show_runs and board.takings is None
    assert board.arrears is None
    waiting = {item.key: item for item in board.waiting}
    assert set(waiting) == {"held"}  # entered reads wait for a bill run: not the reader's
    assert waiting["held"].href == f"{reverse('readings:abnormal')}?state=held"
    assert 'id="dash-collected"' not in page and 'id="dash-arrears"' not in page
    assert reverse("billing:run_start") not in page


def test_waiting_items_link_only_for_operators_allowed_there(
    town,  # noqa: F811
    bills,  # noqa: F811
    clerk_a,
    manager,
    cashier_a,
    admin,
    login,
    org,
):
    c0, c1, _c2, c3 = town["customers"]
    writeoffs.request_write_off(clerk_a, bills[c0.pk][0], bills[c0.pk][0].amount, "户主失联")
    request_red_bill(clerk_a, bills[c1.pk][0], "抄错表")
    request_red_bill(admin, bills[c3.pk][0], "抄错表")  # zone B
    batch = put_at_bank(admin, c3, bills[c3.pk][1])  # zone B
    BankBatch.objects.filter(pk=batch.pk).update(line_count=1)  # as generating it counts

    board, page = home(login, manager)
    waiting = {item.key: item for item in board.waiting}
    assert waiting["writeoffs"].count == 1
    assert waiting["writeoffs"].href == reverse("billing:writeoff_approvals")
    assert waiting["redbills"].count == 2
    assert waiting["redbills"].href == f"{reverse('billing:redbill_list')}?state=requested"
    assert waiting["bank"].count == 1 and waiting["bank"].href == reverse("payments:batch_list")
    assert "1 bills at the bank" in page

    board, page = home(login, clerk_a)  # asks for write-offs, may not approve them
    waiting = {item.key: item for item in board.waiting}
    assert waiting["writeoffs"].count == 1
    assert waiting["writeoffs"].href == f"{reverse('billing:writeoff_list')}?state=requested"
    assert reverse("billing:writeoff_approvals") not in page
    assert waiting["redbills"].count == 1  # zone B's is not the clerk's
    assert waiting["bank"].count == 0  # the batch at the bank is zone B's

    board, page = home(login, cashier_a)  # no write-offs, no bank batches for a cashier
    waiting = {item.key: item for item in board.waiting}
    assert "writeoffs" not in waiting and "bank" not in waiting
    assert reverse("payments:batch_list") not in page
    assert reverse("billing:writeoff_list") not in page
    assert board.takings is not None and board.months is None


def test_an_operator_without_zones_or_roles_sees_a_sensible_page(org, nobody, login):
    roaming = make_operator(org, "roaming", None, unit_key=None)
    board, page = home(login, roaming)
    assert board.no_zones and 'id="dash-no-zones"' in page
    assert 'id="dash-collected"' not in page
    board, page = home(login, nobody)  # a zone, no permission
    assert board.empty and not board.no_zones and 'id="dash-nothing"' in page
    assert "Your recent sign-ins" in page


def test_chinese_page(takings, month_open, manager, login, settings):
    client = login(manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(reverse("home")).content.decode()
    assert 'lang="zh-hans"' in page and 'id="dash-months"' in page
    assert "账务月份" in page and "欠费" in page  # "Billing month", "Arrears"


def more_of_everything(town, admin, org, n):  # noqa: F811
    """``n`` more customers in each zone, each with a bill, a payment (walking collection or
    WeChat Pay: new ways) and a deposit."""
    book = {org["zone_a"]: town["book"], org["zone_b"]: town["book_b"]}
    for zone in (org["zone_a"], org["zone_b"]):
        for k in range(n):
            customer = customer_services.open_customer(
                admin,
                {
                    "name": f"新户{zone.code}{k}",
                    "address": "新街",
                    "book": book[zone],
                    "category": town["tariff"].category,
                },
                {
                    "number": f"N{zone.code}{k:03d}",
                    "installed_on": datetime.date(2026, 1, 1),
                    "tariff": town["tariff"],
                },
                today=datetime.date(2026, 1, 1),
            )
            bill = make_bill(customer, datetime.date(2026, 10, 1), "7", items=town)
            pay(bill, channel="collector" if k % 2 else "wechat")
            deposit(customer, "20.00")


def test_queries_do_not_grow_with_the_data(
    takings,
    month_open,
    town,  # noqa: F811
    admin,
    manager,
    org,
    login,
    django_assert_max_num_queries,
):
    client = login(manager)
    client.get(reverse("home"))  # caches filled (content types, the session)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("home")).status_code == 200
        return len(queries)

    before = count()
    more_of_everything(town, admin, org, 6)
    assert count() == before
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(reverse("home"))


# The page's own (session read and refresh, operator, its unit, permissions, zones, units,
# staff, roles, sign-ins, the company's name: 14) and the dashboard's (takings, open months,
# reading progress, bill runs, arrears, write-offs, red bills, bank batches: 8).
MAX_QUERIES = 22
