"""Correcting bills (F3.22): cancel in an open month, red bills after; the ledger and the pages."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.urls import reverse
from tests.billing.factories import make_bill
from tests.billing.test_writeoffs import at, make_customer, pay, status
from tests.conftest import make_operator

from watermis.billing import ledger
from watermis.billing.corrections import (
    approve_red_bill,
    cancel_bill,
    mirror_lines,
    open_billing_month,
    reject_red_bill,
    request_red_bill,
)
from watermis.billing.models import (
    Bill,
    BillKind,
    BillLine,
    BillState,
    BillStatus,
    Direction,
    EntryKind,
    LedgerEntry,
    MonthEnd,
    RedBillRequest,
    WriteOffState,
)
from watermis.billing.writeoffs import approve_write_off, request_write_off
from watermis.core.models import AuditEntry
from watermis.org.roles import CLERK, MANAGER
from watermis.readings import services as reading_services
from watermis.readings.models import Reading
from watermis.tariffs.models import PriceItem

D = Decimal
MONTH = datetime.date(2026, 10, 1)
DAY = datetime.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def english_pages(settings, client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def customer(org, admin):
    return make_customer(admin, org["zone_a"])


@pytest.fixture
def manager2(org):
    return make_operator(org, "manager2", MANAGER, all_zones=True)


def make_read_bill(admin, customer, amount, month=MONTH):
    """A bill made from a billed read of the customer's book period for ``month`` (open)."""
    periods = reading_services.open_periods(
        admin, customer.zone, month, books=[customer.book], today=month
    )
    period = periods[0] if periods else customer.book.periods.get(month=month)
    meter = customer.meters.get()
    reading = Reading.objects.get(period=period, meter=meter)
    Reading.objects.filter(pk=reading.pk).update(billed=True)
    bill = make_bill(customer, amount, month)
    Bill.objects.filter(pk=bill.pk).update(reading=reading)
    bill.refresh_from_db()
    return bill


def make_lined_bill(customer, month, lines):
    """A bill of several lines [(volume, unit price, amount)]; its amount is their sum."""
    amount = sum(D(a) for _v, _p, a in lines)
    issued_on = month + datetime.timedelta(days=27)
    entry = ledger.post_entry(
        None, customer, EntryKind.BILL, amount, business_date=issued_on, period=month
    ).entry
    meter = customer.meters.get()
    bill = Bill.objects.create(
        customer=customer,
        zone_id=customer.zone_id,
        book_id=customer.book_id,
        meter=meter,
        month=month,
        period_start=month - datetime.timedelta(days=30),
        period_end=month,
        read_volume=sum(D(v) for v, _p, _a in lines),
        volume=sum(D(v) for v, _p, _a in lines),
        tariff=meter.tariff,
        amount=amount,
        issued_on=issued_on,
        due_on=issued_on + datetime.timedelta(days=30),
        entry=entry,
    )
    for index, (volume, price, line_amount) in enumerate(lines):
        item, _created = PriceItem.objects.get_or_create(
            code=f"I{index}", defaults={"name": f"项目{index}"}
        )
        BillLine.objects.create(
            bill=bill,
            item=item,
            tier=index + 1,
            volume=D(volume),
            unit_price=D(price),
            amount=D(line_amount),
            price_from=month,
        )
    return bill


def lines_total(bill):
    return bill.lines.aggregate(s=Sum("amount"))["s"]


# --- cancelling in an open month -------------------------------------------------------------


