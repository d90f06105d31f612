"""Browser test of batch reading entry (F2.3): the demo clerk opens this month's periods
if none is open, opens a book, types readings with the keyboard only (one confirmed with a
reason), watches the progress figure move, and finds the values again after a reload."""

import datetime
import re
from decimal import Decimal

import pytest

pytestmark = pytest.mark.e2e

OPEN_LIST = "/readings/periods/?month={month}&status=open&per_page=200"


def period_links(page):
    """Links of the book periods (not the master meters') in the period list."""
    hrefs = page.eval_on_selector_all(
        "main table tbody a.wm-period-book",
        "els => els.map(e => e.getAttribute('href'))",
    )
    seen = []
    for href in hrefs:
        if re.fullmatch(r"/readings/periods/\d+/", href or "") and href not in seen:
            seen.append(href)
    return seen


def read_count(page):
    return int(page.get_attribute("#book-progress", "data-read"))


def pending_rows(page):
    return page.locator(
        "#entry-table tr.wm-row[data-state='pending']:has(input.wm-current:enabled)"
    )


def previous_and_average(row):
    cells = row.locator("td")
    # #, account and name, address, meter, previous, average, current, ...
    previous = cells.nth(4).inner_text().split("\n")[0].replace(",", "").rstrip("*").strip()
    average = cells.nth(5).inner_text().replace(",", "").strip()
    return Decimal(previous), (None if average in ("", "—") else Decimal(average))


def test_clerk_enters_a_book_by_keyboard(login, screenshot_dir):
    page = login("clerk")
    month = datetime.date.today().strftime("%Y-%m")
    page.goto(OPEN_LIST.format(month=month))
    links = period_links(page)
    if not links:
        page.goto("/readings/periods/open/")
        page.select_option("#id_zone", label="东城区")
        page.fill("#id_month", month)
        with page.expect_navigation():
            page.click("#open-submit")
        assert page.locator("#opened-periods").count() == 1, page.inner_text("main")
        page.screenshot(path=str(screenshot_dir / "readings-periods-opened.png"), full_page=True)
        page.goto(OPEN_LIST.format(month=month))
        links = period_links(page)
    assert links, "no open period of this month in the clerk's zone"
    page.screenshot(path=str(screenshot_dir / "readings-periods.png"), full_page=True)

    for href in links:
        page.goto(href)
        if pending_rows(page).count() >= 3:
            break
    else:
        pytest.fail("no book of this month has three meters left to read")
    entry_url = page.url
    before = read_count(page)

    # The first pending row has the focus; type, Enter, type, Enter...
    rows = pending_rows(page)
    ids = [rows.nth(n).get_attribute("id") for n in range(3)]
    typed = {}
    for n, row_id in enumerate(ids):
        row = page.locator(f"#{row_id}")
        # the page focuses the first meter to read; each save moves on to the next one
        focused = page.evaluate("document.activeElement.closest('tr.wm-row')?.id")
        assert focused == row_id
        previous, average = previous_and_average(row)
        if n == 1:
            value = previous  # zero consumption: asks for a reason
        else:
            value = previous + (average.quantize(Decimal("1")) if average else Decimal(7))
        page.keyboard.type(str(value))
        page.keyboard.press("Enter")
        page.wait_for_function(
            "id => { const r = document.getElementById(id); return r && r.dataset.outcome; }",
            arg=row_id,
        )
        row = page.locator(f"#{row_id}")
        if row.get_attribute("data-outcome") == "confirm":
            assert page.evaluate("document.activeElement.classList.contains('wm-reason')")
            assert row.locator(".wm-findings").inner_text().strip()
            if n == 1:
                page.screenshot(
                    path=str(screenshot_dir / "readings-entry-confirm.png"), full_page=False
                )
            page.keyboard.type("空房无人用水")
            page.keyboard.press("Enter")
            page.wait_for_function(
                "id => document.getElementById(id).dataset.outcome !== 'confirm'", arg=row_id
            )
            row = page.locator(f"#{row_id}")
        assert row.get_attribute("data-outcome") == "saved", row.inner_text()
        assert row.get_attribute("data-state") in ("entered", "held")
        typed[row_id] = value
        if n < 2:  # the focus went on to the next row to read
            assert page.evaluate("document.activeElement.classList.contains('wm-current')")
    assert read_count(page) == before + 3
    assert page.inner_text("#progress-read").strip() == str(before + 3)
    page.screenshot(path=str(screenshot_dir / "readings-entry.png"), full_page=False)

    page.goto(entry_url)
    assert read_count(page) == before + 3
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "readings-entry-top.png"), full_page=False)
    for row_id, value in typed.items():
        stored = page.input_value(f"#{row_id} input.wm-current")
        assert Decimal(stored) == value, (row_id, stored, value)
    page.goto(page.locator(f"#{ids[1]} td a[href^='/readings/reads/']").get_attribute("href"))
    assert "空房无人用水" in page.inner_text("main")
    page.screenshot(path=str(screenshot_dir / "readings-read-detail.png"), full_page=True)

    # The same meter on the single-account page: the read, the last readings, the actions.
    page.goto(entry_url)
    account = page.locator(f"#{ids[0]} td a[href*='account=']").inner_text().strip()
    page.goto("/readings/entry/")
    # the field has the focus once the page is loaded: type only then (under load the
    # first keys could go nowhere)
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'account-input'"
    )
    page.keyboard.type(account)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#customer-summary").count() == 1
    assert page.locator(f"#{ids[0]} input.wm-current").input_value() != ""
    assert page.locator("table.wm-history tbody tr").count() >= 1
    page.screenshot(path=str(screenshot_dir / "readings-account-entry.png"), full_page=True)
