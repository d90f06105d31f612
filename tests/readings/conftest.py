"""A book in zone A with three customers (one with a sub-meter behind a district meter),
a book in zone B, and the periods of October and November 2026 opened."""

import datetime
from decimal import Decimal

import pytest

from watermis.customers import services as customer_services
from watermis.customers.models import MeterKind
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind

OCT = datetime.date(2026, 10, 1)
NOV = datetime.date(2026, 11, 1)
TODAY = datetime.date(2026, 11, 24)


@pytest.fixture
def town(org, admin):
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    area_a = customer_services.create_area(
        admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]}
    )
    area_b = customer_services.create_area(
        admin, {"code": "B1", "name": "西一片", "zone": org["zone_b"]}
    )
    book_a = customer_services.create_book(
        admin, {"code": "DA01", "name": "东一册", "area": area_a, "reader": org["emp_a"]}
    )
    book_b = customer_services.create_book(
        admin, {"code": "XB01", "name": "西一册", "area": area_b}
    )
    district = customer_services.create_master_meter(
        admin,
        {"number": "Z001", "installed_on": datetime.date(2026, 1, 1), "caliber": "DN100"},
        org["zone_a"],
        kind=MeterKind.DISTRICT,
    )
    customers, meters = [], []
    for n, (name, book) in enumerate(
        [("张三", book_a), ("李四", book_a), ("王五", book_a), ("赵六", book_b)], start=1
    ):
        customer = customer_services.open_customer(
            admin,
            {
                "name": name,
                "address": f"解放路{n}号",
                "book": book,
                "category": category,
                "household_size": 3,
            },
            {
                "number": f"M{n:03d}",
                "installed_on": datetime.date(2026, 1, 1),
                "initial_reading": Decimal("100"),
                "tariff": tariff,
                "caliber": "DN15",
                "master": district if book == book_a else None,
            },
            today=datetime.date(2026, 1, 1),
        )
        customers.append(customer)
        meters.append(customer.meters.get())
    sub = customer_services.add_meter(
        admin,
        customers[0],
        {
            "number": "M001S",
            "installed_on": datetime.date(2026, 1, 1),
            "tariff": tariff,
            "parent": meters[0],
            "master": district,
        },
    )
    return {
        "category": category,
        "tariff": tariff,
        "book_a": book_a,
        "book_b": book_b,
        "district": district,
        "customers": customers,
        "meters": meters,
        "sub": sub,
    }


@pytest.fixture(autouse=True)
def english(settings, client):
    """These tests read messages in English: services and pages (the language cookie)."""
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield
