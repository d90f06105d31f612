"""Browser tests of the document engine: the layout editor's live preview, and printing
meter cards from a book's page (a PDF with Chinese text)."""

import pytest

pytestmark = pytest.mark.e2e


def open_layout_editor(page, name):
    page.goto("/documents/layouts/")
    page.click(f"text={name}")
    page.click("a[accesskey=e]")
    page.wait_for_selector("#preview-image", timeout=30_000)


def test_layout_editor_previews_as_the_administrator_types(login, screenshot_dir):
    page = login("admin")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_layout_editor(page, "148 × 105")
    page.screenshot(path=str(screenshot_dir / "documents-layout-edit.png"))
    first = page.get_attribute("#preview-image", "src")

    # a mistyped field: the preview says which element and what is wrong
    template = page.locator('textarea[name="el-1-template"]')
    template.fill("{{ customer.nme }}")
    page.wait_for_selector("#preview-problems", timeout=30_000)
    problems = page.inner_text("#preview-problems")
    assert "customer.nme" in problems and "customer.name" in problems
    page.screenshot(path=str(screenshot_dir / "documents-layout-edit-problem.png"))

    # corrected and moved: a new picture
    template.fill("{{ customer.name }}")
    page.fill('input[name="el-1-x"]', "60")
    page.wait_for_function(
        "src => { const i = document.querySelector('#preview-image'); return i && i.src !== src }",
        arg=first,
        timeout=30_000,
    )

    # the typed layout as a PDF, in a new tab
    with page.context.expect_page() as tab:
        page.click("#download-pdf")
    pdf = tab.value
    pdf.wait_for_load_state()
    assert "layouts/draft.pdf" in pdf.url

    # an element added from the page
    page.click("#add-element")
    assert page.locator(".wm-element").last.locator(".wm-element-number").inner_text().isdigit()
    assert not errors, errors


def test_meter_cards_print_from_a_book_page(login, screenshot_dir):
    page = login("reader")
    page.goto("/customers/books/")
    page.locator("table a[href^='/customers/books/']").first.click()
    page.click("#book-meter-cards")
    page.wait_for_url("**/documents/meter-cards/?book=*")
    page.wait_for_load_state("load")  # count() does not wait for the new page's form
    assert page.locator("#id_books option:checked").count() == 1
    page.screenshot(path=str(screenshot_dir / "documents-meter-cards.png"))
    with page.expect_download() as download:
        page.click("#print-submit")
    path = download.value.path()
    with open(path, "rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF")
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        assert len(document) >= 1
        assert "用户抄表卡" in document[0].get_textpage().get_text_range()
    finally:
        document.close()
