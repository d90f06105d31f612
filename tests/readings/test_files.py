"""Handheld files (F2.3): download a period as CSV/Excel, upload the reads back: checked row by
row, all or nothing, unusual reads held, idempotent, scoped; the pages and the error report."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from watermis.core.models import AuditEntry
from watermis.readings import handheld, services
from watermis.readings.models import Reading, ReadingSource, ReadingState

from .conftest import OCT, TODAY

D = Decimal
READ_ON = datetime.date(2026, 10, 20)


@pytest.fixture
def october(town, org, clerk_a):
    periods = services.open_periods(clerk_a, org["zone_a"], OCT, today=TODAY)
    return next(p for p in periods if p.book_id == town["book_a"].pk)


def csv_rows(data):
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel shows Chinese correctly
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def downloaded(period):
    out = io.BytesIO()
    handheld.write_csv(out, [period])
    return csv_rows(out.getvalue())


def fill(rows, values):
    """Set the fill-in columns of the rows whose meter is a key of ``values``."""
    header = rows[0]
    col = {key: header.index(handheld.HEADER_OF[key]) for key in handheld.HEADER_OF}
    for row in rows[1:]:
        for key, value in values.get(row[col["meter"]], {}).items():
            row[col[key]] = value
    return rows


def as_csv(rows, encoding="utf-8-sig"):
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def upload(actor, rows, name="book.csv", encoding="utf-8-sig"):
    return handheld.import_file(actor, io.BytesIO(as_csv(rows, encoding)), name, today=TODAY)


def read(current, day=READ_ON, **extra):
    return {"current": str(current), "read_on": day.isoformat(), **extra}


def test_download_lists_the_period_in_route_order(town, october):
    rows = downloaded(october)
    assert rows[0] == handheld.HEADERS
    meters = [r[handheld.HEADERS.index("表号")] for r in rows[1:]]
    assert sorted(meters) == ["M001", "M001S", "M002", "M003"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["抄表月份"] == "2026-10" and first["抄表册编号"] == "DA01"
    assert first["户号"] == town["customers"][0].account_no
    assert first["用户名称"] == "张三" and first["本次读数"] == ""
    orders = [int(r[2]) for r in rows[1:]]
    assert orders == sorted(orders)

    out = io.BytesIO()
    handheld.write_excel(out, [october])
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == handheld.HEADERS and len(values) == 5


def test_upload_saves_holds_skips_and_is_idempotent(town, clerk_a, october):
    rows = fill(
        downloaded(october),
        {
            "M001": read("112.5"),
            "M002": read("100"),  # zero: held
            "M003": read("100", reason="空房"),  # zero with a reason: confirmed
        },
    )  # M001S left blank: skipped
    result = upload(clerk_a, rows)
    assert result.ok, result.errors
    assert (result.saved, result.held, result.unchanged, result.skipped) == (2, 1, 0, 1)
    m1 = Reading.objects.get(period=october, meter=town["meters"][0])
    assert m1.volume == D("12.50") and m1.source == ReadingSource.HANDHELD
    assert m1.state == ReadingState.ENTERED and m1.entered_by == clerk_a
    held = Reading.objects.get(period=october, meter=town["meters"][1])
    assert held.state == ReadingState.HELD and held.anomaly == "zero"
    confirmed = Reading.objects.get(period=october, meter=town["meters"][2])
    assert confirmed.state == ReadingState.ENTERED and confirmed.reason == "空房"
    entries = AuditEntry.objects.filter(object_type="readings.reading", verb="enter_reading")
    assert entries.count() == 3 and {e.actor for e in entries} == {clerk_a}

    again = upload(clerk_a, rows)
    assert again.ok and (again.saved, again.held, again.unchanged) == (0, 0, 3)
    assert entries.count() == 3  # no second journal entry
    # the file downloaded now shows the reads; uploading it changes nothing either
    again = upload(clerk_a, downloaded(october))
    assert again.ok and (again.saved, again.unchanged, again.skipped) == (0, 3, 1)
    # the held read comes back with a reason: confirmed (once)
    rows = fill(downloaded(october), {"M002": {"reason": "已核实空房"}})
    confirmed = upload(clerk_a, rows)
    assert confirmed.ok and (confirmed.saved, confirmed.unchanged) == (1, 2)
    held.refresh_from_db()
    assert held.state == ReadingState.ENTERED and held.reason == "已核实空房"
    assert AuditEntry.objects.filter(verb="confirm_reading", object_id=str(held.pk)).count() == 1
    assert upload(clerk_a, rows).unchanged == 3


def test_excel_and_gbk_csv_upload(town, clerk_a, october):
    rows = fill(downloaded(october), {"M001": read("105")})
    assert upload(clerk_a, rows, encoding="gb18030").saved == 1
    wb = Workbook()
    sheet = wb.active
    rows = fill(downloaded(october), {"M002": {"current": 107, "read_on": READ_ON}})
    for row in rows:
        sheet.append([107 if v == "107" else v for v in row])
    sheet.cell(row=2, column=12).value = READ_ON  # a real Excel date
    out = io.BytesIO()
    wb.save(out)
    result = handheld.import_file(clerk_a, io.BytesIO(out.getvalue()), "book.xlsx", today=TODAY)
    assert result.ok, result.errors
    assert Reading.objects.get(period=october, meter=town["meters"][1]).current == D("107")


def test_any_hard_error_refuses_the_whole_file(town, clerk_a, october):
    rows = fill(
        downloaded(october),
        {
            "M001": read("112.5"),  # fine, but not written
            "M002": read("abc"),
            "M003": read("105"),
            "M001S": read("120", day=datetime.date(2026, 12, 1), status_code="xyz"),
        },
    )
    row_of = {r[6]: n for n, r in enumerate(rows[1:], start=2)}
    rows.append(
        ["2026-10", "DA01", "9", "", "", "", "NOPE", "", "", "", "5", "2026-10-20"] + [""] * 5
    )
    rows.append(
        ["2026-10", "ZZ99", "9", "", "", "", "M001", "", "", "", "5", "2026-10-20"] + [""] * 5
    )
    rows.append(
        ["2026-10", "DA01", "9", "", "", "", "M002", "", "", "", "100000", "bad"] + [""] * 5
    )
    result = upload(clerk_a, rows)
    assert not result.ok
    got = {(e.row, e.column) for e in result.errors}
    assert (row_of["M002"], "本次读数") in got  # not a number
    assert (row_of["M001S"], "抄见状态") in got  # unknown status code
    assert (6, "表号") in got  # unknown meter
    assert (7, "抄表册编号") in got  # unknown period
    assert (8, "抄表日期") in got  # not a date
    assert all(e.message for e in result.errors)
    assert not Reading.objects.filter(period=october).exclude(state=ReadingState.PENDING).exists()

    # checks of the service: below previous, future date, dial size
    rows = fill(
        downloaded(october),
        {
            "M001": read("112.5"),
            "M002": read("99"),
            "M003": read("120", day=datetime.date(2026, 12, 1)),
            "M001S": read("100000"),
        },
    )
    result = upload(clerk_a, rows)
    messages = {(e.row, e.column): e.message for e in result.errors}
    row_of = {r[6]: n for n, r in enumerate(rows[1:], start=2)}
    assert "99" in messages[(row_of["M002"], "本次读数")]  # below previous, offers rollover
    assert (row_of["M003"], "抄表日期") in messages  # in the future
    assert "99999" in messages[(row_of["M001S"], "本次读数")]  # more than the dial shows
    assert not Reading.objects.filter(period=october).exclude(state=ReadingState.PENDING).exists()
    assert not AuditEntry.objects.filter(object_type="readings.reading").exists()


def test_correction_needs_a_reason_and_physical_maximum(town, clerk_a, october):
    rows = fill(downloaded(october), {"M001": read("112")})
    assert upload(clerk_a, rows).saved == 1
    rows = fill(downloaded(october), {"M001": read("115")})
    result = upload(clerk_a, rows)
    assert [e.column for e in result.errors] == ["原因"]
    assert Reading.objects.get(period=october, meter=town["meters"][0]).current == D("112")
    rows = fill(downloaded(october), {"M001": read("115", reason="看错")})
    result = upload(clerk_a, rows)
    assert result.ok and result.saved == 1
    assert AuditEntry.objects.filter(verb="correct_reading").count() == 1
    # above the physical maximum of a DN15 meter since January: refused
    rows = fill(downloaded(october), {"M002": read("99000")})
    result = upload(clerk_a, rows)
    assert not result.ok and "DN15" in result.errors[0].message


def test_scope_other_zone_is_unknown(town, org, admin, clerk_a):
    periods = services.open_periods(admin, org["zone_b"], OCT, today=TODAY)
    out = io.BytesIO()
    handheld.write_csv(out, periods)
    rows = fill(csv_rows(out.getvalue()), {"M004": read("110")})
    result = upload(clerk_a, rows)
    assert not result.ok and result.errors[0].column == "抄表册编号"
    assert upload(admin, rows).saved == 1


def test_pages_download_upload_and_error_report(town, clerk_a, cashier_a, login, october):
    client = login(clerk_a)
    page = client.get(reverse("readings:file_download"))
    assert page.status_code == 200 and "抄见状态" in page.content.decode()
    response = client.get(
        reverse("readings:file_download"), {"period": october.pk, "format": "csv"}
    )
    assert response.status_code == 200
    assert "202610-DA01.csv" in response["Content-Disposition"]
    rows = csv_rows(b"".join(response.streaming_content))
    fill(rows, {"M001": read("112.5"), "M002": read("100")})
    response = client.post(
        reverse("readings:file_upload"),
        {"file": SimpleUploadedFile("book.csv", as_csv(rows), content_type="text/csv")},
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="count-saved">1<' in html
    assert 'id="count-held">1<' in html and 'id="count-skipped">2<' in html
    response = client.get(
        reverse("readings:file_download"), {"book": town["book_a"].pk, "format": "xlsx"}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )

    fill(rows, {"M003": read("x")})
    response = client.post(
        reverse("readings:file_upload"),
        {"file": SimpleUploadedFile("book.csv", as_csv(rows), content_type="text/csv")},
    )
    token = response.context["token"]
    assert token and 'id="file-errors"' in response.content.decode()
    report = client.get(reverse("readings:file_error_report", args=[token]))
    sheet = load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    last = [row[-1] for row in sheet.iter_rows(values_only=True)]
    assert any(text and "本次读数" in text for text in last)

    other = login(cashier_a)
    assert other.get(reverse("readings:file_error_report", args=[token])).status_code in (403, 404)
    assert other.get(reverse("readings:file_upload")).status_code == 403
