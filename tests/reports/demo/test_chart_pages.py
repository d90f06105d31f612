"""The analysis charts (M9) for the demo company: the figures the chart draws and the table
beside it are the reports' figures, in English and Chinese; Excel has the same numbers."""

import datetime
import io

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook
from tests.chart_pages import chart_spec_in

from watermis.org.models import Operator, Zone
from watermis.reports import queries


@pytest.fixture
def manager(client):
    client.force_login(Operator.objects.get(username="manager"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_same_period_comparison_across_readers(db, demo, manager):
    month = {"month_from": "2026-09", "month_to": "2026-09"}
    response = manager.get(reverse("reports:comparison"), {**month, "group_by": "reader"})
    assert response.status_code == 200
    spec = chart_spec_in(response.content.decode(), "comparison-chart")
    table = queries.statistics(
        queries.Selection(datetime.date(2026, 9, 1), datetime.date(2026, 9, 1), group_by="reader")
    )
    assert [row["category"] for row in spec["rows"]] == [r["group"] for r in table.rows]
    billed = next(s for s in spec["series"] if s["name"] == "Billed")
    assert sum(billed["values"]) == pytest.approx(float(table.total["billed"]))
    assert spec["axes"][0]["name"] == "m³" and len(spec["axes"]) == 2


def test_historical_trend_of_a_zone_with_a_year_before(db, demo, manager):
    zone = Zone.objects.get(code="DC")
    params = {"month_from": "2025-11", "month_to": "2026-10", "zone": zone.pk}
    response = manager.get(reverse("reports:trend"), params)
    html = response.content.decode()
    volume, amount = chart_spec_in(html, "trend-volume"), chart_spec_in(html, "trend-amount")
    rows = queries.trend(
        queries.Selection(
            datetime.date(2025, 11, 1), datetime.date(2026, 10, 1), filters={"zone": zone.pk}
        )
    )
    assert [r["category"] for r in volume["rows"]] == [r["month"] for r in rows]
    assert amount["series"][0]["values"] == [float(r["billed"]) for r in rows]
    assert amount["series"][1]["values"] == [
        None if r["billed_last_year"] is None else float(r["billed_last_year"]) for r in rows
    ]
    assert rows[-1]["billed_last_year"] > 0
    excel = manager.get(reverse("reports:trend"), {**params, "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(excel.streaming_content))).active
    assert sheet.max_row == 13  # the header and 12 months


def test_collection_rate_and_ageing(db, demo, manager):
    response = manager.get(
        reverse("reports:collection"), {"month_from": "2026-01", "month_to": "2026-10"}
    )
    html = response.content.decode()
    rate = chart_spec_in(html, "collection-rate")
    assert len(rate["rows"]) == 10
    ageing = chart_spec_in(html, "arrears-ageing")
    assert len(ageing["rows"]) == 5 and sum(ageing["series"][0]["values"]) > 0


def test_charts_in_chinese(db, demo, manager):
    manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    for name in ("comparison", "trend", "collection"):
        response = manager.get(reverse(f"reports:{name}"))
        assert response.status_code == 200, name
        assert 'class="wm-chart' in response.content.decode()
