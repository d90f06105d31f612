"""Browser test of the counter (F3.8): a cashier takes a payment by keyboard alone — account,
Enter, the money tendered, Enter — and prints the invoice from their own stock (Enter)."""

import math
from decimal import Decimal

import pytest

pytestmark = pytest.mark.e2e


def an_account_with_unpaid_bills(page):
    page.goto("/billing/bills/?status=unpaid")
    return page.locator('table tbody tr td a[href*="/billing/accounts/"]').first.inner_text()


def focused(page):
    return page.evaluate("document.activeElement && document.activeElement.id")


def settle_focus(page, element_id):
    """The screen moves the focus when htmx settles a swapped panel (about 20 ms after the
    new panel appears): wait for it, up to 5 s, before the assertion reads it."""
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id",
        arg=element_id,
        timeout=5_000,
    )


def test_a_counter_payment_by_keyboard_alone_prints_the_invoice(login, screenshot_dir):
    page = login("cashier")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    account = an_account_with_unpaid_bills(page)
    printed = []

    def keep(route):  # the PDF as the server sent it (Chromium shows it in its viewer)
        response = route.fetch()
        printed.append((response.headers.get("content-type"), response.body()))
        route.fulfill(response=response)

    page.context.route("**/print/", keep)

    page.goto("/payments/counter/")
    settle_focus(page, "counter-account")
    assert focused(page) == "counter-account"
    page.keyboard.type(account)
    page.keyboard.press("Enter")
    page.wait_for_selector("#counter-form")
    assert page.inner_text("#counter-customer").startswith(account)
    settle_focus(page, "id_tendered")
    assert focused(page) == "id_tendered"
    due = Decimal(page.inner_text("#counter-due"))
    tendered = math.ceil(due / 10) * 10 + 100
    page.keyboard.type(str(tendered))
    change = Decimal(tendered) - due
    assert page.inner_text("#counter-change") == f"{change:.2f}"  # shown as it is typed
    page.screenshot(path=str(screenshot_dir / "counter-payment.png"))

    page.keyboard.press("Enter")
    page.wait_for_selector("#counter-receipt")
    assert page.inner_text("#receipt-change") == f"{change:.2f}"
    settle_focus(page, "receipt-print")
    assert focused(page) == "receipt-print"
    page.screenshot(path=str(screenshot_dir / "counter-receipt.png"))

    with page.context.expect_page() as tab:
        page.keyboard.press("Enter")
    tab.value.wait_for_load_state()
    content_type, pdf = printed[0]
    assert content_type == "application/pdf" and pdf.startswith(b"%PDF")
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert account in text and "发票" in text

    page.bring_to_front()
    page.keyboard.press("Escape")  # the next customer
    assert page.inner_html("#counter-panel").strip() == ""
    settle_focus(page, "counter-account")
    assert focused(page) == "counter-account"
    assert not errors, errors
