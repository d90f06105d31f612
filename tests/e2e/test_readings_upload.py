"""Browser test of the handheld file round trip (F2.3): the demo clerk downloads a book of the
current month, fills a few readings in Excel (openpyxl here), uploads the file, sees the
saved/held counts; the same file again changes nothing."""

import datetime

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.e2e


def test_clerk_downloads_fills_and_uploads_a_book(login, screenshot_dir, tmp_path):
    page = login("clerk")
    page.goto("/readings/files/")
    assert page.locator("#file-download-form").is_visible()
    page.screenshot(path=str(screenshot_dir / "readings-file-download.png"), full_page=True)

    today = datetime.date.today()
    labels = page.eval_on_selector_all("#id_period option", "els => els.map(e => e.textContent)")
    current = [label for label in labels if label.startswith(f"{today:%Y-%m}")]
    assert current, labels
    page.select_option("#id_period", label=current[-1])
    page.select_option("#id_format", "xlsx")
    with page.expect_download() as download_info:
        page.click("#file-download-submit")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    wb = load_workbook(path)
    sheet = wb.active
    header = [cell.value for cell in sheet[1]]
    col = {name: header.index(name) + 1 for name in header}
    pending = [
        row
        for row in range(2, sheet.max_row + 1)
        if sheet.cell(row, col["本次读数"]).value in (None, "")
    ]
    assert len(pending) >= 5, "the demo leaves work in the current month"
    for n, row in enumerate(pending[:5]):
        previous = float(sheet.cell(row, col["上次读数"]).value)
        average = sheet.cell(row, col["月均用量"]).value
        use = 0 if n == 4 else round(float(average)) if average not in (None, "") else 12
        sheet.cell(row, col["本次读数"]).value = previous + use
        sheet.cell(row, col["抄表日期"]).value = today.isoformat()
    wb.save(path)

    page.goto("/readings/files/upload/")
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.click("#file-upload-submit")
    assert page.locator("#file-done").is_visible(), page.content()[:3000]
    assert page.inner_text("#count-saved").strip() == "4"
    assert page.inner_text("#count-held").strip() == "1"  # the zero read waits for a clerk
    assert page.inner_text("#count-unchanged").strip() == "0"
    page.screenshot(path=str(screenshot_dir / "readings-file-result.png"), full_page=True)

    page.goto("/readings/files/upload/")
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.click("#file-upload-submit")
    assert page.inner_text("#count-saved").strip() == "0"
    assert page.inner_text("#count-held").strip() == "0"
    assert page.inner_text("#count-unchanged").strip() == "5"
    page.screenshot(path=str(screenshot_dir / "readings-file-again.png"), full_page=True)
