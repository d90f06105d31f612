"""The invoice pages: issuing from a customer, lists, detail, void, reprint, stock, batches, API."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from tests.conftest import make_operator

from watermis.core.models import AuditEntry
from watermis.customers import services as customer_services
from watermis.customers.models import Book, Customer
from watermis.invoices import services
from watermis.invoices.models import Invoice, InvoiceKind, InvoiceState, InvoiceStock, ItemTaxCode
from watermis.org.models import Employee
from watermis.org.roles import CASHIER
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

from .conftest import MONTHS, make_bill, pay

D = Decimal


@pytest.fixture
def paid(town, stocks):
    customer = town["customers"][0]
    bills = [
        make_bill(customer, MONTHS[0], "10", items=town),
        make_bill(customer, MONTHS[1], "12", items=town, meter=town["second_meter"]),
    ]
    for bill in bills:
        pay(bill)
    return bills


def test_find_the_customer_then_preview_then_issue(cashier, login, kinds, town, paid):
    client = login(cashier)
    url = reverse("invoices:issue")
    page = client.get(url)
    assert page.status_code == 200 and b'id="issue-account"' in page.content
    found = client.get(url, {"account": town["customers"][0].account_no})
    assert found.status_code == 302
    page = client.get(found["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="bill-{paid[0].pk}"' in html and "00001001" in html  # next number shown
    data = {
        "customer": town["customers"][0].pk,
        "kind": kinds["water"].pk,
        "bills": [b.pk for b in paid],
        "buyer_name": "",
        "buyer_tax_id": "",
        "buyer_type": "individual",
        "remark": "",
    }
    preview = client.post(url, {**data, "action": "preview"})
    assert preview.status_code == 200 and b'id="issue-preview"' in preview.content
    assert b'id="issue-total">66.00' in preview.content
    assert not Invoice.objects.exists()
    issued = client.post(url, {**data, "action": "issue"})
    assert issued.status_code == 200 and issued["Content-Type"] == "application/pdf"
    invoice = Invoice.objects.get()
    assert invoice.amount == D("66.00") and invoice.number == "00001001"
    again = client.post(url, {**data, "action": "issue"})  # the bills are invoiced now
    assert again.status_code == 200 and b"issue-nothing" in again.content
    assert Invoice.objects.count() == 1


def test_search_lists_several_matches(cashier, login, town):
    page = login(cashier).get(reverse("invoices:issue"), {"account": "解放路"})
    assert page.status_code == 200 and b'id="issue-matches"' in page.content


def test_issue_errors_show_on_the_page(cashier, login, kinds, town, paid):
    other = make_bill(town["customers"][1], MONTHS[0], "5", items=town)
    pay(other)
    page = login(cashier).post(
        reverse("invoices:issue"),
        {
            "customer": [town["customers"][0].pk, town["customers"][1].pk],
            "kind": kinds["water"].pk,
            "bills": [paid[0].pk, other.pk],
            "buyer_name": "",
            "buyer_type": "individual",
            "action": "issue",
        },
    )
    assert page.status_code == 200 and b"Name the buyer of a combined invoice" in page.content


def test_combined_invoice_from_the_page(cashier, login, kinds, town, paid):
    other = make_bill(town["customers"][1], MONTHS[0], "5", items=town)
    pay(other)
    page = login(cashier).post(
        reverse("invoices:issue"),
        {
            "customer": [town["customers"][0].pk, town["customers"][1].pk],
            "kind": kinds["water"].pk,
            "bills": [paid[0].pk, other.pk],
            "buyer_name": "物业公司",
            "buyer_type": "company",
            "action": "issue",
        },
    )
    assert page["Content-Type"] == "application/pdf"
    invoice = Invoice.objects.get()
    assert invoice.combined and invoice.buyer_name == "物业公司" and invoice.amount == D("45.00")


def test_invoice_list_detail_and_export(cashier, manager, login, kinds, paid):
    invoice = services.issue_invoice(cashier, kinds["water"], paid)
    client = login(manager)
    page = client.get(reverse("invoices:invoice_list"), {"number": "1001", "state": "issued"})
    assert page.status_code == 200 and b"00001001" in page.content
    assert b'id="invoice-amount">66.00' in page.content
    empty = client.get(reverse("invoices:invoice_list"), {"state": "void"})
    assert b"00001001" not in empty.content
    export = client.get(reverse("invoices:invoice_list"), {"export": "xlsx"})
    assert export.status_code == 200 and "spreadsheet" in export["Content-Type"]
    detail = client.get(reverse("invoices:invoice_detail", args=[invoice.pk]))
    assert detail.status_code == 200 and b"*\xe6\xb0\xb4\xe5\x86\xb0\xe9\x9b\xaa*" in detail.content
    assert b'id="invoice-void"' not in detail.content  # the manager did not issue it


def test_void_from_the_page(cashier, login, kinds, paid):
    invoice = services.issue_invoice(cashier, kinds["water"], paid)
    client = login(cashier)
    url = reverse("invoices:invoice_void", args=[invoice.pk])
    assert b'id="action-form"' in client.get(url).content
    assert b"This field is required" in client.post(url, {"reason": ""}).content
    response = client.post(url, {"reason": "打错户名"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.VOID


def test_other_cashier_cannot_void(cashier, org, login, kinds, paid):
    invoice = services.issue_invoice(cashier, kinds["water"], paid)
    other = make_operator(org, "cashier_o", CASHIER)
    client = login(other)
    url = reverse("invoices:invoice_void", args=[invoice.pk])
    assert b"Only the operator who issued" in client.get(url).content
    assert b"Only the operator who issued" in client.post(url, {"reason": "x"}).content
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.ISSUED


def test_reprint_from_the_page(cashier, login, kinds, paid):
    invoice = services.issue_invoice(cashier, kinds["water"], paid)
    client = login(cashier)
    url = reverse("invoices:invoice_reprint", args=[invoice.pk])
    assert client.get(url).status_code == 302
    response = client.post(url)
    assert response["Content-Type"] == "application/pdf"
    assert AuditEntry.objects.filter(verb="reprint_invoice", actor=cashier).exists()


def test_einvoice_files_and_status(cashier, login, kinds, paid):
    invoice = services.issue_invoice(cashier, kinds["einvoice"], paid)
    client = login(cashier)
    pdf = client.get(reverse("invoices:invoice_pdf", args=[invoice.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xml = client.get(reverse("invoices:invoice_xml", args=[invoice.pk]))
    assert xml.status_code == 200 and invoice.number.encode() in xml.content
    status = client.post(reverse("invoices:invoice_status", args=[invoice.pk]), follow=True)
    assert b"The provider says: Normal" in status.content


def test_red_invoice_from_the_page(cashier, manager, org, login, kinds, paid):
    from watermis.billing.corrections import approve_red_bill, request_red_bill
    from watermis.org.roles import CLERK

    invoice = services.issue_invoice(cashier, kinds["water"], paid)
    clerk = make_operator(org, "clerk_p", CLERK)
    red = approve_red_bill(manager, request_red_bill(clerk, paid[0], "表坏", D("4.00")))
    client = login(cashier)
    detail = client.get(reverse("invoices:invoice_detail", args=[invoice.pk]))
    assert b'id="pending-reds"' in detail.content and b'id="invoice-red"' in detail.content
    url = reverse("invoices:invoice_red", args=[invoice.pk])
    assert f'value="{red.pk}"'.encode() in client.get(url).content
    response = client.post(url, {"red_bill": red.pk, "reason": ""})
    assert response["Content-Type"] == "application/pdf"
    red_invoice = Invoice.objects.get(red_of=invoice)
    assert red_invoice.amount == D("-3.00")  # 4.00 of 40.00: 3.00 water
    assert b"red-none" in client.get(url).content


def test_zone_scope_hides_other_zones_invoices(cashier, org, login, kinds, paid):
    invoice = services.issue_invoice(cashier, kinds["water"], paid)
    other = make_operator(org, "cashier_b", CASHIER, unit_key="unit_b")
    client = login(other)
    assert client.get(reverse("invoices:invoice_detail", args=[invoice.pk])).status_code == 404
    assert client.post(reverse("invoices:invoice_reprint", args=[invoice.pk])).status_code == 404
    assert b"00001001" not in client.get(reverse("invoices:invoice_list")).content


def test_stock_pages(manager, cashier, login, kinds):
    client = login(manager)
    url = reverse("invoices:stock_add")
    page = client.get(url)
    assert page.status_code == 200
    assert f'value="{kinds["einvoice"].pk}"'.encode() not in page.content  # paper kinds only
    response = client.post(
        url,
        {"kind": kinds["water"].pk, "operator": cashier.pk, "code": "A", "first": 1, "last": 50},
    )
    stock = InvoiceStock.objects.get()
    assert response.status_code == 302 and response["Location"] == stock.get_absolute_url()
    clash = client.post(
        url,
        {"kind": kinds["water"].pk, "operator": cashier.pk, "code": "A", "first": 50, "last": 60},
    )
    assert b"overlap" in clash.content and InvoiceStock.objects.count() == 1
    listing = client.get(reverse("invoices:stock_list"), {"operator": "cashier_x"})
    assert listing.status_code == 200 and b'id="stock-left">50' in listing.content
    detail = client.get(stock.get_absolute_url())
    assert b'id="stock-accounted"' in detail.content and b'id="stock-return"' in detail.content
    assert b'id="stock-spoil"' not in detail.content  # only the holder records spoiled forms
    returned = client.post(reverse("invoices:stock_return", args=[stock.pk]), {"reason": "离职"})
    assert returned.status_code == 302
    stock.refresh_from_db()
    assert stock.state == "returned"


def test_cashier_spoils_from_my_stock(manager, cashier, login, kinds):
    from .conftest import give_stock

    stock = give_stock(manager, cashier, kinds["water"], 1, 10)
    client = login(cashier)
    mine = client.get(reverse("invoices:my_stock"))
    assert mine.status_code == 200 and b"00000001" in mine.content
    assert client.get(reverse("invoices:stock_list")).status_code == 403
    assert client.get(reverse("invoices:stock_add")).status_code == 403
    response = client.post(reverse("invoices:stock_spoil", args=[stock.pk]), {"reason": "卡纸"})
    assert response.status_code == 302 and response["Location"] == reverse("invoices:my_stock")
    stock.refresh_from_db()
    assert stock.next == 2
    usage = login(manager).get(reverse("invoices:usage_list"), {"use": "spoiled"})
    assert b"00000001" in usage.content and b'id="use-spoiled">1' in usage.content


def test_walking_collection_page(collector, manager, login, kinds, town):
    from .conftest import give_stock

    give_stock(manager, collector, kinds["water"], 1, 10)
    make_bill(town["customers"][0], MONTHS[0], "10", items=town)
    make_bill(town["customers"][1], MONTHS[0], "10", items=town)
    client = login(collector)
    url = reverse("invoices:collection")
    page = client.get(url, {"book": town["book"].pk})
    assert page.status_code == 200
    data = {"kind": kinds["water"].pk, "books": [town["book"].pk]}
    preview = client.post(url, {**data, "action": "preview"})
    assert (
        b'id="batch-preview"' in preview.content and b'id="batch-amount">60.00' in preview.content
    )
    printed = client.post(url, {**data, "action": "issue"})
    assert printed["Content-Type"] == "application/pdf"
    assert list(Invoice.objects.order_by("number").values_list("customer__name", flat=True)) == [
        "李四",
        "张三丰",
    ]


def test_reissue_batch_page(cashier, login, kinds, town, stocks):
    for customer in town["customers"][:2]:
        pay(make_bill(customer, MONTHS[0], "4", items=town), channel="bank")
    client = login(cashier)
    url = reverse("invoices:reissue_batch")
    assert client.get(url).status_code == 200
    data = {
        "kind": kinds["water"].pk,
        "channel": "bank",
        "zone": "",
        "paid_from": "",
        "paid_to": "",
    }
    preview = client.post(url, {**data, "action": "preview"})
    assert b'id="batch-amount">24.00' in preview.content
    printed = client.post(url, {**data, "action": "issue"})
    assert printed["Content-Type"] == "application/pdf" and Invoice.objects.count() == 2
    nothing = client.post(url, {**data, "action": "preview"})
    assert b"No paid bill without an invoice" in nothing.content


def test_kinds_and_tax_codes_are_the_administrators(admin, manager, login, items):
    client = login(admin)
    response = client.post(
        reverse("invoices:kind_add"),
        {
            "code": "NEW",
            "name": "新票",
            "document": "agency_invoice",
            "medium": "paper",
            "coverage": "own",
            "invoice_type": "ordinary",
            "number_width": 8,
            "sort_order": 0,
        },
    )
    assert b"An agency-fee invoice covers the agency items" in response.content
    assert not InvoiceKind.objects.filter(code="NEW").exists()
    code = ItemTaxCode.objects.get(item=items["water"])
    bad = client.post(
        reverse("invoices:taxcode_edit", args=[code.pk]),
        {"item": items["water"].pk, "goods_name": "x", "tax_code": "123", "unit": "吨"},
    )
    assert b"19 digits" in bad.content
    assert login(manager).get(reverse("invoices:kind_add")).status_code == 403
    assert login(manager).get(reverse("invoices:kind_list")).status_code == 200


def test_kind_in_use_keeps_what_it_prints(admin, cashier, login, kinds, paid):
    services.issue_invoice(cashier, kinds["water"], paid)
    from watermis.invoices import kinds as kind_services

    with pytest.raises(Exception, match="Make a new kind"):
        kind_services.update_kind(admin, kinds["water"], {"coverage": "all"})
    kind_services.update_kind(
        admin, kinds["water"], {"name": "水费发票（旧版）", "coverage": "own"}
    )


def test_invoice_api(cashier, manager, login, kinds, paid, org):
    invoice = services.issue_invoice(cashier, kinds["all"], paid)
    data = login(manager).get("/api/invoices/", {"bill": paid[0].pk}).json()
    assert data["count"] == 1
    row = data["results"][0]
    assert row["number"] == invoice.number and row["amount"] == "88.00"
    assert len(row["lines"]) == 2 and len(row["bills"]) == 4
    other = make_operator(org, "cashier_b", CASHIER, unit_key="unit_b")
    assert login(other).get("/api/invoices/").json()["count"] == 0


def test_customer_and_book_pages_lead_to_invoicing(cashier, clerk_a, login, town):
    customer = town["customers"][0]
    page = login(cashier).get(customer.get_absolute_url())
    assert f"/invoices/issue/?customer={customer.pk}".encode() in page.content
    book = login(cashier).get(reverse("customers:book_detail", args=[town["book"].pk]))
    assert b'id="book-collection-invoices"' in book.content
    assert b'id="customer-invoices"' not in login(clerk_a).get(customer.get_absolute_url()).content


def test_invoice_query_by_place_and_how_paid(
    cashier, manager, org, admin, login, kinds, town, stocks
):
    """F7.6: the invoices by the customer's book, reader and category and by how the bills were
    paid, combined with the other filters; the Excel file says how each was paid."""
    first, second = town["customers"][0], town["customers"][1]
    reader2 = Employee.objects.create(code="E4", name="刘强", unit=org["unit_a"], is_reader=True)
    area2 = customer_services.create_area(
        admin, {"code": "A2", "name": "东二片", "zone": org["zone_a"]}
    )
    book2 = customer_services.create_book(admin, {"code": "DA02", "name": "东二册", "area": area2})
    Book.objects.filter(pk=book2.pk).update(reader=reader2)
    business = tariff_services.create_category(
        admin, {"code": "BIZ", "name": "经营", "kind": CategoryKind.NON_RESIDENTIAL}
    )
    Customer.objects.filter(pk=second.pk).update(book=book2, category=business)
    at_counter = make_bill(first, MONTHS[0], "10", items=town)
    by_bank = make_bill(second, MONTHS[0], "20", items=town)
    pay(at_counter)
    pay(by_bank, channel="bank")
    counter_invoice = services.issue_invoice(cashier, kinds["water"], [at_counter])
    bank_invoice = services.issue_invoice(cashier, kinds["water"], [by_bank])
    client = login(manager)
    url = reverse("invoices:invoice_list")

    def listed(params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {row.record.pk for row in response.context["table"].page.object_list}

    both = {counter_invoice.pk, bank_invoice.pk}
    assert listed({}) == both
    assert listed({"book": book2.pk}) == {bank_invoice.pk}
    assert listed({"reader": reader2.pk, "state": "issued"}) == {bank_invoice.pk}
    assert listed({"reader": reader2.pk, "state": "void"}) == set()
    assert listed({"category": business.pk, "paid_by": "bank"}) == {bank_invoice.pk}
    assert listed({"category": business.pk, "paid_by": "counter"}) == set()
    assert listed({"paid_by": "counter", "area": town["book"].area_id}) == {counter_invoice.pk}
    assert listed({"paid_by": "prepaid"}) == set()
    export = client.get(url, {"paid_by": "bank", "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.values)
    header = rows[0]
    assert len(rows) == 2
    assert rows[1][header.index("Paid by")] == "银行代扣"
