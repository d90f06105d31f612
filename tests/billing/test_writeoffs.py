"""Bad-debt write-offs (F3.21): request, approval by another manager, the ledger, the pages."""

import datetime
import io
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook
from tests.billing.factories import make_bill
from tests.conftest import make_operator

from watermis.billing import ledger
from watermis.billing.bills import with_status
from watermis.billing.models import (
    Allocation,
    Bill,
    BillStatus,
    EntryKind,
    LedgerEntry,
    MonthEnd,
    WriteOff,
    WriteOffState,
)
from watermis.billing.writeoffs import (
    approve_write_off,
    bad_debts,
    reject_write_off,
    request_write_off,
)
from watermis.core.models import AuditEntry
from watermis.customers import services as customer_services
from watermis.org.roles import CLERK, MANAGER
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

D = Decimal
MONTH = datetime.date(2026, 10, 1)
DAY = datetime.date(2026, 11, 24)


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour))


def make_customer(admin, zone, code="A1", name="张三"):
    """A customer with one meter in a new area and book of ``zone``."""
    category = tariff_services.create_category(
        admin, {"code": f"C{code}", "name": f"居民{code}", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": f"T{code}", "name": f"居民水价{code}", "category": category}
    )
    area = customer_services.create_area(admin, {"code": code, "name": f"片区{code}", "zone": zone})
    book = customer_services.create_book(
        admin, {"code": f"B{code}", "name": f"册{code}", "area": area}
    )
    return customer_services.open_customer(
        admin,
        {"name": name, "address": "解放路1号", "book": book, "category": category},
        {"number": f"M{code}", "installed_on": datetime.date(2025, 1, 1), "tariff": tariff},
        today=datetime.date(2025, 1, 1),
    )


@pytest.fixture(autouse=True)
def english_pages(settings, client):
    """The pages answer in English (the language cookie), like the services here."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def customer(org, admin):
    return make_customer(admin, org["zone_a"])


@pytest.fixture
def manager2(org):
    return make_operator(org, "manager2", MANAGER, all_zones=True)


@pytest.fixture
def clerk_b(org):
    return make_operator(org, "clerk_b", CLERK, unit_key="unit_b")


def pay(customer, amount, bill=None):
    settle = [bill.entry] if bill is not None else ()
    return ledger.post_entry(
        None, customer, EntryKind.PAYMENT, D(amount), business_date=DAY, settle=settle
    ).entry


def status(bill):
    return with_status().get(pk=bill.pk)


def test_full_write_off(customer, clerk_a, manager):
    bill = make_bill(customer, "100.00", MONTH)
    write_off = request_write_off(clerk_a, bill, D("100.00"), "用户已搬离，无法联系")
    assert write_off.state == WriteOffState.REQUESTED and write_off.zone == customer.zone
    assert status(bill).status == BillStatus.UNPAID  # nothing moves before approval
    approve_write_off(manager, write_off, "同意", now=at(DAY))
    write_off.refresh_from_db()
    assert write_off.state == WriteOffState.APPROVED
    assert write_off.decided_by == manager and write_off.decision_note == "同意"
    entry = write_off.entry
    assert entry.kind == EntryKind.WRITE_OFF and entry.amount == D("100.00")
    assert entry.business_date == DAY and entry.period == DAY.replace(day=1)
    assert list(Allocation.objects.filter(credit=entry).values_list("debit", "amount")) == [
        (bill.entry_id, D("100.00"))
    ]
    row = status(bill)
    assert row.status == BillStatus.WRITTEN_OFF
    assert row.open_amount == 0 and row.written_off == D("100.00")
    assert ledger.balance_of(customer.pk) == 0
    verbs = set(
        AuditEntry.objects.filter(
            object_type="billing.writeoff", object_id=str(write_off.pk)
        ).values_list("verb", flat=True)
    )
    assert verbs == {"", "approve_write_off"}  # the request (create) and the approval


def test_partial_write_off_settles_only_that_bill(customer, clerk_a, manager):
    older = make_bill(customer, "50.00", MONTH - datetime.timedelta(days=31))
    bill = make_bill(customer, "100.00", MONTH)
    pay(customer, "30.00", bill)
    write_off = request_write_off(clerk_a, bill, D("50.00"), "困难户")
    approve_write_off(manager, write_off)
    row = status(bill)
    assert row.status == BillStatus.PARTLY_PAID
    assert row.open_amount == D("20.00") and row.written_off == D("50.00")
    assert status(older).open_amount == D("50.00")  # the older bill is untouched
    # The rest written off too: nothing open, part written off → "written off".
    second = request_write_off(clerk_a, bill, D("20.00"), "余款核销")
    approve_write_off(manager, second)
    assert status(bill).status == BillStatus.WRITTEN_OFF
    assert ledger.balance_of(customer.pk) == D("-50.00")


def test_requester_cannot_approve(customer, manager, manager2):
    bill = make_bill(customer, "80.00", MONTH)
    write_off = request_write_off(manager, bill, D("80.00"), "破产")
    with pytest.raises(ValidationError, match="another manager"):
        approve_write_off(manager, write_off)
    write_off.refresh_from_db()
    assert write_off.state == WriteOffState.REQUESTED and write_off.entry is None
    approve_write_off(manager2, write_off)
    assert status(bill).status == BillStatus.WRITTEN_OFF


def test_amount_above_open_amount_is_refused(customer, clerk_a):
    bill = make_bill(customer, "100.00", MONTH)
    pay(customer, "40.00", bill)
    with pytest.raises(ValidationError) as caught:
        request_write_off(clerk_a, bill, D("60.01"), "困难户")
    assert "60.00" in caught.value.message_dict["amount"][0]
    for amount in ("0", "-1", "1.234"):
        with pytest.raises(ValidationError) as caught:
            request_write_off(clerk_a, bill, amount, "困难户")
        assert "amount" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        request_write_off(clerk_a, bill, D("10"), "  ")
    assert "reason" in caught.value.message_dict
    assert not WriteOff.objects.exists()


def test_double_approval_is_refused(customer, clerk_a, manager, manager2):
    bill = make_bill(customer, "100.00", MONTH)
    write_off = request_write_off(clerk_a, bill, D("60.00"), "无法收回")
    approve_write_off(manager, write_off)
    with pytest.raises(ValidationError, match="decided already"):
        approve_write_off(manager2, write_off)
    with pytest.raises(ValidationError, match="decided already"):
        reject_write_off(manager2, write_off, "不同意")
    assert LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF).count() == 1
    assert status(bill).open_amount == D("40.00")


def test_one_open_request_per_bill(customer, clerk_a, manager):
    bill = make_bill(customer, "100.00", MONTH)
    first = request_write_off(clerk_a, bill, D("10.00"), "一")
    with pytest.raises(ValidationError, match="already awaiting approval"):
        request_write_off(clerk_a, bill, D("10.00"), "二")
    reject_write_off(manager, first, "金额不对")
    request_write_off(clerk_a, bill, D("20.00"), "三")  # after a decision, a new one may wait
    assert WriteOff.objects.filter(state=WriteOffState.REQUESTED).count() == 1


def test_approval_rechecks_the_open_amount(customer, clerk_a, manager):
    bill = make_bill(customer, "100.00", MONTH)
    write_off = request_write_off(clerk_a, bill, D("80.00"), "困难户")
    pay(customer, "50.00", bill)  # the customer paid part meanwhile
    with pytest.raises(ValidationError, match="Only 50.00 is still open"):
        approve_write_off(manager, write_off)
    assert not LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF).exists()


def test_reject_needs_a_note_and_posts_nothing(customer, clerk_a, manager):
    bill = make_bill(customer, "100.00", MONTH)
    write_off = request_write_off(clerk_a, bill, D("100.00"), "困难户")
    with pytest.raises(ValidationError) as caught:
        reject_write_off(manager, write_off, "")
    assert "note" in caught.value.message_dict
    reject_write_off(manager, write_off, "可以收回")
    write_off.refresh_from_db()
    assert write_off.state == WriteOffState.REJECTED and write_off.decision_note == "可以收回"
    assert write_off.entry is None and status(bill).status == BillStatus.UNPAID


def test_bills_that_cannot_be_written_off(customer, clerk_a, manager):
    paid = make_bill(customer, "30.00", MONTH)
    pay(customer, "30.00", paid)
    with pytest.raises(ValidationError, match="Nothing is open"):
        request_write_off(clerk_a, paid, D("1.00"), "x")
    zero = Bill.objects.create(
        customer=customer,
        zone_id=customer.zone_id,
        month=MONTH,
        period_start=MONTH,
        period_end=MONTH,
        read_volume=0,
        volume=0,
        amount=0,
        issued_on=DAY,
        due_on=DAY,
    )  # a bill of zero has no ledger entry
    with pytest.raises(ValidationError, match="Nothing is open"):
        request_write_off(clerk_a, zero, D("1.00"), "x")
    # A red bill and a cancelled bill, made by the corrections services.
    from watermis.billing import corrections

    wrong = make_bill(customer, "40.00", MONTH)
    red_request = corrections.request_red_bill(clerk_a, wrong, "抄错")
    red = corrections.approve_red_bill(manager, red_request)
    with pytest.raises(ValidationError, match="red bill is a credit"):
        request_write_off(clerk_a, red, D("1.00"), "x")
    cancelled = make_bill(customer, "20.00", MONTH)
    cancelled.state = "cancelled"
    cancelled.cancel_entry = ledger.reverse_entry(None, cancelled.entry, "测试", DAY)
    cancelled.save()
    with pytest.raises(ValidationError, match="cancelled"):
        request_write_off(clerk_a, cancelled, D("1.00"), "x")


def test_permissions_and_scope(customer, clerk_a, clerk_b, cashier_a, manager):
    bill = make_bill(customer, "100.00", MONTH)
    with pytest.raises(PermissionDenied):
        request_write_off(cashier_a, bill, D("10"), "x")
    with pytest.raises(PermissionDenied):  # zone A's bill, zone B's clerk
        request_write_off(clerk_b, bill, D("10"), "x")
    write_off = request_write_off(clerk_a, bill, D("10"), "x")
    with pytest.raises(PermissionDenied):  # a clerk cannot approve
        approve_write_off(clerk_b, write_off)
    with pytest.raises(PermissionDenied):
        approve_write_off(clerk_a, write_off)
    assert WriteOff.objects.restrict(clerk_b).count() == 0
    assert WriteOff.objects.restrict(clerk_a).count() == 1


def test_bad_debts_reconcile_with_the_ledger(org, admin, clerk_a, manager):
    east = make_customer(admin, org["zone_a"], "A1")
    west = make_customer(admin, org["zone_b"], "B1", "李四")
    clerk_all = make_operator(org, "clerk_all", CLERK, all_zones=True)
    plan = [
        (east, "100.00", "100.00", datetime.date(2026, 9, 15)),
        (east, "80.00", "30.00", datetime.date(2026, 9, 20)),
        (east, "60.00", "60.00", datetime.date(2026, 10, 3)),
        (west, "50.00", "25.50", datetime.date(2026, 9, 30)),
        (west, "70.00", "70.00", datetime.date(2026, 11, 2)),
    ]
    for customer, amount, written, day in plan:
        bill = make_bill(customer, amount, MONTH)
        write_off = request_write_off(clerk_all, bill, D(written), "核销", now=at(day))
        approve_write_off(manager, write_off, now=at(day, 15))
    # A rejected request does not count.
    extra = make_bill(east, "9.00", MONTH)
    reject_write_off(manager, request_write_off(clerk_all, extra, D("9.00"), "x"), "no")
    # Zone B has closed October: approved on 20 October, it counts in its open month, November.
    MonthEnd.objects.create(
        zone=org["zone_b"], month=datetime.date(2026, 10, 1), closed_by=manager, closed_at=at(DAY)
    )
    bill = make_bill(west, "12.00", MONTH)
    approve_write_off(
        manager,
        request_write_off(clerk_all, bill, D("12.00"), "核销"),
        now=at(datetime.date(2026, 10, 20)),
    )
    rows = bad_debts()
    ledger_rows = (
        LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF, reversed_by__isnull=True)
        .values("zone_id", "period")
        .annotate(count=Count("id"), amount=Sum("amount"))
    )
    assert {(r["zone_id"], r["month"], r["count"], r["amount"]) for r in rows} == {
        (r["zone_id"], r["period"], r["count"], r["amount"]) for r in ledger_rows
    }
    by_key = {(r["zone_name"], f"{r['month']:%Y-%m}"): r["amount"] for r in rows}
    assert by_key == {
        ("东城区", "2026-09"): D("130.00"),
        ("东城区", "2026-10"): D("60.00"),
        ("西城区", "2026-09"): D("25.50"),
        ("西城区", "2026-11"): D("82.00"),  # 70.00 in November + 12.00 after October closed
    }
    assert [f"{r['month']:%Y-%m}" for r in rows] == sorted(f"{r['month']:%Y-%m}" for r in rows)
    only = bad_debts(zone=org["zone_a"], month_from=datetime.date(2026, 10, 1), month_to=MONTH)
    assert [(r["zone_name"], r["count"], r["amount"]) for r in only] == [("东城区", 1, D("60.00"))]
    assert bad_debts(WriteOff.objects.restrict(clerk_a)) == [
        r for r in rows if r["zone_id"] == org["zone_a"].pk
    ]


# --- pages ----------------------------------------------------------------------------------


def test_request_and_approve_through_the_pages(customer, clerk_a, manager, login, client):
    bill = make_bill(customer, "100.00", MONTH)
    pay(customer, "20.00", bill)
    url = reverse("billing:bill_writeoff", args=[bill.pk])
    page = login(clerk_a).get(url)
    assert page.status_code == 200
    assert 'value="80.00"' in page.content.decode()  # the open amount is suggested
    refused = client.post(url, {"amount": "90", "reason": "困难户"})
    assert refused.status_code == 200
    assert "At most the bill&#x27;s open amount, 80.00" in refused.content.decode()
    done = client.post(url, {"amount": "80.00", "reason": "困难户"})
    write_off = WriteOff.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("billing:writeoff_detail", args=[write_off.pk])
    again = client.get(url).content.decode()
    assert "already awaiting approval" in again and 'id="pending-request"' in again
    # The clerk sees it but cannot decide.
    detail = client.get(done["Location"])
    assert detail.status_code == 200 and 'id="decision-form"' not in detail.content.decode()
    assert client.post(done["Location"], {"decision": "approve"}).status_code == 403
    assert client.get(reverse("billing:writeoff_approvals")).status_code == 403
    # The manager approves from the approvals page.
    login(manager)
    approvals = client.get(reverse("billing:writeoff_approvals"))
    assert approvals.status_code == 200 and customer.account_no in approvals.content.decode()
    assert "state" not in approvals.context["filterset"].form.fields
    detail = client.get(done["Location"])
    assert 'id="decision-form"' in detail.content.decode()
    decided = client.post(done["Location"], {"decision": "approve", "note": "同意"})
    assert decided.status_code == 302
    assert decided["Location"] == reverse("billing:writeoff_approvals")
    write_off.refresh_from_db()
    assert write_off.state == WriteOffState.APPROVED and write_off.decided_by == manager
    assert status(bill).status == BillStatus.WRITTEN_OFF
    assert customer.account_no not in client.get(decided["Location"]).content.decode()


def test_requester_sees_they_cannot_decide(customer, manager, login):
    bill = make_bill(customer, "100.00", MONTH)
    write_off = request_write_off(manager, bill, D("100.00"), "x")
    client = login(manager)
    url = reverse("billing:writeoff_detail", args=[write_off.pk])
    page = client.get(url).content.decode()
    assert 'id="own-request"' in page and 'id="decision-form"' not in page
    refused = client.post(url, {"decision": "approve"})
    assert refused.status_code == 200 and "another manager" in refused.content.decode()
    rejected = client.post(url, {"decision": "reject", "note": ""})
    assert "Say why the write-off is rejected" in rejected.content.decode()
    write_off.refresh_from_db()
    assert write_off.state == WriteOffState.REQUESTED


def test_list_filters_sorts_and_exports(org, admin, manager, login):
    east = make_customer(admin, org["zone_a"], "A1")
    west = make_customer(admin, org["zone_b"], "B1", "李四")
    clerk_all = make_operator(org, "clerk_all", CLERK, all_zones=True)
    made = {}
    for customer, amount, month in (
        (east, "10.00", datetime.date(2026, 8, 1)),
        (east, "55.00", datetime.date(2026, 9, 1)),
        (west, "30.00", datetime.date(2026, 9, 1)),
    ):
        bill = make_bill(customer, amount, month)
        made[amount] = request_write_off(clerk_all, bill, D(amount), "核销")
    approve_write_off(manager, made["55.00"])
    client = login(clerk_all)
    url = reverse("billing:writeoff_list")

    def accounts(**params):
        page = client.get(url, params)
        assert page.status_code == 200
        table = page.context["table"]
        return [(row.record.bill.customer.account_no, row.record.amount) for row in table.rows]

    assert len(accounts()) == 3
    assert accounts(zone=org["zone_b"].pk) == [(west.account_no, D("30.00"))]
    assert accounts(state="approved") == [(east.account_no, D("55.00"))]
    assert accounts(zone=org["zone_a"].pk, state="requested") == [(east.account_no, D("10.00"))]
    assert accounts(month_from="2026-09", amount_min="20", amount_max="40") == [
        (west.account_no, D("30.00"))
    ]
    assert accounts(requested_by=clerk_all.pk, month_to="2026-08") == [
        (east.account_no, D("10.00"))
    ]
    assert [a for _n, a in accounts(sort="amount")] == [D("10.00"), D("30.00"), D("55.00")]
    assert [a for _n, a in accounts(sort="-amount")] == [D("55.00"), D("30.00"), D("10.00")]
    export = client.get(url, {"state": "requested", "export": "xlsx"})
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    values = list(sheet.values)
    assert len(values) == 3 and "Amount" in values[0]
    # Another zone's clerk sees only their zone.
    assert (
        len(
            login(make_operator(org, "clerk_x", CLERK, unit_key="unit_b"))
            .get(url)
            .context["table"]
            .rows
        )
        == 1
    )


def test_pages_refuse_without_permission_or_scope(customer, cashier_a, clerk_b, login):
    bill = make_bill(customer, "100.00", MONTH)
    url = reverse("billing:bill_writeoff", args=[bill.pk])
    assert login(cashier_a).get(url).status_code == 403
    assert login(cashier_a).get(reverse("billing:writeoff_list")).status_code == 403
    assert login(clerk_b).get(url).status_code == 404  # another zone's bill
    assert login(clerk_b).post(url, {"amount": "1", "reason": "x"}).status_code == 404
    assert not WriteOff.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_post_once(org, admin):
    customer = make_customer(admin, org["zone_a"])
    clerk = make_operator(org, "clerk_t", CLERK)
    managers = [make_operator(org, f"manager_t{n}", MANAGER, all_zones=True) for n in range(4)]
    bill = make_bill(customer, "100.00", MONTH)
    write_off = request_write_off(clerk, bill, D("100.00"), "破产")
    done, refused = [], []

    def approve(manager):
        try:
            with translation.override("en"):  # a new thread starts in the default language
                approve_write_off(manager, write_off)
            done.append(manager)
        except ValidationError as exc:
            refused.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 1 and len(refused) == 3
    assert all("decided already" in str(exc) for exc in refused)
    assert LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF).count() == 1
    assert status(bill).status == BillStatus.WRITTEN_OFF
