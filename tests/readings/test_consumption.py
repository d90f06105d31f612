"""The consumption arithmetic (DOMAIN.md section 3), with its examples, and properties."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watermis.readings.consumption import (
    EstimateMethod,
    Level,
    Limits,
    MeterRead,
    NegativeConsumption,
    Replacement,
    check_volume,
    consumption,
    estimate_volume,
    net_parent_volume,
    physical_maximum,
    split_by_ratios,
    split_volume,
)

D = Decimal


def test_normal():
    result = consumption(MeterRead(D("1520"), D("1548.5")))
    assert result.volume == D("28.50") and result.closing == D("1548.50")


def test_rollover_domain_example():
    # (125 − 99870) mod 100000 = 255
    result = consumption(MeterRead(D("99870"), D("125"), digits=5, rolled_over=True))
    assert result.volume == D("255.00") and result.rolled_over and result.closing == D("125.00")


def test_below_previous_without_explanation_is_refused():
    with pytest.raises(NegativeConsumption):
        consumption(MeterRead(D("500"), D("480")))


def test_reverse_running_meter():
    result = consumption(MeterRead(D("500"), D("480"), reverse_running=True))
    assert result.volume == D("20.00") and result.closing == D("480.00")


def test_replacement_domain_example():
    # old previous 1520, removed at 1548 (余量 28); the new meter from 0 now reads 19 → 47 m³
    result = consumption(MeterRead(D("0"), D("19"), replacement=Replacement(D("1520"), D("1548"))))
    assert result.volume == D("47.00") and result.replaced_volume == D("28.00")


def test_replacement_old_meter_rolled_over():
    result = consumption(
        MeterRead(D("0"), D("10"), replacement=Replacement(D("99990"), D("5"), old_digits=5))
    )
    assert result.volume == D("25.00")


def test_estimate_then_true_up_and_catch_up():
    # last actual 100, estimated +30 (register 130); actual 150 → 20 = 150 − 100 − 30
    assert consumption(MeterRead(D("130"), D("150"), previous_estimated=True)).volume == D("20")
    # over-estimated: actual 120 < 130 → wait for the needle (等针): 0, next starts at 130
    waiting = consumption(MeterRead(D("130"), D("120"), previous_estimated=True))
    assert waiting.volume == 0 and waiting.closing == D("130.00") and waiting.catching_up


def test_parent_minus_subs_domain_example():
    assert net_parent_volume(D("1000"), [D("420"), D("310"), D("180")]) == D("90")
    assert net_parent_volume(D("100"), [D("80"), D("40")]) == 0


def test_shares_add_up():
    assert split_by_ratios(D("100"), [D("0.3333"), D("0.3333"), D("0.3334")]) == [
        D("33.33"),
        D("33.33"),
        D("33.34"),
    ]


@given(
    st.decimals(min_value=0, max_value=100000, places=2),
    st.lists(st.decimals(min_value="0.01", max_value=1, places=4), min_size=1, max_size=6),
)
def test_shares_always_add_up(volume, ratios):
    shares = split_by_ratios(volume, ratios)
    assert sum(shares) == volume and len(shares) == len(ratios)


@given(
    st.integers(min_value=3, max_value=8),
    st.integers(min_value=0, max_value=10**8),
    st.integers(min_value=0, max_value=10**8),
)
def test_rollover_is_modulo(digits, a, b):
    size = 10**digits
    previous, current = D(a % size), D(b % size)
    result = consumption(MeterRead(previous, current, digits=digits, rolled_over=True))
    assert result.volume == (b % size - a % size) % size
    assert 0 <= result.volume < size


def test_split_volume_rules():
    assert split_volume(D("30"), [D("10"), D("20")]) == [D("10"), D("20")]
    for parts in ([D("30")], [D("10"), D("10")], [D("30"), D("0")]):
        with pytest.raises(ValueError):
            split_volume(D("30"), parts)


def test_estimates():
    assert estimate_volume(EstimateMethod.AVERAGE, [D("10"), D("20"), D("30"), D("99")]) == 20
    assert estimate_volume(EstimateMethod.DOUBLE_LAST, [D("12.5")]) == D("25.00")
    assert estimate_volume(EstimateMethod.MAX_FLOW, [], "DN15", 30) == physical_maximum("DN15", 30)
    assert estimate_volume(EstimateMethod.GIVEN, [], given=D("7")) == D("7.00")


def test_checks():
    limits = Limits(D("50"), D("5"), D("3"))
    big = D("100000")
    assert check_volume(D("20"), D("20"), big, limits) == []
    assert [f.code for f in check_volume(D("0"), D("20"), big, limits)] == ["zero"]
    assert [f.code for f in check_volume(D("35"), D("20"), big, limits)] == ["high"]
    assert [f.code for f in check_volume(D("5"), D("20"), big, limits)] == ["low"]
    # within ±5 m³ of a small average is never flagged
    assert check_volume(D("6"), D("2"), big, limits) == []
    found = check_volume(D("70"), D("20"), big, limits)
    assert [(f.code, f.level) for f in found] == [("supervisor", Level.SUPERVISOR)]
    assert [f.level for f in check_volume(D("1000"), D("20"), D("900"), limits)] == [Level.ERROR]
    assert [f.code for f in check_volume(D("20"), None, big, limits, rolled_over=True)] == [
        "rollover"
    ]
