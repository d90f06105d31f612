"""Customer and meter pages (M5, M6) as the business hall uses them: open an account,
search, replace and transfer a meter, the wizards, the queries, scoping."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from watermis.core.models import AuditEntry
from watermis.customers import services
from watermis.customers.models import (
    Customer,
    CustomerStatus,
    Meter,
    MeterEvent,
    MeterEventKind,
    MeterKind,
    MeterStatus,
    ValveState,
)
from watermis.org import services as org_services
from watermis.tariffs import services as tariff_services

D = Decimal
DAY = datetime.date(2025, 3, 1)


@pytest.fixture
def place(org, admin):
    """A tariff, an area and two books in zone A, a book in zone B, an installer in zone A."""
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民生活用水", "kind": "residential"}
    )
    other_category = tariff_services.create_category(
        admin, {"code": "NONRES", "name": "非居民用水", "kind": "non_residential"}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    item = tariff_services.create_price_item(admin, {"code": "W", "name": "水费"})
    tariff_services.create_version(
        admin,
        tariff,
        {"effective_from": datetime.date(2024, 1, 1), "prices": [(item, None, D("2.50"))]},
    )
    area = services.create_area(admin, {"code": "DC-A1", "name": "东一片", "zone": org["zone_a"]})
    book = services.create_book(
        admin, {"code": "DC-B1", "name": "东一册", "area": area, "reader": org["emp_a"]}
    )
    book2 = services.create_book(admin, {"code": "DC-B2", "name": "东二册", "area": area})
    area_b = services.create_area(admin, {"code": "XC-A1", "name": "西一片", "zone": org["zone_b"]})
    book_b = services.create_book(admin, {"code": "XC-B1", "name": "西一册", "area": area_b})
    installer = org_services.create_employee(
        admin, {"code": "E9", "name": "赵安装", "unit": org["unit_a"], "is_installer": True}
    )
    return {
        "category": category,
        "other_category": other_category,
        "tariff": tariff,
        "area": area,
        "book": book,
        "book2": book2,
        "book_b": book_b,
        "installer": installer,
    }


def workbook(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def open_account(admin, place, name, number, book=None, phone="", today=DAY):
    return services.open_customer(
        admin,
        {
            "name": name,
            "address": f"{name}路1号",
            "phone": phone,
            "book": book or place["book"],
            "category": place["category"],
        },
        {"number": number, "installed_on": today, "tariff": place["tariff"]},
        today=today,
    )


def open_post(place, **changes):
    data = {
        "name": "张三丰",
        "phone": "13800138000",
        "address": "东城区解放路12号",
        "book": place["book"].pk,
        "category": place["category"].pk,
        "household_size": "3",
        "payment_method": "counter",
        "opened_on": "2025-03-01",
        "meter-number": "SB0001",
        "meter-caliber": "DN15",
        "meter-digits": "5",
        "meter-installed_on": "2025-03-01",
        "meter-initial_reading": "0",
        "meter-tariff": place["tariff"].pk,
        "meter-location": "楼道",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_open_an_account_through_the_page(place, clerk_a, login):
    client = login(clerk_a)
    assert client.get(reverse("customers:customer_open")).status_code == 200
    response = client.post(reverse("customers:customer_open"), open_post(place))
    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    assert customer.account_no == "DC000001"
    assert customer.name_initials == "zsf" and customer.zone == place["book"].area.zone
    meter = Meter.objects.get(customer=customer)
    assert meter.number == "SB0001" and meter.tariff == place["tariff"]
    assert MeterEvent.objects.filter(meter=meter, kind=MeterEventKind.INSTALL).exists()
    assert AuditEntry.objects.filter(object_type="customers.customer", action="create").count() == 1
    assert AuditEntry.objects.filter(object_type="customers.meter", action="create").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "DC000001" in page and "SB0001" in page and "张三丰" in page
    # A second account gets the next number.
    client.post(
        reverse("customers:customer_open"), open_post(place, name="李四", **{"meter-number": "S2"})
    )
    assert Customer.objects.get(name="李四").account_no == "DC000002"


def test_bad_input_shows_errors_beside_the_fields_and_writes_nothing(place, clerk_a, login):
    client = login(clerk_a)
    response = client.post(
        reverse("customers:customer_open"),
        open_post(place, phone="12ab", **{"meter-number": "", "meter-initial_reading": "-1"}),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_phone"' in page and "is-invalid" in page
    assert response.context["form"].errors.keys() >= {"phone"}
    assert response.context["meter_form"].errors.keys() >= {"number", "initial_reading"}
    # The service's own rule (reading larger than the dial) shows beside the meter field.
    response = client.post(
        reverse("customers:customer_open"),
        open_post(place, **{"meter-digits": "3", "meter-initial_reading": "1500"}),
    )
    assert "initial_reading" in response.context["meter_form"].errors
    assert not Customer.objects.exists() and not Meter.objects.exists()
    assert not AuditEntry.objects.filter(object_type__startswith="customers.customer").exists()


def test_search_by_initials_phone_account_and_address(place, admin, clerk_a, login):
    zsf = open_account(admin, place, "张三丰", "M1", phone="13912345678")
    lisi = open_account(admin, place, "李四", "M2", phone="13800000000")
    client = login(clerk_a)
    url = reverse("customers:customer_list")

    def found(q):
        return {c.pk for c in client.get(url, {"q": q}).context["table"].data}

    assert found("zsf") == {zsf.pk}
    assert found("ZS") == {zsf.pk}
    assert found("1391") == {zsf.pk}
    assert found("1380") == {lisi.pk}
    assert found(lisi.account_no) == {lisi.pk}
    assert found("李") == {lisi.pk}
    assert found("路1号") == {zsf.pk, lisi.pk}
    # Filters combine with the search.
    response = client.get(url, {"q": "zsf", "status": "closed"})
    assert list(response.context["table"].data) == []
    response = client.get(url, {"book": place["book"].pk, "export": "xlsx"})
    sheet = workbook(response).active
    assert sheet.max_row == 3


def test_add_replace_and_transfer_a_meter_through_the_pages(place, admin, clerk_a, login):
    customer = open_account(admin, place, "王五", "OLD1")
    other = open_account(admin, place, "赵六", "OTHER1")
    client = login(clerk_a)
    response = client.post(
        reverse("customers:customer_add_meter", args=[customer.pk]),
        {
            "number": "ADD1",
            "caliber": "DN20",
            "digits": "5",
            "installed_on": "2025-03-02",
            "initial_reading": "0",
            "tariff": place["tariff"].pk,
        },
    )
    assert response.status_code == 302
    added = Meter.objects.get(number="ADD1")
    assert added.customer == customer

    old = Meter.objects.get(number="OLD1")
    url = reverse("customers:meter_replace", args=[old.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"old_final_reading": "", "number": "ADD1", "on": "2025-04-01"})
    assert bad.status_code == 200
    assert {"old_final_reading", "number"} <= bad.context["form"].errors.keys()
    response = client.post(
        url,
        {
            "old_final_reading": "123.5",
            "number": "NEW1",
            "brand": "宁波",
            "digits": "5",
            "initial_reading": "0",
            "on": "2025-04-01",
            "installer": place["installer"].pk,
            "reason": "表坏",
        },
    )
    new = Meter.objects.get(number="NEW1")
    assert response.status_code == 302 and response["Location"] == new.get_absolute_url()
    old.refresh_from_db()
    assert old.status == MeterStatus.REMOVED and old.final_reading == D("123.5")
    event = MeterEvent.objects.get(kind=MeterEventKind.REPLACE)
    assert event.new_meter == new and event.installer == place["installer"]
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "NEW1" in page and "OLD1" in page and "表坏" in page

    # Transfer to an existing account, by account number.
    url = reverse("customers:meter_transfer", args=[new.pk])
    bad = client.post(url, {"target": "existing", "to_account": "NOPE", "on": "2025-05-01"})
    assert {"to_account", "reason"} <= bad.context["form"].errors.keys()
    response = client.post(
        url,
        {
            "target": "existing",
            "to_account": other.account_no,
            "on": "2025-05-01",
            "reason": "过户",
        },
    )
    assert response.status_code == 302
    new.refresh_from_db()
    assert new.customer == other

    # Transfer to a new account opened in the same form.
    response = client.post(
        url,
        {
            "target": "new",
            "on": "2025-06-01",
            "reason": "房屋出售",
            "new-name": "孙七",
            "new-address": "东城区新路8号",
            "new-book": place["book"].pk,
            "new-category": place["category"].pk,
            "new-household_size": "2",
            "new-payment_method": "counter",
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    new.refresh_from_db()
    assert new.customer.name == "孙七" and new.customer.account_no.startswith("DC")
    assert MeterEvent.objects.filter(kind=MeterEventKind.TRANSFER).count() == 2
    page = client.get(new.get_absolute_url()).content.decode()
    assert "孙七" in page and "房屋出售" in page


def test_shutoff_restore_and_status_change(place, admin, clerk_a, login):
    customer = open_account(admin, place, "周八", "SO1")
    meter = customer.meters.get()
    client = login(clerk_a)
    data = {"on": "2025-05-01", "installer": place["installer"].pk, "reason": "长期欠费"}
    assert client.post(reverse("customers:meter_shutoff", args=[meter.pk]), data).status_code == 302
    meter.refresh_from_db()
    assert meter.valve_state == ValveState.CLOSED
    again = client.post(reverse("customers:meter_shutoff", args=[meter.pk]), data)
    assert again.status_code == 200 and again.context["form"].non_field_errors()
    data["reason"] = "已缴清"
    assert client.post(reverse("customers:meter_restore", args=[meter.pk]), data).status_code == 302
    meter.refresh_from_db()
    assert meter.valve_state == ValveState.OPEN

    url = reverse("customers:customer_status", args=[customer.pk])
    response = client.post(url, {"status": "suspended", "on": "2025-06-01", "reason": ""})
    assert "reason" in response.context["form"].errors
    client.post(url, {"status": "suspended", "on": "2025-06-01", "reason": "空房"})
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.SUSPENDED
    # Closing with a meter in service is refused, beside the status field.
    response = client.post(url, {"status": "closed", "on": "2025-06-02", "reason": "销户"})
    assert "status" in response.context["form"].errors


def test_route_order_wizard(place, admin, clerk_a, login):
    a, b, c = (open_account(admin, place, n, f"R{n}") for n in ("甲", "乙", "丙"))
    services.set_route_order(admin, place["book"], [a.pk, b.pk, c.pk])
    client = login(clerk_a)
    url = reverse("customers:route_order")
    assert client.get(url).status_code == 200
    page = client.get(url, {"book": place["book"].pk}).content.decode()
    assert page.index(a.account_no) < page.index(b.account_no) < page.index(c.account_no)
    # Typed positions: c to the front, a and b keep their order.
    post = {"book": place["book"].pk, "customer": [a.pk, b.pk, c.pk]}
    post.update({f"pos_{a.pk}": "1", f"pos_{b.pk}": "2", f"pos_{c.pk}": "0"})
    response = client.post(url, post)
    assert response.status_code == 302
    order = list(
        Customer.objects.filter(book=place["book"])
        .order_by("route_order")
        .values_list("pk", flat=True)
    )
    assert order == [c.pk, a.pk, b.pk]
    assert AuditEntry.objects.filter(verb="route_order", actor=clerk_a).count() == 3
    post[f"pos_{a.pk}"] = "x"
    response = client.post(url, post)
    assert response.status_code == 200 and response.context["error"]
    book_page = client.get(place["book"].get_absolute_url()).content.decode()
    assert book_page.index(c.account_no) < book_page.index(a.account_no)


def test_move_accounts_between_books(place, admin, clerk_a, login):
    a, b = open_account(admin, place, "甲", "MV1"), open_account(admin, place, "乙", "MV2")
    client = login(clerk_a)
    url = reverse("customers:move_customers") + f"?book={place['book'].pk}"
    page = client.get(url)
    assert {c.pk for c in page.context["customers"]} == {a.pk, b.pk}
    response = client.post(url, {"customer": [a.pk], "to_book": place["book2"].pk, "reason": ""})
    assert "reason" in response.context["form"].errors
    response = client.post(
        url, {"customer": [a.pk], "to_book": place["book2"].pk, "reason": "片区调整"}
    )
    assert response.status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.book == place["book2"] and b.book == place["book"]
    assert AuditEntry.objects.filter(verb="batch_update", reason="片区调整").count() == 1
    # A book of another zone is not offered.
    assert place["book_b"] not in page.context["form"].fields["to_book"].queryset


def test_batch_update_preview_then_apply(place, admin, clerk_a, login):
    a, b = open_account(admin, place, "甲", "BU1"), open_account(admin, place, "乙", "BU2")
    services.batch_update(admin, [b.pk], {"payment_method": "bank"}, "已签约")
    client = login(clerk_a)
    url = reverse("customers:batch_update") + f"?book={place['book'].pk}"
    post = {
        "customer": [a.pk, b.pk],
        "set_payment_method": "on",
        "payment_method": "bank",
        "set_category": "on",
        "category": place["other_category"].pk,
        "reason": "普查",
        "step": "preview",
    }
    response = client.post(url, post)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["customers"] == 2 and len(preview["rows"]) == 3
    assert not Customer.objects.filter(category=place["other_category"]).exists()
    page = response.content.decode()
    assert "银行" in page or "Bank deduction" in page
    post["step"] = "apply"
    assert client.post(url, post).status_code == 302
    assert Customer.objects.filter(category=place["other_category"]).count() == 2
    assert set(Customer.objects.values_list("payment_method", flat=True)) == {"bank"}
    assert AuditEntry.objects.filter(verb="batch_update", reason="普查").count() == 2
    # A ticked field without a value is refused beside the field.
    response = client.post(url, {"customer": [a.pk], "set_household_size": "on", "reason": "x"})
    assert "household_size" in response.context["form"].errors


def test_queries_filter_and_export(place, admin, clerk_a, login):
    early = open_account(admin, place, "早", "Q1", today=datetime.date(2024, 5, 1))
    late = open_account(admin, place, "晚", "Q2", today=datetime.date(2025, 5, 1))
    services.replace_meter(
        admin, late.meters.get(), {"number": "Q2N"}, D("10"), DAY.replace(month=6)
    )
    services.transfer_meter(admin, early.meters.get(), to_customer=late, on=DAY, reason="过户")
    services.set_customer_status(admin, early, CustomerStatus.CLOSED, DAY, "销户")
    client = login(clerk_a)

    response = client.get(reverse("customers:new_customers"), {"opened_after": "2025-01-01"})
    assert [c.pk for c in response.context["table"].data] == [late.pk]
    response = client.get(
        reverse("customers:new_customers"),
        {"opened_after": "2024-01-01", "zone": place["area"].zone.pk, "export": "xlsx"},
    )
    assert workbook(response).active.max_row == 3

    response = client.get(reverse("customers:closed_customers"))
    assert [c.pk for c in response.context["table"].data] == [early.pk]
    response = client.get(reverse("customers:closed_customers"), {"closed_before": "2025-01-01"})
    assert list(response.context["table"].data) == []

    url = reverse("customers:event_list")
    response = client.get(url, {"kind": "replace", "after": "2025-01-01"})
    assert [e.kind for e in response.context["table"].data] == ["replace"]
    response = client.get(url, {"kind": "replace", "export": "xlsx"})
    sheet = workbook(response).active
    assert sheet.max_row == 2
    response = client.get(url, {"kind": "transfer", "before": "2024-12-31"})
    assert list(response.context["table"].data) == []


def test_pages_render_with_no_customer(org, clerk_a, login):
    client = login(clerk_a)
    for name in (
        "customer_list",
        "customer_open",
        "area_list",
        "book_list",
        "route_order",
        "move_customers",
        "batch_update",
        "new_customers",
        "closed_customers",
        "meter_list",
        "master_list",
        "master_add",
        "event_list",
    ):
        assert client.get(reverse(f"customers:{name}")).status_code == 200, name


def test_master_meter_and_customer_meter_behind_it(place, admin, clerk_a, login):
    client = login(clerk_a)
    response = client.post(
        reverse("customers:master_add"),
        {
            "kind": "district",
            "zone": place["area"].zone.pk,
            "number": "DM1",
            "caliber": "DN100",
            "digits": "6",
            "installed_on": "2025-01-01",
            "initial_reading": "0",
        },
    )
    master = Meter.objects.get(number="DM1")
    assert response.status_code == 302 and master.kind == MeterKind.DISTRICT
    customer = open_account(admin, place, "钱九", "CM1")
    meter = customer.meters.get()
    response = client.post(
        reverse("customers:meter_edit", args=[meter.pk]),
        {
            "caliber": "DN15",
            "digits": "5",
            "installed_on": DAY.isoformat(),
            "tariff": place["tariff"].pk,
            "master": master.pk,
        },
    )
    assert response.status_code == 302
    meter.refresh_from_db()
    assert meter.master == master and meter.number == "CM1"
    page = client.get(master.get_absolute_url()).content.decode()
    assert "CM1" in page
    listed = client.get(reverse("customers:master_list")).context["table"].data
    assert [m.pk for m in listed] == [master.pk]


def test_zone_scoping_by_url_and_api(place, admin, clerk_a, login):
    mine = open_account(admin, place, "甲", "Z1")
    theirs = open_account(admin, place, "乙", "Z2", book=place["book_b"])
    their_meter = theirs.meters.get()
    client = login(clerk_a)
    assert client.get(mine.get_absolute_url()).status_code == 200
    for url in (
        theirs.get_absolute_url(),
        reverse("customers:customer_edit", args=[theirs.pk]),
        reverse("customers:customer_add_meter", args=[theirs.pk]),
        their_meter.get_absolute_url(),
        reverse("customers:meter_replace", args=[their_meter.pk]),
        reverse("customers:meter_transfer", args=[their_meter.pk]),
        place["book_b"].get_absolute_url(),
        f"/api/customers/{theirs.pk}/",
        f"/api/meters/{their_meter.pk}/",
        f"/api/books/{place['book_b'].pk}/",
    ):
        assert client.get(url).status_code == 404, url
    listed = client.get(reverse("customers:customer_list")).context["table"].data
    assert [c.pk for c in listed] == [mine.pk]
    api = client.get("/api/customers/").json()
    assert [row["account_no"] for row in api["results"]] == [mine.account_no]
    # Transfer to an account of another zone by its number: not found.
    response = client.post(
        reverse("customers:meter_transfer", args=[mine.meters.get().pk]),
        {"target": "existing", "to_account": theirs.account_no, "on": "2025-05-01", "reason": "x"},
    )
    assert "to_account" in response.context["form"].errors
    # The API updates through the service (journaled), and refuses a book of another zone.
    response = client.patch(
        f"/api/customers/{mine.pk}/", {"phone": "13700000000"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["phone"] == "13700000000"
    assert AuditEntry.objects.filter(object_type="customers.customer", action="update").exists()
    response = client.patch(
        f"/api/customers/{mine.pk}/", {"book": place["book_b"].pk}, content_type="application/json"
    )
    assert response.status_code == 400


def test_cashier_views_but_cannot_open_or_change(place, admin, cashier_a, login):
    customer = open_account(admin, place, "甲", "C1")
    client = login(cashier_a)
    assert client.get(reverse("customers:customer_list")).status_code == 200
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "customer-add-meter" not in page and "customer-edit" not in page
    assert client.get(reverse("customers:customer_open")).status_code == 403
    assert client.post(reverse("customers:customer_open"), open_post(place)).status_code == 403
    assert client.get(reverse("customers:route_order")).status_code == 403
    meter = customer.meters.get()
    assert client.get(reverse("customers:meter_replace", args=[meter.pk])).status_code == 403
    assert Customer.objects.count() == 1
