"""The tariff calculator: the worked examples of DOMAIN.md reproduced exactly, and its properties.

The calculator is pure, so these tests need no database.
"""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watermis.core.money import line_amount_fen, round_fen, to_centi, to_price_units
from watermis.tariffs.calculator import (
    CYCLIC,
    FLAT,
    MONTHLY,
    QUOTA,
    WATER,
    BillFacts,
    Bracket,
    Fee,
    ItemPrice,
    TariffError,
    TariffSpec,
    price_bill,
)

D = Decimal
JAN1 = datetime.date(2026, 1, 1)


def item(code, *prices):
    return ItemPrice(code, code, tuple(to_price_units(D(p)) for p in prices))


def spec(start=datetime.date(2020, 1, 1), mode=CYCLIC, uppers=("180", "260"), items=(), **kw):
    return TariffSpec(
        effective_from=start,
        items=tuple(items),
        tier_mode=mode,
        tier_uppers=(*(to_centi(D(u)) for u in uppers), None) if mode != FLAT else (),
        **kw,
    )


BEIJING = spec(
    uppers=("180", "260"),
    items=[item("water", "2.07", "4.07", "6.07"), item("resource", "1.57"), item("sewage", "1.36")],
)
SHENZHEN = spec(
    mode=MONTHLY,
    uppers=("22", "30"),
    items=[
        item("water", "2.67", "4.01", "8.01"),
        item("sewage", "0.90", "1.00", "1.10"),
        item("garbage", "0.59"),
    ],
)
HARBIN = spec(uppers=("150", "250"), items=[item("water", "2.40", "3.60", "4.80")])


def facts(volume, start=datetime.date(2026, 3, 31), end=datetime.date(2026, 4, 30), **kw):
    return BillFacts(period_start=start, period_end=end, volume=D(volume), **kw)


def summary(result):
    return [(ln.item_code, ln.tier, ln.volume, ln.unit_price, ln.amount) for ln in result.lines]


def test_beijing_worked_example():
    """DOMAIN §1.4: 172 m³ billed this year, a bill of 24 m³ → 152.00."""
    result = price_bill([BEIJING], facts("24", cycle_to_date=D("172")))
    assert summary(result) == [
        ("water", 1, D("8.00"), D("2.0700"), D("16.56")),
        ("water", 2, D("16.00"), D("4.0700"), D("65.12")),
        ("resource", None, D("24.00"), D("1.5700"), D("37.68")),
        ("sewage", None, D("24.00"), D("1.3600"), D("32.64")),
    ]
    assert result.total == D("152.00")
    water = sum(ln.amount for ln in result.lines if ln.item_code == "water")
    assert water == D("81.68")
    assert result.cycle_to_date == D("196.00")


def test_shenzhen_worked_example():
    """DOMAIN §1.4: 35 m³ in one month → 184.82."""
    result = price_bill([SHENZHEN], facts("35"))
    assert result.total == D("184.82")
    by_tier = {}
    for ln in result.lines:
        if ln.tier:
            by_tier.setdefault(ln.tier, ln.volume)
    assert by_tier == {1: D("22.00"), 2: D("8.00"), 3: D("5.00")}
    garbage = [ln for ln in result.lines if ln.item_code == "garbage"]
    assert [(g.volume, g.amount) for g in garbage] == [(D("35.00"), D("20.65"))]


def test_shenzhen_two_months_doubles_the_monthly_tiers():
    result = price_bill([SHENZHEN], facts("70", start=datetime.date(2026, 2, 28), months=2))
    tiers = {ln.tier: ln.volume for ln in result.lines if ln.item_code == "water"}
    assert tiers == {1: D("44.00"), 2: D("16.00"), 3: D("10.00")}
    assert result.total == 2 * D("184.82")


def test_harbin_cumulative_cycle():
    """DOMAIN §1.2: 140 m³ billed by April, July adds 30 → 10 at tier 1 and 20 at tier 2."""
    result = price_bill([HARBIN], facts("30", cycle_to_date=D("140")))
    assert summary(result) == [
        ("water", 1, D("10.00"), D("2.4000"), D("24.00")),
        ("water", 2, D("20.00"), D("3.6000"), D("72.00")),
    ]


