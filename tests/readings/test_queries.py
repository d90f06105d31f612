"""Reading query pages (F6.8, F2.5, F7.5, F2.1, F6.1, F7.1, F2.3): abnormal volumes, the history
of every read, monitored meters, master-meter loss rates and their history, progress;
permissions, zone scoping, filters, Excel export, journaled monitoring through the pages."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from tests.chart_pages import chart_spec_in, chart_table_in
from tests.conftest import make_operator

from watermis.core.models import AuditEntry
from watermis.customers import services as customer_services
from watermis.customers.models import Meter, MeterKind
from watermis.org.roles import CLERK
from watermis.readings import queries, services
from watermis.readings.models import MonitoredMeter, Reading, ReadingSource, ReadingState
from watermis.readings.services import Entry

from .conftest import NOV, OCT, TODAY

D = Decimal


def row(period, meter, sequence=1):
    return Reading.objects.get(period=period, meter=meter, sequence=sequence)


def enter(actor, reading, current, day=None, **kw):
    return services.enter_reading(
        actor, reading, Entry(D(current), day or reading.period.planned_on, **kw), today=TODAY
    )


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(book.active.iter_rows(values_only=True))


@pytest.fixture
def clerk_b(org):
    return make_operator(org, "clerk_b", CLERK, unit_key="unit_b")


@pytest.fixture
def read_october(town, org, admin):
    """October read in both zones: in A, M001 30 m³ (its sub M001S not read yet), M002 10,
    M003 0 (confirmed zero), district meter Z001 50 → loss 10 m³, 20 %; in B, M004 held high."""
    periods = services.open_periods(admin, org["zone_a"], OCT, today=TODAY)
    book = next(p for p in periods if p.book_id)
    master = next(p for p in periods if p.book_id is None)
    (book_b,) = services.open_periods(admin, org["zone_b"], OCT, today=TODAY)
    meters = town["meters"]
    enter(admin, row(book, meters[0]), "130")
    enter(admin, row(book, meters[1]), "110")
    zero = row(book, meters[2])
    Reading.objects.filter(pk=zero.pk).update(average=D("20"))
    enter(admin, zero, "100", confirm=True, reason="空房")
    enter(admin, row(master, town["district"]), "50", confirm=True, reason="首月")
    high = row(book_b, meters[3])
    Reading.objects.filter(pk=high.pk).update(average=D("20"))
    services.enter_reading(
        admin,
        high,
        Entry(D("140"), book_b.planned_on, source=ReadingSource.HANDHELD),
        today=TODAY,
        hold=True,
    )
    return {"book": book, "master": master, "book_b": book_b}


def page_urls(town, watch_pk):
    return [
        reverse("readings:abnormal"),
        reverse("readings:reading_list"),
        reverse("readings:monitored_list"),
        reverse("readings:monitored_add"),
        reverse("readings:monitored_history", args=[watch_pk]),
        reverse("readings:monitored_stop", args=[watch_pk]),
        reverse("readings:loss_rates"),
        reverse("readings:loss_history", args=[town["district"].pk]),
        reverse("readings:loss_trend"),
        reverse("readings:progress"),
    ]


def test_every_page_needs_login_and_a_permission(
    town, read_october, admin, clerk_a, reader_a, nobody, client
):
    watch = services.start_monitoring(admin, town["meters"][0], OCT, "疑似偷水")
    urls = page_urls(town, watch.pk)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    client.force_login(nobody)
    for url in urls:
        assert client.get(url).status_code == 403, url
    client.force_login(clerk_a)
    for url in urls:
        assert client.get(url).status_code == 200, url
    client.force_login(reader_a)  # readers look, but do not put meters under watch
    assert client.get(reverse("readings:monitored_add")).status_code == 403
    assert client.get(reverse("readings:monitored_stop", args=[watch.pk])).status_code == 403
    assert client.get(reverse("readings:abnormal")).status_code == 200


def test_abnormal_volumes_scoped_filtered_exported(town, read_october, admin, clerk_a, login):
    client = login(clerk_a)
    url = reverse("readings:abnormal")
    page = client.get(url).content.decode()
    assert "M003" in page and "M004" not in page  # zone B's held read is not clerk A's
    assert "M002" not in page  # a normal read is not abnormal
    assert "-100.0" in page  # M003: 0 m³ against an average of 20
    client = login(admin)
    page = client.get(url).content.decode()
    assert "M003" in page and "M004" in page and "+100.0" in page
    only_high = client.get(url, {"anomaly": "high"}).content.decode()
    assert "M004" in only_high and "M003" not in only_high
    held = client.get(url, {"state": "held", "zone": town["book_b"].area.zone_id}).content.decode()
    assert "M004" in held and "M003" not in held
    assert "M003" not in client.get(url, {"month_from": "2026-11"}).content.decode()
    assert (
        "M003" in client.get(url, {"month_from": "2026-10", "month_to": "2026-10"}).content.decode()
    )
    assert "M003" not in client.get(url, {"estimated": "true"}).content.decode()
    rows = workbook(client.get(url, {"export": "xlsx", "sort": "account"}))
    assert len(rows) == 3  # header, M003, M004
    assert [r[3] for r in rows[1:]] == ["M003", "M004"]


def test_reading_history_by_account_meter_and_month(town, read_october, clerk_a, clerk_b, login):
    client = login(clerk_a)
    url = reverse("readings:reading_list")
    page = client.get(url, {"q": "M001"}).content.decode()
    assert "M001S" in page and "M002" not in page
    account = town["customers"][1].account_no
    page = client.get(url, {"q": account}).content.decode()
    assert "M002" in page and "M003" not in page
    assert "M002" not in client.get(url, {"month_from": "2026-11"}).content.decode()
    pending = client.get(url, {"state": "pending"}).content.decode()
    assert "M001S" in pending and "M002" not in pending
    rows = workbook(client.get(url, {"export": "xlsx"}))
    assert len(rows) == 1 + 5  # four reads of the book and the district meter
    client = login(clerk_b)
    rows = workbook(client.get(url, {"export": "xlsx"}))
    assert [r[3] for r in rows[1:]] == ["M004"]


def test_monitoring_through_the_pages_is_journaled(town, read_october, clerk_a, clerk_b, login):
    client = login(clerk_a)
    meter = town["meters"][0]
    out_of_zone = client.post(
        reverse("readings:monitored_add"),
        {"meter": town["meters"][3].number, "since": "2026-10-01", "reason": "疑似偷水"},
    )
    assert out_of_zone.status_code == 200 and not MonitoredMeter.objects.exists()
    assert "M004" in out_of_zone.content.decode()
    no_reason = client.post(
        reverse("readings:monitored_add"), {"meter": meter.number, "since": "2026-10-01"}
    )
    assert no_reason.status_code == 200 and not MonitoredMeter.objects.exists()
    response = client.post(
        reverse("readings:monitored_add"),
        {"meter": meter.number, "since": "2026-10-01", "reason": "疑似偷水"},
    )
    watch = MonitoredMeter.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("readings:monitored_history", args=[watch.pk])
    assert watch.meter == meter and watch.added_by == clerk_a and watch.until is None
    assert AuditEntry.objects.filter(
        object_type="readings.monitoredmeter", object_id=str(watch.pk), action="create"
    ).exists()
    again = client.post(
        reverse("readings:monitored_add"),
        {"meter": meter.number, "since": "2026-10-05", "reason": "再次"},
    )
    assert again.status_code == 200 and "already monitored" in again.content.decode()

    book = read_october["book"]
    for value, day in [("135", 20), ("141", 30)]:
        services.add_interim_reading(
            clerk_a, book, meter, Entry(D(value), datetime.date(2026, 10, day)), TODAY
        )
    history = client.get(reverse("readings:monitored_history", args=[watch.pk]))
    page = history.content.decode()
    assert page.count('<td class="text-end">3</td>') == 1  # the third read of October
    assert "41.00" in page  # October's total: 30 + 5 + 6
    rows = workbook(
        client.get(reverse("readings:monitored_history", args=[watch.pk]), {"export": "xlsx"})
    )
    assert [r[1] for r in rows[1:]] == [1, 2, 3] and rows[-1][-1] == 41
    assert queries.period_volumes([meter.pk], OCT)[meter.pk] == D("41.00")
    empty = client.get(
        reverse("readings:monitored_history", args=[watch.pk]), {"month_from": "2026-11"}
    )
    assert 'id="no-reads"' in empty.content.decode()

    listing = client.get(reverse("readings:monitored_list"), {"active": "active"}).content.decode()
    assert meter.number in listing
    other = login(clerk_b)
    assert other.get(reverse("readings:monitored_history", args=[watch.pk])).status_code == 404
    assert other.get(reverse("readings:monitored_stop", args=[watch.pk])).status_code == 404
    assert meter.number not in other.get(reverse("readings:monitored_list")).content.decode()

    client = login(clerk_a)
    early = client.post(
        reverse("readings:monitored_stop", args=[watch.pk]),
        {"until": "2026-09-01", "reason": "误加"},
    )
    assert early.status_code == 200 and "cannot be before the start" in early.content.decode()
    stopped = client.post(
        reverse("readings:monitored_stop", args=[watch.pk]),
        {"until": "2026-10-31", "reason": "核实无偷水"},
    )
    assert stopped.status_code == 302
    watch.refresh_from_db()
    assert watch.until == datetime.date(2026, 10, 31)
    entry = AuditEntry.objects.get(
        object_type="readings.monitoredmeter", object_id=str(watch.pk), action="update"
    )
    assert entry.reason == "核实无偷水" and entry.actor == clerk_a
    twice = client.post(
        reverse("readings:monitored_stop", args=[watch.pk]),
        {"until": "2026-11-30", "reason": "再次"},
    )
    assert twice.status_code == 200 and "ended already" in twice.content.decode()
    ended = client.get(reverse("readings:monitored_list"), {"active": "ended"}).content.decode()
    assert meter.number in ended
    assert (
        meter.number
        not in client.get(reverse("readings:monitored_list"), {"active": "active"}).content.decode()
    )


def test_loss_rates_figures_marks_and_scope(town, read_october, admin, clerk_a, clerk_b, login):
    (figures,) = queries.loss_rates(None, OCT)
    assert figures["rate"] == D("20.00")
    client = login(clerk_a)
    url = reverse("readings:loss_rates")
    page = client.get(url).content.decode()  # the newest month with master reads: October
    assert 'value="2026-10"' in page
    assert "Z001" in page and "table-danger" in page and "20.00" in page
    rows = workbook(client.get(url, {"export": "xlsx"}))
    assert len(rows) == 2
    number, _kind, _zone, _location, supplied, used, meters, loss, rate = rows[1]
    assert (number, supplied, used, meters, loss, rate) == ("Z001", 50, 40, 3, 10, 20)
    zone_b = {"month": "2026-10", "zone": town["book_b"].area.zone_id}
    assert "Z001" not in login(admin).get(url, zone_b).content.decode()
    client = login(clerk_a)
    # the master meter over-read: customers registered more than it supplied → negative, marked
    enter(admin, row(read_october["master"], town["district"]), "30", reason="抄错")
    page = client.get(url, {"month": "2026-10"}).content.decode()
    assert "-33.33" in page and "table-warning" in page and "table-danger" not in page
    other = login(clerk_b)
    assert "Z001" not in other.get(url, {"month": "2026-10"}).content.decode()
    assert (
        other.get(reverse("readings:loss_history", args=[town["district"].pk])).status_code == 404
    )
    # a customer meter has no loss history
    customer_meter = town["meters"][0]
    assert (
        login(admin).get(reverse("readings:loss_history", args=[customer_meter.pk])).status_code
        == 404
    )


def test_loss_history_24_months_table_chart_export(town, read_october, org, admin, clerk_a, login):
    # November: master 100 m³, customers 60 (M001 +40, M002 +20) → 40 %
    periods = services.open_periods(admin, org["zone_a"], NOV, today=TODAY)
    book = next(p for p in periods if p.book_id)
    master = next(p for p in periods if p.book_id is None)
    day = datetime.date(2026, 11, 20)
    enter(admin, row(book, town["meters"][0]), "170", day=day, confirm=True, reason="核实")
    enter(admin, row(book, town["meters"][1]), "130", day=day, confirm=True, reason="核实")
    enter(admin, row(master, town["district"]), "150", day=day, confirm=True, reason="核实")
    months = queries.months_ending(NOV, 24)
    assert len(months) == 24 and months[0] == datetime.date(2024, 12, 1) and months[-1] == NOV
    history = queries.loss_rate_history(town["district"], months)
    assert [h["rate"] for h in history[-2:]] == [D("20.00"), D("40.00")]
    assert all(h["rate"] is None for h in history[:-2])
    for month, figures in zip(months[-2:], history[-2:], strict=True):
        (same,) = queries.loss_rates(None, month)
        assert (same["master_volume"], same["customer_volume"], same["rate"]) == (
            figures["master_volume"],
            figures["customer_volume"],
            figures["rate"],
        )
    client = login(clerk_a)
    url = reverse("readings:loss_history", args=[town["district"].pk])
    page = client.get(url).content.decode()
    chart = chart_spec_in(page, "loss-chart")
    months_text = [f"{m:%Y-%m}" for m in months]
    assert [r["category"] for r in chart["rows"]] == months_text  # oldest first, like the axis
    series = {s["name"]: s for s in chart["series"]}
    assert [s["type"] for s in chart["series"]] == ["bar", "bar", "table", "line", "table"]
    assert series["Supplied"]["values"][-2:] == [50.0, 100.0]
    assert series["Volume behind"]["values"][-2:] == [40.0, 60.0]
    assert series["Loss rate"]["values"] == [None] * 22 + [20.0, 40.0]
    assert series["Loss rate"]["axis"] == 1 and series["Loss rate"]["limit"] == 12
    assert [a["name"] for a in chart["axes"]] == ["m³", "%"]
    header, rows, classes = chart_table_in(page, "loss-chart")
    assert header == [
        "Month",
        "Supplied (m³)",
        "Volume behind (m³)",
        "Loss (m³)",
        "Loss rate (%)",
        "Meters behind read",
    ]
    assert rows[-2:] == [
        ["2026-10", "50.00", "40.00", "10.00", "20.00", "3"],
        ["2026-11", "100.00", "60.00", "40.00", "40.00", "2"],
    ]
    assert rows[0] == ["2024-12", "—", "0.00", "—", "—", "0"]
    assert classes[-2:] == ["table-danger wm-loss-high"] * 2 and classes[0] == ""
    assert "<svg" not in page  # ECharts draws in the browser (tests/e2e/test_charts.py)
    rows = workbook(client.get(url, {"export": "xlsx"}))
    assert rows[0][0] == "Month" and len(rows) == 25
    assert rows[-1] == ("2026-11", 100, 60, 40, 40, 2) and rows[1][0] == "2024-12"
    earlier = workbook(client.get(url, {"month": "2026-10", "export": "xlsx"}))
    assert earlier[-1][0] == "2026-10" and earlier[-1][4] == 20 and earlier[1][0] == "2024-11"


@pytest.fixture
def plants_read(town, org, admin):
    """Zone A: plant outlet P001 feeds district Z001 (M001, M002, M003 behind it); zone B:
    plant outlet P002 with M004 behind it, no district meter. October: M001 30, M002 10,
    Z001 50, P001 60; M004 20, P002 25. November: M001 40, M002 20, Z001 100, P001 not
    read; M004 15, P002 15."""
    meters = town["meters"]
    plants = []
    for number, zone in (("P001", org["zone_a"]), ("P002", org["zone_b"])):
        data = {"number": number, "installed_on": datetime.date(2026, 1, 1), "caliber": "DN300"}
        plants.append(
            customer_services.create_master_meter(admin, data, zone, kind=MeterKind.PLANT)
        )
    customer_services.update_meter(admin, town["district"], {"master": plants[0]})
    customer_services.update_meter(admin, meters[3], {"master": plants[1]})
    reads = {
        OCT: [(meters[0], "130"), (meters[1], "110"), (town["district"], "50"),
              (plants[0], "60"), (meters[3], "120"), (plants[1], "25")],
        NOV: [(meters[0], "170"), (meters[1], "130"), (town["district"], "150"),
              (meters[3], "135"), (plants[1], "40")],
    }  # fmt: skip
    for month, values in reads.items():
        periods = services.open_periods(admin, org["zone_a"], month, today=TODAY)
        periods += services.open_periods(admin, org["zone_b"], month, today=TODAY)
        for meter, current in values:
            (reading,) = Reading.objects.filter(period__in=periods, meter=meter)
            day = reading.period.planned_on
            enter(admin, reading, current, day=min(day, TODAY), confirm=True, reason="核实")
    return plants


def test_loss_trend_adds_up_the_masters_read_of_one_kind(
    town, plants_read, django_assert_num_queries
):
    months = queries.months_ending(NOV, 24)
    plants = Meter.objects.filter(kind=MeterKind.PLANT)
    with django_assert_num_queries(2):  # whatever the number of meters and months
        trend = queries.loss_rate_trend(plants, months)
    figures = [
        (r["masters"], r["master_volume"], r["customer_volume"], r["customer_meters"], r["rate"])
        for r in trend[-3:]
    ]
    assert figures == [
        (0, None, 0, 0, None),
        # October: P001 60 + P002 25 supplied, Z001 50 + M004 20 behind: 15 ÷ 85
        (2, D("85"), D("70"), 2, D("17.65")),
        # November: P001 not read, so what is behind it (Z001's 100) is left out
        (1, D("15"), D("15"), 1, D("0.00")),
    ]
    # a month without any master read shows what was registered behind them all
    (zone_a,) = queries.loss_rate_trend([plants_read[0].pk], [NOV])
    assert (zone_a["master_volume"], zone_a["customer_volume"], zone_a["loss"]) == (None, 100, None)
    # one master's history is its trend; and the month's figures are those of loss_rates
    assert queries.loss_rate_history(town["district"], months) == queries.loss_rate_trend(
        [town["district"].pk], months
    )
    for month in (OCT, NOV):
        (same,) = queries.loss_rates(None, month, masters=Meter.objects.filter(number="Z001"))
        (figures,) = queries.loss_rate_trend([town["district"].pk], [month])
        assert (same["master_volume"], same["customer_volume"], same["rate"]) == (
            figures["master_volume"],
            figures["customer_volume"],
            figures["rate"],
        )


def test_loss_trend_page_chart_table_scope_and_export(
    town, plants_read, org, admin, clerk_a, login
):
    url = reverse("readings:loss_trend")
    client = login(admin)
    page = client.get(url).content.decode()  # the newest month with master reads; districts
    assert 'value="2026-11"' in page and '<option value="district" selected>' in page
    chart = chart_spec_in(page, "loss-chart")
    assert chart["title"] == "District master meters of all zones, 2024-12 – 2026-11"
    assert [s["name"] for s in chart["series"]] == [
        "Master meters read",
        "Supplied",
        "Volume behind",
        "Loss",
        "Loss rate",
        "Meters behind read",
    ]
    assert chart["series"][4]["values"][-2:] == [20.0, 40.0]
    header, rows, classes = chart_table_in(page, "loss-chart")
    assert header[:3] == ["Month", "Master meters read", "Supplied (m³)"]
    assert len(rows) == 24 and rows[0][0] == "2024-12"
    assert rows[-2:] == [
        ["2026-10", "1", "50.00", "40.00", "10.00", "20.00", "2"],
        ["2026-11", "1", "100.00", "60.00", "40.00", "40.00", "2"],
    ]
    assert classes[-1] == "table-danger wm-loss-high"

    plant = client.get(url, {"kind": "plant", "month": "2026-11"}).content.decode()
    _header, rows, classes = chart_table_in(plant, "loss-chart")
    assert rows[-2:] == [
        ["2026-10", "2", "85.00", "70.00", "15.00", "17.65", "2"],
        ["2026-11", "1", "15.00", "15.00", "0.00", "0.00", "1"],
    ]
    assert classes[-2:] == ["table-danger wm-loss-high", ""]
    assert "Plant outlet meters of all zones" in plant

    # zone B has no district meter: the page shows its plant outlet without being asked
    zone_b = client.get(url, {"zone": org["zone_b"].pk}).content.decode()
    assert '<option value="plant" selected>' in zone_b
    _header, rows, _classes = chart_table_in(zone_b, "loss-chart")
    assert rows[-2:] == [
        ["2026-10", "1", "25.00", "20.00", "5.00", "20.00", "1"],
        ["2026-11", "1", "15.00", "15.00", "0.00", "0.00", "1"],
    ]
    # an earlier last month moves the 24-month window
    earlier = chart_spec_in(client.get(url, {"month": "2026-10"}).content.decode(), "loss-chart")
    assert (
        earlier["rows"][-1]["category"] == "2026-10" and earlier["rows"][0]["category"] == "2024-11"
    )

    # zone A's clerk: only zone A's plant outlet, however the form is filled in
    clerk = login(clerk_a)
    mine = clerk.get(url, {"kind": "plant", "month": "2026-11"}).content.decode()
    _header, rows, _classes = chart_table_in(mine, "loss-chart")
    assert rows[-2:] == [
        ["2026-10", "1", "60.00", "50.00", "10.00", "16.67", "1"],
        ["2026-11", "0", "—", "100.00", "—", "—", "1"],
    ]
    denied = clerk.get(url, {"kind": "plant", "zone": org["zone_b"].pk}).content.decode()
    assert "Select a valid choice" in denied and "P002" not in denied
    assert chart_table_in(denied, "loss-chart")[1][-1][1:] == ["0", "—", "0.00", "—", "—", "0"]

    book = workbook(clerk.get(url, {"kind": "plant", "month": "2026-11", "export": "xlsx"}))
    assert book[0] == (
        "Month",
        "Master meters read",
        "Supplied (m³)",
        "Volume behind (m³)",
        "Loss (m³)",
        "Loss rate (%)",
        "Meters behind read",
    )
    assert book[-2] == ("2026-10", 1, 60, 50, 10, 16.67, 1)
    assert book[-1][:3] == ("2026-11", 0, None) and len(book) == 25


def test_loss_pages_link_to_each_other(town, read_october, admin, login):
    client = login(admin)
    rates = client.get(reverse("readings:loss_rates")).content.decode()
    assert f'href="{reverse("readings:loss_trend")}?month=2026-10"' in rates
    history = client.get(reverse("readings:loss_history", args=[town["district"].pk]))
    assert (
        f"{reverse('readings:loss_trend')}?zone={town['district'].zone_id}&amp;kind=district"
        in (history.content.decode())
    )


def test_progress_per_book_and_reader(town, read_october, org, clerk_a, login):
    client = login(clerk_a)
    url = reverse("readings:progress")
    page = client.get(url).content.decode()
    assert "DA01" in page and "XB01" not in page and org["emp_a"].name in page
    rows = workbook(client.get(url, {"export": "xlsx"}))
    assert len(rows) == 2
    book, _name, _zone, reader, _planned, _status, total, read, pending, held, abnormal = rows[1][
        :11
    ]
    assert (book, reader, total, read, pending, held, abnormal) == ("DA01", "张伟", 4, 3, 1, 0, 1)
    assert rows[1][-1] == 75.0
    readers = workbook(client.get(url, {"export": "xlsx", "by": "reader"}))
    assert readers[1][0] == "张伟" and readers[1][1:4] == (4, 3, 1)
    assert "DA01" not in client.get(url, {"month": "2026-11"}).content.decode()
    assert (
        "DA01"
        not in client.get(url, {"month": "2026-10", "zone": org["zone_b"].pk}).content.decode()
    )
    assert Reading.objects.filter(state=ReadingState.HELD).count() == 1
