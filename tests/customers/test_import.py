"""Customer import from .xlsx (issue 4 item 7): checked row by row, all-or-nothing, journaled;
export in the same layout re-imports cleanly; the upload, report and export pages."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from watermis.core.export import write_xlsx
from watermis.core.models import AuditEntry
from watermis.customers import importer, services
from watermis.customers.models import AccountSequence, Customer, Meter, MeterEvent
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

DAY = datetime.date(2026, 3, 1)


@pytest.fixture
def english():
    """Messages are checked in English (the default UI language is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def setup(org, admin):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area_a = services.create_area(admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]})
    area_b = services.create_area(admin, {"code": "B1", "name": "西一片", "zone": org["zone_b"]})
    services.create_book(admin, {"code": "DA01", "name": "东一册", "area": area_a})
    services.create_book(admin, {"code": "XB01", "name": "西一册", "area": area_b})
    return {"category": category, "tariff": tariff}


def row(**values):
    base = {
        "用户名称": "张三丰",
        "电话": "13800000001",
        "地址": "江城市东城区解放路1号",
        "抄表册编号": "DA01",
        "用水类别编号": "RES",
        "人口数": 3,
        "开户日期": DAY,
        "表号": "M001",
        "口径": "DN15",
        "初始读数": Decimal("12.5"),
        "水价编号": "RES",
    }
    base.update(values)
    return base


def xlsx(rows, header=importer.HEADERS):
    buffer = io.BytesIO()
    write_xlsx(buffer, "customers", header, [[r.get(h) for h in header] for r in rows])
    buffer.seek(0)
    buffer.name = "customers.xlsx"
    return buffer


def test_good_file_imports_everything_with_journal(setup, clerk_a):
    rows = [
        row(户号="OLD-0001", 表号="M001"),
        row(户号="OLD-0001", 用户名称="", 地址="", 表号="M002", 远传="是", 设备地址="A0001"),
        row(客户键="k1", 用户名称="李四", 表号="M003", 低保户="是", 缴费方式="走收"),
        row(客户键="k1", 用户名称="李四", 表号="M004", 表位数=6, 初始读数=999999),
        row(用户名称="王五", 表号="M005", 开户日期="2025-12-31"),
    ]
    result = importer.import_file(clerk_a, xlsx(rows), today=DAY)
    assert result.ok, result.errors
    assert (result.rows, result.customers, result.meters) == (5, 3, 5)
    kept = Customer.objects.get(account_no="OLD-0001")  # legacy number kept
    assert kept.name_initials == "zsf" and kept.meters.count() == 2
    assert kept.meters.get(number="M002").remote_read
    li = Customer.objects.get(name="李四")
    assert li.account_no == "DC000001" and li.low_income and li.payment_method == "collector"
    assert li.meters.get(number="M004").initial_reading == Decimal("999999")
    assert Customer.objects.get(name="王五").opened_on == datetime.date(2025, 12, 31)
    assert AccountSequence.objects.get(zone__code="DC").next_value == 3
    assert MeterEvent.objects.filter(kind="install").count() == 5
    for label, count in (
        ("customers.customer", 3),
        ("customers.meter", 5),
        ("customers.meterevent", 5),
    ):
        entries = AuditEntry.objects.filter(object_type=label, verb="import")
        assert entries.count() == count
        assert set(entries.values_list("actor_id", flat=True)) == {clerk_a.pk}
    # the next account opened by hand does not reuse a number
    with transaction.atomic():
        assert services.next_account_number(kept.zone) == "DC000003"


