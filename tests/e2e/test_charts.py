"""Browser test of the chart component (M9) on the loss rate over time page: ECharts draws
the chart (SVG) from the embedded spec beside the table of the same figures, the tooltip
shows a month's row, the chart follows the window's size, and a chart htmx swaps in is
drawn too."""

import pytest

pytestmark = pytest.mark.e2e

URL = "/readings/loss-rates/trend/"
SPEC = "JSON.parse(document.getElementById('loss-chart-data').textContent)"


def svg_width(page):
    return float(page.get_attribute("#loss-chart .wm-chart-canvas svg", "width"))


def test_loss_rate_over_time_chart_and_table(login, screenshot_dir):
    page = login("clerk")  # zone 东城区: three district meters and a plant outlet
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(URL)
    canvas = page.locator("#loss-chart .wm-chart-canvas")
    canvas.locator("svg").wait_for()  # ECharts drew the chart
    spec = page.evaluate(SPEC)
    assert len(spec["rows"]) == 24
    read = [row for row in spec["rows"] if row["cells"][1] != "—"]
    assert len(read) >= 12, "the demo has master meter reads over the last months"

    # the table beside the chart shows the same figures as the spec the chart is drawn from
    table = page.locator("#loss-chart-table")
    assert table.locator("tbody tr").count() == 24
    cells = table.locator("tbody tr").nth(23).locator("th, td").all_inner_texts()
    assert cells == [spec["rows"][23]["category"], *spec["rows"][23]["cells"]]
    headers = table.locator("thead th").all_inner_texts()
    assert headers[0] == spec["category"] and headers[2].startswith(spec["series"][1]["name"])

    # the drawing: a legend with the plotted series, bars and a line, the 12 % limit line
    svg = canvas.locator("svg")
    drawn = [s["name"] for s in spec["series"] if s["type"] != "table"]
    texts = svg.locator("text").all_text_contents()
    for name in drawn:
        assert name in texts, (name, texts)
    assert "12 %" in texts
    assert svg.locator("path").count() > 48  # 2 × 24 bars, the line, axes
    page.screenshot(path=str(screenshot_dir / "charts-loss-trend.png"), full_page=True)

    # the tooltip shows the row of the month under the pointer: the last one, at the right
    box = canvas.bounding_box()
    last = spec["rows"][-1]
    page.mouse.move(box["x"] + box["width"] - 60, box["y"] + box["height"] / 2)
    rate = last["cells"][4]
    page.wait_for_function(
        "([rate, month]) => { const t = document.querySelector('#loss-chart .wm-chart-canvas')"
        ".innerText; return t.includes(month) && t.includes(rate) }",
        arg=[rate, last["category"]],
    )
    page.screenshot(path=str(screenshot_dir / "charts-loss-trend-tooltip.png"))

    # the chart follows the window
    wide = svg_width(page)
    page.set_viewport_size({"width": 900, "height": 800})
    page.wait_for_function(
        "w => +document.querySelector('#loss-chart .wm-chart-canvas svg')"
        ".getAttribute('width') < w",
        arg=wide,
    )

    # a chart htmx swaps in (another month's) is drawn as well, the old one let go
    earlier = read[-2]["category"]
    page.evaluate(
        "month => htmx.ajax('GET', location.pathname + '?month=' + month, "
        "{target: '#loss-chart', swap: 'outerHTML', select: '#loss-chart'})",
        earlier,
    )
    page.wait_for_function(
        "month => { const s = document.getElementById('loss-chart-data');"
        " return s && JSON.parse(s.textContent).rows.at(-1).category === month }",
        arg=earlier,
    )
    page.locator("#loss-chart .wm-chart-canvas[data-wm-chart-drawn] svg").wait_for()
    rows = page.locator("#loss-chart-table tbody tr")
    assert rows.nth(23).locator("th").inner_text() == earlier
    assert page.locator(".wm-chart-canvas svg").count() == 1
    assert not errors, errors
