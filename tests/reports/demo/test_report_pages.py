"""The report pages (M8): every report for the demo company in English and Chinese, with
grouping and combined filters, Excel and PDF, zone scoping and permissions."""

import io

import pypdfium2 as pdfium
import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from watermis.org.models import Operator, Zone
from watermis.reports import queries

from .conftest import FIRST, LAST

REPORTS = ("statistics", "revenue_by_item", "surcharges", "late_fees", "waivers", "bad_debts")
RANGE = {"month_from": f"{FIRST:%Y-%m}", "month_to": f"{LAST:%Y-%m}"}


@pytest.fixture
def as_user(client):
    def sign_in(username, language="en"):
        client.force_login(Operator.objects.get(username=username))
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return sign_in


def total_row(response):
    html = response.content.decode()
    start = html.index('id="report-total"')
    return html[start : html.index("</tr>", start)]


def money_text(value):
    return f"{value:,.2f}"


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_shows_for_the_manager_in_both_languages(db, demo, as_user, name):
    client = as_user("manager")
    response = client.get(reverse(f"reports:{name}"))
    assert response.status_code == 200
    assert 'id="report-table"' in response.content.decode()
    client = as_user("manager", "zh-hans")
    response = client.get(reverse(f"reports:{name}"), {**RANGE, "group_by": "book"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "合计" in html and 'id="report-total"' in html


def test_statistics_page_shows_the_reconciled_totals(db, demo, as_user):
    client = as_user("manager")
    response = client.get(reverse("reports:statistics"), {**RANGE, "group_by": "zone"})
    table = queries.statistics(queries.Selection(FIRST, LAST))
    row = total_row(response)
    for key in ("billed", "paid", "outstanding", "received"):
        assert money_text(table.total[key]) in row, key
    assert "Collection rate" in response.content.decode()


def test_filters_combine(db, demo, as_user):
    client = as_user("manager")
    zone = Zone.objects.get(code="DC")
    everything = queries.statistics(queries.Selection(FIRST, LAST)).total
    in_zone = queries.statistics(queries.Selection(FIRST, LAST, filters={"zone": zone.pk})).total
    assert 0 < in_zone["billed"] < everything["billed"]
    response = client.get(
        reverse("reports:statistics"), {**RANGE, "group_by": "reader", "zone": zone.pk}
    )
    assert money_text(in_zone["billed"]) in total_row(response)
    book = zone.areas.first().books.first()
    both = queries.statistics(
        queries.Selection(FIRST, LAST, filters={"zone": zone.pk, "book": book.pk})
    ).total
    assert 0 < both["billed"] < in_zone["billed"]
    response = client.get(
        reverse("reports:statistics"),
        {**RANGE, "group_by": "month", "zone": zone.pk, "book": book.pk},
    )
    assert money_text(both["billed"]) in total_row(response)


def test_a_zone_clerk_sees_only_her_zones(db, demo, as_user):
    clerk = Operator.objects.get(username="clerk")
    zones = clerk.visible_zone_ids()
    assert zones
    mine = queries.statistics(queries.Selection(FIRST, LAST, zones=zones)).total
    response = as_user("clerk").get(reverse("reports:statistics"), RANGE)
    assert response.status_code == 200
    assert money_text(mine["billed"]) in total_row(response)
    everything = queries.statistics(queries.Selection(FIRST, LAST)).total
    assert mine["billed"] < everything["billed"]


def test_excel_export_opens_and_adds_up(db, demo, as_user):
    client = as_user("manager")
    response = client.get(
        reverse("reports:revenue_by_item"), {**RANGE, "group_by": "zone", "export": "xlsx"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Zone", "Price item", "Volume (m³)")
    table = queries.revenue_by_item(queries.Selection(FIRST, LAST))
    assert rows[-1][3] == pytest.approx(float(table.total["billed"]))


def test_pdf_prints_the_report(db, demo, as_user):
    client = as_user("manager", "zh-hans")
    response = client.get(
        reverse("reports:statistics"), {**RANGE, "group_by": "book", "export": "pdf"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    document = pdfium.PdfDocument(response.content)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "水费统计" in text or "收费统计" in text
    table = queries.statistics(queries.Selection(FIRST, LAST))
    assert money_text(table.total["billed"]) in text


def test_months_the_wrong_way_round_are_refused(db, demo, as_user):
    response = as_user("manager").get(
        reverse("reports:statistics"), {"month_from": "2026-10", "month_to": "2026-01"}
    )
    assert response.status_code == 200
    assert "The last month is before the first." in response.content.decode()
    assert 'id="report-table"' not in response.content.decode()


def test_staff_without_the_permission_are_refused(db, demo, as_user):
    assert as_user("cashier").get(reverse("reports:statistics")).status_code == 403
