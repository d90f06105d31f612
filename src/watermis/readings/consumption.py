"""Consumption arithmetic of meter readings (DOMAIN.md section 3). Pure: no database.

Volumes are ``Decimal`` cubic metres with two places. The rules:

- normal: ``current − previous``;
- rollover (水表走穿): when the dial passed its maximum, ``(current − previous) mod 10^digits``
  (e.g. 99870 → 125 on five digits is 255 m³);
- reverse-running meter (倒表): ``previous − current``;
- catch-up (等针): after an over-estimated read the meter must pass the estimate
  first; until it does the volume is 0 and the next read starts from the estimate;
- replacement within the period: the old meter's remainder (余量 = old final −
  old previous, with rollover on the old dial) is added to the new meter's
  ``current − initial``;
- estimated reads are stored as an estimated register value
  (``previous + estimated volume``), so the next actual read trues up by itself:
  ``actual − last actual − Σ estimated volumes``;
- a parent meter (套表) bills ``parent − Σ subs``, never below zero;
- a shared meter is split by ratios; shares are rounded to 0.01 m³ with the
  remainder on the last share, so they add up to the volume exactly.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENTI = Decimal("0.01")
ZERO = Decimal("0.00")


class NegativeConsumption(ValueError):
    """The current reading is below the previous one and nothing explains it."""


@dataclass(frozen=True)
class Replacement:
    """The meter replaced during the period: its previous read and its final read."""

    old_previous: Decimal
    old_final: Decimal
    old_digits: int = 5


@dataclass(frozen=True)
class MeterRead:
    """What the consumption of one read depends on."""

    previous: Decimal
    current: Decimal
    digits: int = 5
    rolled_over: bool = False
    reverse_running: bool = False
    previous_estimated: bool = False
    replacement: Replacement | None = None


@dataclass(frozen=True)
class Consumption:
    volume: Decimal  # the period's volume, m³
    closing: Decimal  # the register value the next period starts from
    rolled_over: bool = False
    catching_up: bool = False  # below an estimated previous read: volume 0 until it passes
    replaced_volume: Decimal = ZERO  # the old meter's remainder included in ``volume``


def _q(value):
    return Decimal(value).quantize(CENTI, rounding=ROUND_HALF_UP)


def dial_difference(previous, current, digits, rolled_over):
    """``current − previous`` on a dial of ``digits`` digits; wraps only when ``rolled_over``."""
    previous, current = _q(previous), _q(current)
    if current >= previous:
        return current - previous
    if not rolled_over:
        raise NegativeConsumption(previous, current)
    return current - previous + Decimal(10) ** digits


def replaced_volume(replacement):
    """The old meter's remainder (余量): final − previous, wrapping its dial if it passed 0."""
    if replacement is None:
        return ZERO
    previous, final = _q(replacement.old_previous), _q(replacement.old_final)
    return dial_difference(previous, final, replacement.old_digits, rolled_over=final < previous)


def consumption(read: MeterRead) -> Consumption:
    """The volume of one read and the value the next read starts from.

    Raises :class:`NegativeConsumption` when the current read is below the
    previous one and it is neither a rollover, a reverse-running meter nor a
    catch-up after an estimate.
    """
    previous, current = _q(read.previous), _q(read.current)
    remainder = replaced_volume(read.replacement)
    if read.reverse_running:
        volume = previous - current if current <= previous else ZERO
        return Consumption(volume + remainder, current, replaced_volume=remainder)
    if current < previous and read.previous_estimated and not read.rolled_over:
        return Consumption(remainder, previous, catching_up=True, replaced_volume=remainder)
    volume = dial_difference(previous, current, read.digits, read.rolled_over)
    return Consumption(
        volume + remainder,
        current,
        rolled_over=current < previous,
        replaced_volume=remainder,
    )


def rollover_guess(previous, current, digits):
    """The volume if a read below the previous one is a rollover (to offer it to the clerk)."""
    return dial_difference(previous, current, digits, rolled_over=True)


def net_parent_volume(parent_volume, sub_volumes):
    """A parent meter's billed volume: its own minus its sub-meters', never negative (套表)."""
    return max(ZERO, _q(parent_volume) - sum((_q(v) for v in sub_volumes), ZERO))


def split_by_ratios(volume, ratios):
    """Shares of ``volume`` by ``ratios``, to 0.01 m³, the remainder on the last share.

    Ratios need not add up to exactly 1 (a share of 1/3 is stored as 0.3333):
    each share but the last is ``volume × ratio / Σ ratios``.
    """
    volume = _q(volume)
    ratios = [Decimal(r) for r in ratios]
    total = sum(ratios, Decimal(0))
    if not ratios or total <= 0:
        raise ValueError("ratios must be positive")
    shares = [_q(volume * r / total) for r in ratios[:-1]]
    shares.append(volume - sum(shares, ZERO))
    return shares


