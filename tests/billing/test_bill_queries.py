"""The bill queries of M7: every filter of the bill list combines with every other (reader,
collector, category, tariff, paid when, how and by whom), the paid bills of a period (F7.2)
and the arrears (F7.3) as named queries with their totals and Excel files, the ledger entries
by where the customer belongs and how they paid."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from watermis.billing import ledger
from watermis.billing.bills import (
    OPEN_STATUSES,
    bills_owing,
    filter_arrears,
    open_bills,
    with_status,
)
from watermis.billing.models import Bill, EntryKind, LedgerEntry
from watermis.customers import services as customer_services
from watermis.customers.models import Book
from watermis.org.models import Employee
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

from . import test_bill_pages as pages
from .test_bill_pages import DEC, NOV, OCT, make_bill, pay, simple

# the bill pages' fixtures: a town of three customers (two zones), price items, bills of
# every status
town, items, bills = pages.town, pages.items, pages.bills
rows_of, totals = pages.rows_of, pages.totals

D = Decimal


@pytest.fixture(autouse=True)
def english_pages(settings, client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def more(org, admin, town, items, bills, clerk_a):
    """Beside the bills of every status: book DA01 read by 张伟; a second book of zone A,
    DA02, with its own reader and collector, and 王五 in it, a business customer on the
    business tariff, whose October bill the bank deducted (clerk_a posting) on 2026-12-05.
    李四 paid 40.00 by WeChat on 2026-12-06, reversed the next day."""
    reader2 = Employee.objects.create(code="E4", name="刘强", unit=org["unit_a"], is_reader=True)
    collector = Employee.objects.create(
        code="E5", name="陈静", unit=org["unit_a"], is_collector=True
    )
    Book.objects.filter(pk=town["books"]["a"].pk).update(reader=org["emp_a"])
    area = customer_services.create_area(
        admin, {"code": "ADA02", "name": "东二片", "zone": org["zone_a"]}
    )
    book2 = customer_services.create_book(admin, {"code": "DA02", "name": "东二册", "area": area})
    Book.objects.filter(pk=book2.pk).update(reader=reader2, collector=collector)
    business = tariff_services.create_category(
        admin, {"code": "BIZ", "name": "经营", "kind": CategoryKind.NON_RESIDENTIAL}
    )
    biz_tariff = tariff_services.create_tariff(
        admin, {"code": "BIZ", "name": "经营水价", "category": business}
    )
    wang = customer_services.open_customer(
        admin,
        {
            "name": "王五",
            "address": "人民路8号",
            "book": book2,
            "category": business,
            "household_size": 0,
        },
        {"number": "M009", "installed_on": datetime.date(2026, 1, 1), "tariff": biz_tariff},
        today=datetime.date(2026, 1, 1),
    )
    wang_oct = make_bill(wang, OCT, simple(items, "25"))  # 50.00
    pay(clerk_a, wang, "50.00", day=datetime.date(2026, 12, 5), channel="bank", external_key="B1")
    wechat = pay(
        clerk_a,
        town["li"],
        "40.00",
        day=datetime.date(2026, 12, 6),
        channel="wechat",
        external_key="W1",
    )
    ledger.reverse_entry(clerk_a, wechat, "退款", datetime.date(2026, 12, 7))
    return {
        "reader2": reader2,
        "collector": collector,
        "area2": area,
        "book2": book2,
        "business": business,
        "biz_tariff": biz_tariff,
        "wang": wang,
        "wang_oct": wang_oct,
    }


ZONE_A = ("paid", "partly", "unpaid", "written_off", "cancelled", "corrected", "red", "inspection")


def pks(bills, *keys):
    return {bills[k].pk for k in keys}


# --- the bill list: the new filters narrow and combine ----------------------------------------


def test_reader_and_collector_filters_narrow_and_combine(login, admin, org, bills, more):
    client = login(admin)
    url = reverse("billing:bill_list")
    assert rows_of(client.get(url, {"reader": org["emp_a"].pk, "per_page": 100})) == pks(
        bills, *ZONE_A
    )
    assert rows_of(client.get(url, {"reader": more["reader2"].pk})) == {more["wang_oct"].pk}
    assert rows_of(client.get(url, {"reader": org["emp_a"].pk, "status": "unpaid"})) == pks(
        bills, "unpaid"
    )
    assert rows_of(client.get(url, {"collector": more["collector"].pk})) == {more["wang_oct"].pk}
    # the collector of book DA02 has no bill in November
    assert (
        rows_of(client.get(url, {"collector": more["collector"].pk, "month_from": "2026-11"}))
        == set()
    )
    assert rows_of(client.get(url, {"area": more["area2"].pk, "status": "paid"})) == {
        more["wang_oct"].pk
    }


def test_category_and_tariff_filters_narrow_and_combine(login, admin, town, bills, more):
    client = login(admin)
    url = reverse("billing:bill_list")
    assert rows_of(client.get(url, {"category": more["business"].pk})) == {more["wang_oct"].pk}
    assert rows_of(client.get(url, {"tariff": more["biz_tariff"].pk})) == {more["wang_oct"].pk}
    residential = town["tariff"]
    assert rows_of(
        client.get(url, {"tariff": residential.pk, "q": town["zhang"].account_no})
    ) == pks(bills, "paid", "partly")
    assert rows_of(
        client.get(url, {"category": residential.category_id, "month_to": "2026-10"})
    ) == pks(bills, "paid", "unpaid")


def test_paid_filters_narrow_and_describe_one_payment(
    login, admin, cashier_a, clerk_a, bills, more
):
    client = login(admin)
    url = reverse("billing:bill_list")
    november = {"paid_from": "2026-11-01", "paid_to": "2026-11-30"}
    assert rows_of(client.get(url, november)) == pks(bills, "paid", "partly")
    assert rows_of(client.get(url, {**november, "status": "paid"})) == pks(bills, "paid")
    # December: the bank deduction; the WeChat payment was reversed, so 李四's bill is not paid
    assert rows_of(client.get(url, {"paid_from": "2026-12-01"})) == {more["wang_oct"].pk}
    assert rows_of(client.get(url, {"paid_by": "bank"})) == {more["wang_oct"].pk}
    assert rows_of(client.get(url, {"paid_by": "counter"})) == pks(bills, "paid", "partly")
    assert rows_of(client.get(url, {"paid_by": "mobile"})) == set()
    assert rows_of(client.get(url, {"paid_operator": cashier_a.username})) == pks(
        bills, "paid", "partly"
    )
    assert rows_of(client.get(url, {"paid_operator": clerk_a.name})) == {more["wang_oct"].pk}
    # the payment filters are one payment: at the counter AND in December matches nothing
    assert rows_of(client.get(url, {"paid_by": "counter", "paid_from": "2026-12-01"})) == set()
    # and they combine with the other filters
    assert rows_of(client.get(url, {"paid_by": "counter", "month_from": "2026-11"})) == pks(
        bills, "partly"
    )
    assert rows_of(client.get(url, {"paid_by": "bank", "zone": more["wang"].zone_id})) == {
        more["wang_oct"].pk
    }


def test_written_off_and_red_bills_are_not_paid(login, admin, bills, more):
    """Write-offs and red bills settle bills but are no payment."""
    listed = rows_of(login(admin).get(reverse("billing:bill_list"), {"paid_from": "2026-01-01"}))
    assert listed == pks(bills, "paid", "partly") | {more["wang_oct"].pk}


# --- F7.2 paid bills --------------------------------------------------------------------------


def test_paid_bills_default_to_this_month(login, admin, town, items, cashier_a):
    today = timezone.localdate()
    zhang = town["zhang"]
    make_bill(zhang, OCT, simple(items, "5"))  # 10.00
    pay(cashier_a, zhang, "10.00", day=datetime.date(2020, 1, 10))  # long ago
    fresh = make_bill(zhang, NOV, simple(items, "10"))  # 20.00
    pay(cashier_a, zhang, "12.00", day=today)
    response = login(admin).get(reverse("billing:paid_bills"))
    assert response.status_code == 200
    form = response.context["filterset"].form
    assert form.cleaned_data["paid_from"] == today.replace(day=1)
    assert form.cleaned_data["paid_to"] == today
    assert rows_of(response) == {fresh.pk}
    assert totals(response) == {
        "bill-count": 1,
        "bill-billed": D("20.00"),
        "bill-open": D("8.00"),
        "bill-paid": D("12.00"),
    }
    record = response.context["table"].page.object_list[0].record
    assert record.paid == D("12.00") and record.paid_on == today


def test_paid_bills_of_a_period_with_what_they_paid(login, admin, bills, more):
    client = login(admin)
    url = reverse("billing:paid_bills")
    response = client.get(url, {"paid_from": "2026-11-01", "paid_to": "2026-12-31"})
    assert rows_of(response) == pks(bills, "paid", "partly") | {more["wang_oct"].pk}
    got = totals(response)
    assert got["bill-paid"] == D("32.00") + D("50.00")
    assert got["bill-open"] == D("18.00")
    records = {r.record.pk: r.record for r in response.context["table"].page.object_list}
    assert records[more["wang_oct"].pk].paid_on == datetime.date(2026, 12, 5)
    # every dimension combines: the bank's, in book DA02, fully paid
    response = client.get(
        url,
        {
            "paid_from": "",
            "paid_by": "bank",
            "book": more["book2"].pk,
            "status": "paid",
        },
    )
    assert rows_of(response) == {more["wang_oct"].pk}
    assert totals(response)["bill-paid"] == D("50.00")
    # no payment filter at all: the bills that received any payment
    assert rows_of(client.get(url, {"paid_from": "", "paid_to": ""})) == pks(
        bills, "paid", "partly"
    ) | {more["wang_oct"].pk}


def test_paid_bills_sort_and_export(login, admin, bills, more):
    client = login(admin)
    url = reverse("billing:paid_bills")
    period = {"paid_from": "2026-11-01", "paid_to": "2026-12-31"}
    response = client.get(url, {**period, "sort": "-paid"})
    paid = [r.record.paid for r in response.context["table"].page.object_list]
    assert paid == sorted(paid, reverse=True) and paid[0] == D("50.00")
    response = client.get(url, {**period, "export": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.values)
    header = rows[0]
    assert "Paid in the period" in header and "Last paid on" in header
    body = {r[header.index("Bill no.")]: r for r in rows[1:]}
    assert set(body) == pks(bills, "paid", "partly") | {more["wang_oct"].pk}
    wang = body[more["wang_oct"].pk]
    assert D(str(wang[header.index("Paid in the period")])) == D("50.00")
    assert wang[header.index("Water-use category")] == "经营"
    assert wang[header.index("Meter reader")] == "刘强"
    assert wang[header.index("Tariff")] == "经营水价"


# --- F7.3 arrears -----------------------------------------------------------------------------


def test_arrears_list_open_bills_with_their_totals(login, admin, bills, more):
    client = login(admin)
    url = reverse("billing:arrears")
    response = client.get(url)
    open_keys = ("partly", "unpaid", "corrected", "inspection", "zone_b")
    assert rows_of(response) == pks(bills, *open_keys)
    got = totals(response)
    assert got["bill-count"] == 5
    assert got["bill-open"] == D("18.00") + D("40.00") + D("35.00") + D("6.00") + D("100.00")
    assert got["bill-accounts"] == 3
    # the status narrows to the statuses left to pay, and combines
    assert rows_of(client.get(url, {"status": "partly_paid"})) == pks(bills, "partly", "corrected")
    response = client.get(url, {"status": "unpaid", "reader": more["reader2"].pk})
    assert rows_of(response) == set()
    response = client.get(url, {"status": "unpaid", "zone": bills["zone_b"].zone_id})
    assert rows_of(response) == pks(bills, "zone_b")
    assert totals(response)["bill-accounts"] == 1
    # a paid bill is no arrears: the choice is refused beside the field
    response = client.get(url, {"status": "paid"})
    assert "status" in response.context["filterset"].form.errors
    assert rows_of(response) == pks(bills, *open_keys)


def test_arrears_export_to_excel(login, clerk_a, bills):
    response = login(clerk_a).get(reverse("billing:arrears"), {"export": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.values)
    header = rows[0]
    body = {r[header.index("Bill no.")]: r for r in rows[1:]}
    # clerk_a sees zone A only
    assert set(body) == pks(bills, "partly", "unpaid", "corrected", "inspection")
    assert D(str(body[bills["corrected"].pk][header.index("Outstanding")])) == D("35.00")


def test_arrears_agree_with_the_status_of_every_bill(bills, more, town, items, cashier_a, clerk_a):
    """Narrowing to the accounts in debt loses no bill: the arrears are exactly the bills whose
    status says something is left to pay, credit on the account and reversals included."""
    zhang = town["zhang"]
    make_bill(zhang, DEC, simple(items, "4"))
    payment = pay(cashier_a, zhang, "100.00")  # pays all, leaves credit
    ledger.reverse_entry(clerk_a, payment, "退票", datetime.date(2026, 12, 2))
    pay(cashier_a, town["li"], "45.00")  # 李四: Oct in full, 5.00 of December
    statuses = dict(with_status(Bill.objects.all()).values_list("pk", "status"))
    open_pks = {pk for pk, status in statuses.items() if status in OPEN_STATUSES}
    assert set(filter_arrears(Bill.objects.all()).values_list("pk", flat=True)) == open_pks
    assert open_pks  # the check compared something


def test_bills_owing_are_the_open_bills_with_the_same_amounts(
    bills, more, town, items, cashier_a, clerk_a
):
    """The counter's plain-SQL read gives exactly what open_bills gives."""
    zhang = town["zhang"]
    make_bill(zhang, DEC, simple(items, "4"))
    payment = pay(cashier_a, zhang, "100.00")
    ledger.reverse_entry(clerk_a, payment, "退票", datetime.date(2026, 12, 2))
    pay(cashier_a, town["li"], "45.00")
    everyone = Bill.objects.values_list("customer_id", flat=True).distinct()
    lean = [(b.pk, b.settled, b.open_amount) for b in bills_owing(everyone)]
    full = [(b.pk, b.settled, b.open_amount) for b in open_bills(queryset=Bill.objects.all())]
    assert lean == full
    assert len(full) >= 4  # unpaid, partly paid, inspection, the reversed payment's bills


