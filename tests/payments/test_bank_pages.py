"""The bank collection pages: generate with a preview, the batch, its file, the result upload,
the report, cancel; banks and their layouts; who may open what."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from watermis.billing.models import EntryKind, LedgerEntry
from watermis.payments import bank
from watermis.payments.models import Bank, BankBatch, BatchState, LineState

from .bank_fixtures import *  # noqa: F403
from .bank_fixtures import MONTHS, TODAY

RESULT = {1: ("0000", ""), 2: ("0000", ""), 3: ("3001", "余额不足"), 4: ("0000", "")}


@pytest.fixture
def icbc_batch(bank_town, banks, bills, generate):
    (batch,) = generate(bank=banks["icbc"])
    return batch


def upload(client, batch, data, name="result.txt", day=TODAY):
    return client.post(
        reverse("payments:batch_result", args=[batch.pk]),
        {"file": SimpleUploadedFile(name, data), "business_date": day.isoformat()},
    )


def test_generate_previews_then_writes(clerk_a, login, bank_town, banks, bills):
    client = login(clerk_a)
    url = reverse("payments:batch_generate")
    page = client.get(url)
    assert page.status_code == 200 and b'id="generate-form"' in page.content
    form = {"zone": bank_town["zone_a"].pk, "bank": "", "month_from": "", "month_to": ""}
    preview = client.post(url, {**form, "action": "preview"})
    html = preview.content.decode()
    assert 'data-bank="ICBC"><td>ICBC 工商银行江城分行</td><td class="text-end">3</td>' in html
    assert "117.04" in html and "66.60" in html
    assert not BankBatch.objects.exists()
    done = client.post(url, {**form, "bank": banks["icbc"].pk, "action": "generate"})
    batch = BankBatch.objects.get()
    assert done.status_code == 302 and done["Location"] == batch.get_absolute_url()
    assert batch.line_count == 4 and batch.created_by == clerk_a
    both = client.post(url, {**form, "action": "generate"})  # every bank: only CCB has bills left
    assert both.status_code == 302 and BankBatch.objects.count() == 2


def test_generate_errors_show_beside_the_fields(clerk_a, login, bank_town, banks, bills):
    client = login(clerk_a)
    page = client.post(
        reverse("payments:batch_generate"),
        {
            "zone": bank_town["zone_a"].pk,
            "month_from": "2026-10",
            "month_to": "2026-08",
            "action": "preview",
        },
    )
    assert page.status_code == 200 and b"The last month is before the first." in page.content
    # zone B is outside clerk_a's zones: not even a choice
    page = client.post(
        reverse("payments:batch_generate"), {"zone": bank_town["zone_b"].pk, "action": "generate"}
    )
    assert b"Select a valid choice" in page.content and not BankBatch.objects.exists()
    nothing = client.post(
        reverse("payments:batch_generate"),
        {"zone": bank_town["zone_a"].pk, "month_from": "2025-01", "month_to": "2025-02",
         "action": "preview"},
    )  # fmt: skip
    assert b'id="generate-nothing"' in nothing.content


def test_batch_list_and_detail_with_filters_and_excel(
    clerk_a, clerk_b, login, bank_town, banks, bills, icbc_batch
):
    client = login(clerk_a)
    listing = client.get(reverse("payments:batch_list"))
    assert listing.status_code == 200 and icbc_batch.number.encode() in listing.content
    assert b'id="batch-amount">117.04' in listing.content
    assert (
        icbc_batch.number.encode()
        not in client.get(reverse("payments:batch_list"), {"state": "done"}).content
    )
    excel = client.get(reverse("payments:batch_list"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(excel.streaming_content))).active
    assert sheet.cell(2, 1).value == icbc_batch.number
    url = icbc_batch.get_absolute_url()
    detail = client.get(url)
    html = detail.content.decode()
    assert detail.status_code == 200 and 'id="batch-file"' in html and 'id="batch-cancel"' in html
    assert html.count('data-state="sent"') == 4 and "6222020000000005" in html
    only_zhang = client.get(url, {"q": "张三"})
    assert only_zhang.content.decode().count('data-state="sent"') == 2
    only_oct = client.get(url, {"month": "2026-10"})
    assert b'id="line-count">1<' in only_oct.content
    lines = client.get(url, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(lines.streaming_content))).active
    assert [c.value for c in sheet[2]][:3] == [1, bank_town["zhang"].account_no, "张三"]
    assert sheet.max_row == 5
    assert login(clerk_b).get(url).status_code == 404  # another zone's batch


def test_download_the_file(clerk_a, login, banks, bills, icbc_batch):
    response = login(clerk_a).get(reverse("payments:batch_file", args=[icbc_batch.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="ICBC20261124001.txt"'
    assert response.content == bank.export_file(clerk_a, icbc_batch)[1]


def test_upload_the_result_then_again(clerk_a, login, banks, bills, icbc_batch):
    client = login(clerk_a)
    assert client.get(reverse("payments:batch_result", args=[icbc_batch.pk])).status_code == 200
    data = bank.result_file(banks["icbc"], icbc_batch, RESULT)
    page = upload(client, icbc_batch, data)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="result-done"' in html
    assert 'id="count-paid">3<' in html and 'id="amount-paid">89.04<' in html
    assert 'id="count-failed">1<' in html and 'id="count-open">0<' in html
    again = upload(client, icbc_batch, data)
    assert b'id="result-repeated"' in again.content
    assert (
        "Nothing was posted: the file's 4 records were imported before." in again.content.decode()
    )
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 3
    detail = client.get(icbc_batch.get_absolute_url()).content.decode()
    assert 'id="batch-results"' in detail and 'id="batch-file"' not in detail
    assert 'id="batch-cancel"' not in detail  # answered: no cancelling


def test_a_refused_file_lists_its_problems_and_offers_the_report(
    clerk_a, login, banks, bills, icbc_batch
):
    client = login(clerk_a)
    good = bank.result_file(banks["icbc"], icbc_batch, RESULT)
    bad = good.replace(b"000004\xc7\xae", b"000007\xc7\xae")  # 钱七's line names seq 7
    page = upload(client, icbc_batch, bad)
    html = page.content.decode()
    assert 'id="result-refused"' in html and "Batch ICBC20261124001 has no line 7." in html
    assert set(icbc_batch.lines.values_list("state", flat=True)) == {LineState.SENT}
    token = html.split("/payments/bank/errors/")[1].split("/")[0]
    report = client.get(reverse("payments:batch_error_report", args=[token]))
    sheet = load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    assert [c.value for c in sheet[2]][:3] == [5, "seq", "Batch ICBC20261124001 has no line 7."]
    assert sheet.cell(2, 4).value.startswith("000007钱七")
    future = upload(client, icbc_batch, good, day=TODAY.replace(year=2030))
    assert b"The bank cannot have deducted in the future." in future.content


def test_the_batch_report(clerk_a, login, banks, bills, icbc_batch):
    bank.import_result(
        clerk_a, icbc_batch, bank.result_file(banks["icbc"], icbc_batch, RESULT), "r"
    )
    response = login(clerk_a).get(reverse("payments:batch_report", args=[icbc_batch.pk]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    summary = [[c.value for c in row][:3] for row in book["Summary"].iter_rows()]
    assert ["Sent to the bank", 4, 117.04] in summary
    assert ["Paid", 3, 89.04] in summary and ["Failed", 1, 28] in summary
    lines = list(book["Lines"].iter_rows(values_only=True))
    assert lines[3][9:12] == ("Failed", "3001", "余额不足") and len(lines) == 5


def test_cancel_page(clerk_a, login, banks, bills, icbc_batch):
    client = login(clerk_a)
    url = reverse("payments:batch_cancel", args=[icbc_batch.pk])
    assert b'id="cancel-form"' in client.get(url).content
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and b"This field is required." in refused.content
    done = client.post(url, {"reason": "文件未送出"})
    assert done.status_code == 302
    icbc_batch.refresh_from_db()
    assert icbc_batch.state == BatchState.CANCELLED
    page = client.get(url)
    assert b'id="action-problem"' in page.content and b"cancelled already" in page.content
    detail = client.get(icbc_batch.get_absolute_url()).content.decode()
    assert 'id="batch-cancelled"' in detail and "文件未送出" in detail
    file = client.get(reverse("payments:batch_file", args=[icbc_batch.pk]))
    assert file.status_code == 302  # no file for a cancelled batch; the page says why


def test_bank_pages(manager, clerk_a, login, banks):
    client = login(manager)
    listing = client.get(reverse("payments:bank_list"))
    assert listing.status_code == 200 and b"ICBC" in listing.content
    detail = client.get(banks["icbc"].get_absolute_url())
    assert detail.status_code == 200 and b"74 bytes" in detail.content  # the result record
    form = client.get(reverse("payments:bank_add"))
    assert b"amount_fen" in form.content  # the field names are explained
    data = {
        "code": "ABC",
        "name": "农业银行",
        "customer_bank_prefix": "中国农业银行",
        "merchant_no": "",
        "file_format": "csv",
        "encoding": "utf-8",
        "line_ending": "lf",
        "delimiter": ",",
        "summary": "none",
        "result_summary": "none",
        "detail_fields": "",
        "summary_fields": "",
        "result_fields": json.dumps([{"name": "seq"}, {"name": "amount"}]),
        "success_codes": "0",
        "active": "on",
    }
    refused = client.post(reverse("payments:bank_add"), data)
    assert b"A result record needs the result field." in refused.content
    data["result_fields"] = ""
    saved = client.post(reverse("payments:bank_add"), data)
    made = Bank.objects.get(code="ABC")
    assert saved.status_code == 302 and made.detail_fields[-1] == {"name": "amount"}
    edit = client.get(reverse("payments:bank_edit", args=[made.pk]))
    assert b"{&quot;name&quot;: &quot;seq&quot;}" in edit.content  # one field a line
    clerk = login(clerk_a)
    assert clerk.get(reverse("payments:bank_list")).status_code == 200
    assert clerk.get(reverse("payments:bank_add")).status_code == 403


def test_who_may_open_what(cashier_a, clerk_a, nobody, login, banks, bills, icbc_batch):
    cashier = login(cashier_a)
    for url in (
        reverse("payments:batch_list"),
        reverse("payments:batch_generate"),
        icbc_batch.get_absolute_url(),
        reverse("payments:batch_file", args=[icbc_batch.pk]),
        reverse("payments:batch_result", args=[icbc_batch.pk]),
        reverse("payments:batch_cancel", args=[icbc_batch.pk]),
        reverse("payments:bank_list"),
    ):
        assert cashier.get(url).status_code == 403, url
    assert icbc_batch.export_count == 0


def test_the_menu_shows_bank_collection(clerk_a, cashier_a, login):
    page = login(clerk_a).get(reverse("home")).content.decode()
    assert reverse("payments:batch_list") in page and reverse("payments:batch_generate") in page
    page = login(cashier_a).get(reverse("home")).content.decode()
    assert reverse("payments:batch_list") not in page


def test_months_shown_on_the_batch(clerk_a, login, banks, bills, bank_town, generate):
    (batch,) = generate(bank=banks["icbc"], month_from=MONTHS[1], books=[bank_town["book_a1"]])
    page = login(clerk_a).get(batch.get_absolute_url()).content.decode()
    assert "2026-09 – … · A1" in page


def test_collection_slips_of_a_batch(clerk_a, login, icbc_batch, admin):
    """One bank collection slip (托收单) per customer of the batch, one PDF, in Chinese."""
    from tests.documents.conftest import page_texts

    from watermis.documents.services import ensure_default_layouts

    ensure_default_layouts()
    response = login(clerk_a).get(reverse("payments:batch_slips", args=[icbc_batch.pk]))
    assert response["Content-Type"] == "application/pdf"
    texts = page_texts(response.content)
    customers = icbc_batch.lines.values("customer").distinct().count()
    names = {line.customer.name for line in icbc_batch.lines.select_related("customer")}
    slips = sum(text.count(icbc_batch.number + "-") for text in texts)
    assert slips == customers >= 2
    assert all(any(name in text for text in texts) for name in names)
    bank.cancel_batch(admin, icbc_batch, "重新生成")
    nothing = login(clerk_a).get(reverse("payments:batch_slips", args=[icbc_batch.pk]))
    assert nothing.status_code == 302
