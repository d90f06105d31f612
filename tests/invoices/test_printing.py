"""The printed invoices: each kind rasterised, its Chinese text and numbers on the page."""

import os
from decimal import Decimal

import pytest

from watermis.invoices import services
from watermis.invoices.printing import invoice_context, print_invoices

from .conftest import MONTHS, make_bill, pay

D = Decimal


def page_texts(pdf_bytes):
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(bytes(pdf_bytes))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def dark_pixels(pdf_bytes, page=0, dpi=100):
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(bytes(pdf_bytes))
    try:
        image = document[page].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        document.close()
    dump = os.environ.get("INVOICE_PDF_DUMP")
    if dump:  # look at the pages: INVOICE_PDF_DUMP=/tmp/invoices pytest ...
        os.makedirs(dump, exist_ok=True)
        image.save(
            os.path.join(
                dump, f"{os.environ['PYTEST_CURRENT_TEST'].split(':')[-1].split(' ')[0]}-{page}.png"
            )
        )
    return sum(image.histogram()[:128])


@pytest.fixture
def bills(town, stocks):
    customer = town["customers"][0]
    bills = [
        make_bill(customer, MONTHS[0], "10", items=town),
        make_bill(customer, MONTHS[1], "12", items=town, meter=town["second_meter"]),
    ]
    for bill in bills:
        pay(bill)
    return bills


def test_water_invoice_prints(cashier, kinds, bills):
    issued = services.issue_invoice(cashier, kinds["water"], bills)
    pdf = print_invoices([issued], printed_by="王丽")
    text = page_texts(pdf)[0]
    for words in ("水费专用发票", "00001001", "张三丰", "M001B", "66.00", "陆拾陆元整", "柜台缴费"):
        assert words in text, words
    assert "污水处理费" not in text  # agency items are not on the water invoice
    assert dark_pixels(pdf) > 2000


def test_agency_invoice_prints(cashier, kinds, bills):
    invoice = services.issue_invoice(cashier, kinds["agency"], bills)
    pdf = print_invoices([invoice])
    text = page_texts(pdf)[0]
    for words in ("代收费专用发票", "污水处理费", "排水管理处", "22.00", "贰拾贰元整"):
        assert words in text, words
    assert dark_pixels(pdf) > 2000


def test_receipt_prints(cashier, kinds, bills):
    invoice = services.issue_invoice(cashier, kinds["receipt"], bills)
    pdf = print_invoices([invoice])
    text = page_texts(pdf)[0]
    for words in ("00001001", "张三丰", "88.00"):
        assert words in text, words
    assert dark_pixels(pdf) > 2000


def test_reprint_says_copy_and_red_invoice_names_its_original(cashier, kinds, bills):
    invoice = services.issue_invoice(cashier, kinds["water"], bills)
    text = page_texts(services.reprint_invoice(cashier, invoice))[0]
    assert "重打副本" in text


def test_einvoice_prints_its_tax_lines(cashier, kinds, bills):
    invoice = services.issue_invoice(cashier, kinds["einvoice"], bills)
    pdf = print_invoices([invoice])
    text = page_texts(pdf)[0]
    for words in (
        "电子发票（普通发票）",
        invoice.number,
        "*水冰雪*自来水",
        "3%",
        "1.92",
        "64.08",
        "测试水务公司",
    ):
        assert words in text, words
    assert dark_pixels(pdf) > 2000


def test_several_kinds_print_as_one_pdf_in_order(cashier, kinds, bills):
    water = services.issue_invoice(cashier, kinds["water"], bills)
    einvoice = services.issue_invoice(cashier, kinds["eagency"], bills)
    receipt = services.issue_invoice(cashier, kinds["receipt"], bills)
    texts = page_texts(print_invoices([water, einvoice, receipt]))
    assert len(texts) == 3
    assert "水费专用发票" in texts[0] and einvoice.number in texts[1] and "88.00" in texts[2]


def test_context_has_the_catalogue_fields(cashier, kinds, bills):
    from watermis.documents.catalogue import Field, Group, Rows, catalogue
    from watermis.invoices.printing import _load

    for name in ("water", "agency", "receipt"):
        invoice = services.issue_invoice(cashier, kinds[name], bills)
        invoice.customer_count = 1
        context = invoice_context(invoice, _load([invoice]))

        def check(node, data, path=""):
            for key, child in node.fields.items():
                assert key in data, f"{path}{key}"
                if isinstance(child, Group):
                    check(child, data[key], f"{path}{key}.")
                elif isinstance(child, Rows):
                    for row in data[key]:
                        check(child, row, f"{path}{key}[].")
                else:
                    assert isinstance(child, Field)

        check(catalogue(kinds[name].document), context)
