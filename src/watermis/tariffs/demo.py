"""The demo company's price list: price items, categories, tariffs with their price history,
minimum volumes. Built through the services, so every row is validated and journaled."""

import datetime
from decimal import Decimal

from . import services
from .models import CategoryKind, RevenueKind, SurchargeKind, TaxTreatment, TierMode

D = Decimal

ITEMS = [
    ("WATER", "水费", RevenueKind.OWN, "", TaxTreatment.VAT_SIMPLE, "0.03"),
    ("SEWAGE", "污水处理费", RevenueKind.AGENCY, "江城市排水管理处", TaxTreatment.NON_TAXABLE, "0"),
    (
        "RESOURCE",
        "水资源税",
        RevenueKind.AGENCY,
        "国家税务总局江城市税务局",
        TaxTreatment.NON_TAXABLE,
        "0",
    ),
    (
        "GARBAGE",
        "垃圾处理费",
        RevenueKind.AGENCY,
        "江城市城市管理局",
        TaxTreatment.NON_TAXABLE,
        "0",
    ),
    ("QUOTA", "超计划累进加价", RevenueKind.OWN, "", TaxTreatment.VAT_SIMPLE, "0.03"),
    ("METER", "水表维护费", RevenueKind.OWN, "", TaxTreatment.VAT, "0.06"),
]

CATEGORIES = [
    ("RES", "居民生活用水", CategoryKind.RESIDENTIAL),
    ("RESG", "居民用水（含垃圾费）", CategoryKind.RESIDENTIAL),
    ("SHARED", "合表居民用水", CategoryKind.SHARED),
    ("NONRES", "非居民用水", CategoryKind.NON_RESIDENTIAL),
    ("SPECIAL", "特种行业用水", CategoryKind.SPECIAL),
]

MINIMUMS = {
    "NONRES": {"DN15": 2, "DN20": 3, "DN25": 5, "DN40": 10, "DN50": 15, "DN80": 30, "DN100": 50},
    "SPECIAL": {"DN15": 5, "DN20": 8, "DN25": 10, "DN40": 20, "DN50": 30},
}


def build(rng=None, today=None):
    today = today or datetime.date.today()
    items = {
        code: services.create_price_item(
            None,
            {
                "code": code,
                "name": name,
                "revenue_kind": kind,
                "collected_for": body,
                "tax_treatment": tax,
                "tax_rate": D(rate),
                "sort_order": n * 10,
            },
        )
        for n, (code, name, kind, body, tax, rate) in enumerate(ITEMS)
    }
    categories = {
        code: services.create_category(
            None, {"code": code, "name": name, "kind": kind, "sort_order": n * 10}
        )
        for n, (code, name, kind) in enumerate(CATEGORIES)
    }

    def tariff(code, name, category, versions):
        t = services.create_tariff(
            None, {"code": code, "name": name, "category": categories[category]}
        )
        for start, data in versions:
            services.create_version(None, t, {"effective_from": start, **data}, today=start)
        return t

    def flat(**prices):
        return [(items[code], None, D(p)) for code, p in prices.items()]

    def tiered(code, *prices):
        return [(items[code], n, D(p)) for n, p in enumerate(prices, start=1)]

    cyclic = {
        "tier_mode": TierMode.CYCLIC,
        "cycle_start_month": 1,
        "base_household_size": 4,
        "person_step": D("30"),
        "widen_tiers": "1",
        "tiers": [D("180"), D("260"), None],
    }
    tariffs = {
        "RES": tariff(
            "RES",
            "居民阶梯水价",
            "RES",
            [
                (
                    datetime.date(2024, 1, 1),
                    {
                        **cyclic,
                        "prices": [
                            *tiered("WATER", "2.07", "4.07", "6.07"),
                            *flat(RESOURCE="1.57", SEWAGE="1.36"),
                        ],
                        "note": "江价〔2023〕18号",
                    },
                ),
                (
                    datetime.date(2026, 7, 1),
                    {
                        **cyclic,
                        "prices": [
                            *tiered("WATER", "2.27", "4.47", "6.67"),
                            *flat(RESOURCE="1.57", SEWAGE="1.46"),
                        ],
                        "note": "江价〔2026〕9号：水费与污水处理费上调",
                    },
                ),
            ],
        ),
        "RESG": tariff(
            "RESG",
            "居民月度阶梯水价（含垃圾费）",
            "RESG",
            [
                (
                    datetime.date(2024, 1, 1),
                    {
                        "tier_mode": TierMode.MONTHLY,
                        "base_household_size": 4,
                        "person_step": D("5"),
                        "widen_tiers": "1,2",
                        "tiers": [D("22"), D("30"), None],
                        "prices": [
                            *tiered("WATER", "2.67", "4.01", "8.01"),
                            *tiered("SEWAGE", "0.90", "1.00", "1.10"),
                            *flat(GARBAGE="0.59"),
                        ],
                    },
                )
            ],
        ),
        "SHARED": tariff(
            "SHARED",
            "合表居民水价",
            "SHARED",
            [
                (
                    datetime.date(2024, 1, 1),
                    {"prices": flat(WATER="2.48", RESOURCE="1.57", SEWAGE="1.36")},
                )
            ],
        ),
        "NONRES": tariff(
            "NONRES",
            "非居民水价",
            "NONRES",
            [
                (
                    datetime.date(2024, 1, 1),
                    {
                        "prices": flat(WATER="3.45", RESOURCE="1.57", SEWAGE="1.80"),
                        "quota_base_item": items["WATER"],
                        "quota_surcharge_item": items["QUOTA"],
                        "brackets": [(D("20"), D("1")), (D("30"), D("2")), (None, D("3"))],
                        "surcharges": [(items["METER"], SurchargeKind.FIXED, D("5.00"))],
                    },
                )
            ],
        ),
        "SPECIAL": tariff(
            "SPECIAL",
            "特种行业水价",
            "SPECIAL",
            [
                (
                    datetime.date(2024, 1, 1),
                    {"prices": flat(WATER="25.00", RESOURCE="1.57", SEWAGE="2.50")},
                )
            ],
        ),
    }
    for category, by_caliber in MINIMUMS.items():
        for caliber, volume in by_caliber.items():
            services.create_minimum(
                None,
                {"category": categories[category], "caliber": caliber, "monthly_volume": D(volume)},
            )
    return {"price_items": items, "categories": categories, "tariffs": tariffs}