def test_cancel_in_open_month_makes_the_read_billable_again(admin, customer, clerk_a):
    bill = make_read_bill(admin, customer, "52.00")
    assert ledger.balance_of(customer.pk) == D("-52.00")
    cancel_bill(clerk_a, bill, "抄表数据录错", now=at(DAY))
    bill.refresh_from_db()
    assert bill.state == BillState.CANCELLED
    reversal = bill.cancel_entry
    assert reversal.kind == EntryKind.REVERSAL and reversal.reverses_id == bill.entry_id
    assert reversal.direction == Direction.CREDIT and reversal.amount == D("52.00")
    assert ledger.balance_of(customer.pk) == 0
    assert status(bill).status == BillStatus.CANCELLED and status(bill).open_amount == 0
    reading = Reading.objects.get(pk=bill.reading_id)
    assert reading.billed is False
    # The read can be billed again: a new issued bill of the same read is allowed.
    again = make_bill(customer, "42.00", MONTH)
    Bill.objects.filter(pk=again.pk).update(reading=reading)
    assert Bill.objects.filter(reading=reading, state=BillState.ISSUED).count() == 1
    verbs = set(AuditEntry.objects.values_list("object_type", "verb"))
    assert {("billing.bill", "cancel_bill"), ("readings.reading", "unbill_reading")} <= verbs
    with pytest.raises(ValidationError, match="cancelled already"):
        cancel_bill(clerk_a, bill, "again")


@pytest.mark.parametrize("paid", ["52.00", "10.00"])
def test_cancel_of_a_paid_or_partly_paid_bill_is_refused(admin, customer, clerk_a, paid):
    bill = make_read_bill(admin, customer, "52.00")
    pay(customer, paid, bill)
    with pytest.raises(ValidationError, match="request a red bill instead"):
        cancel_bill(clerk_a, bill, "抄错")
    bill.refresh_from_db()
    assert bill.state == BillState.ISSUED and bill.cancel_entry is None
    assert Reading.objects.get(pk=bill.reading_id).billed is True


def test_cancel_in_a_closed_period_is_refused(admin, customer, clerk_a):
    bill = make_read_bill(admin, customer, "52.00")
    period = Reading.objects.get(pk=bill.reading_id).period
    reading_services.close_period(admin, period, "月末")
    with pytest.raises(ValidationError, match="only be corrected with a red bill"):
        cancel_bill(clerk_a, bill, "抄错")
    no_read = make_bill(customer, "10.00", datetime.date(2026, 6, 1))  # no reading period
    with pytest.raises(ValidationError, match="only be corrected with a red bill"):
        cancel_bill(clerk_a, no_read, "抄错")


def test_cancel_checks_reason_permission_and_scope(org, admin, customer, clerk_a, cashier_a):
    bill = make_read_bill(admin, customer, "52.00")
    with pytest.raises(ValidationError) as caught:
        cancel_bill(clerk_a, bill, " ")
    assert "reason" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        cancel_bill(cashier_a, bill, "抄错")
    with pytest.raises(PermissionDenied):
        cancel_bill(make_operator(org, "clerk_b", CLERK, unit_key="unit_b"), bill, "抄错")
    assert Bill.objects.get(pk=bill.pk).state == BillState.ISSUED


# --- red bills -------------------------------------------------------------------------------


def test_red_bill_for_a_paid_bill_leaves_prepaid_credit(customer, clerk_a, manager):
    wrong = make_bill(customer, "100.00", MONTH)
    pay(customer, "100.00", wrong)
    request = request_red_bill(clerk_a, wrong, "水表读数错误，多收")
    assert request.amount == D("100.00") and request.state == WriteOffState.REQUESTED
    red = approve_red_bill(manager, request, "同意", now=at(DAY))
    assert red.kind == BillKind.RED and red.amount == D("-100.00")
    assert red.corrects == wrong and red.approved_by == manager and red.reason == request.reason
    assert red.month == DAY.replace(day=1) and red.state == BillState.ISSUED
    assert red.entry.kind == EntryKind.RED_BILL and red.entry.amount == D("100.00")
    assert red.entry.period == red.month
    assert ledger.balance_of(customer.pk) == D("100.00")  # prepaid credit
    assert status(wrong).status == BillStatus.PAID
    assert status(red).status == BillStatus.CREDIT
    assert lines_total(red) == D("-100.00")
    request.refresh_from_db()
    assert request.state == WriteOffState.APPROVED and request.red_bill == red
    assert request.decided_by == manager and request.decision_note == "同意"
    # The credit pays the next bill by itself.
    following = make_bill(customer, "30.00", DAY.replace(day=1))
    assert status(following).status == BillStatus.PAID
    assert ledger.balance_of(customer.pk) == D("70.00")


