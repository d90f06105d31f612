"""A small town for bill-run tests: a tiered tariff, one book of meters, reads entered by month."""

import datetime
from decimal import Decimal

from watermis.billing.tasks import run_queued_tasks
from watermis.customers import services as customer_services
from watermis.readings import services as reading_services
from watermis.readings.models import Reading
from watermis.tariffs import services as tariff_services
from watermis.tariffs.models import CategoryKind, MinimumVolume, TierMode

D = Decimal
INSTALLED = datetime.date(2026, 9, 20)


def build_town(org, admin, households=(3, 5, 4)):
    water = tariff_services.create_price_item(admin, {"code": "W", "name": "水费", "sort_order": 1})
    sewage = tariff_services.create_price_item(
        admin, {"code": "S", "name": "污水处理费", "sort_order": 2}
    )
    category = tariff_services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = tariff_services.create_tariff(
        admin, {"code": "RES", "name": "居民水价", "category": category}
    )
    tariff_services.create_version(
        admin,
        tariff,
        {
            "effective_from": datetime.date(2025, 1, 1),
            "tier_mode": TierMode.CYCLIC,
            "tiers": [D("180"), D("260"), None],
            "prices": [
                (water, 1, D("3.00")),
                (water, 2, D("4.00")),
                (water, 3, D("6.00")),
                (sewage, None, D("1.00")),
            ],
        },
        today=datetime.date(2025, 1, 1),
    )
    MinimumVolume.objects.create(category=category, caliber="DN15", monthly_volume=D("2.00"))
    area = customer_services.create_area(
        admin, {"code": "A1", "name": "东一片", "zone": org["zone_a"]}
    )
    book = customer_services.create_book(
        admin, {"code": "DA01", "name": "东一册", "area": area, "reader": org["emp_a"]}
    )
    customers = []
    for n, size in enumerate(households, start=1):
        customers.append(
            customer_services.open_customer(
                admin,
                {
                    "name": f"住户{n}",
                    "address": f"解放路{n}号",
                    "book": book,
                    "category": category,
                    "household_size": size,
                },
                {
                    "number": f"M{n:03d}",
                    "installed_on": INSTALLED,
                    "initial_reading": D("100"),
                    "tariff": tariff,
                    "caliber": "DN15",
                },
                today=INSTALLED,
            )
        )
    return {
        "zone": org["zone_a"],
        "book": book,
        "area": area,
        "tariff": tariff,
        "category": category,
        "water": water,
        "sewage": sewage,
        "customers": customers,
        "meters": [c.meters.get() for c in customers],
    }


def open_month(admin, town, month):
    return reading_services.open_periods(
        admin, town["zone"], month, today=month + datetime.timedelta(days=3)
    )


def read(admin, meter, month, current, day=20, **entry):
    """Enter the meter's read of ``month``, confirming whatever the checks find."""
    reading = Reading.objects.get(meter=meter, period__month=month, sequence=1)
    read_on = month.replace(day=day)
    return reading_services.enter_reading(
        admin,
        reading,
        reading_services.Entry(D(current), read_on, confirm=True, reason="测试", **entry),
        today=read_on,
    )


def run_tasks():
    """Run every queued task here, as ``manage.py db_worker --batch`` would; returns how many."""
    return run_queued_tasks()
