"""Reading API: periods (filters, open, close), reads (filters, enter with confirmation),
handheld upload; scoped by zone, permission-checked, writes through services."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from watermis.core.models import AuditEntry
from watermis.readings import handheld
from watermis.readings.models import PeriodStatus, Reading, ReadingPeriod, ReadingState

from .conftest import TODAY

# The API enters reads with today's date as "today": use a month that has begun.
MONTH = TODAY.replace(day=1)


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)


@pytest.fixture
def opened(town, org, api, clerk_a):
    response = api(clerk_a).post(
        "/api/reading-periods/open/",
        {"zone": org["zone_a"].pk, "month": MONTH.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.data
    return ReadingPeriod.objects.get(book=town["book_a"], month=MONTH)


def test_open_list_filter_and_close_periods(town, org, api, clerk_a, opened):
    client = api(clerk_a)
    assert AuditEntry.objects.filter(verb="open_period", actor=clerk_a).count() == 2
    rows = client.get("/api/reading-periods/", {"book": town["book_a"].pk}).data["results"]
    assert [r["id"] for r in rows] == [opened.pk]
    assert client.get("/api/reading-periods/", {"status": "closed"}).data["count"] == 0
    assert client.get("/api/reading-periods/", {"month": MONTH.isoformat()}).data["count"] == 2
    # zone B: not in the clerk's scope
    response = client.post(
        "/api/reading-periods/open/",
        {"zone": org["zone_b"].pk, "month": MONTH.isoformat()},
        format="json",
    )
    assert response.status_code == 400 and "zone" in response.data
    response = client.post(f"/api/reading-periods/{opened.pk}/close/", {"reason": "月结"})
    assert response.status_code == 200 and response.data["status"] == PeriodStatus.CLOSED


def test_read_filters_and_enter_with_confirmation(town, api, clerk_a, opened):
    client = api(clerk_a)
    meter = town["meters"][0]
    rows = client.get("/api/readings/", {"meter": meter.pk}).data["results"]
    assert len(rows) == 1 and rows[0]["meter_number"] == "M001"
    account = town["customers"][1].account_no
    rows = client.get("/api/readings/", {"account": account}).data["results"]
    assert [r["account_no"] for r in rows] == [account]
    assert client.get("/api/readings/", {"period": opened.pk}).data["count"] == 4
    assert client.get("/api/readings/", {"state": "pending"}).data["count"] == 5  # + master

    pk = rows[0]["id"]
    day = datetime.date(2026, 11, 20).isoformat()
    response = client.post(f"/api/readings/{pk}/enter/", {"current": "100", "read_on": day})
    assert response.status_code == 400
    assert response.data["code"] == "confirm" and response.data["findings"][0]["code"] == "zero"
    assert "current" in response.data
    response = client.post(
        f"/api/readings/{pk}/enter/",
        {"current": "100", "read_on": day, "confirm": True, "reason": "空房"},
    )
    assert response.status_code == 200, response.data
    assert response.data["state"] == ReadingState.ENTERED and response.data["volume"] == "0.00"
    response = client.post(f"/api/readings/{pk}/enter/", {"current": "90", "read_on": day})
    assert response.status_code == 400 and "reason" in response.data  # a correction
    response = client.post(f"/api/readings/{pk}/enter/", {"current": "abc", "read_on": day})
    assert response.status_code == 400 and "current" in response.data
    assert client.get("/api/readings/", {"anomaly": "zero"}).data["count"] == 1


def test_upload_handheld_file(town, api, clerk_a, opened):
    out = io.BytesIO()
    handheld.write_csv(out, [opened])
    text = out.getvalue().decode("utf-8-sig").splitlines()
    header = text[0].split(",")
    lines = [text[0]]
    for line in text[1:]:
        cells = line.split(",")
        if cells[header.index("表号")] == "M002":
            cells[header.index("本次读数")] = "110"
            cells[header.index("抄表日期")] = "2026-11-20"
        lines.append(",".join(cells))
    data = ("\n".join(lines) + "\n").encode("utf-8-sig")
    client = api(clerk_a)
    response = client.post(
        "/api/readings/upload/",
        {"file": SimpleUploadedFile("f.csv", data, content_type="text/csv")},
        format="multipart",
    )
    assert response.status_code == 200, response.data
    assert (response.data["saved"], response.data["skipped"]) == (1, 3)
    assert Reading.objects.get(period=opened, meter=town["meters"][1]).current == 110
    bad = data.replace(b"110", b"1x0")
    response = client.post(
        "/api/readings/upload/",
        {"file": SimpleUploadedFile("f.csv", bad, content_type="text/csv")},
        format="multipart",
    )
    assert response.status_code == 400 and response.data["errors"][0]["column"] == "本次读数"


def test_scope_and_permissions(town, org, api, admin, clerk_a, reader_a, cashier_a, nobody, opened):
    services_b = api(admin).post(
        "/api/reading-periods/open/",
        {"zone": org["zone_b"].pk, "month": MONTH.isoformat()},
        format="json",
    )
    assert services_b.status_code == 201
    other = Reading.objects.get(meter=town["meters"][3])
    mine = Reading.objects.get(meter=town["meters"][0])
    clerk = api(clerk_a)
    assert clerk.get(f"/api/readings/{other.pk}/").status_code == 404
    assert clerk.get(f"/api/reading-periods/{other.period_id}/").status_code == 404
    day = datetime.date(2026, 11, 20).isoformat()
    response = clerk.post(f"/api/readings/{other.pk}/enter/", {"current": "110", "read_on": day})
    assert response.status_code == 404
    # a reader enters reads but does not open periods
    reader = api(reader_a)
    response = reader.post(f"/api/readings/{mine.pk}/enter/", {"current": "110", "read_on": day})
    assert response.status_code == 200, response.data
    response = reader.post(
        "/api/reading-periods/open/",
        {"zone": org["zone_a"].pk, "month": MONTH.isoformat()},
        format="json",
    )
    assert response.status_code == 403
    # a cashier sees reads, does not enter them
    cashier = api(cashier_a)
    assert cashier.get("/api/readings/").status_code in (200, 403)
    response = cashier.post(f"/api/readings/{mine.pk}/enter/", {"current": "111", "read_on": day})
    assert response.status_code == 403
    assert api(nobody).get("/api/readings/").status_code == 403
    assert APIClient().get("/api/reading-periods/").status_code in (401, 403)
