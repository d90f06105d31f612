"""The reading queries of M7: monitored reads across meters (F7.5), the master meters' loss
rates by kind, rate and meter (F7.1) and one master meter over a chosen range of months, the
reading history by area and water-use category: each filter narrows and combines."""

import datetime

from django.urls import reverse
from tests.chart_pages import chart_spec_in

from watermis.customers import services as customer_services
from watermis.customers.models import Customer
from watermis.readings import services
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

from . import test_queries
from .conftest import OCT

# the query pages' fixtures: October read in both zones, a clerk of zone B
read_october, clerk_b, workbook = (
    test_queries.read_october,
    test_queries.clerk_b,
    test_queries.workbook,
)


def meters_listed(response):
    assert response.status_code == 200
    return sorted(row.record.meter.number for row in response.context["table"].page.object_list)


def test_reading_history_by_area_and_category(town, read_october, org, admin, clerk_a, login):
    client = login(clerk_a)
    url = reverse("readings:reading_list")
    area_a = town["book_a"].area
    assert meters_listed(client.get(url, {"area": area_a.pk})) == ["M001", "M001S", "M002", "M003"]
    assert meters_listed(client.get(url, {"area": area_a.pk, "state": "pending"})) == ["M001S"]
    other_area = customer_services.create_area(
        admin, {"code": "A9", "name": "东九片", "zone": org["zone_a"]}
    )
    assert meters_listed(client.get(url, {"area": other_area.pk})) == []
    business = tariff_services.create_category(
        admin, {"code": "BIZ", "name": "经营", "kind": CategoryKind.NON_RESIDENTIAL}
    )
    Customer.objects.filter(pk=town["customers"][1].pk).update(category=business)
    assert meters_listed(client.get(url, {"category": business.pk})) == ["M002"]
    assert meters_listed(client.get(url, {"category": business.pk, "month_from": "2026-11"})) == []
    residential = town["category"].pk  # the master meter has no customer, so no category
    assert meters_listed(client.get(url, {"category": residential})) == ["M001", "M001S", "M003"]
    assert meters_listed(client.get(url, {"category": residential, "anomaly": "zero"})) == ["M003"]


def test_monitored_reads_across_meters(town, read_october, admin, clerk_a, clerk_b, login):
    first, second = town["meters"][0], town["meters"][1]
    watch = services.start_monitoring(admin, first, OCT, "疑似偷水")
    services.start_monitoring(admin, town["meters"][3], OCT, "西城")  # zone B
    client = login(clerk_a)
    url = reverse("readings:monitored_reads")
    assert meters_listed(client.get(url)) == ["M001"]  # not M002 (unwatched), not zone B's
    assert meters_listed(login(clerk_b).get(url)) == ["M004"]
    client = login(clerk_a)
    assert meters_listed(client.get(url, {"watch": "active"})) == ["M001"]
    assert meters_listed(client.get(url, {"watch": "ended"})) == []
    services.start_monitoring(admin, second, OCT, "用量突增")
    services.stop_monitoring(admin, watch, datetime.date(2026, 10, 31), "核实无偷水")
    assert meters_listed(client.get(url)) == ["M001", "M002"]
    assert meters_listed(client.get(url, {"watch": "ended"})) == ["M001"]
    assert meters_listed(client.get(url, {"watch": "active", "q": "M00"})) == ["M002"]
    assert meters_listed(client.get(url, {"watch": "active", "month_from": "2026-11"})) == []
    assert meters_listed(client.get(url, {"book": town["book_a"].pk, "state": "entered"})) == [
        "M001",
        "M002",
    ]
    rows = workbook(client.get(url, {"export": "xlsx", "sort": "meter"}))
    assert [r[3] for r in rows[1:]] == ["M001", "M002"]
    assert login(clerk_a).get(url).status_code == 200
    menu = client.get(url).content.decode()
    assert f'href="{url}"' in menu  # in the Queries menu


def test_loss_rates_by_kind_band_and_meter(town, read_october, admin, clerk_a, login):
    client = login(clerk_a)
    url = reverse("readings:loss_rates")

    def masters(params):
        response = client.get(url, {"month": "2026-10", **params})
        assert response.status_code == 200
        return [row.record["master"].number for row in response.context["table"].page.object_list]

    assert masters({}) == ["Z001"]  # 20 %: above the 12 % limit
    assert masters({"kind": "district"}) == ["Z001"]
    assert masters({"kind": "plant"}) == []
    assert masters({"band": "high"}) == ["Z001"]
    assert masters({"band": "normal"}) == []
    assert masters({"band": "negative"}) == []
    assert masters({"band": "high", "kind": "district", "q": "Z0"}) == ["Z001"]
    assert masters({"band": "high", "q": "Y"}) == []
    # a month the master meter was not read
    assert masters({"month": "2026-11", "band": "unread"}) == ["Z001"]
    assert masters({"month": "2026-11", "band": "high"}) == []
    rows = workbook(client.get(url, {"month": "2026-10", "band": "normal", "export": "xlsx"}))
    assert len(rows) == 1  # the header alone


def test_loss_history_over_a_chosen_range(town, read_october, clerk_a, login):
    client = login(clerk_a)
    url = reverse("readings:loss_history", args=[town["district"].pk])
    rows = workbook(
        client.get(url, {"month_from": "2026-08", "month": "2026-10", "export": "xlsx"})
    )
    assert [r[0] for r in rows[1:]] == ["2026-08", "2026-09", "2026-10"]  # oldest first
    rate = rows[0].index("Loss rate (%)")
    assert rows[3][rate] == 20  # October: 10 m³ lost of 50
    page = client.get(url, {"month_from": "2026-08", "month": "2026-10"})
    assert len(chart_spec_in(page.content.decode(), "loss-chart")["rows"]) == 3
    wrong = client.get(url, {"month_from": "2026-11", "month": "2026-10"})
    assert "month_from" in wrong.context["form"].errors
    spec = chart_spec_in(wrong.content.decode(), "loss-chart")
    assert len(spec["rows"]) == 24  # the last 24 months instead
    too_long = client.get(url, {"month_from": "2010-01", "month": "2026-10"})
    assert "month_from" in too_long.context["form"].errors
