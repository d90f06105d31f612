"""Tariff services (F11.2–F11.5): validated versions, history never rewritten, everything journaled."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from watermis.core.models import AuditEntry
from watermis.tariffs import calculator, demo, queries, services
from watermis.tariffs.models import CategoryKind, TariffVersion, TierMode

D = Decimal
TODAY = datetime.date(2026, 11, 24)


@pytest.fixture
def price_list(org, admin):
    water = services.create_price_item(admin, {"code": "W", "name": "水费", "sort_order": 1})
    resource = services.create_price_item(admin, {"code": "R", "name": "水资源税", "sort_order": 2})
    sewage = services.create_price_item(
        admin,
        {
            "code": "S",
            "name": "污水处理费",
            "sort_order": 3,
            "revenue_kind": "agency",
            "collected_for": "排水处",
        },
    )
    category = services.create_category(
        admin, {"code": "RES", "name": "居民", "kind": CategoryKind.RESIDENTIAL}
    )
    tariff = services.create_tariff(
        admin, {"code": "RES", "name": "居民阶梯", "category": category}
    )
    return {
        "water": water,
        "resource": resource,
        "sewage": sewage,
        "category": category,
        "tariff": tariff,
    }


def beijing(p, start=datetime.date(2024, 1, 1), water=("2.07", "4.07", "6.07")):
    return {
        "effective_from": start,
        "tier_mode": TierMode.CYCLIC,
        "tiers": [D("180"), D("260"), None],
        "prices": [
            *[(p["water"], n, D(v)) for n, v in enumerate(water, start=1)],
            (p["resource"], None, D("1.57")),
            (p["sewage"], None, D("1.36")),
        ],
    }


def test_version_round_trip_prices_the_worked_example(price_list, admin):
    services.create_version(admin, price_list["tariff"], beijing(price_list), today=TODAY)
    specs = queries.tariff_specs(price_list["tariff"])
    facts = calculator.BillFacts(
        datetime.date(2026, 3, 31), datetime.date(2026, 4, 30), D("24"), D("172")
    )
    assert calculator.price_bill(specs, facts).total == D("152.00")


def test_version_is_journaled_whole(price_list, admin):
    version = services.create_version(admin, price_list["tariff"], beijing(price_list), today=TODAY)
    entry = AuditEntry.objects.get(object_type="tariffs.tariffversion", object_id=str(version.pk))
    assert entry.actor == admin
    assert entry.after["tiers"] == ["180.00", "260.00", None]
    assert ["W", 2, "4.0700"] in entry.after["prices"]


def test_history_is_never_rewritten(price_list, admin):
    tariff = price_list["tariff"]
    first = services.create_version(admin, tariff, beijing(price_list), today=TODAY)
    # a later version may not start in the past or before the latest one
    with pytest.raises(ValidationError) as exc:
        services.create_version(
            admin, tariff, beijing(price_list, datetime.date(2026, 1, 1)), today=TODAY
        )
    assert "effective_from" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.create_version(
            admin, tariff, beijing(price_list, datetime.date(2023, 1, 1)), today=TODAY
        )
    # a version in force cannot be edited
    with pytest.raises(PermissionDenied):
        services.update_version(admin, first, beijing(price_list), today=TODAY)
    # a scheduled version can, until it starts
    future = services.create_version(
        admin,
        tariff,
        beijing(price_list, datetime.date(2027, 1, 1), ("2.27", "4.47", "6.67")),
        today=TODAY,
    )
    services.update_version(
        admin,
        future,
        beijing(price_list, datetime.date(2027, 1, 1), ("2.30", "4.50", "6.70")),
        today=TODAY,
    )
    assert AuditEntry.objects.filter(object_id=str(future.pk), action="update").exists()
    with pytest.raises(PermissionDenied):
        services.update_version(
            admin,
            future,
            beijing(price_list, datetime.date(2027, 1, 1)),
            today=datetime.date(2027, 1, 1),
        )
    # the calculator prices each period with the version in force
    specs = queries.tariff_specs(tariff)
    march = calculator.price_bill(
        specs, calculator.BillFacts(datetime.date(2026, 2, 28), datetime.date(2026, 3, 31), D("10"))
    )
    march_2027 = calculator.price_bill(
        specs, calculator.BillFacts(datetime.date(2027, 2, 28), datetime.date(2027, 3, 31), D("10"))
    )
    assert march.lines[0].unit_price == D("2.07") and march_2027.lines[0].unit_price == D("2.30")


@pytest.mark.parametrize(
    "change,field",
    [
        ({"tiers": [D("260"), D("180"), None]}, "tiers"),
        ({"tiers": [D("180"), D("260"), D("300")]}, "tiers"),
        ({"tiers": [D("180"), None]}, "prices"),
        ({"prices": []}, "prices"),
        ({"widen_tiers": "5"}, "widen_tiers"),
        ({"effective_from": None}, "effective_from"),
    ],
)
def test_bad_versions_refused_with_field(price_list, admin, change, field):
    data = {**beijing(price_list), **change}
    with pytest.raises(ValidationError) as exc:
        services.create_version(admin, price_list["tariff"], data, today=TODAY)
    assert field in exc.value.message_dict
    assert not TariffVersion.objects.exists()
    assert not AuditEntry.objects.filter(object_type="tariffs.tariffversion").exists()


def test_price_precision_and_mixed_prices_refused(price_list, admin):
    data = beijing(price_list)
    data["prices"][0] = (price_list["water"], 1, D("2.07001"))
    with pytest.raises(ValidationError) as exc:
        services.validate_version(data)
    assert "prices" in exc.value.message_dict
    data = beijing(price_list)
    data["prices"].append((price_list["water"], None, D("3")))
    with pytest.raises(ValidationError):
        services.validate_version(data)


def test_quota_brackets_need_items(price_list, admin):
    data = {
        "effective_from": datetime.date(2024, 1, 1),
        "tier_mode": TierMode.FLAT,
        "prices": [(price_list["water"], None, D("3.45"))],
        "brackets": [(D("20"), D("1")), (None, D("2"))],
    }
    with pytest.raises(ValidationError) as exc:
        services.validate_version(data)
    assert {"quota_base_item", "quota_surcharge_item"} <= set(exc.value.message_dict)


def test_only_permitted_operators_change_tariffs(price_list, cashier_a):
    with pytest.raises(PermissionDenied):
        services.create_version(cashier_a, price_list["tariff"], beijing(price_list), today=TODAY)
    with pytest.raises(PermissionDenied):
        services.update_price_item(cashier_a, price_list["water"], {"name": "自来水费"})


def test_minimum_volume_lookup(price_list, admin):
    services.create_minimum(
        admin, {"category": price_list["category"], "caliber": "DN20", "monthly_volume": D("3")}
    )
    assert queries.minimum_volume(price_list["category"].pk, "DN20", months=2) == D("6")
    assert queries.minimum_volume(price_list["category"].pk, "DN50") == D("0")
    with pytest.raises(ValidationError):
        services.create_minimum(
            admin, {"category": price_list["category"], "caliber": "DN20", "monthly_volume": D("4")}
        )


def test_demo_price_list(db):
    built = demo.build(today=TODAY)
    res = built["tariffs"]["RES"]
    specs = queries.tariff_specs(res)
    assert [s.effective_from for s in specs] == [
        datetime.date(2024, 1, 1),
        datetime.date(2026, 7, 1),
    ]
    # a period across the July 2026 price change is split by days
    result = calculator.price_bill(
        specs, calculator.BillFacts(datetime.date(2026, 6, 15), datetime.date(2026, 7, 15), D("30"))
    )
    assert {ln.effective_from for ln in result.lines} == {
        datetime.date(2024, 1, 1),
        datetime.date(2026, 7, 1),
    }
    nonres = queries.tariff_specs(built["tariffs"]["NONRES"])
    industrial = calculator.price_bill(
        nonres,
        calculator.BillFacts(
            datetime.date(2026, 9, 30), datetime.date(2026, 10, 31), D("130"), quota=D("100")
        ),
    )
    assert {ln.kind for ln in industrial.lines} == {"water", "quota", "fee"}
