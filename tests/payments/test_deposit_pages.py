"""The prepaid-deposit pages (F4.1–F4.6): the deposit screen (find, take, refusals, pay bills
at once), a deposit with its voucher PDF and its correction, the deposit list, the balances,
the deposit pot's transactions, transfer runs (start, progress, report, undo one, undo the
run), permissions, zone scope, the Excel files and the menu."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from watermis.billing.models import Account
from watermis.invoices import services as invoice_services
from watermis.payments import deposits
from watermis.payments.models import Deposit, DepositTransfer, TransferRun

from .conftest import D

URL = "/payments/deposits/take/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def zhang(town, bills):
    customer = town["customers"][0]
    return customer, bills[customer.pk]  # bills of 40.00, 44.00, 48.00


def form_data(customer, **fields):
    data = {
        "customer": customer.pk,
        "amount": "",
        "method": "cash",
        "tendered": "",
        "note": "",
        **fields,
    }
    return data


def sheet_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)


def deposit_of(customer):
    return Account.objects.get(pk=customer.pk).deposit


def run_transfer(actor, zone=None):
    run = deposits.start_transfer(actor, zone)
    return deposits.run_transfer(run.pk)


# ------------------------------------------------------------------------- the deposit screen


def test_the_deposit_screen_finds_the_customer_and_shows_deposit_and_bills(
    zhang, town, cashier, login
):
    customer, chosen = zhang
    deposits.take_deposit(cashier, customer, "12.30")
    client = login(cashier)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="deposit-account"' in html and "<kbd>F2</kbd>" in html and "deposit.js" in html
    panel = client.get(URL, {"account": customer.account_no}, **HTMX).content.decode()
    assert "<html" not in panel
    assert 'id="deposit-balance">12.30<' in panel
    assert 'id="deposit-bill-balance">-132.00<' in panel
    for bill in chosen:
        assert f"#{bill.pk}<" in panel
    several = client.get(URL, {"account": "解放路"}, **HTMX).content.decode()
    assert several.count("wm-match") == 3  # not the customer of zone B
    west = town["customers"][3]
    assert 'id="deposit-no-match"' in client.get(URL, {"account": west.account_no}).content.decode()
    assert client.get(URL, {"customer": west.pk}).status_code == 404


def test_take_a_deposit_and_land_on_it_with_the_message(zhang, cashier, login):
    customer, _bills = zhang
    client = login(cashier)
    response = client.post(URL, form_data(customer, amount="100", tendered="150", note="春节"))
    deposit = Deposit.objects.get()
    assert response.status_code == 302 and response["Location"] == deposit.get_absolute_url()
    page = client.get(response["Location"]).content.decode()
    assert f"Deposit #{deposit.pk}: 100.00 taken" in page
    assert "the deposit is now 100.00" in page and "Change to give: 50.00" in page
    assert 'id="deposit-amount">100.00<' in page and deposits.voucher_number(deposit) in page
    assert 'id="deposit-correct"' in page  # its operator, on its day
    assert deposit.operator == cashier and deposit.note == "春节"
    assert deposit_of(customer) == D("100.00")


def test_an_htmx_deposit_redirects_the_browser(zhang, cashier, login):
    customer, _bills = zhang
    response = login(cashier).post(URL, form_data(customer, amount="20"), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == Deposit.objects.get().get_absolute_url()


def test_a_deposit_can_pay_the_open_bills_at_once(zhang, cashier, login):
    customer, (aug, sep, octo) = zhang
    client = login(cashier)
    response = client.post(URL, form_data(customer, amount="90", pay_bills="on"), follow=True)
    html = response.content.decode()
    assert "2 bills paid from the deposit (84.00); 6.00 is left." in html
    assert deposit_of(customer) == D("6.00")


def test_refused_deposits_show_the_service_message_on_the_field(zhang, cashier, login):
    customer, _bills = zhang
    client = login(cashier)
    too_much = client.post(URL, form_data(customer, amount="60000"), **HTMX).content.decode()
    assert "at most 50000" in too_much and 'id="deposit-form"' in too_much
    assert 'name="amount" value="60000"' in too_much
    short = client.post(URL, form_data(customer, amount="100", tendered="90"), **HTMX)
    assert "less than the deposit" in short.content.decode()
    card = client.post(URL, form_data(customer, amount="100", tendered="120", method="card"))
    assert "Only cash or a cheque" in card.content.decode()
    zero = client.post(URL, form_data(customer, amount="0"), **HTMX).content.decode()
    assert "Enter an amount above zero." in zero
    assert not Deposit.objects.exists()


def test_the_deposit_screen_needs_the_permission(zhang, clerk_a, nobody, login, client):
    assert login(clerk_a).get(URL).status_code == 403  # views deposits, does not take them
    assert login(nobody).get(reverse("payments:deposit_list")).status_code == 403
    customer, _bills = zhang
    assert client.post(URL, form_data(customer, amount="5")).status_code == 403
    assert not Deposit.objects.exists()


# ------------------------------------------------------------------------- voucher, correction


def test_the_voucher_is_one_page_with_the_amount(zhang, cashier, login):
    from tests.documents.conftest import page_count, page_texts

    from watermis.documents.services import ensure_default_layouts

    ensure_default_layouts()
    customer, _bills = zhang
    deposit = deposits.take_deposit(cashier, customer, "345.60", method="wechat")
    response = login(cashier).get(reverse("payments:deposit_voucher", args=[deposit.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert page_count(response.content) == 1
    text = page_texts(response.content)[0]
    assert "345.60" in text and deposits.voucher_number(deposit) in text
    assert customer.name in text


def test_correct_a_deposit_with_a_reason(zhang, cashier, cashier2, manager, login):
    customer, _bills = zhang
    deposit = deposits.take_deposit(cashier, customer, "100")
    url = reverse("payments:deposit_correct", args=[deposit.pk])
    # another cashier: the problem is shown, and a post is refused
    other = login(cashier2)
    assert 'id="correct-problem"' in other.get(url).content.decode()
    refused = other.post(url, {"reason": "wrong"}).content.decode()
    assert "corrected by its operator on the day" in refused
    client = login(cashier)
    page = client.get(url).content.decode()
    assert 'id="correct-form"' in page
    assert "This field is required." in client.post(url, {"reason": ""}).content.decode()
    response = client.post(url, {"reason": "typed 100 for 10"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "is corrected: 100.00 off; the deposit is now 0.00" in page
    assert 'id="deposit-correction"' in page and "typed 100 for 10" in page
    assert 'id="deposit-correct"' not in page
    assert deposit_of(customer) == 0
    again = client.post(url, {"reason": "again"}).content.decode()
    assert "corrected already" in again


def test_a_correction_is_refused_once_the_deposit_paid_bills(zhang, cashier, manager, login):
    customer, _bills = zhang
    deposit = deposits.take_deposit(cashier, customer, "44", pay_bills=True)
    assert deposit.transfer.bills == 1
    url = reverse("payments:deposit_correct", args=[deposit.pk])
    page = login(manager).post(url, {"reason": "wrong account"}).content.decode()
    assert "Undo those transfers first" in page
    assert not hasattr(Deposit.objects.get(pk=deposit.pk), "correction")


# ------------------------------------------------------------------------- lists


def test_the_deposit_list_filters_totals_and_excel(town, bills, cashier, login):
    zhang, li = town["customers"][:2]
    first = deposits.take_deposit(cashier, zhang, "100")
    deposits.take_deposit(cashier, li, "30")
    deposits.take_deposit(cashier, li, "20", channel="wechat", method="", reference="WX1")
    deposits.correct_deposit(cashier, first, "wrong")
    client = login(cashier)
    url = reverse("payments:deposit_list")
    page = client.get(url).content.decode()
    assert 'id="deposit-taken">150.00<' in page and 'id="deposit-net">50.00<' in page
    corrected = client.get(url, {"corrected": "true"}).content.decode()
    assert 'id="deposit-count">1<' in corrected
    wechat = client.get(url, {"channel": "wechat"}).content.decode()
    assert 'id="deposit-taken">20.00<' in wechat
    by_customer = client.get(url, {"q": li.account_no, "operator": "cashier_x"}).content.decode()
    assert 'id="deposit-count">2<' in by_customer
    rows = sheet_rows(client.get(url, {"q": li.account_no, "export": "xlsx"}))
    assert len(rows) == 3 and {row[7] for row in rows[1:]} == {D("30.00"), D("20.00")}


def test_a_cashier_of_zone_b_sees_no_deposit_of_zone_a(town, bills, cashier, cashier_b, login):
    deposit = deposits.take_deposit(cashier, town["customers"][0], "100")
    west = deposits.take_deposit(cashier_b, town["customers"][3], "7")
    client = login(cashier_b)
    page = client.get(reverse("payments:deposit_list")).content.decode()
    assert 'id="deposit-count">1<' in page and 'id="deposit-taken">7.00<' in page
    assert client.get(deposit.get_absolute_url()).status_code == 404
    assert client.get(reverse("payments:deposit_voucher", args=[deposit.pk])).status_code == 404
    assert client.get(west.get_absolute_url()).status_code == 200
    balances = client.get(reverse("payments:deposit_balances")).content.decode()
    assert (
        'id="balance-total">7.00<' in balances and town["customers"][0].account_no not in balances
    )
    entries = client.get(reverse("payments:deposit_transactions")).content.decode()
    assert 'id="entry-in">7.00<' in entries


def test_balances_with_zone_totals_filters_and_excel(
    town, bills, cashier, cashier_b, manager, login
):
    zhang, li, wang, zhao = town["customers"]
    deposits.take_deposit(cashier, zhang, "100")
    deposits.take_deposit(cashier, li, "30")
    deposits.take_deposit(cashier_b, zhao, "5.50")
    client = login(manager)
    url = reverse("payments:deposit_balances")
    page = client.get(url).content.decode()
    assert 'id="balance-company">135.50<' in page and 'id="balance-count">3<' in page
    assert 'data-zone="DC"' in page and 'data-zone="XC"' in page
    assert wang.account_no not in page  # no deposit
    zone_b = client.get(url, {"zone": town["book_b"].area.zone_id}).content.decode()
    assert 'id="balance-total">5.50<' in zone_b and 'id="balance-company">135.50<' in zone_b
    big = client.get(url, {"balance_min": "50"}).content.decode()
    assert 'id="balance-count">1<' in big
    assert 'id="balance-count">0<' in client.get(url, {"negative": "true"}).content.decode()
    rows = sheet_rows(client.get(url, {"export": "xlsx"}))
    assert [row[0] for row in rows[1:]] == sorted(
        [zhang.account_no, li.account_no, zhao.account_no]
    )
    assert sum(row[5] for row in rows[1:]) == D("135.50")


def test_transactions_of_the_deposit_pot_combine_filters(zhang, town, cashier, manager, login):
    customer, _bills = zhang
    li = town["customers"][1]
    first = deposits.take_deposit(cashier, customer, "200")
    deposits.take_deposit(cashier, li, "10")
    deposits.take_deposit(cashier, li, "25", channel="alipay", method="", reference="ALI9")
    run = run_transfer(manager)
    deposits.undo_transfer(manager, DepositTransfer.objects.get(run=run), "wrong day")
    deposits.correct_deposit(manager, first, "wrong account")
    client = login(manager)
    url = reverse("payments:deposit_transactions")
    page = client.get(url).content.decode()
    # in: 200 + 10 + 25 + 132 back by the undo; out: 132 transferred + 200 corrected
    assert 'id="entry-count">6<' in page
    assert 'id="entry-in">367.00<' in page and 'id="entry-out">332.00<' in page
    kinds = {
        kind: client.get(url, {"pot_kind": kind}).content.decode()
        for kind in ("deposit", "correction", "transfer", "undo")
    }
    assert 'id="entry-count">3<' in kinds["deposit"]
    assert 'id="entry-out">200.00<' in kinds["correction"]
    assert 'id="entry-out">132.00<' in kinds["transfer"]
    assert 'id="entry-in">132.00<' in kinds["undo"]
    alipay = client.get(url, {"channel": "alipay"}).content.decode()
    assert 'id="entry-count">1<' in alipay and 'id="entry-in">25.00<' in alipay
    combined = client.get(
        url, {"q": customer.account_no, "amount_min": "100", "operator": "manager"}
    ).content.decode()
    assert 'id="entry-count">3<' in combined  # transfer, undo, correction of 200 / 132
    rows = sheet_rows(client.get(url, {"q": li.account_no, "export": "xlsx"}))
    assert len(rows) == 3 and {row[5] for row in rows[1:]} == {"Deposit"}


# ------------------------------------------------------------------------- transfers


def test_start_a_transfer_watch_it_and_read_its_report(town, bills, cashier, clerk_a, login):
    zhang, li = town["customers"][:2]
    deposits.take_deposit(cashier, zhang, "200")
    deposits.take_deposit(cashier, li, "50")
    client = login(clerk_a)
    url = reverse("payments:transfer_list")
    page = client.get(url).content.decode()
    assert 'id="transfer-start"' in page
    refused = client.post(url, {"zone": ""}).content.decode()  # a clerk of zone A
    assert "This field is required." in refused
    response = client.post(url, {"zone": town["book"].area.zone_id})
    run = TransferRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    busy = client.post(url, {"zone": town["book"].area.zone_id}).content.decode()
    assert "A transfer of this zone is running" in busy
    progress = client.get(run.get_absolute_url(), **HTMX).content.decode()
    assert "<html" not in progress and 'hx-trigger="every 2s"' in progress
    deposits.run_transfer(run.pk)
    done = client.get(run.get_absolute_url(), **HTMX)
    assert done["HX-Refresh"] == "true"  # the whole page once, with its transfers
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 2s"' not in page
    assert 'id="run-amount">176.00<' in page  # 132.00 of Zhang, 44.00 of Li
    assert 'id="transfer-count">2<' in page and 'id="run-zones"' in page
    assert 'id="run-undo"' in page
    rows = sheet_rows(client.get(reverse("payments:transfer_report", args=[run.pk])))
    paid = [(row[0], row[4], row[5]) for row in rows[1:]]
    assert paid == [
        (zhang.account_no, "2026-08", D("40.00")),
        (zhang.account_no, "2026-09", D("44.00")),
        (zhang.account_no, "2026-10", D("48.00")),
        (li.account_no, "2026-08", D("44.00")),
    ]
    transfers = sheet_rows(client.get(run.get_absolute_url(), {"export": "xlsx"}))
    assert len(transfers) == 3
    listed = client.get(url).content.decode()
    assert 'id="run-count">1<' in listed and 'id="run-amount">176.00<' in listed


def test_undo_one_transfer_and_a_refusal_while_invoiced(
    zhang, town, cashier, manager, login, kinds, stocks
):
    customer, (aug, _sep, _oct) = zhang
    li = town["customers"][1]
    deposits.take_deposit(cashier, customer, "200")
    deposits.take_deposit(cashier, li, "50")
    run = run_transfer(manager)
    moved = DepositTransfer.objects.get(customer=customer)
    invoice_services.issue_invoice(cashier, kinds["water"], [aug])
    client = login(manager)
    url = reverse("payments:transfer_undo", args=[moved.pk])
    page = client.get(url).content.decode()
    assert 'id="undo-problem"' in page and "void it first" in page
    refused = client.post(url, {"reason": "wrong"}).content.decode()
    assert "void it first" in refused
    other = DepositTransfer.objects.get(customer=li)
    other_url = reverse("payments:transfer_undo", args=[other.pk])
    assert login(cashier).get(other_url).status_code == 403
    client = login(manager)
    assert "This field is required." in client.post(other_url, {"reason": ""}).content.decode()
    response = client.post(other_url, {"reason": "read was wrong"})
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    page = client.get(response["Location"]).content.decode()
    assert "is undone: 44.00 is back in the deposit" in page
    assert deposit_of(li) == D("50.00")


def test_undo_a_whole_run_lists_what_it_kept(town, bills, cashier, manager, login, kinds, stocks):
    zhang, li = town["customers"][:2]
    deposits.take_deposit(cashier, zhang, "200")
    deposits.take_deposit(cashier, li, "200")
    run = run_transfer(manager)
    invoice = invoice_services.issue_invoice(cashier, kinds["water"], [bills[li.pk][0]])
    client = login(manager)
    url = reverse("payments:transfer_run_undo", args=[run.pk])
    assert "2 transfers of this run" in client.get(url).content.decode()
    page = client.post(url, {"reason": "run on the wrong day"}).content.decode()
    assert "1 transfer undone." in page
    assert 'id="undo-kept"' in page and li.account_no in page
    assert invoice.display_number in page
    assert deposit_of(zhang) == D("200.00")


def test_transfer_pages_need_their_permissions_and_scope(
    town, bills, cashier, cashier_b, manager, login
):
    deposits.take_deposit(cashier, town["customers"][0], "200")
    run = run_transfer(manager, town["book"].area.zone)
    transfer = DepositTransfer.objects.get()
    cashier_client = login(cashier)
    assert cashier_client.get(reverse("payments:transfer_list")).status_code == 200
    assert (
        'id="transfer-start"'
        not in cashier_client.get(reverse("payments:transfer_list")).content.decode()
    )
    assert cashier_client.post(reverse("payments:transfer_list"), {"zone": ""}).status_code == 403
    assert (
        cashier_client.get(reverse("payments:transfer_run_undo", args=[run.pk])).status_code == 403
    )
    west = login(cashier_b)
    assert west.get(run.get_absolute_url()).status_code == 404
    assert west.get(reverse("payments:transfer_report", args=[run.pk])).status_code == 404
    assert transfer.pk  # the manager still sees it
    assert login(manager).get(run.get_absolute_url()).status_code == 200


def test_the_menu_has_the_deposit_pages(org, cashier, clerk_a, login):
    page = login(cashier).get(reverse("home")).content.decode()
    assert "bi-piggy-bank" in page
    for name in ("deposit", "deposit_list", "deposit_balances", "deposit_transactions"):
        assert reverse(f"payments:{name}") in page
    page = login(clerk_a).get(reverse("home")).content.decode()
    assert reverse("payments:transfer_list") in page and reverse("payments:deposit") not in page