def test_red_bill_for_an_unpaid_bill_reduces_its_open_amount(customer, clerk_a, manager):
    older = make_bill(customer, "20.00", MONTH - datetime.timedelta(days=31))
    wrong = make_bill(customer, "100.00", MONTH)
    red = approve_red_bill(manager, request_red_bill(clerk_a, wrong, "多计", D("40.00")))
    row = status(wrong)
    assert row.open_amount == D("60.00") and row.status == BillStatus.PARTLY_PAID
    assert status(older).open_amount == D("20.00")  # the red bill settles the wrong bill only
    assert ledger.balance_of(customer.pk) == D("-80.00")
    assert red.amount == D("-40.00") and lines_total(red) == D("-40.00")
    assert red.volume == D("-4.00")  # 40 % of the 10 m³ billed


def test_partial_red_bill_lines_add_up(customer, clerk_a, manager):
    wrong = make_lined_bill(
        customer,
        MONTH,
        [("10.00", "2.5000", "25.00"), ("3.33", "3.3300", "11.09"), ("7.77", "0.9500", "7.38")],
    )
    assert wrong.amount == D("43.47")
    red = approve_red_bill(manager, request_red_bill(clerk_a, wrong, "部分多收", D("10.01")))
    lines = list(red.lines.order_by("id"))
    assert sum(line.amount for line in lines) == D("-10.01") == red.amount
    assert [line.item_id for line in lines] == list(
        wrong.lines.order_by("id").values_list("item_id", flat=True)
    )
    assert all(line.amount <= 0 and line.volume <= 0 for line in lines)
    # Proportional, half up, the remainder on the last line.
    ratio = D("10.01") / D("43.47")
    assert lines[0].amount == -(D("25.00") * ratio).quantize(D("0.01"))  # 5.76
    assert lines[1].amount == -(D("11.09") * ratio).quantize(D("0.01"))  # 2.55
    assert lines[2].amount == D("-10.01") - lines[0].amount - lines[1].amount
    assert [line.tier for line in lines] == [1, 2, 3]
    # A second red bill takes at most what is left: 43.47 − 10.01.
    with pytest.raises(ValidationError) as caught:
        request_red_bill(clerk_a, wrong, "再红冲", D("33.47"))
    assert "33.46" in caught.value.message_dict["amount"][0]
    rest = approve_red_bill(manager, request_red_bill(clerk_a, wrong, "全部红冲"))
    assert rest.amount == D("-33.46") and lines_total(rest) == D("-33.46")
    assert status(wrong).open_amount == 0
    with pytest.raises(ValidationError, match="Nothing is left to correct"):
        request_red_bill(clerk_a, wrong, "again")


def test_mirror_lines_whole_and_tiny_parts():
    lines = [
        BillLine(item_id=1, volume=D("1.00"), unit_price=D("0.0100"), amount=D("0.01")),
        BillLine(item_id=2, volume=D("1.00"), unit_price=D("0.0100"), amount=D("0.01")),
        BillLine(item_id=3, volume=D("1.00"), unit_price=D("0.0100"), amount=D("0.01")),
    ]
    whole = mirror_lines(lines, D("0.03"), D("0.03"))
    assert [m.amount for m in whole] == [D("-0.01")] * 3
    assert [m.volume for m in whole] == [D("-1.00")] * 3
    part = mirror_lines(lines, D("0.03"), D("0.01"))
    assert sum(m.amount for m in part) == D("-0.01")


