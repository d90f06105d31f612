"""Fixtures of the bank collection tests: two banks (fixed-width GBK with a header, CSV UTF-8
with a trailer), customers mandated for each in two zones, one paying at the counter, bills.

Import the fixtures a test module uses: ``from .bank_fixtures import *``.
"""

import datetime
from decimal import Decimal

import pytest
from tests.conftest import make_operator

from billing.factories import make_bill
from watermis.customers import services as customer_services
from watermis.customers.models import PaymentMethod
from watermis.org.roles import CLERK
from watermis.payments import bank
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

D = Decimal
MONTHS = [datetime.date(2026, 8, 1), datetime.date(2026, 9, 1), datetime.date(2026, 10, 1)]
TODAY = datetime.date(2026, 11, 24)
NOW = datetime.datetime(2026, 11, 24, 10, 30, tzinfo=datetime.UTC)
ICBC_NAME = "中国工商银行江城分行"
CCB_NAME = "中国建设银行江城支行"

__all__ = [
    "D",
    "MONTHS",
    "NOW",
    "TODAY",
    "bank_town",
    "banks",
    "clerk_b",
    "make_bill",
    "bills",
    "generate",
]


@pytest.fixture
def clerk_b(org):
    return make_operator(org, "clerk_b", CLERK, unit_key="unit_b")


def _customer(admin, book, category, tariff, n, name, method, bank_name="", account=""):
    return customer_services.open_customer(
        admin,
        {
            "name": name,
            "address": f"解放路{n}号",
            "book": book,
            "category": category,
            "payment_method": method,
            "bank_name": bank_name,
            "bank_account": account,
            "mandate_no": f"WT{n:04d}" if account else "",
        },
        {
            "number": f"M{n:03d}",
            "installed_on": datetime.date(2025, 1, 1),
            "tariff": tariff,
        },
        today=datetime.date(2025, 1, 1),
    )


@pytest.fixture
def bank_town(org, admin):
    """Zone A: book A1 (张三 ICBC, 李四 ICBC, 王五 counter, 赵六 CCB), book A2 (钱七 ICBC);
    zone B: book B1 (孙八 ICBC)."""
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area_a = customer_services.create_area(
        admin, {"code": "A", "name": "东片", "zone": org["zone_a"]}
    )
    area_b = customer_services.create_area(
        admin, {"code": "B", "name": "西片", "zone": org["zone_b"]}
    )
    book_a1 = customer_services.create_book(admin, {"code": "A1", "name": "东一册", "area": area_a})
    book_a2 = customer_services.create_book(admin, {"code": "A2", "name": "东二册", "area": area_a})
    book_b1 = customer_services.create_book(admin, {"code": "B1", "name": "西一册", "area": area_b})
    bank_method, counter = PaymentMethod.BANK, PaymentMethod.COUNTER
    people = [
        (book_a1, 1, "张三", bank_method, ICBC_NAME, "6222 0200 0000 0001"),
        (book_a1, 2, "李四", bank_method, ICBC_NAME, "6222020000000002"),
        (book_a1, 3, "王五", counter, "", ""),
        (book_a1, 4, "赵六", bank_method, CCB_NAME, "6217000000000004"),
        (book_a2, 5, "钱七", bank_method, ICBC_NAME, "6222020000000005"),
        (book_b1, 6, "孙八", bank_method, ICBC_NAME, "6222020000000006"),
    ]
    customers = [
        _customer(admin, book, category, tariff, n, name, method, bank_name, account)
        for book, n, name, method, bank_name, account in people
    ]
    return {
        "zone_a": org["zone_a"],
        "zone_b": org["zone_b"],
        "book_a1": book_a1,
        "book_a2": book_a2,
        "book_b1": book_b1,
        "customers": customers,
        "zhang": customers[0],
        "li": customers[1],
        "wang": customers[2],
        "zhao": customers[3],
        "qian": customers[4],
        "sun": customers[5],
    }


@pytest.fixture
def banks(admin):
    icbc = bank.create_bank(
        admin,
        {
            "code": "ICBC",
            "name": "工商银行江城分行",
            "customer_bank_prefix": "中国工商银行",
            "merchant_no": "JCWATER01",
            "file_format": "fixed",
            "encoding": "gbk",
            "line_ending": "crlf",
            "summary": "header",
            "result_summary": "header",
            "detail_fields": [
                {"name": "seq", "width": 6},
                {"name": "account_name", "width": 8},
                {"name": "bank_account", "width": 20},
                {"name": "month", "width": 6},
                {"name": "amount_fen", "width": 10},
            ],
            "summary_fields": [
                {"name": "constant", "width": 1, "value": "H"},
                {"name": "merchant", "width": 10},
                {"name": "count", "width": 6},
                {"name": "amount_fen", "width": 12},
            ],
            "result_fields": [
                {"name": "seq", "width": 6},
                {"name": "account_name", "width": 8},
                {"name": "bank_account", "width": 20},
                {"name": "month", "width": 6},
                {"name": "amount_fen", "width": 10},
                {"name": "result", "width": 4},
                {"name": "message", "width": 20},
            ],
            "success_codes": "0000",
            "active": True,
        },
    )
    ccb = bank.create_bank(
        admin,
        {
            "code": "CCB",
            "name": "建设银行江城支行",
            "customer_bank_prefix": "中国建设银行",
            "merchant_no": "CCB-77",
            "file_format": "csv",
            "encoding": "utf-8",
            "line_ending": "lf",
            "delimiter": "|",
            "summary": "trailer",
            "result_summary": "none",
            "detail_fields": [
                {"name": "batch"},
                {"name": "seq"},
                {"name": "customer"},
                {"name": "account_name"},
                {"name": "bank_account"},
                {"name": "mandate"},
                {"name": "amount"},
            ],
            "summary_fields": [
                {"name": "constant", "value": "TOTAL"},
                {"name": "count"},
                {"name": "amount"},
            ],
            "result_fields": [
                {"name": "batch"},
                {"name": "seq"},
                {"name": "amount"},
                {"name": "result"},
                {"name": "message"},
            ],
            "success_codes": "00,000",
            "active": True,
        },
    )
    return {"icbc": icbc, "ccb": ccb}


@pytest.fixture
def bills(bank_town):
    """Unpaid bills: 张三 two months, 李四, 王五 (counter), 赵六 (CCB), 钱七, 孙八 (zone B)."""
    t = bank_town
    return {
        "zhang_aug": make_bill(t["zhang"], D("35.50"), MONTHS[0]),
        "zhang_sep": make_bill(t["zhang"], D("41.20"), MONTHS[1]),
        "li_sep": make_bill(t["li"], D("28.00"), MONTHS[1]),
        "wang_sep": make_bill(t["wang"], D("19.90"), MONTHS[1]),
        "zhao_sep": make_bill(t["zhao"], D("66.60"), MONTHS[1]),
        "qian_oct": make_bill(t["qian"], D("12.34"), MONTHS[2]),
        "sun_sep": make_bill(t["sun"], D("50.00"), MONTHS[1]),
    }


@pytest.fixture
def generate(admin, bank_town, banks):
    """generate(**options) → the batches, by an administrator, on TODAY, zone A by default."""

    def _generate(actor=None, zone=None, **options):
        return bank.generate_batches(
            actor or admin, zone or bank_town["zone_a"], today=TODAY, now=NOW, **options
        )

    return _generate
