"""Shutoff and restore lists (F6.4): who is on them, the pages, recording, Excel, printing."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from watermis.billing import ledger
from watermis.billing.models import EntryKind
from watermis.billing.shutoff import customer_overdue, restore_candidates, shutoff_candidates
from watermis.core.models import AuditEntry
from watermis.customers import services as customer_services
from watermis.customers.models import MeterEvent, MeterEventKind, ValveState
from watermis.org.models import Employee
from watermis.system.models import Parameter
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

from .factories import make_bill

D = Decimal
DAY = datetime.date
ON = DAY(2026, 1, 15)  # as of: bills of 2025-09 … 2025-12 are due before it (see owe)


@pytest.fixture(autouse=True)
def english_pages(settings, client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def town(org, admin):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    east = customer_services.create_area(
        admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]}
    )
    south = customer_services.create_area(
        admin, {"code": "A2", "name": "东二片", "zone": org["zone_a"]}
    )
    west = customer_services.create_area(
        admin, {"code": "B1", "name": "西一片", "zone": org["zone_b"]}
    )
    books = {
        "a1": customer_services.create_book(
            admin, {"code": "DA01", "name": "东一册", "area": east}
        ),
        "a2": customer_services.create_book(
            admin, {"code": "DA02", "name": "东二册", "area": south}
        ),
        "b1": customer_services.create_book(
            admin, {"code": "XB01", "name": "西一册", "area": west}
        ),
    }
    counter = iter(range(1, 1000))

    def open_customer(book="a1", **data):
        n = next(counter)
        return customer_services.open_customer(
            admin,
            {
                "name": f"用户{n}",
                "address": f"解放路{n}号",
                "phone": f"1380000{n:04d}",
                "book": books[book],
                "category": category,
                **data,
            },
            {"number": f"M{n:03d}", "installed_on": DAY(2025, 1, 1), "tariff": tariff},
            today=DAY(2025, 1, 1),
        )

    return {"open": open_customer, "books": books, "areas": {"a1": east, "a2": south}, "t": tariff}


def owe(customer, months, amount="10.00", first=9):
    """Bills for ``months`` months from 2025-``first``, each due at the end of the next month."""
    bills = []
    for n in range(months):
        month = DAY(2025, first + n, 1)
        due = (month + datetime.timedelta(days=62)).replace(day=1) - datetime.timedelta(days=1)
        bills.append(make_bill(customer, amount, month, due_on=due))
    return bills


def pay(customer, amount, on=ON):
    return ledger.post_entry(None, customer, EntryKind.PAYMENT, D(amount), business_date=on)


@pytest.fixture
def debtors(town):
    """Who is (and is not) on the list as of ON with the default rules (3 months / 500)."""
    c = town["open"]
    people = {
        "three_months": c(),  # 3 overdue months of 10.00: months rule
        "two_months": c(),  # 2 overdue months, 20.00: neither rule
        "big": c(),  # one overdue bill of 600.00: amount rule
        "paid": c(),  # 3 months, all paid
        "part_paid": c(),  # 3 months, the oldest paid: 2 months left
        "partly": c(),  # 3 months, the oldest half paid: still 3 months
        "not_due": c(),  # 3 bills, the newest not due yet
        "closed_valve": c(),  # 4 months (40.00), but its valve is closed already
        "other_zone": c(book="b1"),  # 4 months (40.00), zone B
        "south": c(book="a2"),  # 3 months, another area of zone A
    }
    owe(people["three_months"], 3)
    owe(people["two_months"], 2)
    owe(people["big"], 1, "600.00", first=11)
    owe(people["paid"], 3)
    pay(people["paid"], "30.00")
    owe(people["part_paid"], 3)
    pay(people["part_paid"], "10.00")
    owe(people["partly"], 3)
    pay(people["partly"], "5.00")
    owe(people["not_due"], 3, first=10)  # 2025-12's bill is due 2026-01-31
    owe(people["closed_valve"], 4, first=8)
    customer_services.record_shutoff(
        None, people["closed_valve"].meters.get(), DAY(2026, 1, 5), None, "欠费"
    )
    owe(people["other_zone"], 4, first=8)
    owe(people["south"], 3)
    return people


def accounts(rows):
    return {row["account_no"] for row in rows}


def names(debtors, *keys):
    return {debtors[k].account_no for k in keys}


# --- who is on the list ----------------------------------------------------------------------


def test_the_list_picks_exactly_the_right_meters(debtors, admin, clerk_a):
    rows = list(shutoff_candidates(admin, ON))
    assert accounts(rows) == names(debtors, "three_months", "big", "partly", "other_zone", "south")
    by_account = {row["account_no"]: row for row in rows}
    three = by_account[debtors["three_months"].account_no]
    assert (three["months"], three["oldest"], three["overdue"]) == (3, DAY(2025, 9, 1), D("30"))
    assert three["meter_number"] == debtors["three_months"].meters.get().number
    assert three["phone"] and three["book_code"] == "DA01"
    assert by_account[debtors["partly"].account_no]["overdue"] == D("25")
    # the operator of zone A does not see zone B
    assert accounts(shutoff_candidates(clerk_a, ON)) == names(
        debtors, "three_months", "big", "partly", "south"
    )


def test_the_date_and_the_rules_decide(debtors, admin, town):
    # a month later the not-yet-due bill is overdue too
    later = accounts(shutoff_candidates(admin, DAY(2026, 2, 1)))
    assert debtors["not_due"].account_no in later
    # overriding the parameters
    two = accounts(shutoff_candidates(admin, ON, months=2, amount=D("100000")))
    assert names(debtors, "two_months", "part_paid", "not_due") <= two
    assert debtors["big"].account_no not in two
    by_amount = accounts(shutoff_candidates(admin, ON, months=99, amount=D("30.00")))
    assert by_amount == names(debtors, "three_months", "big", "other_zone", "south")
    # the parameters themselves
    Parameter.objects.create(key="shutoff.arrears_months", value="4")
    Parameter.objects.create(key="shutoff.arrears_amount", value="1000")
    assert accounts(shutoff_candidates(admin, ON)) == names(debtors, "other_zone")


def test_filters_by_zone_area_and_book(debtors, admin, org, town):
    assert accounts(shutoff_candidates(admin, ON, zone=org["zone_b"])) == names(
        debtors, "other_zone"
    )
    assert accounts(shutoff_candidates(admin, ON, area=town["areas"]["a2"])) == names(
        debtors, "south"
    )
    assert accounts(shutoff_candidates(admin, ON, book=town["books"]["a1"])) == names(
        debtors, "three_months", "big", "partly"
    )


def test_every_open_meter_of_the_customer_is_listed(debtors, admin, town):
    customer = debtors["three_months"]
    second = customer_services.add_meter(
        admin, customer, {"number": "M2ND", "installed_on": DAY(2025, 6, 1), "tariff": town["t"]}
    )
    rows = [r for r in shutoff_candidates(admin, ON) if r["customer_id"] == customer.pk]
    assert sorted(r["meter_number"] for r in rows) == sorted(
        [customer.meters.first().number, "M2ND"]
    )
    assert all(r["months"] == 3 and r["overdue"] == D("30") for r in rows)
    customer_services.record_shutoff(None, second, ON, None, "欠费")
    rows = [r for r in shutoff_candidates(admin, ON) if r["customer_id"] == customer.pk]
    assert [r["meter_number"] for r in rows] == [customer.meters.exclude(pk=second.pk).get().number]


def test_customer_overdue(debtors):
    assert customer_overdue(debtors["partly"].pk, ON) == {
        "months": 3,
        "oldest": DAY(2025, 9, 1),
        "overdue": D("25"),
    }
    assert customer_overdue(debtors["paid"].pk, ON)["months"] == 0


def test_restore_list_shows_meters_paid_since(debtors, admin, clerk_a):
    closed = debtors["closed_valve"]
    assert list(restore_candidates(admin, ON)) == []  # still owes
    pay(closed, "30.00", DAY(2026, 1, 8))
    assert list(restore_candidates(admin, ON)) == []  # 10.00 still overdue
    pay(closed, "10.00", DAY(2026, 1, 10))
    [meter] = restore_candidates(admin, ON)
    assert meter.customer == closed and meter.paid_on == DAY(2026, 1, 10)
    assert meter.shut_on == DAY(2026, 1, 5) and meter.shut_reason == "欠费"
    other = debtors["other_zone"]
    customer_services.record_shutoff(None, other.meters.get(), DAY(2026, 1, 5), None, "欠费")
    pay(other, "40.00", DAY(2026, 1, 6))
    assert {m.customer for m in restore_candidates(admin, ON)} == {closed, other}
    assert [m.customer for m in restore_candidates(clerk_a, ON)] == [closed]
    # restored: off the list
    customer_services.record_shutoff(None, meter, ON, None, "已缴费", restore=True)
    assert [m.customer for m in restore_candidates(admin, ON)] == [other]


# --- the pages -------------------------------------------------------------------------------


def list_url(**query):
    url = reverse("billing:shutoff_list")
    query.setdefault("on", ON.isoformat())
    return url + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def test_permissions(client, login, debtors, nobody, reader_a, cashier_a, clerk_a):
    meter = debtors["three_months"].meters.get()
    urls = [
        reverse("billing:shutoff_list"),
        reverse("billing:restore_list"),
        reverse("billing:shutoff_record", args=[meter.pk]),
        reverse("billing:restore_record", args=[meter.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response.url
    for user in (nobody, reader_a):  # no billing.view_bill
        client = login(user)
        assert all(client.get(url).status_code == 403 for url in urls)
    # a cashier sees the lists but cannot record
    client = login(cashier_a)
    page = client.get(list_url())
    assert page.status_code == 200 and "Shut off</a>" not in page.content.decode()
    assert client.get(urls[1]).status_code == 200
    assert client.get(urls[2]).status_code == 403
    assert client.post(urls[2], {"on": ON, "reason": "x"}).status_code == 403
    # a clerk of zone A cannot reach a zone-B meter
    client = login(clerk_a)
    other = debtors["other_zone"].meters.get()
    assert client.get(reverse("billing:shutoff_record", args=[other.pk])).status_code == 404


def test_list_page(login, clerk_a, debtors, django_assert_max_num_queries):
    client = login(clerk_a)
    with django_assert_max_num_queries(26):
        response = client.get(list_url())
    html = response.content.decode()
    assert response.status_code == 200
    for key in ("three_months", "big", "partly", "south"):
        assert debtors[key].account_no in html
    for key in ("two_months", "paid", "part_paid", "not_due", "closed_valve", "other_zone"):
        assert debtors[key].account_no not in html
    assert "4 meters, 685.00 yuan overdue" in html
    # big: 600.00 due 2025-12-31, 15 grace days, from 2026-01-16: nothing yet on the 15th
    assert "600.00" in html
    meter = debtors["three_months"].meters.get()
    assert reverse("billing:shutoff_record", args=[meter.pk]) in html


def test_list_query_count_does_not_grow(login, clerk_a, town, django_assert_max_num_queries):
    client = login(clerk_a)
    for _n in range(3):
        owe(town["open"](), 3)
    client.get(list_url())
    with django_assert_max_num_queries(26) as few:
        client.get(list_url())
    for _n in range(12):
        owe(town["open"](), 4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(list_url())
    assert response.content.decode().count("btn-outline-danger") == 15


def test_filters_sorting_and_paging_on_the_page(login, clerk_a, debtors, town):
    client = login(clerk_a)
    html = client.get(list_url(book=town["books"]["a2"].pk)).content.decode()
    assert debtors["south"].account_no in html and debtors["big"].account_no not in html
    html = client.get(list_url(months=2, amount="100000")).content.decode()
    assert debtors["two_months"].account_no in html and debtors["big"].account_no not in html
    html = client.get(list_url(sort="-overdue")).content.decode()
    assert html.index(debtors["big"].account_no) < html.index(debtors["three_months"].account_no)
    html = client.get(list_url(sort="overdue")).content.decode()
    assert html.index(debtors["big"].account_no) > html.index(debtors["three_months"].account_no)
    html = client.get(list_url(per_page=20, page=1)).content.decode()
    assert "4 rows" in html
    bad = client.get(list_url(months="0"))
    assert bad.status_code == 200 and "invalid-feedback" in bad.content.decode()


def test_late_fee_column(login, clerk_a, debtors):
    client = login(clerk_a)
    # 2026-02-15: big's 600.00 accrues from 2026-01-16, 31 days: 600 × 0.003 × 31 = 55.80
    html = client.get(list_url(on="2026-02-15")).content.decode()
    assert "55.80" in html


def test_excel_export(login, clerk_a, debtors):
    client = login(clerk_a)
    response = client.get(list_url(on="2026-02-15", export="xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Account", "Account name", "Address")
    assert "Late fee" in rows[0] and "" not in rows[0]
    by_account = {row[0]: row for row in rows[1:]}
    big = by_account[debtors["big"].account_no]
    header = list(rows[0])
    assert big[header.index("Amount overdue")] == 600
    assert big[header.index("Late fee")] == pytest.approx(55.80)
    assert big[header.index("Oldest month")] == "2025-11"
    assert debtors["other_zone"].account_no not in by_account
    restore = client.get(reverse("billing:restore_list") + "?export=xlsx")
    assert restore.status_code == 200


def test_print_list_for_installers(login, clerk_a, debtors):
    client = login(clerk_a)
    response = client.get(list_url(print=1))
    html = response.content.decode()
    assert response.status_code == 200 and 'id="print-table"' in html
    assert 'id="sidebar"' not in html
    # book then route order: DA01's accounts before DA02's
    assert html.index(debtors["three_months"].account_no) < html.index(debtors["big"].account_no)
    assert html.index(debtors["partly"].account_no) < html.index(debtors["south"].account_no)
    assert "4 meters" in html


def test_shutoff_then_restore_through_the_pages(login, clerk_a, debtors, org):
    client = login(clerk_a)
    customer = debtors["three_months"]
    meter = customer.meters.get()
    back = list_url()
    url = reverse("billing:shutoff_record", args=[meter.pk])
    page = client.get(url, {"on": ON.isoformat(), "next": back})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Arrears: 3 months overdue, 30.00 yuan" in html  # the reason offered
    assert 'id="arrears-bills"' in html and "2025-09" in html
    # the reason is required, shown beside the field
    missing = client.post(url, {"on": ON.isoformat(), "reason": "", "next": back})
    assert missing.status_code == 200 and "invalid-feedback" in missing.content.decode()
    installer = Employee.objects.create(
        code="E9", name="赵强", unit=org["unit_a"], is_installer=True
    )
    response = client.post(
        url,
        {"on": ON.isoformat(), "installer": installer.pk, "reason": "欠费三个月", "next": back},
    )
    assert response.status_code == 302 and response.url == back
    meter.refresh_from_db()
    assert meter.valve_state == ValveState.CLOSED
    event = MeterEvent.objects.get(meter=meter, kind=MeterEventKind.SHUTOFF)
    assert (event.on, event.reason, event.recorded_by) == (ON, "欠费三个月", clerk_a)
    assert event.installer == installer
    assert AuditEntry.objects.filter(object_id=str(meter.pk), verb="shutoff").exists()
    assert customer.account_no not in client.get(back).content.decode()
    # twice: refused with the service's message
    again = client.post(url, {"on": ON.isoformat(), "reason": "再次"})
    assert "The supply is shut off already." in again.content.decode()
    # not on the restore list while it owes
    restore_list = reverse("billing:restore_list") + "?on=2026-01-20"
    assert customer.account_no not in client.get(restore_list).content.decode()
    pay(customer, "30.00", DAY(2026, 1, 18))
    html = client.get(restore_list).content.decode()
    assert customer.account_no in html and "2026-01-18" in html
    restore = reverse("billing:restore_record", args=[meter.pk])
    assert restore in html
    form = client.get(restore, {"on": "2026-01-20", "next": restore_list})
    assert "Arrears paid" in form.content.decode()
    done = client.post(restore, {"on": "2026-01-20", "reason": "已缴清", "next": restore_list})
    assert done.status_code == 302 and done.url == restore_list
    meter.refresh_from_db()
    assert meter.valve_state == ValveState.OPEN
    assert MeterEvent.objects.filter(meter=meter, kind=MeterEventKind.RESTORE).count() == 1
    assert customer.account_no not in client.get(restore_list).content.decode()


def test_next_must_be_this_site(login, clerk_a, debtors):
    client = login(clerk_a)
    meter = debtors["big"].meters.get()
    response = client.post(
        reverse("billing:shutoff_record", args=[meter.pk]),
        {"on": ON.isoformat(), "reason": "欠费", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response.url == reverse("billing:shutoff_list")