def split_volume(volume, parts):
    """Check a split of ``volume`` into billable parts (F2.4): 2+ positive parts adding up."""
    volume = _q(volume)
    parts = [_q(p) for p in parts]
    if len(parts) < 2:
        raise ValueError("a split needs at least two parts")
    if any(p <= 0 for p in parts):
        raise ValueError("every part must be above zero")
    if sum(parts, ZERO) != volume:
        raise ValueError("the parts must add up to the volume")
    return parts


# --- estimates -------------------------------------------------------------------------

# Overload flow Q4 in m³/h by caliber (ISO 4064 / GB/T 778 typical Q3 × 1.25): the most
# a meter can register; a volume above Q4 × 24 h × days is physically impossible.
MAX_FLOW_M3_PER_HOUR = {
    "DN15": Decimal("3.125"),
    "DN20": Decimal("5"),
    "DN25": Decimal("7.875"),
    "DN32": Decimal("12.5"),
    "DN40": Decimal("20"),
    "DN50": Decimal("31.25"),
    "DN80": Decimal("78.75"),
    "DN100": Decimal("125"),
    "DN150": Decimal("312.5"),
    "DN200": Decimal("500"),
    "DN300": Decimal("1250"),
}


def physical_maximum(caliber, days):
    """The most a meter of ``caliber`` can register in ``days`` days (Q4 × 24 h × days)."""
    flow = MAX_FLOW_M3_PER_HOUR.get(caliber, MAX_FLOW_M3_PER_HOUR["DN300"])
    return _q(flow * 24 * max(days, 1))


class EstimateMethod:
    AVERAGE = "average"  # meter fault: the recent (3-period) average
    DOUBLE_LAST = "double_last"  # access blocked: twice last period's volume
    MAX_FLOW = "max_flow"  # unread twice for that reason: the caliber's maximum flow
    GIVEN = "given"  # the clerk states the volume


def estimate_volume(method, recent_volumes, caliber="DN15", days=30, given=None):
    """An estimated volume by one of the rules of DOMAIN.md section 3.

    ``recent_volumes`` are the last actual volumes, newest first.
    """
    if method == EstimateMethod.GIVEN:
        if given is None or _q(given) < 0:
            raise ValueError("a given estimate needs a volume of 0 or more")
        return _q(given)
    if method == EstimateMethod.AVERAGE:
        recent = [_q(v) for v in recent_volumes[:3]]
        return _q(sum(recent, ZERO) / len(recent)) if recent else ZERO
    if method == EstimateMethod.DOUBLE_LAST:
        return _q(recent_volumes[0]) * 2 if recent_volumes else ZERO
    if method == EstimateMethod.MAX_FLOW:
        return physical_maximum(caliber, days)
    raise ValueError(f"unknown estimate method {method!r}")


# --- checks at entry -------------------------------------------------------------------


class Level:
    CONFIRM = "confirm"  # the clerk confirms with a reason, or corrects
    SUPERVISOR = "supervisor"  # a supervisor approves
    ERROR = "error"  # refused: correct the reading


@dataclass(frozen=True)
class Finding:
    code: str
    level: str


@dataclass(frozen=True)
class Limits:
    band_percent: Decimal = Decimal("50")  # ± around the recent average
    band_minimum: Decimal = Decimal("5")  # m³: never flag within ± this of the average
    supervisor_multiple: Decimal = Decimal("3")  # volume ≥ this × average needs a supervisor


def check_volume(volume, average, maximum, limits=Limits(), rolled_over=False):
    """Findings for a read's volume (the codes are :class:`~.models.Anomaly` values).

    ``average`` is the meter's recent average per period (None without history);
    ``maximum`` the physical maximum for the period.
    """
    findings = []
    volume = _q(volume)
    if volume > maximum:
        return [Finding("over_maximum", Level.ERROR)]
    if rolled_over:
        findings.append(Finding("rollover", Level.CONFIRM))
    if volume == 0:
        findings.append(Finding("zero", Level.CONFIRM))
        return findings
    if average is None:
        return findings
    average = _q(average)
    if (
        average > 0
        and volume >= average * limits.supervisor_multiple
        and volume - average > limits.band_minimum
    ):
        findings.append(Finding("supervisor", Level.SUPERVISOR))
        return findings
    band = max(average * limits.band_percent / 100, limits.band_minimum)
    if volume > average + band:
        findings.append(Finding("high", Level.CONFIRM))
    elif volume < average - band:
        findings.append(Finding("low", Level.CONFIRM))
    return findings
