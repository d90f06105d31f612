"""Sample data of every document kind: what the live preview prints, and what layouts are
checked against when saved. Every field of the kind's catalogue has a value here
(a test holds them together), with lists long enough to show a table filling up."""

import copy
import datetime
from decimal import Decimal

from .models import DocumentKind

D = Decimal
PRINTED_ON = datetime.date(2026, 3, 25)

COMPANY = {
    "name": "滨江市自来水有限公司",
    "short_name": "滨江水务",
    "address": "滨江市东城区人民路88号",
    "postal_code": "310000",
    "phone": "0571-87001234",
    "service_hotline": "96390",
    "credit_code": "913301007046543218",
    "bank_name": "中国工商银行滨江东城支行",
    "bank_account": "1202 0210 0900 0123 456",
    "website": "https://www.bjwater.example.cn",
}

CUSTOMER = {
    "account_no": "DC000123",
    "name": "张三丰",
    "address": "东城区人民路128号3幢2单元501室",
    "phone": "13812345678",
    "category": "居民生活用水",
    "household_size": 3,
    "payment_method": "柜台缴费",
    "bank_name": "中国农业银行滨江分行",
    "bank_account": "6228 4801 2345 6789 012",
    "mandate_no": "WT2024-000518",
    "zone": "东城区",
    "book_code": "DC-A01-03",
    "route_order": 12,
    "opened_on": datetime.date(2019, 5, 8),
}

COMMON = {"company": COMPANY, "printed_on": PRINTED_ON, "printed_by": "王丽"}


def _month(year, month):
    return datetime.date(year, month, 1)


BILLS = [
    {
        "month": _month(2026, 1),
        "meter_number": "M2019050801",
        "period_start": datetime.date(2025, 12, 20),
        "period_end": datetime.date(2026, 1, 20),
        "previous": D("1234"),
        "current": D("1252"),
        "volume": D("18"),
        "amount": D("70.20"),
    },
    {
        "month": _month(2026, 2),
        "meter_number": "M2019050801",
        "period_start": datetime.date(2026, 1, 20),
        "period_end": datetime.date(2026, 2, 20),
        "previous": D("1252"),
        "current": D("1273"),
        "volume": D("21"),
        "amount": D("81.90"),
    },
]

LINES = [
    {
        "item": "水费",
        "tier": "第1阶梯",
        "volume": D("39"),
        "unit_price": D("2.8000"),
        "amount": D("109.20"),
    },
    {
        "item": "污水处理费",
        "tier": "",
        "volume": D("39"),
        "unit_price": D("0.9000"),
        "amount": D("35.10"),
    },
    {
        "item": "水资源费",
        "tier": "",
        "volume": D("39"),
        "unit_price": D("0.2000"),
        "amount": D("7.80"),
    },
]

READINGS = [
    {
        "month": _month(2025, month),
        "read_on": datetime.date(2025, month, 20),
        "previous": D(1100 + 17 * (month - 4)),
        "current": D(1100 + 17 * (month - 3)),
        "volume": D(17),
        "status": "正常",
    }
    for month in range(10, 13)
] + [
    {
        "month": _month(2026, 1),
        "read_on": datetime.date(2026, 1, 20),
        "previous": D("1253"),
        "current": D("1271"),
        "volume": D("18"),
        "status": "正常",
    },
    {
        "month": _month(2026, 2),
        "read_on": datetime.date(2026, 2, 21),
        "previous": D("1271"),
        "current": D("1271"),
        "volume": D("0"),
        "status": "无人在家",
    },
    {
        "month": _month(2026, 3),
        "read_on": datetime.date(2026, 3, 20),
        "previous": D("1271"),
        "current": D("1310"),
        "volume": D("39"),
        "status": "正常",
    },
]


