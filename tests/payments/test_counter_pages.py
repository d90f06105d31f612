"""The counter pages: finding the customer, taking a payment, the receipt and its invoice PDF,
stale screens and supervisor signatures, the payment and its reversal, the lists, the day-end
and the waiver query with their Excel files, waiver limits."""

import datetime
import io

import pypdfium2 as pdfium
import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from tests.conftest import PASSWORD

from watermis.core.models import AuditEntry
from watermis.invoices.models import Invoice
from watermis.payments import counter
from watermis.payments.models import CounterPayment, LateFeeWaiver, WaiverLimit
from watermis.system.models import Parameter

from .conftest import NOW, D, screen

URL = "/payments/counter/"
HTMX = {"HTTP_HX_REQUEST": "true"}
DUE = D("138.74")  # 40.00 + 5.16 late fee, 44.00 + 1.58, 48.00 (as of 2026-11-24)


@pytest.fixture(autouse=True)
def on_the_day(monkeypatch):
    """The clock runs from ``NOW``: the late fees these pages show depend on the day."""
    started = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: NOW + (real_now() - started))


def real_now():
    return datetime.datetime.now(datetime.UTC)


@pytest.fixture
def zhang(town, bills):
    customer = town["customers"][0]
    return customer, bills[customer.pk]


def form_data(customer, chosen, kind=None, **fields):
    """What the counter screen posts for ``chosen`` bills (the totals it showed)."""
    tender = screen(customer, chosen, now=timezone.now())
    data = {
        "customer": customer.pk,
        "bills": [str(b.pk) for b in chosen],
        "method": "cash",
        "amount": "",
        "tendered": "",
        "waiver": "",
        "waiver_reason": "",
        "authoriser_username": "",
        "authoriser_password": "",
        "invoice_kind": kind.pk if kind else "",
        "note": "",
        **{f"seen-{pk}": str(total) for pk, total in tender.seen.items()},
    }
    data.update(fields)
    return data


def test_the_counter_finds_the_customer_and_shows_bills_with_late_fees(
    zhang, town, cashier, login, stocks
):
    customer, chosen = zhang
    client = login(cashier)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="counter-account"' in html and "<kbd>F2</kbd>" in html and "Esc" in html
    panel = client.get(URL, {"account": customer.account_no}, **HTMX)
    html = panel.content.decode()
    assert "<html" not in html  # the panel alone
    for bill in chosen:
        assert f'id="bill-{bill.pk}"' in html and f'name="seen-{bill.pk}"' in html
    assert f'id="counter-due">{DUE}<' in html
    assert "00001001" in html  # the next number of the cashier's water stock
    # by name: several matches to choose from; none outside the cashier's zone
    several = client.get(URL, {"account": "解放路"}, **HTMX).content.decode()
    assert several.count("wm-match") == 3
    west = town["customers"][3]
    assert 'id="counter-no-match"' in client.get(URL, {"account": west.account_no}).content.decode()
    assert client.get(URL, {"customer": west.pk}).status_code == 404


