"""Browser test of the deposit screen (F4.1): a cashier finds a customer (Enter), types the
amount and the money handed over (the change shown as it is typed), Enter takes the deposit
with the open bills paid from it, and the voucher prints as a PDF in Chinese."""

from decimal import Decimal

import pytest

from .test_counter import an_account_with_unpaid_bills, focused, settle_focus

pytestmark = pytest.mark.e2e


def test_a_deposit_by_keyboard_pays_the_bills_and_prints_the_voucher(login, screenshot_dir):
    page = login("cashier")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    account = an_account_with_unpaid_bills(page)
    printed = []

    def keep(route):
        response = route.fetch()
        printed.append((response.headers.get("content-type"), response.body()))
        route.fulfill(response=response)

    page.context.route("**/voucher/", keep)

    page.goto("/payments/deposits/take/")
    settle_focus(page, "deposit-account")
    page.keyboard.type(account)
    page.keyboard.press("Enter")
    page.wait_for_selector("#deposit-form")
    assert page.get_attribute("#deposit-customer", "data-account") == account
    settle_focus(page, "id_amount")
    page.keyboard.type("1000")
    page.keyboard.press("F8")
    assert focused(page) == "id_tendered"
    page.keyboard.type("1050")
    assert page.inner_text("#deposit-change") == "50.00"  # shown as it is typed
    page.check("#id_pay_bills")
    page.screenshot(path=str(screenshot_dir / "deposit-screen.png"))
    with page.expect_navigation():
        page.keyboard.press("F9")
    assert page.inner_text("#deposit-amount") == "1000.00"
    assert Decimal(page.inner_text("#deposit-now")) < Decimal("1000.00")  # bills paid from it

    with page.context.expect_page() as tab:
        page.click("#deposit-voucher")
    tab.value.wait_for_load_state()
    content_type, pdf = printed[0]
    assert content_type == "application/pdf" and pdf.startswith(b"%PDF")
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert account in text and "1000.00" in text.replace(",", "")
    assert not errors, errors