HARBIN_PEOPLE = spec(
    uppers=("150", "250"),
    items=[item("water", "2.40", "3.60", "4.80")],
    base_household_size=5,
    person_step=to_centi(D("30")),
    widen_tiers=frozenset({1}),
)


def test_harbin_household_of_ten():
    """DOMAIN §1.3: 10 people → tier 1 up to 300, tier 2 up to 400."""
    assert HARBIN_PEOPLE.uppers_for(10) == (30000, 40000, None)
    assert HARBIN_PEOPLE.uppers_for(5) == (15000, 25000, None)
    assert HARBIN_PEOPLE.uppers_for(3) == (15000, 25000, None)


def test_harbin_household_grows_to_six():
    """DOMAIN §1.3: 160 m³ used, household becomes 6: the next 50 m³ split 20 + 30."""
    result = price_bill([HARBIN_PEOPLE], facts("50", cycle_to_date=D("160"), household_size=6))
    assert [(ln.tier, ln.volume) for ln in result.lines] == [(1, D("20.00")), (2, D("30.00"))]


def test_every_tier_widens_when_configured():
    wuxi = spec(
        mode=MONTHLY,
        uppers=("25", "35"),
        items=[item("water", "1", "2", "3")],
        base_household_size=4,
        person_step=to_centi(D("6")),
        widen_tiers=frozenset({1, 2}),
    )
    assert wuxi.uppers_for(5) == (3100, 4700, None)


def test_low_income_pays_tier_one_throughout():
    result = price_bill([HARBIN], facts("300", cycle_to_date=D("100"), no_tiers=True))
    assert [(ln.tier, ln.volume, ln.amount) for ln in result.lines] == [
        (1, D("300.00"), D("720.00"))
    ]


def test_minimum_volume_and_exemption():
    flat = spec(mode=FLAT, items=[item("water", "3")])
    assert price_bill([flat], facts("3", minimum=D("5"))).billed_volume == D("5.00")
    assert price_bill([flat], facts("3", minimum=D("5"))).total == D("15.00")
    assert price_bill([flat], facts("3", minimum=D("5"), minimum_exempt=True)).total == D("9.00")
    assert price_bill([flat], facts("8", minimum=D("5"))).billed_volume == D("8.00")


def test_price_change_inside_the_period_splits_by_days():
    old = spec(start=datetime.date(2025, 1, 1), mode=FLAT, items=[item("water", "2.00")])
    new = spec(start=datetime.date(2026, 1, 17), mode=FLAT, items=[item("water", "3.00")])
    # days Jan 2..16 (15) at the old price, Jan 17..31 (15) at the new price
    result = price_bill(
        [old, new], facts("30", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 1, 31))
    )
    assert [(ln.effective_from, ln.volume, ln.amount) for ln in result.lines] == [
        (datetime.date(2025, 1, 1), D("15.00"), D("30.00")),
        (datetime.date(2026, 1, 17), D("15.00"), D("45.00")),
    ]
    # uneven days: parts rounded to 0.01 m³, the last takes the remainder
    result = price_bill(
        [old, new], facts("10", start=datetime.date(2026, 1, 9), end=datetime.date(2026, 1, 31))
    )
    volumes = [ln.volume for ln in result.lines]
    assert volumes == [D("3.18"), D("6.82")] and sum(volumes) == D("10.00")  # 7 and 15 days


def test_new_cycle_inside_the_period_resets_the_tiers():
    """The period crosses the cycle start (1 January): the new cycle's part starts at tier 1."""
    result = price_bill(
        [HARBIN],
        facts(
            "60",
            start=datetime.date(2025, 12, 16),
            end=datetime.date(2026, 1, 15),
            cycle_to_date=D("240"),
        ),
    )
    # 15 days in December (old cycle, from 240 m³), 15 days in January (new cycle, from 0)
    assert [(ln.tier, ln.volume) for ln in result.lines] == [
        (2, D("10.00")),
        (3, D("20.00")),
        (1, D("30.00")),
    ]
    assert result.cycle_to_date == D("30.00")
    assert result.cycle_start == datetime.date(2026, 1, 1)