def test_named_queries_stay_flat(login, admin, town, items, django_assert_max_num_queries):
    client = login(admin)
    for n in range(30):
        make_bill(town["zhang"], OCT, simple(items, str(n + 1)))
    pay(None, town["zhang"], "100.00", day=datetime.date(2026, 11, 3))
    for url, params in (
        (reverse("billing:arrears"), {"per_page": 20}),
        (reverse("billing:paid_bills"), {"per_page": 20, "paid_from": "2026-11-01"}),
    ):
        with django_assert_max_num_queries(21):
            response = client.get(url, params)
        assert response.status_code == 200 and response.context["table"].page.object_list


def test_menu_has_the_m7_queries(login, clerk_a):
    html = login(clerk_a).get(reverse("billing:bill_list")).content.decode()
    for name in ("billing:paid_bills", "billing:arrears", "payments:waiver_list"):
        assert f'href="{reverse(name)}"' in html, name
    assert "Historical bills" in html and "Master meter history" in html


# --- ledger entries ---------------------------------------------------------------------------


def test_ledger_entries_by_place_and_how_paid(login, admin, org, town, bills, more):
    client = login(admin)
    url = reverse("billing:entry_list")
    wang_entries = set(
        LedgerEntry.objects.filter(customer=more["wang"]).values_list("pk", flat=True)
    )
    assert rows_of(client.get(url, {"reader": more["reader2"].pk})) == wang_entries
    assert rows_of(client.get(url, {"book": more["book2"].pk, "kind": "payment"})) == set(
        LedgerEntry.objects.filter(customer=more["wang"], kind=EntryKind.PAYMENT).values_list(
            "pk", flat=True
        )
    )
    bank = LedgerEntry.objects.get(channel="bank")
    assert rows_of(client.get(url, {"paid_by": "bank"})) == {bank.pk}
    assert rows_of(client.get(url, {"paid_by": "bank", "reader": org["emp_a"].pk})) == set()
    wechat = LedgerEntry.objects.get(channel="wechat")
    assert rows_of(client.get(url, {"paid_by": "mobile", "area": town["books"]["a"].area_id})) == {
        wechat.pk
    }
    residential = town["tariff"].category_id
    counter = rows_of(client.get(url, {"paid_by": "counter", "category": residential}))
    assert counter == set(
        LedgerEntry.objects.filter(kind=EntryKind.PAYMENT, channel="counter").values_list(
            "pk", flat=True
        )
    )
    assert rows_of(
        client.get(
            url,
            {"collector": more["collector"].pk, "period_from": "2026-10", "period_to": "2026-10"},
        )
    ) == set(
        LedgerEntry.objects.filter(customer=more["wang"], period=OCT).values_list("pk", flat=True)
    )
    assert NOV  # the fixture months


def test_ledger_entries_export(login, admin, more):
    response = login(admin).get(
        reverse("billing:entry_list"), {"paid_by": "bank", "export": "xlsx"}
    )
    rows = list(
        openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values
    )
    header = rows[0]
    assert len(rows) == 2
    assert D(str(rows[1][header.index("Credit (owes less)")])) == D("50.00")
