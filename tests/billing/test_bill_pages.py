"""Bill and account pages: the bill list (combinable filters, status and totals in SQL, Excel),
a bill explained line by line with what settled it, the account with its running balance,
the ledger entry list; roles, zone scoping and query counts."""

import datetime
import io
import os
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from watermis.billing import bill_views, ledger
from watermis.billing.bill_filtersets import filter_bill_status
from watermis.billing.bills import settled_bills, with_status
from watermis.billing.corrections import to_fen
from watermis.billing.models import (
    Bill,
    BillKind,
    BillLine,
    BillState,
    BillStatus,
    EntryKind,
    LateFeeCharge,
    LedgerEntry,
    MonthEnd,
    WriteOff,
    WriteOffState,
)
from watermis.core import paging
from watermis.core.money import round_fen
from watermis.customers import services as customer_services
from watermis.customers.filtersets import customers_matching
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind, PriceItem

D = Decimal
OCT = datetime.date(2026, 10, 1)
NOV = datetime.date(2026, 11, 1)
DEC = datetime.date(2026, 12, 1)
PRICES_FROM = datetime.date(2026, 1, 1)
NOW = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def english_pages(settings, client):
    """The pages in English (the language cookie), as the assertions read them."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def items(db):
    water = PriceItem.objects.create(code="WATER", name="水费", sort_order=1)
    sewage = PriceItem.objects.create(code="SEWAGE", name="污水处理费", sort_order=2)
    meter_fee = PriceItem.objects.create(code="METERFEE", name="水表维护费", sort_order=3)
    return {"water": water, "sewage": sewage, "fee": meter_fee}


@pytest.fixture
def town(org, admin):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    books, customers = {}, {}
    for key, zone, code in (("a", "zone_a", "DA01"), ("b", "zone_b", "XB01")):
        area = customer_services.create_area(
            admin, {"code": f"A{code}", "name": f"{code}片", "zone": org[zone]}
        )
        books[key] = customer_services.create_book(
            admin, {"code": code, "name": f"{code}册", "area": area}
        )
    for n, (key, name, book) in enumerate(
        (("zhang", "张三", "a"), ("li", "李四", "a"), ("zhao", "赵六", "b")), start=1
    ):
        customers[key] = customer_services.open_customer(
            admin,
            {
                "name": name,
                "address": f"解放路{n}号",
                "book": books[book],
                "category": category,
                "household_size": 4,
            },
            {"number": f"M{n:03d}", "installed_on": datetime.date(2026, 1, 1), "tariff": tariff},
            today=datetime.date(2026, 1, 1),
        )
    return {"tariff": tariff, "books": books, **customers}


def make_bill(customer, month, lines, *, read_volume=None, actor=None, due_on=None, **extra):
    """A bill built from ``lines`` [(item, kind, tier, volume, unit price)], posted to the
    ledger; the amount is the sum of the lines, each rounded half up to the fen."""
    rows = [
        BillLine(
            item=item,
            kind=kind,
            tier=tier,
            volume=D(volume),
            unit_price=D(price),
            amount=round_fen(D(volume) * D(price)) if D(volume) else round_fen(D(price)),
            price_from=PRICES_FROM,
        )
        for item, kind, tier, volume, price in lines
    ]
    amount = sum((r.amount for r in rows), D("0.00"))
    volume = sum(
        (r.volume for r in rows if r.item.code == "WATER" and r.kind == "water"), D("0.00")
    )
    issued_on = month + datetime.timedelta(days=27)
    entry = None
    if amount:
        entry = ledger.post_entry(
            actor,
            customer,
            EntryKind.BILL,
            amount,
            business_date=issued_on,
            period=month,
            now=datetime.datetime.combine(issued_on, datetime.time(1), tzinfo=datetime.UTC),
        ).entry
    meter = customer.meters.first()
    bill = Bill.objects.create(
        customer=customer,
        zone_id=customer.zone_id,
        book_id=customer.book_id,
        meter=meter,
        month=month,
        period_start=month - datetime.timedelta(days=30),
        period_end=month,
        previous=D("100.00"),
        current=D("100.00") + (read_volume if read_volume is not None else volume),
        read_volume=read_volume if read_volume is not None else volume,
        volume=volume,
        tariff=meter.tariff,
        household_size=customer.household_size,
        amount=amount,
        issued_on=issued_on,
        due_on=due_on or issued_on + datetime.timedelta(days=30),
        entry=entry,
        **extra,
    )
    for row in rows:
        row.bill = bill
    BillLine.objects.bulk_create(rows)
    return bill


def simple(items, volume, price="2.00"):
    return [(items["water"], "water", None, volume, price)]


def pay(actor, customer, amount, day=datetime.date(2026, 11, 20), **kw):
    kw.setdefault("channel", "counter")
    return ledger.post_entry(
        actor,
        customer,
        EntryKind.PAYMENT,
        D(amount),
        business_date=day,
        now=datetime.datetime.combine(day, datetime.time(2), tzinfo=datetime.UTC),
        **kw,
    ).entry


def cancel(actor, bill):
    reversal = ledger.reverse_entry(actor, bill.entry, "错账", datetime.date(2026, 11, 21))
    Bill.objects.filter(pk=bill.pk).update(state=BillState.CANCELLED, cancel_entry=reversal)
    bill.state, bill.cancel_entry = BillState.CANCELLED, reversal
    return reversal


def red_bill(actor, wrong, amount):
    credit = ledger.post_entry(
        actor,
        wrong.customer,
        EntryKind.RED_BILL,
        D(amount),
        business_date=datetime.date(2026, 11, 22),
        settle=[wrong.entry],
    ).entry
    return Bill.objects.create(
        kind=BillKind.RED,
        customer=wrong.customer,
        zone_id=wrong.zone_id,
        book_id=wrong.book_id,
        meter=wrong.meter,
        month=NOV,
        period_start=wrong.period_start,
        period_end=wrong.period_end,
        read_volume=D("0"),
        volume=D("0"),
        amount=-D(amount),
        issued_on=datetime.date(2026, 11, 22),
        due_on=datetime.date(2026, 11, 22),
        entry=credit,
        corrects=wrong,
        reason="抄错表",
    )


def write_off(actor, approver, bill, amount):
    entry = ledger.post_entry(
        approver,
        bill.customer,
        EntryKind.WRITE_OFF,
        D(amount),
        business_date=datetime.date(2026, 11, 23),
        settle=[bill.entry],
        reason="困难户",
    ).entry
    return WriteOff.objects.create(
        bill=bill,
        zone_id=bill.zone_id,
        amount=D(amount),
        reason="困难户",
        state=WriteOffState.APPROVED,
        requested_by=actor,
        requested_at=NOW,
        decided_by=approver,
        decided_at=NOW,
        entry=entry,
    )


@pytest.fixture
def bills(town, items, clerk_a, cashier_a, manager):
    """Every status: zhang pays Oct in full and Nov in part; li is unpaid in Oct, written off
    in Nov, has a cancelled and a corrected bill; zhao (zone B) is unpaid."""
    zhang, li, zhao = town["zhang"], town["li"], town["zhao"]
    b = {}
    b["paid"] = make_bill(zhang, OCT, simple(items, "10"))  # 20.00
    b["partly"] = make_bill(zhang, NOV, simple(items, "15"))  # 30.00
    pay(cashier_a, zhang, "32.00")  # Oct in full, 12.00 of Nov
    b["unpaid"] = make_bill(li, OCT, simple(items, "20"))  # 40.00
    b["written_off"] = make_bill(li, NOV, simple(items, "5"))  # 10.00
    write_off(clerk_a, manager, b["written_off"], "10.00")
    b["cancelled"] = make_bill(li, NOV, simple(items, "7"))  # 14.00
    cancel(clerk_a, b["cancelled"])
    b["corrected"] = make_bill(li, DEC, simple(items, "30"))  # 60.00
    b["red"] = red_bill(manager, b["corrected"], "25.00")
    b["inspection"] = make_bill(li, DEC, simple(items, "3"), inspection=True)  # 6.00
    b["zone_b"] = make_bill(zhao, NOV, simple(items, "50"))  # 100.00
    return b


def rows_of(response):
    return {row.record.pk for row in response.context["table"].page.object_list}


def totals(response):
    return {key: value for key, _label, value in response.context["totals"]}


# --- permissions ------------------------------------------------------------------------------


def page_urls(bills, town):
    return [
        reverse("billing:bill_list"),
        reverse("billing:bill_detail", args=[bills["paid"].pk]),
        reverse("billing:account_detail", args=[town["zhang"].pk]),
        reverse("billing:entry_list"),
    ]


def test_anonymous_goes_to_login(client, bills, town):
    for url in page_urls(bills, town):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response.url


def test_no_role_is_refused_cashier_sees_everything(login, nobody, cashier_a, bills, town):
    client = login(nobody)
    for url in page_urls(bills, town):
        assert client.get(url).status_code == 403, url
    client = login(cashier_a)
    for url in page_urls(bills, town):
        assert client.get(url).status_code == 200, url


def test_other_zones_are_hidden(login, cashier_a, bills, town):
    client = login(cashier_a)
    listed = rows_of(client.get(reverse("billing:bill_list"), {"per_page": 100}))
    assert bills["zone_b"].pk not in listed and bills["paid"].pk in listed
    assert client.get(reverse("billing:bill_detail", args=[bills["zone_b"].pk])).status_code == 404
    assert client.get(reverse("billing:account_detail", args=[town["zhao"].pk])).status_code == 404
    entries = rows_of(client.get(reverse("billing:entry_list"), {"per_page": 100}))
    zhao_entries = set(
        LedgerEntry.objects.filter(customer=town["zhao"]).values_list("pk", flat=True)
    )
    assert entries and not entries & zhao_entries
    # zone B's figures are not in the totals either
    assert totals(client.get(reverse("billing:bill_list")))["bill-count"] == len(bills) - 1


# --- the bill list ----------------------------------------------------------------------------


def test_status_filter_finds_each_status(login, admin, bills):
    client = login(admin)
    expected = {
        BillStatus.PAID: {bills["paid"].pk},
        BillStatus.PARTLY_PAID: {bills["partly"].pk, bills["corrected"].pk},  # red bill: 25
        BillStatus.UNPAID: {bills["unpaid"].pk, bills["zone_b"].pk},
        BillStatus.WRITTEN_OFF: {bills["written_off"].pk},
        BillStatus.CANCELLED: {bills["cancelled"].pk},
        BillStatus.CREDIT: {bills["red"].pk},
        BillStatus.INSPECTION: {bills["inspection"].pk},
    }
    for status, pks in expected.items():
        response = client.get(reverse("billing:bill_list"), {"status": status})
        assert rows_of(response) == pks, status
        shown = {row.record.status for row in response.context["table"].page.object_list}
        assert shown == {status}
    # the corrected bill: 60.00 less the 25.00 red bill, 35.00 open
    response = client.get(reverse("billing:bill_list"), {"month_from": "2026-12"})
    shown = {r.record.pk: r.record for r in response.context["table"].page.object_list}
    corrected = shown[bills["corrected"].pk]
    assert corrected.status == BillStatus.PARTLY_PAID and corrected.open_amount == D("35.00")


def test_status_filter_agrees_with_the_status_of_every_bill(
    bills, cashier_a, clerk_a, manager, town, items
):
    """The filter's cheaper SQL and ``bills.with_status`` put each bill in the same status,
    including the awkward ones: a payment reversed, a bill of zero, inspection paid."""
    zhang = town["zhang"]
    reversed_bill = make_bill(zhang, DEC, simple(items, "4"))
    payment = pay(cashier_a, zhang, "8.00")
    ledger.reverse_entry(clerk_a, payment, "退票", datetime.date(2026, 12, 2))
    make_bill(zhang, DEC, [(items["water"], "water", None, "0", "2.00")])  # zero: paid
    inspected = make_bill(zhang, DEC, simple(items, "2"), inspection=True)
    pay(cashier_a, zhang, "200.00")  # pays everything open, the inspected bill too
    assert with_status(Bill.objects.filter(pk=inspected.pk)).get().status == BillStatus.PAID
    statuses = dict(with_status(Bill.objects.all()).values_list("pk", "status"))
    assert statuses[reversed_bill.pk] == BillStatus.PAID
    for status in BillStatus.values:
        filtered = set(filter_bill_status(Bill.objects.all(), status).values_list("pk", flat=True))
        assert filtered == {pk for pk, s in statuses.items() if s == status}, status
    # the same statuses and amounts from the plain SQL and Python of bills read to be acted on
    fields = ("status", "open_amount", "settled", "written_off")
    full = {
        b.pk: tuple(getattr(b, f) for f in fields)
        for b in map(to_fen, with_status(Bill.objects.all()))
    }
    lean = {
        b.pk: tuple(getattr(b, f) for f in fields)
        for b in settled_bills(Bill.objects.values_list("pk", flat=True))
    }
    assert lean == full
    assert {status for status, *_amounts in full.values()} >= {
        BillStatus.PAID,
        BillStatus.PARTLY_PAID,
        BillStatus.UNPAID,
        BillStatus.CANCELLED,
        BillStatus.CREDIT,
        BillStatus.WRITTEN_OFF,
        BillStatus.INSPECTION,
    }


def test_filters_combine(login, admin, bills, town):
    client = login(admin)
    url = reverse("billing:bill_list")
    li = town["li"]
    assert rows_of(client.get(url, {"q": li.account_no, "month_from": "2026-11"})) == {
        bills["written_off"].pk,
        bills["cancelled"].pk,
        bills["corrected"].pk,
        bills["red"].pk,
        bills["inspection"].pk,
    }
    assert rows_of(
        client.get(url, {"q": li.account_no, "month_from": "2026-11", "month_to": "2026-11"})
    ) == {bills["written_off"].pk, bills["cancelled"].pk, bills["red"].pk}
    assert rows_of(client.get(url, {"q": "张三", "status": "paid"})) == {bills["paid"].pk}
    assert rows_of(client.get(url, {"q": "张三", "status": "unpaid"})) == set()
    assert rows_of(client.get(url, {"meter": "M003"})) == {bills["zone_b"].pk}
    assert rows_of(client.get(url, {"zone": town["zhao"].zone_id, "status": "unpaid"})) == {
        bills["zone_b"].pk
    }
    assert rows_of(client.get(url, {"book": town["books"]["b"].pk})) == {bills["zone_b"].pk}
    area = town["books"]["a"].area_id
    assert bills["zone_b"].pk not in rows_of(client.get(url, {"area": area}))
    assert rows_of(
        client.get(url, {"amount_min": "30", "amount_max": "60", "kind": "regular"})
    ) == {
        bills["partly"].pk,
        bills["unpaid"].pk,
        bills["corrected"].pk,
    }
    assert rows_of(client.get(url, {"kind": "red"})) == {bills["red"].pk}
    due = bills["unpaid"].due_on.isoformat()
    assert rows_of(client.get(url, {"due_before": due, "status": "unpaid"})) == {bills["unpaid"].pk}


def test_totals_match_the_ledger(login, admin, bills, town):
    client = login(admin)
    url = reverse("billing:bill_list")
    got = totals(client.get(url))
    assert got["bill-count"] == len(bills)
    issued = [b for b in bills.values() if b.pk != bills["cancelled"].pk]
    assert got["bill-billed"] == sum(b.amount for b in issued)  # the red bill subtracts
    # open: what the customers owe on their bills = −(balances), as nobody has credit
    balances = sum(ledger.balance_of(town[k].pk) for k in ("zhang", "li", "zhao"))
    assert (
        got["bill-open"]
        == -balances
        == D("18.00") + D("40.00") + D("35.00") + D("6.00") + D("100.00")
    )
    # per customer, and filtered
    li = town["li"]
    got = totals(client.get(url, {"q": li.account_no}))
    assert got["bill-open"] == -ledger.balance_of(li.pk) == D("81.00")
    got = totals(client.get(url, {"status": "unpaid"}))
    assert got == {"bill-count": 2, "bill-billed": D("140.00"), "bill-open": D("140.00")}


def test_sorting_by_computed_columns(login, admin, bills):
    client = login(admin)
    url = reverse("billing:bill_list")
    response = client.get(url, {"sort": "-open_amount", "kind": "regular"})
    amounts = [r.record.open_amount for r in response.context["table"].page.object_list]
    assert amounts == sorted(amounts, reverse=True) and amounts[0] == D("100.00")
    response = client.get(url, {"sort": "account"})
    accounts = [r.record.customer.account_no for r in response.context["table"].page.object_list]
    assert accounts == sorted(accounts)


def test_list_pages_and_queries_stay_flat(login, admin, town, items, django_assert_max_num_queries):
    client = login(admin)
    for n in range(30):
        make_bill(town["zhang"], OCT, simple(items, str(n + 1)))
    url = reverse("billing:bill_list")
    with django_assert_max_num_queries(20):
        response = client.get(url, {"per_page": 20})
    assert len(response.context["table"].page.object_list) == 20
    assert response.context["table"].paginator.count == 30
    with django_assert_max_num_queries(20):
        response = client.get(url, {"per_page": 20, "page": 2, "status": "unpaid"})
    assert len(response.context["table"].page.object_list) == 10


def test_a_selection_past_the_cap_pages_its_first_rows_without_totals(
    login, admin, town, items, monkeypatch, django_assert_max_num_queries
):
    """Past ROW_CAP rows a list counts no further and sums no totals (the reports do)."""
    monkeypatch.setattr(paging, "ROW_CAP", 25)
    for n in range(30):
        make_bill(town["zhang"], OCT, simple(items, str(n + 1)))
    client = login(admin)
    url = reverse("billing:bill_list")
    with django_assert_max_num_queries(20):
        response = client.get(url, {"per_page": 20, "page": 2})
    paginator = response.context["table"].paginator
    assert (paginator.more, paginator.count, paginator.num_pages) == (True, 25, 2)
    assert len(response.context["table"].page.object_list) == 5  # the cap ends the pages
    assert response.context["totals"] == [] and response.context["totals_capped"]
    page = response.content.decode()
    assert 'id="totals-capped"' in page and "More than 25 rows" in page
    assert 'id="bill-count"' not in page
    # a narrower selection is counted and summed exactly again
    response = client.get(url, {"per_page": 20, "amount_max": "20"})
    paginator = response.context["table"].paginator
    assert (paginator.more, paginator.count) == (False, 10)
    assert totals(response)["bill-count"] == 10 and not response.context["totals_capped"]
    # a list without totals pages the same way
    response = client.get(reverse("billing:entry_list"), {"per_page": 20})
    assert response.context["table"].paginator.more
    assert "More than 25 rows" in response.content.decode()


def test_a_sort_of_its_own_needs_a_selection_within_the_cap(login, admin, town, items, monkeypatch):
    """Sorting by amount reads every row: past ROW_CAP the list keeps its own (indexed)
    order and says so; within it, the sort is honoured."""
    monkeypatch.setattr(paging, "ROW_CAP", 25)
    for n in range(30):
        make_bill(town["zhang"], OCT, simple(items, str(n + 1)))
    client = login(admin)
    url = reverse("billing:bill_list")
    response = client.get(url, {"sort": "-amount"})
    assert response.context["table"].sort_refused
    assert 'id="sort-refused"' in response.content.decode()
    ids = [row.record.pk for row in response.context["table"].page.object_list]
    assert ids == sorted(ids, reverse=True)  # the own order: newest bill first
    response = client.get(url, {"sort": "-amount", "amount_max": "20"})
    assert not response.context["table"].sort_refused
    amounts = [row.record.amount for row in response.context["table"].page.object_list]
    assert amounts == sorted(amounts, reverse=True) and len(amounts) == 10
    # a list without totals refuses the same way
    response = client.get(reverse("billing:entry_list"), {"sort": "-debit"})
    assert response.context["table"].sort_refused
    response = client.get(reverse("billing:entry_list"), {"sort": "-debit", "amount_max": "20"})
    assert not response.context["table"].sort_refused


def test_an_account_search_hands_the_database_the_customers_ids(town, monkeypatch):
    """A search finding few customers filters by their ids (a list): the database reads
    their rows by the customer index instead of guessing how many a subquery finds."""
    from watermis.customers import filtersets

    li, zhang = town["li"], town["zhang"]
    assert customers_matching(li.account_no) == [li.pk]
    common = os.path.commonprefix([li.account_no, zhang.account_no])
    assert {li.pk, zhang.pk} <= set(customers_matching(common))
    monkeypatch.setattr(filtersets, "SEARCH_IDS", 1)  # many found: a subquery
    found = customers_matching(common)
    assert not isinstance(found, list) and {li.pk, zhang.pk} <= {row["pk"] for row in found}


def test_bill_list_exports_to_excel(login, clerk_a, bills):
    client = login(clerk_a)
    response = client.get(reverse("billing:bill_list"), {"status": "unpaid", "export": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.values)
    header = rows[0]
    assert "Outstanding" in header and "Status" in header and "Account" in header
    body = rows[1:]
    assert [r[header.index("Bill no.")] for r in body] == [bills["unpaid"].pk]
    row = body[0]
    assert row[header.index("Status")] == "Unpaid"
    assert D(str(row[header.index("Outstanding")])) == D("40.00")
    assert row[header.index("Account")] == bills["unpaid"].customer.account_no


# --- one bill ---------------------------------------------------------------------------------


def test_bill_detail_explains_each_line(login, cashier_a, town, items):
    lines = [
        (items["water"], "water", 1, "10", "2.07"),
        (items["water"], "water", 2, "5", "4.07"),
        (items["sewage"], "water", None, "15", "1.36"),
        (items["fee"], "fee", None, "0", "3.00"),
    ]
    bill = make_bill(
        town["zhang"],
        NOV,
        lines,
        read_volume=D("12"),
        cycle_start=datetime.date(2026, 1, 1),
        cycle_to_date=D("185"),
    )
    assert bill.amount == D("20.70") + D("20.35") + D("20.40") + D("3.00")
    response = login(cashier_a).get(reverse("billing:bill_detail", args=[bill.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tier 1: 10 m³ × 2.07 yuan/m³ = 20.70 yuan" in html
    assert "Tier 2: 5 m³ × 4.07 yuan/m³ = 20.35 yuan" in html
    assert "15 m³ × 1.36 yuan/m³ = 20.40 yuan" in html
    assert "Fixed fee: 3.00 yuan" in html
    assert "price in force from 2026-01-01" in html
    assert "Subtotal 水费" in html  # two lines of the water item, grouped
    groups = response.context["groups"]
    assert [g["item"].code for g in groups] == ["WATER", "SEWAGE", "METERFEE"]
    assert groups[0]["amount"] == D("41.05")
    assert response.context["line_total"] == bill.amount and response.context["lines_match"]
    # metered 12, billed 15: the minimum applied, and said so
    assert "The minimum volume applied: 15 m³ billed for 12 m³ metered." in html
    assert "from 2026-01-01: 185 m³ after this bill" in html
    assert "Household size" in html and response.context["days"] == 30
    assert response.context["status_label"] == "Unpaid"


def test_bill_detail_shows_every_allocation(login, cashier_a, clerk_a, manager, town, items):
    zhang = town["zhang"]
    bill = make_bill(zhang, OCT, simple(items, "50"))  # 100.00
    first = pay(cashier_a, zhang, "30.00", external_key="WX001", channel="wechat")
    ledger.reverse_entry(clerk_a, first, "银行退票", datetime.date(2026, 11, 21))
    pay(cashier_a, zhang, "60.00")
    write_off(clerk_a, manager, bill, "15.00")
    fee_entry = ledger.post_entry(
        None, zhang, EntryKind.LATE_FEE, D("1.80"), business_date=datetime.date(2026, 11, 24)
    ).entry
    LateFeeCharge.objects.create(
        bill=bill,
        entry=fee_entry,
        accrues_from=datetime.date(2026, 11, 28),
        through=datetime.date(2026, 12, 3),
        days=6,
        principal=D("100.00"),
        daily_rate=D("0.003"),
        amount=D("1.80"),
    )
    response = login(cashier_a).get(reverse("billing:bill_detail", args=[bill.pk]))
    rows = response.context["allocations"]
    kinds = [(r["entry"].kind, r["allocation"].amount) for r in rows]
    assert kinds == [
        (EntryKind.PAYMENT, D("30.00")),
        (EntryKind.PAYMENT, D("-30.00")),
        (EntryKind.PAYMENT, D("60.00")),
        (EntryKind.WRITE_OFF, D("15.00")),
    ]
    assert "Undone by reversal" in rows[1]["note"]
    assert rows[0]["entry"].posted_by == cashier_a
    assert response.context["allocated"] == D("75.00") == response.context["bill"].settled
    assert response.context["bill"].open_amount == D("25.00")
    html = response.content.decode()
    assert "WX001" in html and "wechat" in html
    assert list(response.context["late_fees"]) == [LateFeeCharge.objects.get(bill=bill)]
    assert "1.80" in html and "0.003" in html
    assert "Write-off" in html and "Approved" in html


def test_bill_detail_links_corrections(login, clerk_a, manager, town, items):
    wrong = make_bill(town["li"], OCT, simple(items, "30"))
    red = red_bill(manager, wrong, "25.00")
    client = login(clerk_a)
    response = client.get(reverse("billing:bill_detail", args=[wrong.pk]))
    assert list(response.context["corrections"]) == [red]
    assert red.get_absolute_url() in response.content.decode()
    response = client.get(reverse("billing:bill_detail", args=[red.pk]))
    assert response.context["corrects"] == wrong
    assert response.context["status_label"] == "Credit (red bill)"
    # the red bill's credit settled the wrong bill: shown from the red bill's side too
    assert [r["entry"].pk for r in response.context["allocations"]] == [wrong.entry_id]


def test_action_buttons_follow_permissions_and_pages(
    login, clerk_a, cashier_a, town, items, monkeypatch, org, admin
):
    bill = make_bill(town["zhang"], NOV, simple(items, "10"))
    url = reverse("billing:bill_detail", args=[bill.pk])
    # before the correction pages exist, no button (and no error)
    assert bill_views.url_or_none("billing:no_such_page", bill.pk) is None
    monkeypatch.setattr(bill_views, "url_or_none", lambda name, pk: f"/fake/{name}/{pk}/")

    def ids(response):
        return [a["id"] for a in response.context["actions"]]

    assert ids(login(cashier_a).get(url)) == []
    assert ids(login(clerk_a).get(url)) == ["bill-cancel", "bill-redbill", "bill-writeoff"]
    assert f"/fake/billing:bill_cancel/{bill.pk}/" in login(clerk_a).get(url).content.decode()
    # paid in part: no more cancelling; a closed month: neither
    pay(cashier_a, town["zhang"], "5.00")
    assert ids(login(clerk_a).get(url)) == ["bill-redbill", "bill-writeoff"]
    MonthEnd.objects.create(
        zone=org["zone_a"], month=NOV, closed_by=admin, closed_at=NOW, note="test"
    )
    assert ids(login(clerk_a).get(url)) == ["bill-redbill", "bill-writeoff"]
    # a write-off waiting for approval: no second request
    WriteOff.objects.create(
        bill=bill,
        zone_id=bill.zone_id,
        amount=D("15.00"),
        reason="x",
        requested_by=clerk_a,
        requested_at=NOW,
    )
    assert ids(login(clerk_a).get(url)) == ["bill-redbill"]


def test_buttons_lead_to_the_pages_that_exist(login, clerk_a, town, items):
    bill = make_bill(town["zhang"], NOV, simple(items, "10"))
    response = login(clerk_a).get(reverse("billing:bill_detail", args=[bill.pk]))
    expected = {
        key: bill_views.first_url(names, bill.pk)
        for key, names in (
            ("bill-cancel", bill_views.CANCEL_PAGES),
            ("bill-redbill", bill_views.RED_BILL_PAGES),
            ("bill-writeoff", bill_views.WRITE_OFF_PAGES),
        )
    }
    shown = {a["id"]: a["href"] for a in response.context["actions"]}
    assert shown == {key: href for key, href in expected.items() if href}
    for href in shown.values():
        assert f'href="{href}"' in response.content.decode()


def test_unpaid_bill_in_closed_month_offers_red_bill_only(
    login, clerk_a, town, items, monkeypatch, org, admin
):
    bill = make_bill(town["zhang"], OCT, simple(items, "10"))
    MonthEnd.objects.create(zone=org["zone_a"], month=OCT, closed_by=admin, closed_at=NOW)
    monkeypatch.setattr(bill_views, "url_or_none", lambda name, pk: f"/fake/{name}/{pk}/")
    response = login(clerk_a).get(reverse("billing:bill_detail", args=[bill.pk]))
    assert [a["id"] for a in response.context["actions"]] == ["bill-redbill", "bill-writeoff"]


# --- the account ------------------------------------------------------------------------------


def test_account_shows_balance_open_bills_and_running_balance(
    login, cashier_a, clerk_a, bills, town
):
    li = town["li"]
    client = login(cashier_a)
    response = client.get(reverse("billing:account_detail", args=[li.pk]))
    assert response.status_code == 200
    assert response.context["balance"] == ledger.balance_of(li.pk) == D("-81.00")
    assert response.context["arrears"] == D("81.00")
    assert [b.pk for b in response.context["open_bills"]] == [
        bills["unpaid"].pk,
        bills["corrected"].pk,
        bills["inspection"].pk,
    ]
    assert response.context["open_total"] == D("81.00")
    rows = [r.record for r in response.context["table"].page.object_list]
    # newest first; the balance after the newest entry is the account's balance
    assert rows == sorted(rows, key=lambda e: (e.posted_at, e.pk), reverse=True)
    assert rows[0].running_balance == D("-81.00")
    running = D("0.00")
    for entry in reversed(rows):
        running += entry.signed
        assert entry.running_balance == running
    html = response.content.decode()
    cancelled = bills["cancelled"]
    assert f"Reversed by #{cancelled.cancel_entry_id}" in html
    assert f"Reverses #{cancelled.entry_id}" in html
    assert f"Cancels bill {cancelled.pk}" in html


def test_account_link_lands_on_the_page_of_the_entry(login, cashier_a, town, items):
    zhang = town["zhang"]
    make_bill(zhang, OCT, simple(items, "100"))
    first = pay(cashier_a, zhang, "1.00", day=datetime.date(2026, 11, 1))
    for n in range(24):
        pay(cashier_a, zhang, "1.00", day=datetime.date(2026, 11, 2) + datetime.timedelta(n))
    client = login(cashier_a)
    url = reverse("billing:account_detail", args=[zhang.pk])
    response = client.get(url, {"entry": first.pk, "per_page": 20})
    table = response.context["table"]
    assert table.page.number == 2 and table.highlight == first.pk
    assert first.pk in [r.record.pk for r in table.page.object_list]
    # running balance right on page 2 as well: after the bill, then the first payment
    by_pk = {r.record.pk: r.record for r in table.page.object_list}
    assert by_pk[first.pk].running_balance == D("-199.00")


def test_account_export_and_customer_page_link(login, cashier_a, bills, town):
    client = login(cashier_a)
    zhang = town["zhang"]
    response = client.get(reverse("billing:account_detail", args=[zhang.pk]), {"export": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.values)
    header = rows[0]
    assert "Balance after" in header
    assert len(rows) - 1 == LedgerEntry.objects.filter(customer=zhang).count()
    assert D(str(rows[1][header.index("Balance after")])) == ledger.balance_of(zhang.pk)
    page = client.get(zhang.get_absolute_url()).content.decode()
    assert reverse("billing:account_detail", args=[zhang.pk]) in page


def test_account_shows_open_late_fees_beside_open_bills(login, cashier_a, town, items):
    zhang = town["zhang"]
    bill = make_bill(zhang, OCT, simple(items, "10"))  # 20.00
    entry = ledger.post_entry(
        None, zhang, EntryKind.LATE_FEE, D("1.20"), business_date=datetime.date(2026, 12, 1)
    ).entry
    LateFeeCharge.objects.create(
        bill=bill,
        entry=entry,
        accrues_from=datetime.date(2026, 11, 28),
        through=datetime.date(2026, 12, 1),
        days=4,
        principal=D("20.00"),
        daily_rate=D("0.015"),
        amount=D("1.20"),
    )
    response = login(cashier_a).get(reverse("billing:account_detail", args=[zhang.pk]))
    assert response.context["open_total"] == D("20.00")
    others = response.context["other_debits"]
    assert [(r["entry"].pk, r["open"], r["late_fee"].bill_id) for r in others] == [
        (entry.pk, D("1.20"), bill.pk)
    ]
    assert response.context["arrears"] == D("21.20")
    assert f"Late fee of bill {bill.pk}" in response.content.decode()


def test_account_without_entries(login, cashier_a, town):
    response = login(cashier_a).get(reverse("billing:account_detail", args=[town["zhang"].pk]))
    assert response.status_code == 200 and response.context["balance"] == 0
    assert "No open bills." in response.content.decode()


# --- ledger entries ---------------------------------------------------------------------------


def test_entry_list_filters_combine_and_export(login, admin, cashier_a, bills, town):
    client = login(admin)
    url = reverse("billing:entry_list")
    payments = rows_of(client.get(url, {"kind": "payment"}))
    assert payments == set(LedgerEntry.objects.filter(kind="payment").values_list("pk", flat=True))
    assert rows_of(client.get(url, {"kind": "payment", "operator": "cashier_a"})) == payments
    assert rows_of(client.get(url, {"kind": "payment", "operator": "nobody"})) == set()
    assert rows_of(client.get(url, {"direction": "credit", "channel": "COUNTER"})) == payments
    assert rows_of(client.get(url, {"zone": town["zhao"].zone_id, "direction": "debit"})) == {
        bills["zone_b"].entry_id
    }
    assert rows_of(
        client.get(url, {"date_from": "2026-11-23", "date_to": "2026-11-23", "kind": "write_off"})
    ) == {bills["written_off"].write_offs.get().entry_id}
    assert rows_of(client.get(url, {"amount_min": "100", "amount_max": "100"})) == {
        bills["zone_b"].entry_id
    }
    got = totals(client.get(url, {"q": town["zhang"].account_no}))
    assert got == {"entry-count": 3, "entry-debit": D("50.00"), "entry-credit": D("32.00")}
    response = client.get(url, {"kind": "payment", "export": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.values)
    header = rows[0]
    assert len(rows) == 2 and rows[1][header.index("Kind")] == "Payment"
    assert D(str(rows[1][header.index("Credit (owes less)")])) == D("32.00")
    assert rows[1][header.index("Debit (owes more)")] in (None, "")