def test_period_starting_on_cycle_start_resets():
    result = price_bill(
        [HARBIN],
        facts(
            "10",
            start=datetime.date(2025, 12, 31),
            end=datetime.date(2026, 1, 31),
            cycle_to_date=D("300"),
        ),
    )
    assert [(ln.tier, ln.volume) for ln in result.lines] == [(1, D("10.00"))]


def test_quota_surcharge_brackets():
    """DOMAIN §1.5 (金平县): up to 20 % over plan +1×, up to 30 % +2×, beyond +3×."""
    industrial = spec(
        mode=FLAT,
        items=[item("water", "3.00"), item("sewage", "1.00")],
        quota_base_code="water",
        quota_item=("quota", "超计划加价"),
        brackets=(Bracket(D("20"), D("1")), Bracket(D("30"), D("2")), Bracket(None, D("3"))),
    )
    result = price_bill([industrial], facts("140", quota=D("100")))
    quota = [
        (ln.tier, ln.volume, ln.unit_price, ln.amount) for ln in result.lines if ln.kind == QUOTA
    ]
    assert quota == [
        (1, D("20.00"), D("3.0000"), D("60.00")),
        (2, D("10.00"), D("6.0000"), D("60.00")),
        (3, D("10.00"), D("9.0000"), D("90.00")),
    ]
    assert result.total == D("140") * D("4") + D("210")
    assert not [
        ln for ln in price_bill([industrial], facts("90", quota=D("100"))).lines if ln.kind == QUOTA
    ]


def test_fees_per_m3_and_fixed():
    with_fees = spec(
        mode=FLAT,
        items=[item("water", "2.50")],
        fees=(
            Fee("garbage", "垃圾费", "per_m3", to_price_units(D("0.59"))),
            Fee("meter", "水表维护费", "fixed", to_price_units(D("2.00"))),
        ),
    )
    result = price_bill(
        [with_fees],
        facts("10", extra_fees=(Fee("fire", "消防费", "fixed", to_price_units(D("1.50"))),)),
    )
    assert {ln.item_code: ln.amount for ln in result.lines} == {
        "water": D("25.00"),
        "garbage": D("5.90"),
        "meter": D("2.00"),
        "fire": D("1.50"),
    }
    assert result.total == D("34.40")


def test_errors_are_clear():
    """Messages say what is wrong (in the operator's language; English here)."""
    from django.utils import translation

    with translation.override("en"):
        with pytest.raises(TariffError, match="in force on 2019-01-02"):
            price_bill(
                [HARBIN], facts("1", start=datetime.date(2019, 1, 1), end=datetime.date(2019, 2, 1))
            )
        with pytest.raises(ValueError, match="more than 2 decimal places"):
            price_bill([HARBIN], facts("1.234"))
        with pytest.raises(TariffError, match="negative"):
            price_bill([HARBIN], facts("-1"))
        with pytest.raises(TariffError, match="ends before"):
            price_bill(
                [HARBIN], facts("1", start=datetime.date(2026, 5, 1), end=datetime.date(2026, 4, 1))
            )


# --- properties -----------------------------------------------------------------

volumes = st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False, allow_infinity=False)
prices = st.decimals(min_value=0, max_value=200, places=4, allow_nan=False, allow_infinity=False)


@st.composite
def tariffs(draw):
    mode = draw(st.sampled_from([FLAT, MONTHLY, CYCLIC]))
    tiers = draw(st.integers(min_value=2, max_value=4)) if mode != FLAT else 1
    bounds = sorted(
        draw(
            st.sets(
                st.integers(min_value=1, max_value=50000), min_size=tiers - 1, max_size=tiers - 1
            )
        )
    )
    items = []
    for n in range(draw(st.integers(min_value=1, max_value=4))):
        flat = draw(st.booleans()) or mode == FLAT
        count = 1 if flat else tiers
        items.append(
            ItemPrice(f"i{n}", f"i{n}", tuple(to_price_units(draw(prices)) for _ in range(count)))
        )
    return TariffSpec(
        effective_from=datetime.date(2000, 1, 1),
        items=tuple(items),
        tier_mode=mode,
        tier_uppers=(*bounds, None) if mode != FLAT else (),
        base_household_size=4,
        person_step=draw(st.integers(min_value=0, max_value=3000)),
        widen_tiers=frozenset(
            draw(st.sets(st.integers(min_value=1, max_value=tiers), max_size=tiers))
        ),
    )