SAMPLES = {
    DocumentKind.WATER_INVOICE: {
        **COMMON,
        "invoice": {
            "number": "00012345",
            "issued_on": PRINTED_ON,
            "operator": "王丽",
            "remark": "",
            "original_number": "",
        },
        "customer": CUSTOMER,
        "bills": BILLS,
        "lines": LINES,
        "totals": {"water": D("152.10"), "late_fee": D("1.35"), "total": D("153.45")},
        "payment": {
            "method": "现金",
            "received": D("160.00"),
            "change": D("6.55"),
            "balance": D("0.00"),
        },
    },
    DocumentKind.AGENCY_INVOICE: {
        **COMMON,
        "invoice": {
            "number": "00004521",
            "issued_on": PRINTED_ON,
            "operator": "王丽",
            "remark": "",
            "original_number": "",
        },
        "customer": CUSTOMER,
        "lines": [
            {
                "month": _month(2026, 1),
                "item": "污水处理费",
                "tier": "",
                "volume": D("18"),
                "unit_price": D("0.9000"),
                "amount": D("16.20"),
                "collected_for": "滨江市排水管理处",
            },
            {
                "month": _month(2026, 1),
                "item": "水资源费",
                "tier": "",
                "volume": D("18"),
                "unit_price": D("0.2000"),
                "amount": D("3.60"),
                "collected_for": "滨江市水利局",
            },
            {
                "month": _month(2026, 2),
                "item": "污水处理费",
                "tier": "",
                "volume": D("21"),
                "unit_price": D("0.9000"),
                "amount": D("18.90"),
                "collected_for": "滨江市排水管理处",
            },
        ],
        "totals": {"total": D("38.70")},
    },
    DocumentKind.RECEIPT: {
        **COMMON,
        "receipt": {
            "number": "R2026-0003187",
            "issued_on": PRINTED_ON,
            "operator": "王丽",
            "remark": "",
        },
        "customer": CUSTOMER,
        "payment": {
            "method": "现金",
            "amount": D("152.10"),
            "received": D("160.00"),
            "change": D("7.90"),
            "balance_before": D("0.00"),
            "balance_after": D("0.00"),
        },
        "bills": BILLS,
    },
    DocumentKind.PAYMENT_NOTICE: {
        **COMMON,
        "as_of": PRINTED_ON,
        "pay_by": datetime.date(2026, 4, 10),
        "month": _month(2026, 2),
        "customer": CUSTOMER,
        "reading": {
            "meter_number": "M2019050801",
            "period_start": datetime.date(2026, 1, 20),
            "period_end": datetime.date(2026, 2, 20),
            "previous": D("1252"),
            "current": D("1273"),
            "volume": D("21"),
        },
        "bills": [{**BILLS[1], "open": D("81.90"), "due_on": datetime.date(2026, 3, 31)}],
        "lines": [
            {
                "meter_number": "M2019050801",
                "item": "水费",
                "tier": "第1阶梯",
                "volume": D("21"),
                "unit_price": D("2.8000"),
                "amount": D("58.80"),
            },
            {
                "meter_number": "M2019050801",
                "item": "污水处理费",
                "tier": "",
                "volume": D("21"),
                "unit_price": D("0.9000"),
                "amount": D("18.90"),
            },
            {
                "meter_number": "M2019050801",
                "item": "水资源费",
                "tier": "",
                "volume": D("21"),
                "unit_price": D("0.2000"),
                "amount": D("4.20"),
            },
        ],
        "arrears": [
            {
                "month": _month(2026, 1),
                "meter_number": "M2019050801",
                "amount": D("70.20"),
                "open": D("70.20"),
                "late_fee": D("1.35"),
                "due_on": datetime.date(2026, 2, 28),
            }
        ],
        "totals": {
            "current": D("81.90"),
            "arrears": D("70.20"),
            "late_fee": D("1.35"),
            "total": D("153.45"),
        },
    },
    DocumentKind.ARREARS_NOTICE: {
        **COMMON,
        "as_of": PRINTED_ON,
        "pay_by": datetime.date(2026, 4, 4),
        "customer": CUSTOMER,
        "bills": [
            {
                "month": _month(2025, 11),
                "meter_number": "M2019050801",
                "volume": D("16"),
                "amount": D("62.40"),
                "open": D("62.40"),
                "late_fee": D("8.52"),
                "total": D("70.92"),
                "due_on": datetime.date(2025, 12, 31),
                "days_overdue": 84,
            },
            {
                "month": _month(2025, 12),
                "meter_number": "M2019050801",
                "volume": D("19"),
                "amount": D("74.10"),
                "open": D("44.10"),
                "late_fee": D("3.90"),
                "total": D("48.00"),
                "due_on": datetime.date(2026, 1, 31),
                "days_overdue": 53,
            },
            {
                "month": _month(2026, 1),
                "meter_number": "M2019050801",
                "volume": D("18"),
                "amount": D("70.20"),
                "open": D("70.20"),
                "late_fee": D("1.35"),
                "total": D("71.55"),
                "due_on": datetime.date(2026, 2, 28),
                "days_overdue": 25,
            },
        ],
        "totals": {
            "principal": D("176.70"),
            "late_fee": D("13.77"),
            "total": D("190.47"),
            "months": 3,
            "oldest_month": _month(2025, 11),
        },
    },
    DocumentKind.BANK_SLIP: {
        **COMMON,
        "slip": {"number": "TS202603-000128", "batch": "202603-01", "issued_on": PRINTED_ON},
        "customer": CUSTOMER,
        "bills": BILLS,
        "totals": {"amount": D("152.10")},
    },
    DocumentKind.DEPOSIT_VOUCHER: {
        **COMMON,
        "voucher": {
            "number": "YC2026-000342",
            "issued_on": PRINTED_ON,
            "operator": "王丽",
            "remark": "",
        },
        "customer": CUSTOMER,
        "deposit": {
            "amount": D("300.00"),
            "method": "微信支付",
            "balance_before": D("12.30"),
            "balance_after": D("312.30"),
        },
    },
    DocumentKind.METER_CARD: {
        **COMMON,
        "book": {
            "code": "DC-A01-03",
            "name": "人民路东段",
            "area": "人民路片区",
            "zone": "东城区",
            "reader": "张伟",
            "reader_phone": "13900001111",
            "collector": "李娜",
            "cycle": "每月",
            "reading_day": 20,
        },
        "customer": CUSTOMER,
        "meter": {
            "number": "M2019050801",
            "caliber": "DN15",
            "brand": "宁波水表",
            "model": "LXS-15E",
            "digits": 5,
            "installed_on": datetime.date(2019, 5, 8),
            "location": "楼道水表箱 2-501",
            "initial_reading": D("0"),
            "tariff": "居民阶梯水价",
        },
        "readings": READINGS,
        "last": {
            "month": _month(2026, 3),
            "read_on": datetime.date(2026, 3, 20),
            "current": D("1310"),
            "volume": D("39"),
        },
        "average_volume": D("18.0"),
    },
}


def sample_context(kind):
    """A fresh copy of the sample data of ``kind`` (the caller may change it)."""
    return copy.deepcopy(SAMPLES[DocumentKind(kind)])
