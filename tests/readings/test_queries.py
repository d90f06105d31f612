"""Reading query pages (F6.8, F2.5, F7.5, F2.1, F6.1, F7.1, F2.3): abnormal volumes, the history
of every read, monitored meters, master-meter loss rates and their history, progress;
permissions, zone scoping, filters, Excel export, journaled monitoring through the pages."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from tests.conftest import make_operator

from watermis.core.models import AuditEntry
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
    assert 'id="loss-chart"' in page and page.count("<rect ") == 24
    assert page.count("wm-bar-high") >= 2 and "40.00" in page
    rows = workbook(client.get(url, {"export": "xlsx"}))
    assert len(rows) == 25 and rows[1][0] == "2026-11" and rows[1][-1] == 40
    earlier = workbook(client.get(url, {"month": "2026-10", "export": "xlsx"}))
    assert earlier[1][0] == "2026-10" and earlier[1][-1] == 20 and earlier[-1][0] == "2024-11"


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
