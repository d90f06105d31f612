"""Billing read API: bills (filters, status, lines), ledger entries, accounts; scoped by zone,
permission-checked, read only, and in the OpenAPI schema."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from watermis.billing import ledger
from watermis.billing.models import LedgerEntry

from . import test_bill_pages as pages
from .test_bill_pages import NOV, make_bill

# the page tests' fixtures: a town of three customers (two zones), price items, bills
town, items, bills = pages.town, pages.items, pages.bills

D = Decimal


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def ids(response):
    assert response.status_code == 200, response.data
    return {row["id"] for row in response.data["results"]}


def test_bills_filter_by_customer_month_and_status(api, cashier_a, bills, town):
    client = api(cashier_a)
    zhang, li = town["zhang"], town["li"]
    assert ids(client.get("/api/bills/", {"customer": zhang.pk})) == {
        bills["paid"].pk,
        bills["partly"].pk,
    }
    assert ids(client.get("/api/bills/", {"account": li.account_no, "month": "2026-11"})) == {
        bills["written_off"].pk,
        bills["cancelled"].pk,
        bills["red"].pk,
    }
    # any day of the month names the month
    assert ids(client.get("/api/bills/", {"customer": zhang.pk, "month": "2026-10-15"})) == {
        bills["paid"].pk
    }
    assert ids(client.get("/api/bills/", {"status": "unpaid"})) == {bills["unpaid"].pk}
    assert ids(client.get("/api/bills/", {"status": "partly_paid", "month_from": "2026-12"})) == {
        bills["corrected"].pk
    }
    assert ids(client.get("/api/bills/", {"status": "cancelled"})) == {bills["cancelled"].pk}
    assert ids(client.get("/api/bills/", {"kind": "red"})) == {bills["red"].pk}
    assert client.get("/api/bills/", {"status": "nonsense"}).status_code == 400


def test_bill_has_lines_status_and_open_amount(api, cashier_a, town, items):
    lines = [
        (items["water"], "water", 1, "10", "2.07"),
        (items["water"], "water", 2, "5", "4.07"),
        (items["sewage"], "water", None, "15", "1.36"),
    ]
    bill = make_bill(town["zhang"], NOV, lines)
    ledger.post_entry(
        None, town["zhang"], "payment", D("20.00"), business_date=NOV, channel="counter"
    )
    data = api(cashier_a).get(f"/api/bills/{bill.pk}/").data
    assert data["account_no"] == town["zhang"].account_no and data["meter_number"] == "M001"
    assert data["amount"] == "61.45" and data["status"] == "partly_paid"
    assert D(data["settled"]) == D("20.00") and D(data["open_amount"]) == D("41.45")
    assert [
        (x["item_code"], x["tier"], x["volume"], x["unit_price"], x["amount"])
        for x in data["lines"]
    ] == [
        ("WATER", 1, "10.00", "2.0700", "20.70"),
        ("WATER", 2, "5.00", "4.0700", "20.35"),
        ("SEWAGE", None, "15.00", "1.3600", "20.40"),
    ]
    assert data["lines"][0]["price_from"] == "2026-01-01"


def test_bills_of_other_zones_are_hidden(api, cashier_a, nobody, admin, bills):
    client = api(cashier_a)
    listed = ids(client.get("/api/bills/", {"limit": 100}))
    assert bills["zone_b"].pk not in listed and bills["paid"].pk in listed
    assert client.get(f"/api/bills/{bills['zone_b'].pk}/").status_code == 404
    assert api(nobody).get("/api/bills/").status_code == 403
    assert APIClient().get("/api/bills/").status_code in (401, 403)
    # read only, whoever asks
    assert api(admin).post("/api/bills/", {}, format="json").status_code == 405
    assert api(admin).get("/api/bills/", {"limit": 100}).data["count"] == len(bills)


def test_a_customers_ledger_entries(api, cashier_a, bills, town):
    client = api(cashier_a)
    li = town["li"]
    rows = client.get("/api/ledger-entries/", {"customer": li.pk, "limit": 100}).data["results"]
    assert {r["id"] for r in rows} == set(
        LedgerEntry.objects.filter(customer=li).values_list("pk", flat=True)
    )
    cancelled = bills["cancelled"]
    by_id = {r["id"]: r for r in rows}
    assert by_id[cancelled.entry_id]["reversed_by"] == cancelled.cancel_entry_id
    assert by_id[cancelled.entry_id]["bill"] == cancelled.pk
    assert by_id[cancelled.cancel_entry_id]["reverses"] == cancelled.entry_id
    assert by_id[cancelled.cancel_entry_id]["direction"] == "credit"
    credits = client.get("/api/ledger-entries/", {"customer": li.pk, "direction": "credit"})
    assert {r["kind"] for r in credits.data["results"]} == {"write_off", "reversal", "red_bill"}
    # zone B: not in scope, whatever the filter
    zone_b = client.get("/api/ledger-entries/", {"account": town["zhao"].account_no})
    assert zone_b.status_code == 200 and zone_b.data["count"] == 0


def test_account_balances(api, cashier_a, bills, town):
    client = api(cashier_a)
    data = client.get(f"/api/accounts/{town['li'].pk}/").data
    assert D(data["balance"]) == ledger.balance_of(town["li"].pk) == D("-81.00")
    assert client.get(f"/api/accounts/{town['zhao'].pk}/").status_code == 404
    arrears = client.get("/api/accounts/", {"arrears": "true"}).data["results"]
    assert {r["customer"] for r in arrears} == {town["zhang"].pk, town["li"].pk}


def test_billing_endpoints_are_in_the_schema(client, admin):
    client.force_login(admin)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    for path in (
        "/api/bills/",
        "/api/bills/{id}/",
        "/api/ledger-entries/",
        "/api/accounts/",
        "/api/accounts/{customer}/",
    ):
        assert path in schema["paths"], path
    bill = schema["components"]["schemas"]["Bill"]["properties"]
    assert {"status", "open_amount", "settled", "lines"} <= set(bill)
    names = {p["name"] for p in schema["paths"]["/api/bills/"]["get"]["parameters"]}
    assert {"customer", "month", "status"} <= names