def test_red_bill_rules(customer, clerk_a, manager, manager2):
    wrong = make_bill(customer, "100.00", MONTH)
    with pytest.raises(ValidationError) as caught:
        request_red_bill(clerk_a, wrong, "多收", D("100.01"))
    assert "amount" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        request_red_bill(clerk_a, wrong, "")
    assert "reason" in caught.value.message_dict
    request = request_red_bill(manager, wrong, "多收", D("30.00"))
    with pytest.raises(ValidationError, match="already awaiting approval"):
        request_red_bill(clerk_a, wrong, "多收", D("10.00"))
    with pytest.raises(ValidationError, match="another manager"):
        approve_red_bill(manager, request)
    with pytest.raises(PermissionDenied):
        approve_red_bill(clerk_a, request)
    approve_red_bill(manager2, request)
    with pytest.raises(ValidationError, match="decided already"):
        approve_red_bill(manager2, request)
    assert Bill.objects.filter(kind=BillKind.RED).count() == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.RED_BILL).count() == 1
    # A red bill cannot be corrected by a red bill, nor a cancelled bill.
    red = Bill.objects.get(kind=BillKind.RED)
    with pytest.raises(ValidationError, match="cannot itself be corrected"):
        request_red_bill(clerk_a, red, "x")
    rejected = request_red_bill(clerk_a, wrong, "再红冲", D("5.00"))
    with pytest.raises(ValidationError) as caught:
        reject_red_bill(manager, rejected, "")
    assert "note" in caught.value.message_dict
    reject_red_bill(manager, rejected, "不需要")
    rejected.refresh_from_db()
    assert rejected.state == WriteOffState.REJECTED and rejected.red_bill is None
    assert status(wrong).open_amount == D("70.00")


def test_written_off_part_cannot_be_credited(customer, clerk_a, manager):
    wrong = make_bill(customer, "100.00", MONTH)
    approve_write_off(manager, request_write_off(clerk_a, wrong, D("60.00"), "坏账"))
    with pytest.raises(ValidationError) as caught:
        request_red_bill(clerk_a, wrong, "多收", D("40.01"))
    assert "write-offs (60.00)" in caught.value.message_dict["amount"][0]
    request = request_red_bill(clerk_a, wrong, "多收")
    assert request.amount == D("40.00")


def test_approval_rechecks_what_is_left(customer, clerk_a, manager):
    wrong = make_bill(customer, "100.00", MONTH)
    request = request_red_bill(clerk_a, wrong, "多收", D("50.00"))
    approve_write_off(manager, request_write_off(clerk_a, wrong, D("80.00"), "坏账"))
    with pytest.raises(ValidationError) as caught:
        approve_red_bill(manager, request)
    assert "At most 20.00" in str(caught.value)
    assert not Bill.objects.filter(kind=BillKind.RED).exists()


def test_red_bill_month(org, customer, clerk_a, manager):
    today = datetime.date(2026, 11, 24)
    assert open_billing_month(customer.zone_id, today) == datetime.date(2026, 11, 1)
    MonthEnd.objects.create(
        zone=org["zone_a"], month=datetime.date(2026, 11, 1), closed_by=manager, closed_at=at(today)
    )
    assert open_billing_month(customer.zone_id, today) == datetime.date(2026, 12, 1)
    assert open_billing_month(org["zone_b"].pk, today) == datetime.date(2026, 11, 1)
    wrong = make_bill(customer, "100.00", MONTH)
    red = approve_red_bill(
        manager, request_red_bill(clerk_a, wrong, "多收", D("1.00")), now=at(today)
    )
    assert red.month == datetime.date(2026, 12, 1) and red.entry.period == red.month
    with pytest.raises(ValidationError) as caught:
        request_red_bill(clerk_a, wrong, "多收", D("1.00"), month=datetime.date(2026, 11, 5))
    assert "closed" in caught.value.message_dict["month"][0]
    with pytest.raises(ValidationError) as caught:
        request_red_bill(clerk_a, wrong, "多收", D("1.00"), month=datetime.date(2026, 9, 1))
    assert "before the bill" in caught.value.message_dict["month"][0]
    given = request_red_bill(clerk_a, wrong, "多收", D("1.00"), month=datetime.date(2027, 1, 20))
    assert given.month == datetime.date(2027, 1, 1)
    assert approve_red_bill(manager, given).month == datetime.date(2027, 1, 1)


def test_red_bill_scope(org, customer, clerk_a, manager):
    wrong = make_bill(customer, "100.00", MONTH)
    clerk_b = make_operator(org, "clerk_b", CLERK, unit_key="unit_b")
    with pytest.raises(PermissionDenied):
        request_red_bill(clerk_b, wrong, "多收")
    manager_b = make_operator(org, "manager_b", MANAGER, unit_key="unit_b")
    request = request_red_bill(clerk_a, wrong, "多收")
    with pytest.raises(PermissionDenied):
        approve_red_bill(manager_b, request)
    assert RedBillRequest.objects.get().state == WriteOffState.REQUESTED


