"""Void (F3.16–F3.19), reprint, red invoices (F3.22) and reissue (F3.6, F3.7, F3.12–F3.14)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from tests.conftest import make_operator

from watermis.billing.corrections import approve_red_bill, request_red_bill
from watermis.core.models import AuditEntry
from watermis.invoices import numbering, services
from watermis.invoices.models import Invoice, InvoiceState, NumberUse, Origin
from watermis.invoices.queries import PaidChannel
from watermis.org.roles import CLERK
from watermis.payments import deposits

from .conftest import DAY, MONTHS, make_bill, pay

D = Decimal


@pytest.fixture
def paid_bill(town, stocks):
    bill = make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    pay(bill)
    return bill


@pytest.fixture
def invoice(cashier, kinds, paid_bill):
    return services.issue_invoice(cashier, kinds["water"], [paid_bill])


def test_only_the_issuer_voids_with_a_reason(cashier, cashier2, manager, invoice, org):
    with pytest.raises(ValidationError, match="why"):
        services.void_invoice(cashier, invoice, "  ")
    with pytest.raises(ValidationError, match="Only the operator who issued invoice CWATER"):
        services.void_invoice(cashier2, invoice, "打错")
    with pytest.raises(PermissionDenied):  # managers do not void
        services.void_invoice(manager, invoice, "打错")
    voided = services.void_invoice(cashier, invoice, "户名打错")
    assert voided.state == InvoiceState.VOID and voided.voided_by == cashier
    assert voided.void_reason == "户名打错" and not voided.bill_rows.filter(live=True).exists()
    entry = AuditEntry.objects.get(object_type="invoices.invoice", verb="void_invoice")
    assert entry.reason.startswith("户名打错") and entry.actor == cashier
    with pytest.raises(ValidationError, match="void already"):
        services.void_invoice(cashier, invoice, "again")
    assert NumberUse.objects.get(invoice=invoice).sequence == 1001  # the number stays used


def test_voided_bills_are_invoiced_again(cashier, kinds, paid_bill, invoice):
    services.void_invoice(cashier, invoice, "户名打错")
    again = services.issue_invoice(cashier, kinds["water"], [paid_bill])
    assert again.number == "00001002" and again.amount == invoice.amount


def test_reprint_is_a_journaled_copy(cashier, invoice):
    from watermis.documents.pdf import render_png

    pdf = services.reprint_invoice(cashier, invoice)
    invoice.refresh_from_db()
    assert invoice.reprints == 1 and pdf.startswith(b"%PDF") and render_png(pdf)
    entry = AuditEntry.objects.get(object_type="invoices.invoice", verb="reprint_invoice")
    assert entry.after == {"reprints": 1}
    services.void_invoice(cashier, invoice, "x")
    with pytest.raises(ValidationError, match="void"):
        services.reprint_invoice(cashier, invoice)


def test_copy_is_marked_in_the_printed_remark(cashier, invoice):
    from watermis.invoices.printing import copy_remark

    invoice.reprints, invoice.combined = 2, False
    assert copy_remark(invoice, True).startswith("【重打副本 第2次】")
    assert copy_remark(invoice, False) == ""


@pytest.fixture
def red_bill(org, manager, paid_bill):
    clerk = make_operator(org, "clerk_r", CLERK)
    request = request_red_bill(clerk, paid_bill, "读数错", amount=D("12.00"))
    return approve_red_bill(manager, request)


def test_red_invoice_offsets_the_original(cashier, invoice, red_bill):
    issued = services.issue_red_invoices(cashier, red_bill)
    red = issued.invoices[0]
    assert red.red_of == invoice and red.origin == Origin.RED and red.is_red
    # 12.00 of 40.00 (30.00 water, 10.00 sewage): 9.00 of water on the water invoice
    assert red.amount == D("-9.00") and red.tax_amount == D("-0.26")
    assert red.number == "00001002" and red.red_reason == "读数错"
    line = red.lines.get()
    assert line.amount == D("-9.00") and line.quantity == D("-3.00")
    with pytest.raises(ValidationError, match="is on an invoice already"):
        services.issue_red_invoices(cashier, red_bill)
    with pytest.raises(ValidationError, match="Red invoice CWATER 00001002 offsets"):
        services.void_invoice(cashier, invoice, "x")
    services.void_invoice(cashier, red, "红字开错")  # then the original can be voided
    services.void_invoice(cashier, invoice, "整张作废")
    assert issued.pdf.startswith(b"%PDF")


def test_red_bill_of_an_uninvoiced_bill_nets_on_its_invoice(cashier, kinds, paid_bill, red_bill):
    with pytest.raises(ValidationError, match="has no live invoice"):
        services.issue_red_invoices(cashier, red_bill)
    with pytest.raises(ValidationError, match="is a red bill"):
        services.issue_invoice(cashier, kinds["water"], [red_bill])
    invoice = services.issue_invoice(cashier, kinds["all"], [paid_bill])
    assert invoice.amount == D("28.00")  # 40.00 − 12.00
    assert set(invoice.bill_rows.values_list("bill_id", "amount")) == {
        (paid_bill.pk, D("30.00")),
        (paid_bill.pk, D("10.00")),
        (red_bill.pk, D("-9.00")),
        (red_bill.pk, D("-3.00")),
    }


def test_red_invoice_is_not_for_regular_bills(cashier, paid_bill):
    with pytest.raises(ValidationError, match="not a red bill"):
        services.issue_red_invoices(cashier, paid_bill)


# --- electronic invoices --------------------------------------------------------------------


def test_einvoice_is_numbered_and_filed_by_the_provider(cashier, kinds, paid_bill):
    import xml.etree.ElementTree as ET

    from django.core.files.storage import default_storage

    issued = services.issue_for_meter(cashier, kinds["einvoice"], paid_bill.meter, [paid_bill])
    invoice = issued.invoices[0]
    year = f"{invoice.issued_at:%y}"
    assert len(invoice.number) == 20 and invoice.number == f"{year}429000000000000001"
    assert invoice.stock is None and invoice.provider == "local" and invoice.request_id
    assert default_storage.exists(invoice.pdf_file) and default_storage.exists(invoice.xml_file)
    with default_storage.open(invoice.xml_file, "rb") as handle:
        root = ET.fromstring(handle.read())  # noqa: S314 - our own file
    assert root.findtext("Header/InvoiceNumber") == invoice.number
    assert root.findtext("Buyer/Name") == "张三丰"
    assert root.findtext("Seller/Name") == "测试水务公司"
    item = root.find("Items/Item")
    assert item.findtext("TaxClassificationCode") == "1100301010000000000"
    assert item.findtext("TaxRate") == "0.0300" and item.findtext("Tax") == "0.87"
    assert root.findtext("Totals/Total") == "30.00"
    assert issued.pdf == default_storage.open(invoice.pdf_file).read()
    second = make_bill(
        paid_bill.customer, MONTHS[1], "1", items={"water": paid_bill.lines.first().item}, sewage=""
    )
    pay(second)
    assert services.issue_invoice(cashier, kinds["einvoice"], [second]).number.endswith("02")


def test_einvoice_needs_tax_codes(cashier, kinds, paid_bill):
    from watermis.invoices.models import ItemTaxCode

    ItemTaxCode.objects.all().delete()
    with pytest.raises(ValidationError, match="no tax classification code"):
        services.issue_invoice(cashier, kinds["einvoice"], [paid_bill])


def test_voiding_an_einvoice_offsets_it_in_full(cashier, kinds, paid_bill):
    invoice = services.issue_invoice(cashier, kinds["einvoice"], [paid_bill])
    assert services.query_einvoice(cashier, invoice) == "normal"
    red = services.void_invoice(cashier, invoice, "开错抬头")
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.REVERSED and red.red_of == invoice
    assert red.amount == -invoice.amount and red.red_confirmation_no
    assert red.number != invoice.number and len(red.number) == 20
    assert not red.bill_rows.filter(live=True).exists()
    assert services.query_einvoice(cashier, invoice) == "reversed"
    invoice.refresh_from_db()
    assert invoice.provider_status == "reversed"
    with pytest.raises(ValidationError, match="cannot be voided"):
        services.void_invoice(cashier, red, "x")
    again = services.issue_invoice(cashier, kinds["einvoice"], [paid_bill])  # invoiceable again
    assert again.amount == D("30.00")


def test_a_full_offset_repeats_the_original_lines_even_after_a_tax_code_changed(
    cashier, kinds, paid_bill
):
    from watermis.invoices.models import ItemTaxCode

    invoice = services.issue_invoice(cashier, kinds["einvoice"], [paid_bill])
    before = list(invoice.lines.order_by("position").values_list("tax_code", "amount", "tax"))
    ItemTaxCode.objects.update(tax_code="9999999999999999999")  # the codes changed since
    red = services.void_invoice(cashier, invoice, "开错抬头")
    after = list(red.lines.order_by("position").values_list("tax_code", "amount", "tax"))
    assert after == [(code, -amount, -tax) for code, amount, tax in before]


def test_partial_red_einvoice(org, manager, cashier, kinds, paid_bill):
    invoice = services.issue_invoice(cashier, kinds["einvoice"], [paid_bill])
    clerk = make_operator(org, "clerk_r", CLERK)
    red_bill = approve_red_bill(manager, request_red_bill(clerk, paid_bill, "读数错", D("12.00")))
    red = services.issue_red_invoices(cashier, red_bill).invoices[0]
    assert red.amount == D("-9.00") and red.red_confirmation_no
    assert services.query_einvoice(cashier, invoice) == "partly_reversed"


class CountingProvider:
    """A second provider, configured by settings only."""

    name = "counting"
    issued = []

    def __init__(self, prefix="99"):
        self.prefix = prefix

    def issue(self, request):
        from watermis.invoices.einvoice import EInvoiceResult

        self.issued.append(request)
        return EInvoiceResult(
            number=f"{self.prefix}{len(self.issued):018d}",
            issued_at=request.issued_at,
            pdf=b"%PDF-1.4 test",
        )

    def red_issue(self, request):
        return self.issue(request)

    def query(self, number):
        return "normal"


def test_a_second_provider_is_chosen_by_setting(settings, cashier, kinds, paid_bill):
    settings.WATERMIS_EINVOICE_PROVIDER = f"{__name__}.CountingProvider"
    settings.WATERMIS_EINVOICE_OPTIONS = {"prefix": "77"}
    invoice = services.issue_invoice(cashier, kinds["einvoice"], [paid_bill])
    assert invoice.provider == "counting" and invoice.number.startswith("77")
    request = CountingProvider.issued[-1]
    assert request.total == D("30.00") and request.lines[0].rate_label == "3%"


# --- reissue --------------------------------------------------------------------------------


def test_batch_reissue_by_channel(cashier, kinds, town, stocks):
    zhang, li, wang, _zhao = town["customers"]
    by_bank = make_bill(zhang, MONTHS[0], "10", items=town)
    by_bank2 = make_bill(zhang, MONTHS[1], "11", items=town)
    by_phone = make_bill(li, MONTHS[0], "5", items=town)
    at_counter = make_bill(wang, MONTHS[0], "6", items=town)
    unpaid = make_bill(wang, MONTHS[1], "7", items=town)
    pay(by_bank, "bank"), pay(by_bank2, "bank"), pay(by_phone, "wechat"), pay(at_counter)
    prepaid = make_bill(li, MONTHS[1], "3", items=town)
    deposits.take_deposit(cashier, li, D("100"), pay_bills=True)

    def found(channel):
        bills = services.reissue_candidates(cashier, kinds["water"], channel=channel)
        return {b.pk for b in bills}

    assert found(PaidChannel.BANK) == {by_bank.pk, by_bank2.pk}
    assert found(PaidChannel.MOBILE) == {by_phone.pk}
    assert found(PaidChannel.COUNTER) == {at_counter.pk}
    assert found(PaidChannel.PREPAID) == {prepaid.pk}
    assert unpaid.pk not in found("")
    issued = services.reissue_batch(cashier, kinds["water"], channel=PaidChannel.BANK)
    assert len(issued.invoices) == 1 and issued.invoices[0].amount == D("63.00")
    assert issued.invoices[0].payment_method == "银行代扣"
    assert found(PaidChannel.BANK) == set()
    with pytest.raises(ValidationError, match="No paid bill"):
        services.reissue_batch(cashier, kinds["water"], channel=PaidChannel.BANK)
    agency = services.reissue_batch(cashier, kinds["agency"], paid_from=DAY, paid_to=DAY)
    assert len(agency.invoices) == 3  # F3.7: one agency invoice per customer paid that day


def test_reissue_never_twice_for_a_bill(cashier, kinds, paid_bill):
    services.reissue_invoices(cashier, kinds["water"], [paid_bill])
    with pytest.raises(ValidationError, match="already has its water items"):
        services.reissue_invoices(cashier, kinds["water"], [paid_bill])
    assert Invoice.objects.count() == 1


def test_batch_reissue_checks_the_stock(manager, cashier2, kinds, town):
    numbering.issue_stock(
        manager,
        {"kind": kinds["water"], "operator": cashier2, "code": "Q", "first": 1, "last": 1},
    )
    for customer in town["customers"][:2]:
        pay(make_bill(customer, MONTHS[0], "3", items=town))
    with pytest.raises(ValidationError, match="2 invoices are to print but you hold 1"):
        services.reissue_batch(cashier2, kinds["water"])
    assert not Invoice.objects.exists()


@pytest.mark.postgres
def test_a_batch_locks_every_account_at_once_in_key_order(cashier, kinds, town, stocks):
    """A batch of several customers takes their account locks in one statement, in
    primary-key order, before issuing: it cannot deadlock with a counter or another batch
    locking the same accounts one by one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    zhang, li, wang, _zhao = town["customers"]
    bills = [make_bill(c, MONTHS[0], "5", items=town) for c in (wang, zhang, li)]
    for bill in bills:
        pay(bill, "bank")
    with CaptureQueriesContext(connection) as queries:
        services.reissue_invoices(cashier, kinds["water"], bills)
    locks = [
        q["sql"] for q in queries if "FOR UPDATE" in q["sql"] and "billing_account" in q["sql"]
    ]
    first = locks[0]
    assert all(str(c.pk) in first for c in (zhang, li, wang)), first
    assert "ORDER BY" in first
