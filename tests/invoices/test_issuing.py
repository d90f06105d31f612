"""Issuing invoices (F3.8–F3.11, F3.15, F3.1): the rules, the numbers, the money, the PDF."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from watermis.billing.models import EntryKind
from watermis.core.models import AuditEntry
from watermis.invoices import numbering, services
from watermis.invoices.models import (
    Invoice,
    InvoiceBill,
    InvoiceState,
    NumberUse,
    NumberUseKind,
    Origin,
    Part,
)
from watermis.invoices.services import Buyer

from .conftest import DAY, MONTHS, make_bill, pay

D = Decimal


@pytest.fixture
def paid_bill(town, stocks):
    bill = make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    pay(bill)
    return bill


def test_invoice_for_one_meter(cashier, kinds, town, paid_bill, stocks):
    issued = services.issue_for_meter(cashier, kinds["water"], paid_bill.meter, [paid_bill])
    invoice = issued.invoices[0]
    assert invoice.number == "00001001" and invoice.code == "CWATER"
    assert invoice.origin == Origin.AFTER_PAYMENT and invoice.state == InvoiceState.ISSUED
    assert invoice.operator == cashier and invoice.zone_id == paid_bill.zone_id
    assert invoice.buyer_name == "张三丰" and invoice.payment_method == "柜台缴费"
    # water only: 10 m³ × 3.00 = 30.00 incl. 3% → net 29.13, tax 0.87
    assert invoice.amount == D("30.00") and invoice.net_amount == D("29.13")
    assert invoice.tax_amount == D("0.87")
    line = invoice.lines.get()
    assert (line.name, line.tax_code, line.quantity, line.unit_price) == (
        "*水冰雪*自来水",
        "1100301010000000000",
        D("10.00"),
        D("3.0000"),
    )
    row = invoice.bill_rows.get()
    assert (row.bill_id, row.part, row.amount, row.live) == (paid_bill.pk, "own", D("30.00"), True)
    use = NumberUse.objects.get(invoice=invoice)
    assert use.use == NumberUseKind.INVOICE and use.sequence == 1001
    stocks["water"].refresh_from_db()
    assert stocks["water"].next == 1002
    assert AuditEntry.objects.filter(object_type="invoices.invoice", object_id=str(invoice.pk))
    assert issued.pdf.startswith(b"%PDF")


def test_bills_of_another_meter_are_refused(cashier, kinds, town, paid_bill):
    with pytest.raises(ValidationError, match="not a bill of meter"):
        services.issue_for_meter(cashier, kinds["water"], town["second_meter"], [paid_bill])


def test_unpaid_bill_is_refused_and_no_number_is_used(cashier, kinds, town, stocks):
    bill = make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    with pytest.raises(ValidationError, match="is not paid: 40.00 of 40.00 is still open"):
        services.issue_invoice(cashier, kinds["water"], [bill])
    stocks["water"].refresh_from_db()
    assert stocks["water"].next == 1001 and not Invoice.objects.exists()


def test_a_bill_is_invoiced_once_per_part(cashier, kinds, paid_bill, stocks):
    first = services.issue_invoice(cashier, kinds["water"], [paid_bill])
    with pytest.raises(ValidationError, match="already has its water items on invoice CWATER"):
        services.issue_invoice(cashier, kinds["water"], [paid_bill])
    with pytest.raises(ValidationError, match="already has its water items"):
        services.issue_invoice(cashier, kinds["all"], [paid_bill])
    stocks["water"].refresh_from_db()
    assert stocks["water"].next == 1002  # the refusals took no number
    agency = services.issue_agency_invoice(cashier, kinds["agency"], [paid_bill]).invoices[0]
    assert agency.amount == D("10.00") and agency.tax_amount == 0
    assert agency.lines.get().collected_for == "排水管理处"
    assert {r.part for r in InvoiceBill.objects.filter(bill=paid_bill)} == {"own", "agency"}
    assert first.number == "00001001" and agency.number == "00001001"  # separate stocks


def test_database_refuses_a_second_live_row(cashier, kinds, paid_bill):
    from django.db import IntegrityError, transaction

    invoice = services.issue_invoice(cashier, kinds["water"], [paid_bill])
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceBill.objects.create(invoice=invoice, bill=paid_bill, part=Part.OWN, amount=1)


def test_kind_covering_all_items_and_receipt_then_invoice(cashier, kinds, paid_bill):
    receipt = services.issue_receipt(cashier, kinds["receipt"], [paid_bill]).invoices[0]
    assert receipt.amount == D("40.00") and receipt.bill_rows.get().part == "receipt"
    with pytest.raises(ValidationError, match="receipt kind"):
        services.issue_receipt(cashier, kinds["water"], [paid_bill])
    invoice = services.issue_invoice(cashier, kinds["all"], [paid_bill])  # invoice afterwards
    assert invoice.amount == D("40.00")
    assert invoice.net_amount == D("39.13") and invoice.tax_amount == D("0.87")
    assert [line.name for line in invoice.lines.order_by("position")] == [
        "*水冰雪*自来水",
        "*政府性基金*污水处理费",
    ]
    with pytest.raises(ValidationError, match="already has its agency items"):
        services.issue_agency_invoice(cashier, kinds["agency"], [paid_bill])


def test_several_meters_and_months_of_one_customer(cashier, kinds, town, stocks):
    customer = town["customers"][0]
    bills = [
        make_bill(customer, MONTHS[0], "10", items=town),
        make_bill(customer, MONTHS[1], "12", items=town),
        make_bill(customer, MONTHS[1], "5", items=town, meter=town["second_meter"]),
    ]
    for bill in bills:
        pay(bill)
    issued = services.issue_for_customer(cashier, kinds["water"], customer, bills)
    invoice = issued.invoices[0]
    assert invoice.amount == D("81.00") and invoice.bill_rows.count() == 3
    line = invoice.lines.get()  # one price: one tax line of 27 m³
    assert line.quantity == D("27.00") and line.net + line.tax == D("81.00")
    assert line.tax == D("2.36")  # 81.00 − round(81.00 / 1.03) = 81.00 − 78.64
    other = make_bill(town["customers"][1], MONTHS[0], "3", items=town)
    with pytest.raises(ValidationError, match="not a bill of account"):
        services.issue_for_customer(cashier, kinds["water"], customer, [other])


def test_bills_of_several_customers_need_a_combined_invoice(cashier, kinds, town, stocks):
    a = make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    b = make_bill(town["customers"][1], MONTHS[0], "5", items=town)
    pay(a), pay(b)
    with pytest.raises(ValidationError, match="belong to 2 customers"):
        services.issue_invoice(cashier, kinds["water"], [a, b])
    with pytest.raises(ValidationError) as caught:
        services.issue_combined(cashier, kinds["water"], [a, b], Buyer())
    assert "buyer_name" in caught.value.message_dict
    issued = services.issue_combined(
        cashier, kinds["water"], [a, b], Buyer(name="东城物业公司", tax_id="91420100XYZ")
    )
    invoice = issued.invoices[0]
    assert (
        invoice.combined and invoice.amount == D("45.00") and invoice.buyer_name == "东城物业公司"
    )
    assert invoice.balance_after is None


def test_bills_of_two_zones_are_refused(admin, kinds, town, manager):
    numbering.issue_stock(
        manager,
        {"kind": kinds["water"], "operator": admin, "code": "X", "first": 1, "last": 10},
    )
    a = make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    b = make_bill(town["customers"][3], MONTHS[0], "5", items=town)
    pay(a), pay(b)
    with pytest.raises(ValidationError, match="several zones"):
        services.issue_combined(admin, kinds["water"], [a, b], Buyer(name="X"))


def test_operator_prints_only_from_own_stock(cashier2, kinds, paid_bill, org):
    from tests.conftest import make_operator

    from watermis.org.roles import CASHIER

    with pytest.raises(ValidationError, match="no numbers of 水费发票 left"):
        services.issue_invoice(cashier2, kinds["water"], [paid_bill])
    other_zone = make_operator(org, "cashier_b", CASHIER, unit_key="unit_b")
    with pytest.raises(PermissionDenied):  # another zone's bill
        services.issue_invoice(other_zone, kinds["water"], [paid_bill])


def test_issuing_needs_the_permission(clerk_a, kinds, paid_bill):
    with pytest.raises(PermissionDenied):
        services.issue_invoice(clerk_a, kinds["water"], [paid_bill])


def test_special_invoice_needs_the_buyer_tax_id(cashier, kinds, paid_bill):
    kind = kinds["water"]
    kind.invoice_type = "special"
    kind.save()
    with pytest.raises(ValidationError) as caught:
        services.issue_invoice(cashier, kind, [paid_bill])
    assert "buyer_tax_id" in caught.value.message_dict
    invoice = services.issue_invoice(
        cashier, kind, [paid_bill], buyer=Buyer(name="某公司", tax_id="91420100MA4K0ABC1X")
    )
    assert invoice.invoice_type == "special"


def test_bill_paid_from_prepaid_credit_says_so(cashier, kinds, town, stocks):
    customer = town["customers"][1]

    from watermis.payments import deposits

    bill = make_bill(customer, MONTHS[0], "10", items=town)
    deposits.take_deposit(cashier, customer, D("100.00"), pay_bills=True)
    invoice = services.issue_invoice(cashier, kinds["water"], [bill])
    assert invoice.payment_method == "预存抵扣" and invoice.balance_after == D("60.00")


def test_bill_paid_from_open_credit_shows_the_credit_left(cashier, kinds, town, stocks):
    customer = town["customers"][1]
    from watermis.billing import ledger

    ledger.post_entry(None, customer, EntryKind.PAYMENT, D("100.00"), business_date=DAY)
    bill = make_bill(customer, MONTHS[0], "10", items=town)  # paid from the credit at once
    invoice = services.issue_invoice(cashier, kinds["water"], [bill])
    assert invoice.balance_after == D("60.00")


def test_payment_at_the_counter_is_recorded(cashier, kinds, town, stocks):
    """What the counter (issue 8) does: post the payment, then issue in the same transaction."""
    from django.db import transaction

    bill = make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    with transaction.atomic():
        payment = pay(bill)
        invoice = services.issue_invoice(
            cashier, kinds["all"], [bill], payment=payment, received=D("50"), change=D("10.00")
        )
    assert invoice.origin == Origin.PAYMENT and invoice.payment == payment
    assert (invoice.received, invoice.change) == (D("50"), D("10.00"))


def test_the_counter_issues_under_its_own_lock(cashier, kinds, town, stocks):
    """``locked_customer``: the caller holds the account lock and vouches the bills are the
    customer's; the invoice is the same, and another customer's bill is still refused."""
    from django.db import transaction

    from watermis.billing import ledger

    first, second = town["customers"][0], town["customers"][1]
    bill = make_bill(first, MONTHS[0], "10", items=town)
    foreign = make_bill(second, MONTHS[0], "10", items=town)
    pay(foreign)
    with transaction.atomic():
        payment = pay(bill)
        ledger.lock_accounts([first.pk])
        invoice = services.issue_invoice(
            cashier, kinds["water"], [bill], payment=payment, locked_customer=first
        )
    assert invoice.customer == first and invoice.buyer_name == "张三丰"
    assert invoice.amount == D("30.00") and invoice.lines.get().tax_code == "1100301010000000000"
    refused = pytest.raises(ValidationError, match=r"Bill #\d+ is not a bill of account")
    with refused, transaction.atomic():
        ledger.lock_accounts([first.pk])
        services.issue_invoice(cashier, kinds["water"], [foreign], locked_customer=first)
    stocks["water"].refresh_from_db()
    assert stocks["water"].next == 1002 and Invoice.objects.count() == 1


def test_refusal_inside_a_caller_transaction_leaves_it_usable(cashier, kinds, paid_bill, stocks):
    from django.db import transaction

    services.issue_invoice(cashier, kinds["water"], [paid_bill])
    with transaction.atomic():
        with pytest.raises(ValidationError):
            services.issue_invoice(cashier, kinds["water"], [paid_bill])
        assert Invoice.objects.count() == 1  # the caller's transaction goes on
    stocks["water"].refresh_from_db()
    assert stocks["water"].next == 1002


def test_walking_collection_invoices_in_route_order(collector, manager, kinds, town):
    stock = numbering.issue_stock(
        manager,
        {"kind": kinds["water"], "operator": collector, "code": "Z", "first": 1, "last": 10},
    )
    zhang, li, wang, zhao = town["customers"]
    make_bill(zhang, MONTHS[0], "10", items=town)
    make_bill(zhang, MONTHS[1], "11", items=town)
    make_bill(li, MONTHS[1], "7", items=town)
    paid = make_bill(wang, MONTHS[1], "8", items=town)
    pay(paid)
    make_bill(zhao, MONTHS[1], "9", items=town)  # another book
    issued = services.issue_collection_invoices(collector, kinds["water"], [town["book"]])
    # route order: 李四 (10), 张三丰 (30); 王五 paid already
    assert [(i.customer.name, i.number) for i in issued.invoices] == [
        ("李四", "00000001"),
        ("张三丰", "00000002"),
    ]
    assert issued.invoices[1].bill_rows.count() == 2
    assert all(i.origin == Origin.COLLECTION for i in issued.invoices)
    assert issued.invoices[0].payment_method == "走收"
    from watermis.documents.pdf import page_count

    assert page_count(issued.pdf) == 2
    stock.refresh_from_db()
    assert stock.next == 3 and numbering.stock_problems(stock) == []
    with pytest.raises(ValidationError, match="no unpaid bill"):
        services.issue_collection_invoices(collector, kinds["water"], [town["book"]])


def test_walking_collection_checks_the_stock_first(collector, manager, kinds, town):
    numbering.issue_stock(
        manager,
        {"kind": kinds["water"], "operator": collector, "code": "Z", "first": 1, "last": 1},
    )
    make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    make_bill(town["customers"][1], MONTHS[0], "10", items=town)
    with pytest.raises(ValidationError, match="2 invoices are to print but you hold 1"):
        services.issue_collection_invoices(collector, kinds["water"], [town["book"]])
    assert not Invoice.objects.exists()
    with pytest.raises(ValidationError, match="paper"):
        services.issue_collection_invoices(collector, kinds["einvoice"], [town["book"]])


def test_zero_agency_lines_are_nothing_to_invoice(cashier, kinds, town, stocks):
    bill = make_bill(town["customers"][0], MONTHS[0], "10", items=town, sewage="0")
    pay(bill)
    assert bill.lines.filter(amount=0).exists()
    assert not services.reissue_candidates(cashier, kinds["agency"]).filter(pk=bill.pk).exists()
    assert services.reissue_candidates(cashier, kinds["water"]).filter(pk=bill.pk).exists()
    with pytest.raises(ValidationError, match="has no agency items to invoice"):
        services.issue_agency_invoice(cashier, kinds["agency"], [bill])