# --- pages ----------------------------------------------------------------------------------


def test_cancel_through_the_page(admin, customer, clerk_a, cashier_a, login, client):
    bill = make_read_bill(admin, customer, "52.00")
    url = reverse("billing:bill_cancel", args=[bill.pk])
    assert login(cashier_a).get(url).status_code == 403
    page = login(clerk_a).get(url)
    assert page.status_code == 200 and 'id="action-form"' in page.content.decode()
    empty = client.post(url, {"reason": ""})
    assert empty.status_code == 200 and Bill.objects.get(pk=bill.pk).state == BillState.ISSUED
    done = client.post(url, {"reason": "抄表数据录错"})
    assert done.status_code == 302
    assert Bill.objects.get(pk=bill.pk).state == BillState.CANCELLED
    again = client.get(url).content.decode()
    assert 'id="action-problem"' in again and "cancelled already" in again


def test_paid_bill_page_offers_a_red_bill_not_a_cancel(admin, customer, clerk_a, login):
    bill = make_read_bill(admin, customer, "52.00")
    pay(customer, "52.00", bill)
    client = login(clerk_a)
    page = client.get(reverse("billing:bill_cancel", args=[bill.pk])).content.decode()
    assert "request a red bill instead" in page and 'id="action-form"' not in page
    assert reverse("billing:bill_redbill", args=[bill.pk]) in page  # offered as the way


def test_red_bill_through_the_pages(customer, clerk_a, manager, login, client):
    wrong = make_bill(customer, "100.00", MONTH)
    pay(customer, "100.00", wrong)
    url = reverse("billing:bill_redbill", args=[wrong.pk])
    page = login(clerk_a).get(url)
    assert page.status_code == 200 and 'value="100.00"' in page.content.decode()
    too_much = client.post(url, {"amount": "100.01", "reason": "多收"})
    assert "At most 100.00" in too_much.content.decode()
    done = client.post(url, {"amount": "25.50", "reason": "多收", "month": ""})
    request = RedBillRequest.objects.get()
    assert done["Location"] == reverse("billing:redbill_detail", args=[request.pk])
    detail = client.get(done["Location"]).content.decode()
    assert 'id="decision-form"' not in detail and 'id="bill-lines"' in detail
    assert client.post(done["Location"], {"decision": "approve"}).status_code == 403
    listing = client.get(reverse("billing:redbill_list"))
    assert listing.status_code == 200 and len(listing.context["table"].rows) == 1
    login(manager)
    listing = client.get(reverse("billing:redbill_list"), {"state": "requested"})
    assert b"Decide" in listing.content
    decided = client.post(done["Location"], {"decision": "approve", "note": ""})
    assert decided.status_code == 302
    request.refresh_from_db()
    assert request.state == WriteOffState.APPROVED
    assert request.red_bill.amount == D("-25.50") and request.decided_by == manager
    assert ledger.balance_of(customer.pk) == D("25.50")
    detail = client.get(done["Location"]).content.decode()
    assert "Lines of the red bill" in detail and "-25.50" in detail
    assert (
        len(
            client.get(reverse("billing:redbill_list"), {"state": "requested"})
            .context["table"]
            .rows
        )
        == 0
    )


def test_red_bill_pages_scope(org, customer, clerk_a, login):
    wrong = make_bill(customer, "100.00", MONTH)
    request = request_red_bill(clerk_a, wrong, "多收")
    clerk_b = make_operator(org, "clerk_b", CLERK, unit_key="unit_b")
    client = login(clerk_b)
    assert client.get(reverse("billing:redbill_detail", args=[request.pk])).status_code == 404
    assert client.get(reverse("billing:bill_redbill", args=[wrong.pk])).status_code == 404
    assert len(client.get(reverse("billing:redbill_list")).context["table"].rows) == 0
