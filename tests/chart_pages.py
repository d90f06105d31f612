"""Reading a chart (core/chart.html) back out of a page: the spec embedded with json_script
and the table of the same figures beside it."""

import json
import re
from html.parser import HTMLParser


def chart_spec_in(html, chart_id):
    """The spec of the chart ``chart_id`` as the page embeds it (the JSON the script draws)."""
    match = re.search(
        rf'<script id="{re.escape(chart_id)}-data" type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    assert match, f"no data of chart {chart_id} in the page"
    return json.loads(match.group(1))


class _TableParser(HTMLParser):
    def __init__(self, table_id):
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.rows = []
        self.classes = []
        self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
            self.classes.append(attrs.get("class") or "")
        elif self.inside and tag in ("th", "td"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.inside:
            self.inside = False
        elif self.inside and tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def chart_table_in(html, chart_id):
    """The chart's table as (header, rows, row classes): cell texts as the page shows them."""
    parser = _TableParser(f"{chart_id}-table")
    parser.feed(html)
    assert parser.rows, f"no table of chart {chart_id} in the page"
    return parser.rows[0], parser.rows[1:], parser.classes[1:]
