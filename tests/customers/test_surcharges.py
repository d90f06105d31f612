"""Surcharges on chosen customers (F11.5): added and ended through services and pages,
journaled, and priced by the calculator as the customer's extra fees."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from watermis.core.models import AuditEntry
from watermis.customers import queries, services
from watermis.customers.models import CustomerSurcharge
from watermis.tariffs import calculator
from watermis.tariffs import queries as tariff_queries
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind, TierMode

D = Decimal
DAY = datetime.date(2026, 1, 1)


@pytest.fixture
def account(org, admin):
    water = tariff_services.create_price_item(admin, {"code": "W", "name": "水费", "sort_order": 1})
    fire = tariff_services.create_price_item(
        admin, {"code": "FIRE", "name": "消防附加费", "sort_order": 9}
    )
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    tariff_services.create_version(
        admin,
        tariff,
        {
            "effective_from": datetime.date(2024, 1, 1),
            "tier_mode": TierMode.FLAT,
            "prices": [(water, None, D("3.00"))],
        },
    )
    area = services.create_area(admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]})
    book = services.create_book(admin, {"code": "DA01", "name": "东一册", "area": area})
    customer = services.open_customer(
        admin,
        {"name": "某餐馆", "address": "解放路1号", "book": book, "category": category},
        {"number": "M1", "installed_on": DAY, "tariff": tariff},
    )
    return {"customer": customer, "fire": fire, "tariff": tariff}


def test_surcharge_priced_while_in_force(account, admin):
    surcharge = services.add_customer_surcharge(
        admin,
        account["customer"],
        {
            "item": account["fire"],
            "kind": "per_m3",
            "amount": D("0.50"),
            "starts_on": DAY,
            "reason": "消防用水",
        },
    )
    assert AuditEntry.objects.filter(
        object_type="customers.customersurcharge", object_id=str(surcharge.pk), actor=admin
    ).exists()
    specs = tariff_queries.tariff_specs(account["tariff"])

    def bill(end):
        fees = queries.customer_fees(account["customer"].pk, end)
        facts = calculator.BillFacts(
            end - datetime.timedelta(days=30), end, D("10"), extra_fees=fees
        )
        return calculator.price_bill(specs, facts)

    with_fee = bill(datetime.date(2026, 3, 31))
    assert {ln.item_code: ln.amount for ln in with_fee.lines} == {
        "W": D("30.00"),
        "FIRE": D("5.00"),
    }
    services.end_customer_surcharge(admin, surcharge, datetime.date(2026, 4, 30), "改为居民")
    assert bill(datetime.date(2026, 4, 30)).total == D("35.00")  # the last day is still charged
    assert bill(datetime.date(2026, 5, 31)).total == D("30.00")
    assert AuditEntry.objects.filter(verb="end_surcharge", reason="改为居民").exists()


@pytest.mark.parametrize(
    "data,field",
    [
        ({"kind": "fixed", "amount": D("1.005")}, "amount"),
        ({"kind": "per_m3", "amount": D("0.12345")}, "amount"),
        ({"ends_on": datetime.date(2025, 1, 1)}, "ends_on"),
        ({"reason": " "}, "reason"),
    ],
)
def test_bad_surcharges_refused(account, admin, data, field):
    base = {
        "item": account["fire"],
        "kind": "fixed",
        "amount": D("2"),
        "starts_on": DAY,
        "reason": "x",
    }
    with pytest.raises(ValidationError) as exc:
        services.add_customer_surcharge(admin, account["customer"], {**base, **data})
    assert field in exc.value.message_dict
    assert not CustomerSurcharge.objects.exists()


def test_surcharge_pages_and_scope(account, admin, clerk_a, cashier_a, login, org):
    customer = account["customer"]
    url = reverse("customers:customer_surcharge_add", args=[customer.pk])
    assert login(cashier_a).get(url).status_code == 403
    client = login(clerk_a)
    bad = client.post(
        url,
        {
            "item": account["fire"].pk,
            "kind": "fixed",
            "amount": "1.005",
            "starts_on": "2026-01-01",
            "reason": "x",
        },
    )
    assert bad.status_code == 200 and "amount" in bad.context["form"].errors
    ok = client.post(
        url,
        {
            "item": account["fire"].pk,
            "kind": "fixed",
            "amount": "2.00",
            "starts_on": "2026-01-01",
            "reason": "消防",
        },
    )
    assert ok.status_code == 302
    surcharge = CustomerSurcharge.objects.get()
    page = client.get(reverse("customers:customer_detail", args=[customer.pk]))
    assert "消防附加费" in page.content.decode()
    end = client.post(
        reverse("customers:surcharge_end", args=[surcharge.pk]),
        {"ends_on": "2026-06-30", "reason": "停止"},
    )
    assert end.status_code == 302
    surcharge.refresh_from_db()
    assert surcharge.ends_on == datetime.date(2026, 6, 30)
    # another zone's operator cannot see or end it
    from tests.conftest import make_operator

    from watermis.org.roles import CLERK

    other = make_operator(org, "clerk_b", CLERK, unit_key="unit_b")
    assert (
        login(other).get(reverse("customers:surcharge_end", args=[surcharge.pk])).status_code == 404
    )
    with pytest.raises(PermissionDenied):
        services.end_customer_surcharge(other, surcharge, datetime.date(2026, 5, 1), "x")


def test_open_account_and_add_meter_through_the_api(account, admin, clerk_a, login, org):
    """The API opens an account with its first meter and adds meters, through the services."""
    customer = account["customer"]
    client = login(clerk_a)
    body = {
        "name": "李四",
        "address": "解放路2号",
        "book": customer.book_id,
        "category": customer.category_id,
        "first_meter": {
            "number": "API-1",
            "installed_on": "2026-01-02",
            "tariff": account["tariff"].pk,
        },
    }
    response = client.post("/api/customers/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["account_no"] == "DC000002"
    no_meter = client.post(
        "/api/customers/", {**body, "first_meter": None}, content_type="application/json"
    )
    assert no_meter.status_code == 400
    response = client.post(
        "/api/meters/",
        {
            "customer": customer.pk,
            "number": "API-2",
            "installed_on": "2026-01-02",
            "tariff": account["tariff"].pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert (
        AuditEntry.objects.filter(
            object_type="customers.meter", source="api", actor=clerk_a
        ).count()
        == 2
    )
