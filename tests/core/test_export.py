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
