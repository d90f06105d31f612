import io

from openpyxl import load_workbook

from watermis.core.export import write_xlsx


def test_write_xlsx_round_trip():
    buf = io.BytesIO()
    write_xlsx(buf, "营业分区", ["代码", "名称"], [("DC", "东城区"), ("XC", None)])
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    assert ws.title == "营业分区"
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["代码", "名称"],
        ["DC", "东城区"],
        ["XC", None],
    ]


def test_list_export_follows_filters(org, admin, login):
    client = login(admin)
    response = client.get("/org/employees/", {"is_reader": "true", "export": "xlsx"})
    data = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2  # header + the one reader
    assert "张伟" in rows[1]


def test_rows_past_a_sheets_limit_go_on_in_another_sheet(monkeypatch):
    from watermis.core import export

    monkeypatch.setattr(export, "SHEET_ROWS", 3)  # a header and two rows a sheet
    buf = io.BytesIO()
    write_xlsx(buf, "抄表记录", ["表号"], [(f"M{i}",) for i in range(5)])
    book = load_workbook(io.BytesIO(buf.getvalue()))
    assert book.sheetnames == ["抄表记录", "抄表记录 (2)", "抄表记录 (3)"]
    sheets = [list(ws.iter_rows(values_only=True)) for ws in book.worksheets]
    assert sheets == [
        [("表号",), ("M0",), ("M1",)],
        [("表号",), ("M2",), ("M3",)],
        [("表号",), ("M4",)],
    ]


def test_an_empty_export_is_a_sheet_with_its_header():
    buf = io.BytesIO()
    write_xlsx(buf, "空", ["代码"], [])
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    assert list(ws.iter_rows(values_only=True)) == [("代码",)]


def test_an_export_past_the_cap_is_refused_with_the_filters_kept(org, admin, login, monkeypatch):
    from watermis.core import export

    client = login(admin)
    client.cookies["django_language"] = "en"
    monkeypatch.setattr(export, "EXPORT_CAP", 0)  # every reader is one too many
    response = client.get("/org/employees/", {"is_reader": "true", "export": "xlsx"})
    assert response.status_code == 302
    assert response["Location"] == "/org/employees/?is_reader=true"
    page = client.get(response["Location"]).content.decode()
    assert "More than 0 rows are chosen, too many for one export" in page
    monkeypatch.setattr(export, "EXPORT_CAP", 1)  # the one reader
    response = client.get("/org/employees/", {"is_reader": "true", "export": "xlsx"})
    assert response.status_code == 200
