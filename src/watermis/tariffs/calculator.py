"""The tariff calculator: a pure function from tariff versions and one bill's facts to bill lines.

No database access. Inputs are the versions of one tariff (:class:`TariffSpec`,
built by ``queries.tariff_specs``) and the facts of one bill (:class:`BillFacts`);
the output is the bill's lines and the new cycle-to-date volume.

Rules (see also docs/tariff-rules.md):

1. **Billed volume** = max(volume, minimum) unless the reading is exempt.
2. **Days.** The period runs from the previous reading date (exclusive) to this
   reading date (inclusive): ``days = (period_end - period_start).days``. A day
   belongs to the version in force on it.
3. **Splitting.** Where a new version starts inside the period, or (cumulative
   tiers) a new 12-month cycle starts, the billed volume is split into segments
   in proportion to their days, each part rounded half up to 0.01 m³ and the
   last part taking the remainder, so the parts add up exactly.
4. **Tiers.** Each segment's volume is laid on the tier scale from its position:
   cumulative tiers start at the cycle-to-date volume (0 after a cycle start);
   monthly tiers start at 0 for the bill, with thresholds × the bill's months ×
   the segment's share of the days. Thresholds widen by ``person_step`` per
   person above the base household size, for the tiers named in ``widen_tiers``.
   Households exempt from tiers (low income) pay tier 1 prices throughout.
5. **Items.** Every price item of the version gives a line per tier used (or one
   line when its price is flat). Each line is rounded once, half up to the fen
   (``core.money.line_amount_fen``); the bill total is the sum of its lines.
6. **Over-quota surcharge.** With a planned volume, the volume above plan (per
   segment, plan prorated by days) pays, bracket by bracket, ``multiple`` × the
   base item's tier-1 price (rounded half up to 0.0001 yuan).
7. **Extra fees.** Per-m³ fees apply to each segment's volume at its version's
   fee; fixed fees once per bill, from the version in force on the last day;
   a customer's own extra fees once, on the whole billed volume.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.utils.translation import gettext as _

from watermis.core.money import from_centi, from_fen, from_price_units, line_amount_fen, to_centi

FLAT = "flat"
MONTHLY = "monthly"
CYCLIC = "cyclic"

WATER = "water"
QUOTA = "quota"
FEE = "fee"


class TariffError(ValueError):
    """The facts cannot be priced (no tariff in force, bad input); the message says why."""


@dataclass(frozen=True, slots=True)
class ItemPrice:
    """One price item of a version: ``prices`` in 0.0001 yuan, one (flat) or one per tier."""

    code: str
    name: str
    prices: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Bracket:
    upper_percent: Decimal | None
    multiple: Decimal


@dataclass(frozen=True, slots=True)
class Fee:
    """An extra fee: ``per_m3`` (``amount`` in 0.0001 yuan per m³) or ``fixed`` (per bill)."""

    code: str
    name: str
    kind: str
    amount: int


@dataclass(frozen=True, slots=True)
class TariffSpec:
    """One tariff version, in integer units: volumes 0.01 m³, prices 0.0001 yuan."""

    effective_from: datetime.date
    items: tuple[ItemPrice, ...]
    tier_mode: str = FLAT
    tier_uppers: tuple[int | None, ...] = ()
    cycle_start_month: int = 1
    base_household_size: int = 4
    person_step: int = 0
    widen_tiers: frozenset = frozenset({1})
    quota_base_code: str | None = None
    quota_item: tuple[str, str] | None = None
    brackets: tuple[Bracket, ...] = ()
    fees: tuple[Fee, ...] = ()
    _uppers_cache: dict = field(default_factory=dict, compare=False, repr=False)

    def uppers_for(self, household_size: int) -> tuple[int | None, ...]:
        """Tier upper bounds (0.01 m³) widened for the household size."""
        cached = self._uppers_cache.get(household_size)
        if cached is not None:
            return cached
        extra = max(0, household_size - self.base_household_size) if household_size else 0
        uppers, previous, shift = [], 0, 0
        for number, upper in enumerate(self.tier_uppers, start=1):
            if upper is None:
                uppers.append(None)
                break
            width = upper - previous
            previous = upper
            if number in self.widen_tiers:
                width += self.person_step * extra
            shift += width
            uppers.append(shift)
        result = tuple(uppers)
        self._uppers_cache[household_size] = result
        return result


@dataclass(frozen=True, slots=True)
class BillFacts:
    """What one bill is priced from. Volumes are Decimal m³ with at most 2 places."""

    period_start: datetime.date
    period_end: datetime.date
    volume: Decimal
    cycle_to_date: Decimal = Decimal(0)
    household_size: int = 0
    months: int | None = None
    no_tiers: bool = False
    minimum: Decimal = Decimal(0)
    minimum_exempt: bool = False
    quota: Decimal | None = None
    extra_fees: tuple[Fee, ...] = ()


class Line(NamedTuple):
    """One bill line, in integer units; the properties give Decimals."""

    item_code: str
    item_name: str
    tier: int | None
    volume_centi: int
    price_units: int
    amount_fen: int
    effective_from: datetime.date
    kind: str = WATER

    @property
    def volume(self) -> Decimal:
        return from_centi(self.volume_centi)

    @property
    def unit_price(self) -> Decimal:
        return from_price_units(self.price_units)

    @property
    def amount(self) -> Decimal:
        return from_fen(self.amount_fen)


class BillResult(NamedTuple):
    lines: tuple[Line, ...]
    total_fen: int
    billed_centi: int
    cycle_to_date_centi: int
    cycle_start: datetime.date | None

    @property
    def total(self) -> Decimal:
        return from_fen(self.total_fen)

    @property
    def billed_volume(self) -> Decimal:
        return from_centi(self.billed_centi)

    @property
    def cycle_to_date(self) -> Decimal:
        return from_centi(self.cycle_to_date_centi)


def _split(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, half up, the last part taking the remainder."""
    whole = sum(weights)
    if whole <= 0:
        return [total] + [0] * (len(weights) - 1) if weights else []
    parts, given = [], 0
    for weight in weights[:-1]:
        part = (2 * total * weight + whole) // (2 * whole)
        parts.append(part)
        given += part
    parts.append(total - given)
    return parts