periods = st.tuples(
    st.dates(min_value=datetime.date(2024, 1, 1), max_value=datetime.date(2027, 12, 1)),
    st.integers(min_value=0, max_value=95),
).map(lambda t: (t[0], t[0] + datetime.timedelta(days=t[1])))


@settings(max_examples=300, deadline=None)
@given(tariffs(), volumes, volumes, st.integers(min_value=0, max_value=12), periods)
def test_lines_add_up(tariff, volume, cycle, household, period):
    result = price_bill([tariff], BillFacts(period[0], period[1], volume, cycle, household))
    assert result.total_fen == sum(ln.amount_fen for ln in result.lines)
    for code in {i.code for i in tariff.items}:
        assert sum(
            ln.volume_centi for ln in result.lines if ln.item_code == code and ln.kind == WATER
        ) == to_centi(volume)
    for ln in result.lines:
        assert ln.amount == round_fen(ln.volume * ln.unit_price)


@settings(max_examples=300, deadline=None)
@given(tariffs(), volumes, volumes, volumes, st.integers(min_value=0, max_value=12))
def test_splitting_a_bill_in_two_changes_only_rounding(tariff, first, second, cycle, household):
    """Two bills of v1 then v2 cost what one bill of v1 + v2 costs, but for line rounding (F2.4)."""
    start, end = datetime.date(2026, 3, 31), datetime.date(2026, 4, 30)
    one = price_bill([tariff], BillFacts(start, end, first + second, cycle, household, months=1))
    if tariff.tier_mode == MONTHLY:
        return  # monthly tiers apply per bill: two bills in one month get two allowances by design
    a = price_bill([tariff], BillFacts(start, end, first, cycle, household, months=1))
    b = price_bill([tariff], BillFacts(start, end, second, a.cycle_to_date, household, months=1))
    lines = len(one.lines) + len(a.lines) + len(b.lines)
    assert 2 * abs(a.total_fen + b.total_fen - one.total_fen) <= lines
    assert b.cycle_to_date == one.cycle_to_date


@settings(max_examples=300, deadline=None)
@given(tariffs(), volumes, volumes, volumes, st.integers(min_value=0, max_value=12), periods)
def test_more_water_never_costs_less(tariff, volume, more, cycle, household, period):
    small = price_bill([tariff], BillFacts(period[0], period[1], volume, cycle, household))
    large = price_bill([tariff], BillFacts(period[0], period[1], volume + more, cycle, household))
    assert large.total_fen >= small.total_fen


@settings(max_examples=200, deadline=None)
@given(tariffs(), tariffs(), volumes, volumes, st.integers(min_value=1, max_value=60))
def test_a_price_change_keeps_the_volume(old, new, volume, cycle, change_day):
    old = TariffSpec(
        **{
            **{
                f: getattr(old, f)
                for f in (
                    "items",
                    "tier_mode",
                    "tier_uppers",
                    "base_household_size",
                    "person_step",
                    "widen_tiers",
                )
            },
            "effective_from": datetime.date(2000, 1, 1),
        }
    )
    new = TariffSpec(
        **{
            **{
                f: getattr(new, f)
                for f in (
                    "items",
                    "tier_mode",
                    "tier_uppers",
                    "base_household_size",
                    "person_step",
                    "widen_tiers",
                )
            },
            "effective_from": datetime.date(2026, 1, 1) + datetime.timedelta(days=change_day),
        }
    )
    result = price_bill(
        [old, new], BillFacts(datetime.date(2026, 1, 1), datetime.date(2026, 3, 2), volume, cycle)
    )
    assert result.billed_volume == volume
    assert result.total_fen == sum(ln.amount_fen for ln in result.lines)


@given(st.integers(min_value=-(10**9), max_value=10**9), st.integers(min_value=0, max_value=10**7))
def test_integer_rounding_is_the_decimal_rule(volume_centi, price_units):
    expected = round_fen(Decimal(volume_centi) / 100 * Decimal(price_units) / 10000)
    assert Decimal(line_amount_fen(volume_centi, price_units)) / 100 == expected