def test_bad_rows_write_nothing_and_every_error_is_reported(setup, clerk_a, english):
    services.open_customer(
        None,
        {
            "name": "老用户",
            "address": "x",
            "book": services.Book.objects.get(code="DA01"),
            "category": setup["category"],
        },
        {"number": "EXIST1", "installed_on": DAY, "tariff": setup["tariff"]},
        today=DAY,
    )
    taken = Customer.objects.get().account_no
    before = (Customer.objects.count(), Meter.objects.count(), AuditEntry.objects.count())
    rows = [
        row(表号="G1"),  # a good row: not written either
        row(用户名称="", 表号="B1"),  # required
        row(抄表册编号="NOPE", 表号="B2"),  # unknown book
        row(用水类别编号="X", 水价编号="Y", 表号="B3"),  # unknown codes
        row(人口数="many", 开户日期="31/12/2025", 表号="B4"),  # formats
        row(表号="EXIST1"),  # meter number in the database
        row(表号="G1"),  # meter number twice in the file
        row(户号=taken, 表号="B5"),  # account number taken
        row(抄表册编号="XB01", 表号="B6"),  # a book outside the clerk's zone
        row(远传="是", 表号="B7", 证件号码="abc"),  # remote without address, bad ID
        row(表位数=4, 初始读数=10000, 表号="B8"),  # reading beyond the dial
    ]
    with translation.override("en"):
        result = importer.import_file(clerk_a, xlsx(rows), today=DAY)
    assert not result.ok
    after = (Customer.objects.count(), Meter.objects.count(), AuditEntry.objects.count())
    assert after == before
    found = {(e.row, e.column) for e in result.errors}
    assert found >= {
        (3, "用户名称"),
        (4, "抄表册编号"),
        (5, "用水类别编号"),
        (5, "水价编号"),
        (6, "人口数"),
        (6, "开户日期"),
        (7, "表号"),
        (8, "表号"),
        (9, "户号"),
        (10, "抄表册编号"),
        (11, "设备地址"),
        (11, "证件号码"),
        (12, "初始读数"),
    }
    assert not any(e.row == 2 for e in result.errors)
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert "row 2" in messages[(8, "表号")] and "outside your zones" in messages[(10, "抄表册编号")]
    report = io.BytesIO()
    with translation.override("en"):
        importer.error_report(result, report)
    ws = load_workbook(report).worksheets[0]
    values = list(ws.iter_rows(values_only=True))
    assert values[0][-1] == "Errors" and len(values) == len(rows) + 1
    assert values[1][-1] in (None, "") and "抄表册编号" in values[3][-1]
    assert values[6][importer.HEADERS.index("表号")] == "EXIST1"


def test_rows_of_one_customer_must_agree(setup, clerk_a):
    rows = [row(客户键="a", 表号="M1"), row(客户键="a", 地址="别处", 表号="M2")]
    result = importer.import_file(clerk_a, xlsx(rows), today=DAY)
    assert [(e.row, e.column) for e in result.errors] == [(3, "地址")]


def test_missing_columns_and_not_xlsx(setup, clerk_a):
    with pytest.raises(importer.ImportFileError, match="表号"):
        importer.import_file(clerk_a, xlsx([row()], header=importer.HEADERS[:10]))
    with pytest.raises(importer.ImportFileError):
        importer.import_file(clerk_a, io.BytesIO(b"not a workbook"))


def _export(customers=None):
    buffer = io.BytesIO()
    importer.write_export(customers or Customer.objects.all(), buffer)
    buffer.seek(0)
    return buffer


def _sheet(buffer):
    buffer.seek(0)
    values = list(load_workbook(buffer).worksheets[0].iter_rows(values_only=True))
    buffer.seek(0)
    return values


def test_export_round_trip(setup, clerk_a):
    rows = [
        row(户号="L1", 表号="M1", 证件号码="110101199001011234", 表位置="厨房"),
        row(户号="L1", 表号="M2", 远传="是", 远程阀控="是", 设备地址="0099", 水表品牌="宁波"),
        row(用户名称="钱七", 表号="M3", 缴费方式="银行代扣", 抄表顺序=20, 口径="DN20"),
    ]
    with transaction.atomic():
        assert importer.import_file(clerk_a, xlsx(rows), today=DAY).ok
        first = _export()
        transaction.set_rollback(True)
    assert not Customer.objects.exists()
    result = importer.import_file(clerk_a, first, today=DAY)
    assert result.ok, result.errors
    assert (result.customers, result.meters) == (2, 3)
    second = _export()
    assert _sheet(second) == _sheet(first)
    assert len(_sheet(first)) == 4


