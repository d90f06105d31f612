"""The chart component (M9): the spec built from rows, its texts and numbers, the export,
and the include that embeds the spec and renders the same figures as a table."""

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from tests.chart_pages import chart_spec_in, chart_table_in

from watermis.core.charts import (
    LINE,
    TABLE,
    Axis,
    Series,
    cell_text,
    chart_spec,
    export_rows,
    month_text,
    plot_value,
)

D = Decimal
ROWS = [
    {"month": datetime.date(2026, 9, 1), "volume": D("120.50"), "amount": D("361.5"), "n": 4},
    {"month": datetime.date(2026, 10, 1), "volume": None, "amount": None, "n": 0},
    {"month": datetime.date(2026, 11, 1), "volume": D("98"), "amount": D("294.005"), "n": 3},
]


def spec(**kw):
    options = {
        "title": "水量与水费",
        "category": "month",
        "category_label": "月份",
        "category_text": month_text,
        "series": [
            Series("volume", "水量", "m³"),
            Series("amount", "水费", "元", type=LINE, axis=1, money=True, limit=300),
            Series("n", "户数", type=TABLE),
        ],
        "axes": [Axis("m³"), Axis("元", min=0)],
    }
    options.update(kw)
    return chart_spec(ROWS, **options)


def test_spec_from_rows():
    built = spec(row_class=lambda row: "table-warning" if row["volume"] is None else "")
    assert built == {
        "title": "水量与水费",
        "height": 320,
        "zoom": False,
        "category": "月份",
        "axes": [{"name": "m³", "min": None, "max": None}, {"name": "元", "min": 0, "max": None}],
        "series": [
            {
                "name": "水量",
                "unit": "m³",
                "type": "bar",
                "axis": 0,
                "stack": "",
                "limit": None,
                "limit_label": "",
                "values": [120.5, None, 98.0],
            },
            {
                "name": "水费",
                "unit": "元",
                "type": "line",
                "axis": 1,
                "stack": "",
                "limit": 300,
                "limit_label": "",
                "values": [361.5, None, 294.01],
            },
            {
                "name": "户数",
                "unit": "",
                "type": "table",
                "axis": 0,
                "stack": "",
                "limit": None,
                "limit_label": "",
                "values": [4, 0, 3],
            },
        ],
        "rows": [
            {"category": "2026-09", "cells": ["120.50", "361.50", "4"], "css": ""},
            {"category": "2026-10", "cells": ["—", "—", "0"], "css": "table-warning"},
            {"category": "2026-11", "cells": ["98", "294.01", "3"], "css": ""},
        ],
    }
    json.dumps(built)  # ready for json_script as it is


def test_money_has_two_decimals_other_figures_are_as_given():
    money = Series("amount", "水费", money=True)
    assert money.text_of(D("12.5")) == "12.50"
    assert money.text_of(D("12.345")) == "12.35"  # half up, the project's rule
    assert money.text_of(D("-0.005")) == "-0.01"
    assert money.text_of(7) == "7.00"
    volume = Series("volume", "水量")
    assert volume.text_of(D("12.345")) == "12.345" and volume.text_of(D("50")) == "50"
    assert Series("volume", "水量", places=2).text_of(D("50")) == "50.00"
    assert cell_text(D("40.00")) == "40.00" and cell_text(D("2.5"), places=0) == "3"
    assert cell_text(None) == "—" and cell_text(None, missing="") == ""
    assert plot_value(D("294.005"), money=True) == 294.01
    assert plot_value(D("1.10")) == 1.1 and plot_value(3) == 3 and plot_value(None) is None
    with pytest.raises(TypeError):
        plot_value("12")
    with pytest.raises(TypeError):
        plot_value(True)


def test_functions_as_keys_and_defaults():
    built = chart_spec(
        ROWS,
        title="t",
        category=lambda row: row["month"].month,
        category_label="m",
        series=[Series(lambda row: row["n"] * 2, "double")],
        zoom=True,
        height=200,
    )
    assert [r["category"] for r in built["rows"]] == ["9", "10", "11"]
    assert built["series"][0]["values"] == [8, 0, 6]
    assert built["axes"] == [{"name": "", "min": None, "max": None}]  # one axis when none given
    assert built["zoom"] is True and built["height"] == 200
    two = chart_spec(ROWS, title="t", category="month", category_label="m",
                     series=[Series("n", "a"), Series("n", "b", axis=1)])  # fmt: skip
    assert len(two["axes"]) == 2


def test_wrong_series_are_refused():
    common = {"title": "t", "category": "month", "category_label": "m"}
    with pytest.raises(ValueError, match="type"):
        chart_spec(ROWS, series=[Series("n", "a", type="pie")], **common)
    with pytest.raises(ValueError, match="axis"):
        chart_spec(ROWS, series=[Series("n", "a", axis=2)], **common)
    with pytest.raises(ValueError, match="axis"):
        chart_spec(ROWS, series=[Series("n", "a", axis=1)], axes=[Axis("m³")], **common)


def test_export_rows_are_the_table_with_numbers():
    header, rows = export_rows(spec())
    assert header == ["月份", "水量 (m³)", "水费 (元)", "户数"]
    assert rows == [
        ["2026-09", 120.5, 361.5, 4],
        ["2026-10", None, None, 0],
        ["2026-11", 98.0, 294.01, 3],
    ]


def test_include_embeds_the_spec_and_renders_the_same_figures_as_a_table():
    built = spec(title="<b>水量</b> & 水费", row_class=lambda r: "table-danger" if r["n"] else "")
    html = render_to_string("core/chart.html", {"spec": built, "id": "usage"})
    assert chart_spec_in(html, "usage") == built  # json_script escapes, the JSON is intact
    assert "<b>水量</b>" not in html  # the title is escaped in the caption and table
    assert 'data-wm-chart="usage-data"' in html
    assert 'data-echarts="/static/vendor/echarts/echarts.common.min.js"' in html
    assert 'aria-describedby="usage-table"' in html and "wm-chart-beside" in html
    header, rows, classes = chart_table_in(html, "usage")
    assert header == ["月份", "水量 (m³)", "水费 (元)", "户数"]
    assert rows == [
        ["2026-09", "120.50", "361.50", "4"],
        ["2026-10", "—", "—", "0"],
        ["2026-11", "98", "294.01", "3"],
    ]
    assert classes == ["table-danger", "", "table-danger"]
    below = render_to_string("core/chart.html", {"spec": built, "id": "u", "layout": "below"})
    assert "wm-chart-beside" not in below and "col-xxl-7" not in below


def test_echarts_is_served_from_the_npm_package_dist_only():
    found = finders.find("vendor/echarts/echarts.common.min.js")
    assert found and Path(found).parent == settings.NODE_MODULES / "echarts" / "dist"
    assert finders.find("vendor/echarts/dist/echarts.min.js") is None  # not the package root
    assert finders.find("core/charts.js")
