"""The late-fee waiver query (F7.8) and the counter payment list: every filter combines,
including where the customer belongs (area, book, reader, collector, water-use category), the
bill's month, how the payment was made and the amount; totals and Excel of the filtered set."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from watermis.customers import services as customer_services
from watermis.customers.models import Book, Customer
from watermis.org.models import Employee
from watermis.payments import counter
from watermis.payments.models import CounterPayment, LateFeeWaiver
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

from .conftest import D, screen


@pytest.fixture
def waivers(org, admin, town, bills, cashier):
    """张三丰 (book DA01, read by 张伟) had 2.00 waived paying in cash; 李四, moved to book
    DA02 (reader 刘强, collector 陈静) and a business customer, 1.00 paying by WeChat."""
    zhang, li = town["customers"][0], town["customers"][1]
    reader2 = Employee.objects.create(code="E4", name="刘强", unit=org["unit_a"], is_reader=True)
    collector = Employee.objects.create(
        code="E5", name="陈静", unit=org["unit_a"], is_collector=True
    )
    Book.objects.filter(pk=town["book"].pk).update(reader=org["emp_a"])
    area2 = customer_services.create_area(
        admin, {"code": "A2", "name": "东二片", "zone": org["zone_a"]}
    )
    book2 = customer_services.create_book(admin, {"code": "DA02", "name": "东二册", "area": area2})
    Book.objects.filter(pk=book2.pk).update(reader=reader2, collector=collector)
    business = tariff_services.create_category(
        admin, {"code": "BIZ", "name": "经营", "kind": CategoryKind.NON_RESIDENTIAL}
    )
    Customer.objects.filter(pk=li.pk).update(book=book2, category=business)
    now = timezone.now()
    cash = counter.take_payment(
        cashier,
        screen(zhang, bills[zhang.pk][:1], now=now, waiver=D("2.00"), waiver_reason="停水补偿"),
    )
    wechat = counter.take_payment(
        cashier,
        screen(
            li,
            bills[li.pk][:1],
            now=now,
            method="wechat",
            waiver=D("1.00"),
            waiver_reason="困难户",
        ),
    )
    return {
        "zhang": LateFeeWaiver.objects.get(customer=zhang),
        "li": LateFeeWaiver.objects.get(customer=li),
        "cash": cash,
        "wechat": wechat,
        "reader2": reader2,
        "collector": collector,
        "area2": area2,
        "book2": book2,
        "business": business,
    }


def listed(response):
    assert response.status_code == 200
    return {row.record.pk for row in response.context["table"].page.object_list}


def totals(response):
    return {key: value for key, _label, value in response.context["totals"]}


def test_waivers_by_place_narrow_and_combine(login, manager, org, town, waivers):
    client = login(manager)
    url = reverse("payments:waiver_list")
    zhang, li = waivers["zhang"].pk, waivers["li"].pk
    assert listed(client.get(url)) == {zhang, li}
    assert listed(client.get(url, {"book": waivers["book2"].pk})) == {li}
    assert listed(client.get(url, {"area": town["book"].area_id})) == {zhang}
    assert listed(client.get(url, {"reader": org["emp_a"].pk})) == {zhang}
    assert listed(client.get(url, {"reader": waivers["reader2"].pk, "reason": "困难"})) == {li}
    assert listed(client.get(url, {"reader": waivers["reader2"].pk, "reason": "停水"})) == set()
    assert listed(client.get(url, {"collector": waivers["collector"].pk})) == {li}
    assert listed(client.get(url, {"category": waivers["business"].pk})) == {li}
    response = client.get(url, {"category": town["tariff"].category_id, "zone": org["zone_a"].pk})
    assert listed(response) == {zhang}
    assert totals(response)["waiver-total"] == D("2.00")


def test_waivers_by_month_method_and_amount(login, cashier, waivers):
    client = login(cashier)
    url = reverse("payments:waiver_list")
    zhang, li = waivers["zhang"].pk, waivers["li"].pk
    month = waivers["zhang"].bill.month
    assert listed(
        client.get(url, {"month_from": f"{month:%Y-%m}", "month_to": f"{month:%Y-%m}"})
    ) == {
        zhang,
        li,
    }
    later = month.replace(month=month.month + 1)
    assert listed(client.get(url, {"month_from": f"{later:%Y-%m}"})) == set()
    assert listed(client.get(url, {"method": "wechat"})) == {li}
    assert listed(client.get(url, {"method": "cash", "amount_min": "1.50"})) == {zhang}
    assert listed(client.get(url, {"method": "cash", "amount_max": "1.50"})) == set()
    response = client.get(url, {"amount_max": "1.50"})
    assert listed(response) == {li}
    assert totals(response) == {"waiver-count": 1, "waiver-total": D("1.00"), "waiver-above": 0}


def test_waiver_export_has_the_payment_method_and_place(login, cashier, waivers):
    response = login(cashier).get(
        reverse("payments:waiver_list"), {"book": waivers["book2"].pk, "export": "xlsx"}
    )
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    header = rows[0]
    assert len(rows) == 2
    row = rows[1]
    assert row[header.index("Paid by")] == "WeChat scan"
    assert row[header.index("Book")] == "DA02"
    assert row[header.index("Water-use category")] == "经营"
    assert D(str(row[header.index("Amount waived")])) == D("1.00")


def test_counter_payments_by_place_and_amount(login, manager, org, waivers):
    client = login(manager)
    url = reverse("payments:payment_list")
    cash, wechat = waivers["cash"].pk, waivers["wechat"].pk
    assert listed(client.get(url)) == {cash, wechat}
    assert listed(client.get(url, {"reader": waivers["reader2"].pk})) == {wechat}
    assert listed(client.get(url, {"book": waivers["book2"].pk, "method": "cash"})) == set()
    assert listed(client.get(url, {"category": waivers["business"].pk, "method": "wechat"})) == {
        wechat
    }
    amount = CounterPayment.objects.get(pk=cash).amount
    response = client.get(url, {"amount_min": str(amount), "amount_max": str(amount)})
    assert cash in listed(response)
    assert listed(client.get(url, {"reader": org["emp_a"].pk, "amount_min": "100000"})) == set()


def test_a_choice_the_operator_may_not_read_is_left_out(login, cashier, waivers):
    """A cashier may not read the staff list: no reader or collector to choose (and one in the
    address is ignored); the book and the category are there and work."""
    client = login(cashier)
    url = reverse("payments:waiver_list")
    response = client.get(url, {"reader": waivers["reader2"].pk})
    fields = response.context["filterset"].form.fields
    assert "reader" not in fields and "collector" not in fields
    assert "book" in fields and "category" in fields
    assert listed(response) == {waivers["zhang"].pk, waivers["li"].pk}
    assert listed(client.get(url, {"book": waivers["book2"].pk})) == {waivers["li"].pk}