def cycle_start(day: datetime.date, month: int) -> datetime.date:
    """The start of the 12-month cycle containing ``day``."""
    year = day.year if day.month >= month else day.year - 1
    return datetime.date(year, month, 1)


def _in_force(versions, day):
    found = None
    for spec in versions:
        if spec.effective_from <= day:
            found = spec
        else:
            break
    return found


def _segments(versions, start, end):
    """[(spec, days, resets_cycle)] covering the days of (start, end]."""
    first_day = start + datetime.timedelta(days=1) if end > start else end
    spec = _in_force(versions, first_day)
    if spec is None:
        raise TariffError(
            _("No tariff version is in force on %(date)s.") % {"date": first_day.isoformat()}
        )
    if versions[-1].effective_from <= first_day:  # the common case: one version all along
        if spec.tier_mode != CYCLIC:
            return [(spec, (end - start).days, False)]
        month = spec.cycle_start_month
        boundary = datetime.date(first_day.year, month, 1)
        if boundary <= first_day:
            boundary = datetime.date(first_day.year + 1, month, 1)
        if boundary > end:
            resets = end > start and first_day.day == 1 and first_day.month == month
            return [(spec, (end - start).days, resets)]
    cuts = {v.effective_from for v in versions if first_day < v.effective_from <= end}
    cycle_months = {v.cycle_start_month for v in versions if v.tier_mode == CYCLIC}
    for year in range(first_day.year, end.year + 1):
        for month in cycle_months:
            boundary = datetime.date(year, month, 1)
            if first_day < boundary <= end:
                cuts.add(boundary)
    segments, cursor = [], first_day
    for cut in [*sorted(cuts), None]:
        spec = _in_force(versions, cursor)
        days = (cut - cursor).days if cut else (end - start).days - sum(d for _s, d, _r in segments)
        resets = (
            end > start
            and spec.tier_mode == CYCLIC
            and cursor.day == 1
            and cursor.month == spec.cycle_start_month
        )
        segments.append((spec, days, resets))
        cursor = cut
    return segments


def _tier_volumes(volume, position, uppers):
    """Volume per tier when ``volume`` occupies [position, position + volume) on the tier scale."""
    out = []
    low, end = 0, position + volume
    for upper in uppers:
        start = position if position > low else low
        stop = end if upper is None or end < upper else upper
        out.append(stop - start if stop > start else 0)
        if upper is None:
            return out
        low = upper
    out[-1] += volume - sum(out)  # every tier bounded: the rest stays in the last one
    return out


def _price_segment(spec, volume, tiers, lines):
    """Lines of every item for one segment, given the volume per tier."""
    total = 0
    start = spec.effective_from
    for item in spec.items:
        prices = item.prices
        if len(prices) == 1:
            amount = line_amount_fen(volume, prices[0])
            lines.append(Line(item.code, item.name, None, volume, prices[0], amount, start))
            total += amount
            continue
        for number, tier_volume in enumerate(tiers, start=1):
            if tier_volume:
                price = prices[number - 1]
                amount = line_amount_fen(tier_volume, price)
                lines.append(Line(item.code, item.name, number, tier_volume, price, amount, start))
                total += amount
    return total


