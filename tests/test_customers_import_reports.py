"""Import error reports (issue 4): kept 7 days (older ones are deleted when a new one is
written) and served only to the operator who made them."""

import datetime
import io
import os

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from watermis.core.export import write_xlsx
from watermis.customers import import_views, importer

DAY = 24 * 3600


@pytest.fixture
def reports(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path / "import_reports"


def bad_file():
    buffer = io.BytesIO()
    row = {"用户名称": "张三", "地址": "解放路1号", "抄表册编号": "NOPE", "表号": "M1"}
    write_xlsx(buffer, "customers", importer.HEADERS, [[row.get(h) for h in importer.HEADERS]])
    buffer.seek(0)
    buffer.name = "customers.xlsx"
    return buffer


def upload(client):
    response = client.post(reverse("customers_import:upload"), {"file": bad_file()})
    assert b"import-failed" in response.content
    return response.context["token"]


def report(client, token):
    return client.get(reverse("customers_import:error_report", args=[token]))


def test_reports_older_than_a_week_are_deleted_when_one_is_written(org, clerk_a, login, reports):
    reports.mkdir(parents=True)
    now = timezone.now().timestamp()
    old, recent = reports / "1-old.xlsx", reports / "1-recent.xlsx"
    for path, age in ((old, 8 * DAY), (recent, 6 * DAY)):
        path.write_bytes(b"x")
        os.utime(path, (now - age, now - age))
    token = upload(login(clerk_a))
    assert not old.exists() and recent.exists()
    assert (reports / f"{clerk_a.pk}-{token}.xlsx").exists()
    # the clock is an argument: a week later, today's reports go too
    later = timezone.now() + datetime.timedelta(days=7, hours=1)
    assert import_views.delete_old_reports(later) == 2
    assert not any(reports.iterdir())


def test_a_report_is_served_only_to_its_operator(org, clerk_a, admin, login, reports, client):
    token = upload(login(clerk_a))
    response = report(client, token)
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    # another operator with the token in their session still gets nothing
    client.force_login(admin)
    session = client.session
    session[import_views.SESSION_KEY] = [token]
    session.save()
    assert report(client, token).status_code == 404
    assert report(client, f"..{token}").status_code == 404