def test_take_a_payment_then_print_the_invoice_then_a_copy(zhang, cashier, login, stocks, kinds):
    customer, chosen = zhang
    client = login(cashier)
    response = client.post(URL, form_data(customer, chosen, kinds["water"], tendered="200"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="counter-receipt"' in html, html[:3000]
    payment = CounterPayment.objects.get()
    assert payment.amount == DUE and payment.change == D("200") - DUE
    assert f'id="receipt-change">{payment.change}<' in html
    assert 'id="receipt-print"' in html and "autofocus" in html
    printed = client.post(reverse("payments:payment_print", args=[payment.pk]))
    assert printed["Content-Type"] == "application/pdf" and printed.content.startswith(b"%PDF")
    invoice = Invoice.objects.get(payment=payment.entry)
    assert invoice.reprints == 0
    copy = client.post(reverse("payments:payment_print", args=[payment.pk]))
    assert copy.content.startswith(b"%PDF")
    invoice.refresh_from_db()
    assert invoice.reprints == 1
    assert AuditEntry.objects.filter(verb="print_invoice").count() == 1


def test_a_stale_screen_is_refused_beside_the_bills(zhang, cashier, cashier2, login):
    customer, (aug, sep, _oct) = zhang
    data = form_data(customer, [aug, sep], tendered="100")
    counter.take_payment(cashier2, screen(customer, [aug], now=timezone.now()))
    response = login(cashier).post(URL, data, **HTMX)
    html = response.content.decode()
    assert 'id="counter-bill-errors"' in html and "Reload the customer" in html
    assert CounterPayment.objects.count() == 1


def test_partial_payment_and_wrong_amounts_from_the_screen(zhang, cashier, login):
    customer, (aug, sep, _oct) = zhang
    client = login(cashier)
    too_little = client.post(URL, form_data(customer, [aug], tendered="5"))
    assert "less than the" in too_little.content.decode()
    response = client.post(
        URL, form_data(customer, [aug, sep], amount="60.00", tendered="60.00"), **HTMX
    )
    assert 'id="counter-receipt"' in response.content.decode()
    payment = CounterPayment.objects.get()
    assert payment.amount == D("60.00") and payment.invoice_note


def test_waiver_above_the_limit_with_the_supervisors_password(zhang, cashier, manager, login):
    Parameter.objects.create(key="counter.waiver_limit", value="1.00")
    customer, (aug, _sep, _oct) = zhang
    client = login(cashier)
    base = form_data(customer, [aug], waiver="5.16", waiver_reason="困难户")
    refused = client.post(URL, base, **HTMX).content.decode()
    assert "above your waiver limit of 1.00" in refused
    wrong = client.post(
        URL, {**base, "authoriser_username": "manager", "authoriser_password": "nope"}, **HTMX
    ).content.decode()
    assert "Wrong user name or password" in wrong
    signed = client.post(
        URL, {**base, "authoriser_username": "manager", "authoriser_password": PASSWORD}, **HTMX
    ).content.decode()
    assert 'id="counter-receipt"' in signed
    waiver = LateFeeWaiver.objects.get()
    assert waiver.authoriser == manager and waiver.amount == D("5.16")


def test_payment_page_reverse_and_lists(zhang, cashier, cashier2, login, stocks, kinds):
    customer, (aug, sep, _oct) = zhang
    payment = counter.take_payment(
        cashier,
        screen(customer, [aug], now=timezone.now(), invoice_kind=kinds["water"], tendered=D(50)),
    )
    counter.take_payment(
        cashier2,
        screen(customer, [sep], now=timezone.now(), method="wechat"),
    )
    client = login(cashier)
    detail = client.get(payment.get_absolute_url()).content.decode()
    assert 'id="payment-reverse"' in detail and 'id="payment-print"' in detail
    url = reverse("payments:payment_reverse", args=[payment.pk])
    assert 'id="reverse-form"' in client.get(url).content.decode()
    missing = client.post(url, {"reason": ""})
    assert "This field is required" in missing.content.decode()
    done = client.post(url, {"reason": "收错户"})
    assert done.status_code == 302
    payment.refresh_from_db()
    assert payment.is_reversed
    detail = client.get(payment.get_absolute_url()).content.decode()
    assert 'id="payment-reversal"' in detail and "收错户" in detail
    # the other cashier's payment: no button, the page says why
    other = CounterPayment.objects.exclude(pk=payment.pk).get()
    page = client.get(other.get_absolute_url()).content.decode()
    assert 'id="payment-reverse"' not in page and 'id="payment-reverse-problem"' in page
    assert (
        'id="reverse-problem"'
        in client.get(reverse("payments:payment_reverse", args=[other.pk])).content.decode()
    )
    listing = client.get(reverse("payments:payment_list"), {"cashier": "cashier_x"})
    html = listing.content.decode()
    assert f"#{payment.pk}" in html and f"#{other.pk}<" not in html
    assert 'id="payment-reversed">45.16<' in html  # the total of reversed payments
    excel = client.get(reverse("payments:payment_list"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(excel.streaming_content))).active
    assert sheet.max_row == 3


def test_day_end_totals_by_method_cash_expected_and_excel(zhang, cashier, login, stocks, kinds):
    customer, (aug, sep, oct_) = zhang
    now = NOW  # fixed: the late fees due depend on the day
    day = {"date_from": f"{NOW:%Y-%m-%d}", "date_to": f"{NOW:%Y-%m-%d}"}
    cash = counter.take_payment(
        cashier, screen(customer, [aug], now=now, tendered=D("50")), now=now
    )
    counter.take_payment(cashier, screen(customer, [sep], now=now, method="card"), now=now)
    counter.take_payment(cashier, screen(customer, [oct_], now=now, tendered=D("50")), now=now)
    counter.reverse_payment(cashier, cash, "收错", now=now)
    client = login(cashier)
    page = client.get(reverse("payments:day_end"), day)
    html = page.content.decode()
    assert page.status_code == 200
    # cash 45.16 + 48.00 taken, 45.16 given back: 48.00 in the drawer; card 45.58
    assert 'id="dayend-cash">48.00<' in html
    row = html[html.index("<tbody>") : html.index("</tbody>")]
    assert ">3<" in row and ">138.74<" in row and ">45.16<" in row and ">45.58<" in row
    excel = client.get(reverse("payments:day_end"), {**day, "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(b"".join(excel.streaming_content))).active.values)
    assert rows[1][2] == 3 and str(rows[-1][1]) == "Total"
    pdf = client.get(reverse("payments:day_end"), {**day, "export": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    document = pdfium.PdfDocument(pdf.content)
    text = document[0].get_textpage().get_text_range()
    assert "Cashier day-end" in text and "138.74" in text and "Total" in text


def test_waiver_query_filters_and_excel(zhang, cashier, login):
    customer, (aug, _sep, _oct) = zhang
    counter.take_payment(
        cashier,
        screen(customer, [aug], now=timezone.now(), waiver=D("2.00"), waiver_reason="停水补偿"),
    )
    client = login(cashier)
    page = client.get(reverse("payments:waiver_list"), {"reason": "停水"})
    html = page.content.decode()
    assert 'id="waiver-total">2.00<' in html and "停水补偿" in html
    none = client.get(reverse("payments:waiver_list"), {"above_limit": "true"}).content.decode()
    assert 'id="waiver-count">0<' in none
    excel = client.get(reverse("payments:waiver_list"), {"export": "xlsx"})
    assert load_workbook(io.BytesIO(b"".join(excel.streaming_content))).active.max_row == 2


def test_waiver_limits_are_set_by_the_administrator(org, admin, manager, login):
    from watermis.org.roles import CASHIER

    client = login(admin)
    response = client.post(
        reverse("payments:waiverlimit_add"), {"role": org["roles"][CASHIER].pk, "limit": "20.00"}
    )
    assert response.status_code == 302
    limit = WaiverLimit.objects.get()
    assert limit.limit == D("20.00")
    assert login(manager).get(reverse("payments:waiverlimit_list")).status_code == 200
    assert login(manager).get(reverse("payments:waiverlimit_add")).status_code == 403
