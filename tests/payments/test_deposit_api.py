"""The prepaid-deposit API: take a deposit (counter, channel: idempotent by reference), correct
it, the balances with their total, start a transfer run, undo a transfer; permissions, zone
scope, and the OpenAPI schema."""

import pytest
from rest_framework.test import APIClient

from watermis.billing.models import Account
from watermis.payments import deposits
from watermis.payments.models import Deposit, DepositTransfer, TransferRun

from .conftest import D


@pytest.fixture
def api(settings):
    def make(user):
        client = APIClient()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # messages in English
        client.force_authenticate(user)
        return client

    return make


def deposit_of(customer):
    return Account.objects.get(pk=customer.pk).deposit


def test_take_a_counter_deposit_and_read_it(town, bills, cashier, api):
    customer = town["customers"][0]
    client = api(cashier)
    response = client.post(
        "/api/deposits/",
        {"customer": customer.pk, "amount": "100.00", "tendered": "150", "note": "春节"},
        format="json",
    )
    assert response.status_code == 201, response.data
    data = response.data
    assert D(data["amount"]) == D("100.00") and D(data["change"]) == D("50.00")
    assert data["account_no"] == customer.account_no and data["correction"] is None
    deposit = Deposit.objects.get()
    assert data["voucher_number"] == deposits.voucher_number(deposit)
    assert client.get(f"/api/deposits/{deposit.pk}/").data["id"] == deposit.pk
    listed = client.get("/api/deposits/", {"account": customer.account_no}).data["results"]
    assert [row["id"] for row in listed] == [deposit.pk]


def test_a_channel_deposit_is_idempotent_by_reference(town, bills, cashier, api):
    customer = town["customers"][0]
    client = api(cashier)
    body = {"customer": customer.pk, "amount": "200", "channel": "wechat", "reference": "WX77"}
    first = client.post("/api/deposits/", body, format="json")
    again = client.post("/api/deposits/", body, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.data["id"] == again.data["id"] and Deposit.objects.count() == 1
    assert deposit_of(customer) == D("200.00")
    other = client.post("/api/deposits/", {**body, "amount": "201"}, format="json")
    assert other.status_code == 400 and "reference" in other.data
    new = client.post("/api/deposits/", {**body, "reference": "WX78"}, format="json")
    assert new.status_code == 201 and deposit_of(customer) == D("400.00")


def test_refusals_by_field_permission_and_scope(town, bills, cashier, clerk_a, api):
    customer, west = town["customers"][0], town["customers"][3]
    client = api(cashier)
    too_much = client.post(
        "/api/deposits/", {"customer": customer.pk, "amount": "60000"}, format="json"
    )
    assert too_much.status_code == 400 and "at most 50000" in str(too_much.data["amount"])
    no_ref = client.post(
        "/api/deposits/", {"customer": customer.pk, "amount": "5", "channel": "alipay"}
    )
    assert no_ref.status_code == 400 and "reference" in no_ref.data
    outside = client.post("/api/deposits/", {"customer": west.pk, "amount": "5"}, format="json")
    assert outside.status_code == 400 and "customer" in outside.data  # not one they may serve
    clerk = api(clerk_a).post("/api/deposits/", {"customer": customer.pk, "amount": "5"})
    assert clerk.status_code == 403
    assert not Deposit.objects.exists()


def test_correct_a_deposit(town, bills, cashier, cashier2, cashier_b, api):
    deposit = deposits.take_deposit(cashier, town["customers"][0], "100")
    url = f"/api/deposits/{deposit.pk}/correct/"
    assert api(cashier_b).post(url, {"reason": "x"}).status_code == 404  # zone B
    assert api(cashier2).post(url, {"reason": "x"}).status_code == 403  # not their deposit
    client = api(cashier)
    assert client.post(url, {}).status_code == 400
    response = client.post(url, {"reason": "typed 100 for 10"})
    assert response.status_code == 200, response.data
    assert response.data["correction"]["reason"] == "typed 100 for 10"
    assert D(response.data["correction"]["balance_after"]) == 0
    assert client.post(url, {"reason": "again"}).status_code == 400


def test_balances_and_their_total(town, bills, cashier, cashier_b, manager, api):
    zhang, li, _wang, zhao = town["customers"]
    deposits.take_deposit(cashier, zhang, "100")
    deposits.take_deposit(cashier, li, "30")
    deposits.take_deposit(cashier_b, zhao, "5.50")
    client = api(manager)
    rows = client.get("/api/deposit-balances/").data["results"]
    assert {row["customer"] for row in rows} == {zhang.pk, li.pk, zhao.pk}
    total = client.get("/api/deposit-balances/total/").data
    assert D(total["total"]) == D("135.50") and total["count"] == 3
    assert {z["name"]: D(z["total"]) for z in total["zones"]} == {
        "东城区": D("130.00"),
        "西城区": D("5.50"),
    }
    zone_b = client.get("/api/deposit-balances/total/", {"zone": zhao.zone_id}).data
    assert D(zone_b["total"]) == D("5.50")
    west = api(cashier_b).get("/api/deposit-balances/").data["results"]
    assert [row["customer"] for row in west] == [zhao.pk]
    assert client.get(f"/api/deposit-balances/{zhang.pk}/").data["deposit"] == "100.00"


def test_start_a_run_and_undo_a_transfer(town, bills, cashier, clerk_a, manager, api):
    zhang = town["customers"][0]
    deposits.take_deposit(cashier, zhang, "200")
    clerk = api(clerk_a)
    assert clerk.post("/api/deposit-transfer-runs/", {}).status_code == 400  # sees zone A only
    assert api(cashier).post("/api/deposit-transfer-runs/", {}).status_code == 403
    response = clerk.post("/api/deposit-transfer-runs/", {"zone": zhang.zone_id})
    assert response.status_code == 201, response.data
    run = TransferRun.objects.get(pk=response.data["id"])
    deposits.run_transfer(run.pk)
    data = clerk.get(f"/api/deposit-transfer-runs/{run.pk}/").data
    assert D(data["amount"]) == D("132.00") and data["finished_at"] is not None
    moved = DepositTransfer.objects.get()
    listed = clerk.get("/api/deposit-transfers/", {"run": run.pk}).data["results"]
    assert [row["id"] for row in listed] == [moved.pk] and not listed[0]["undone"]
    url = f"/api/deposit-transfers/{moved.pk}/undo/"
    assert api(cashier).post(url, {"reason": "x"}).status_code == 403
    assert clerk.post(url, {}).status_code == 400
    undone = clerk.post(url, {"reason": "read was wrong"})
    assert undone.status_code == 200 and undone.data["undone"]
    assert deposit_of(zhang) == D("200.00")
    assert clerk.post(url, {"reason": "again"}).status_code == 400
    company = api(manager).post("/api/deposit-transfer-runs/", {}, format="json")
    assert company.status_code == 201 and company.data["zone"] is None


def test_deposit_endpoints_are_in_the_schema(client, admin):
    client.force_login(admin)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/deposits/",
        "/api/deposits/{id}/",
        "/api/deposits/{id}/correct/",
        "/api/deposit-balances/",
        "/api/deposit-balances/total/",
        "/api/deposit-transfer-runs/",
        "/api/deposit-transfers/{id}/undo/",
    ):
        assert path in paths, path
    assert "post" in paths["/api/deposits/"] and "post" in paths["/api/deposit-transfer-runs/"]