def _quota_lines(spec, volume, quota, lines):
    if quota is None or not spec.brackets or spec.quota_item is None:
        return 0
    excess = volume - quota
    if excess <= 0:
        return 0
    base = next((i.prices[0] for i in spec.items if i.code == spec.quota_base_code), None)
    if base is None:
        raise TariffError(
            _("The quota base item %(item)s has no price in this version.")
            % {"item": spec.quota_base_code}
        )
    code, name = spec.quota_item
    total, low = 0, 0
    for number, bracket in enumerate(spec.brackets, start=1):
        if bracket.upper_percent is None:
            high = excess
        else:
            high = int((quota * bracket.upper_percent / 100).to_integral_value(ROUND_HALF_UP))
        take = min(excess, high) - low
        if take > 0:
            price = int((bracket.multiple * base).to_integral_value(ROUND_HALF_UP))
            amount = line_amount_fen(take, price)
            lines.append(Line(code, name, number, take, price, amount, spec.effective_from, QUOTA))
            total += amount
        low = max(low, high)
        if low >= excess:
            break
    return total


def _fee_lines(fees, volume, effective_from, lines, fixed=True):
    total = 0
    for fee in fees:
        if fee.kind == "fixed":
            if not fixed:
                continue
            amount = line_amount_fen(100, fee.amount)
            lines.append(Line(fee.code, fee.name, None, 0, fee.amount, amount, effective_from, FEE))
        else:
            amount = line_amount_fen(volume, fee.amount)
            lines.append(
                Line(fee.code, fee.name, None, volume, fee.amount, amount, effective_from, FEE)
            )
        total += amount
    return total


def price_bill(versions, facts: BillFacts) -> BillResult:
    """Price one bill. ``versions``: the tariff's versions, sorted by ``effective_from``."""
    if facts.period_end < facts.period_start:
        raise TariffError(_("The period ends before it starts."))
    volume = to_centi(facts.volume)
    if volume < 0:
        raise TariffError(_("The volume is negative."))
    if not facts.minimum_exempt and facts.minimum:
        volume = max(volume, to_centi(facts.minimum))
    position = to_centi(facts.cycle_to_date)
    household = facts.household_size
    segments = _segments(versions, facts.period_start, facts.period_end)
    lines: list[Line] = []
    total = 0
    days_total = sum(days for _s, days, _r in segments)
    volumes = [volume] if len(segments) == 1 else _split(volume, [d for _s, d, _r in segments])
    quotas = None
    if facts.quota is not None:
        quota = to_centi(facts.quota)
        quotas = [quota] if len(segments) == 1 else _split(quota, [d for _s, d, _r in segments])
    months = facts.months or max(1, round(days_total / 30))
    bill_position = 0
    last_spec = segments[-1][0]
    for index, (spec, days, resets) in enumerate(segments):
        seg_volume = volumes[index]
        if resets:
            position = 0
        if spec.tier_mode == FLAT or facts.no_tiers or not spec.tier_uppers:
            tiers = [seg_volume]
        elif spec.tier_mode == CYCLIC:
            tiers = _tier_volumes(seg_volume, position, spec.uppers_for(household))
        else:
            uppers = spec.uppers_for(household)
            share_num, share_den = months * days, days_total or 1
            if len(segments) == 1:
                share_num, share_den = months, 1
            scaled = tuple(
                None if u is None else (2 * u * share_num + share_den) // (2 * share_den)
                for u in uppers
            )
            tiers = _tier_volumes(seg_volume, bill_position, scaled)
        total += _price_segment(spec, seg_volume, tiers, lines)
        if quotas is not None:
            total += _quota_lines(spec, seg_volume, quotas[index], lines)
        if spec.fees:
            last = index == len(segments) - 1
            total += _fee_lines(spec.fees, seg_volume, spec.effective_from, lines, fixed=last)
        position += seg_volume
        bill_position += seg_volume
    if facts.extra_fees:
        total += _fee_lines(facts.extra_fees, volume, last_spec.effective_from, lines)
    cycle = None
    if last_spec.tier_mode == CYCLIC:
        cycle = cycle_start(facts.period_end, last_spec.cycle_start_month)
    return BillResult(tuple(lines), total, volume, position, cycle)