def test_a_large_file_imports_whole(setup, admin):
    """Grouped rows (two meters per customer by 客户键) in one bulk transaction; speed is
    measured by bench/customers.py, not here."""
    rows = [
        row(用户名称=f"用户{i}", 表号=f"P{i:06d}", 客户键=str(i // 2), 抄表顺序=i)
        for i in range(2000)
    ]
    for r in rows[1::2]:
        r["用户名称"] = ""
        r["抄表顺序"] = None
    result = importer.import_file(admin, xlsx(rows), today=DAY)
    assert result.ok, result.errors[:5]
    assert (result.customers, result.meters) == (1000, 2000)
    assert (
        AuditEntry.objects.filter(object_type="customers.customer", verb="import").count() == 1000
    )


# --- pages -------------------------------------------------------------------------------


def test_upload_page_imports(setup, clerk_a, login):
    client = login(clerk_a)
    page = client.get(reverse("customers_import:upload"))
    assert page.status_code == 200 and "抄表册编号" in page.content.decode()
    template = client.get(reverse("customers_import:template"))
    assert load_workbook(io.BytesIO(template.content)).worksheets[0]["A1"].value == "户号"
    response = client.post(reverse("customers_import:upload"), {"file": xlsx([row()])})
    assert response.status_code == 200 and b"import-done" in response.content
    assert Customer.objects.count() == 1


def test_upload_page_errors_and_report(setup, clerk_a, login):
    client = login(clerk_a)
    response = client.post(
        reverse("customers_import:upload"), {"file": xlsx([row(抄表册编号="NOPE")])}
    )
    assert b"import-failed" in response.content and not Customer.objects.exists()
    token = response.context["token"]
    report = client.get(reverse("customers_import:error_report", args=[token]))
    assert report.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(report.streaming_content))).worksheets[0]
    assert "NOPE" in ws.cell(row=2, column=len(importer.HEADERS) + 1).value
    # a report is served only to the session that made it
    assert client.get(reverse("customers_import:error_report", args=["0" * 32])).status_code == 404
    client.logout()
    client.force_login(clerk_a)
    assert client.get(reverse("customers_import:error_report", args=[token])).status_code == 404


def test_upload_page_refuses_non_xlsx(setup, clerk_a, login):
    client = login(clerk_a)
    bad = io.BytesIO(b"a,b")
    bad.name = "x.csv"
    response = client.post(reverse("customers_import:upload"), {"file": bad})
    assert response.status_code == 200 and response.context["form"].errors["file"]


def test_export_page_filters_by_scope_and_book(setup, admin, clerk_a, login):
    rows = [row(表号="M1"), row(用户名称="西区", 抄表册编号="XB01", 表号="M2")]
    assert importer.import_file(admin, xlsx(rows), today=DAY).ok
    client = login(clerk_a)
    assert client.get(reverse("customers_import:export")).status_code == 200
    response = client.get(reverse("customers_import:export"), {"export": "xlsx"})
    values = _sheet(io.BytesIO(b"".join(response.streaming_content)))
    assert [v[importer.HEADERS.index("表号")] for v in values[1:]] == ["M1"]  # zone A only
    book = services.Book.objects.get(code="DA01")
    response = client.get(reverse("customers_import:export"), {"export": "xlsx", "book": book.pk})
    assert len(_sheet(io.BytesIO(b"".join(response.streaming_content)))) == 2


def test_cashier_may_not_import(setup, cashier_a, login):
    client = login(cashier_a)
    assert client.get(reverse("customers_import:upload")).status_code == 403
    assert (
        client.post(reverse("customers_import:upload"), {"file": xlsx([row()])}).status_code == 403
    )
    assert client.get(reverse("customers_import:template")).status_code == 403
    assert client.get(reverse("customers_import:export")).status_code == 200  # may view
    assert not Customer.objects.exists()
