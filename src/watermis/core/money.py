"""Money and volume precision, and the one rounding rule, defined once.

- Money is yuan with 2 places (fen). Every rounding of money is ROUND_HALF_UP
  to the fen, at one documented point: each bill line (SPEC "Money").
- Unit prices have up to 4 places (0.0001 yuan).
- Volumes have up to 2 places (0.01 m³).

Hot paths (the tariff calculator) work in integers of these units:
volume in 0.01 m³ ("centi"), price in 0.0001 yuan ("price units"), money in
fen. :func:`line_amount_fen` is the integer form of :func:`round_fen`
applied to volume × price; a property test proves they agree.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

FEN = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")
VOLUME_PLACES = Decimal("0.01")
ZERO = Decimal("0.00")


def round_fen(value: Decimal) -> Decimal:
    """Round a yuan amount to the fen, half up (the project's single rounding rule)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def has_places(value: Decimal, places: int) -> bool:
    """Whether ``value`` has at most ``places`` decimal places (trailing zeros do not count)."""
    return value.normalize().as_tuple().exponent >= -places


def line_amount_fen(volume_centi: int, price_units: int) -> int:
    """Amount in fen of volume (0.01 m³) × unit price (0.0001 yuan), rounded half up.

    volume × price is in units of 0.000001 yuan; a fen is 10,000 of them.
    """
    product = volume_centi * price_units
    if product >= 0:
        return (product + 5000) // 10000
    return -((-product + 5000) // 10000)


def to_centi(volume: Decimal) -> int:
    """A volume as an integer of 0.01 m³; refuses more than 2 decimal places."""
    scaled = volume * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(
            _("The volume %(value)s has more than 2 decimal places.") % {"value": volume}
        )
    return int(scaled)


def to_price_units(price: Decimal) -> int:
    """A unit price as an integer of 0.0001 yuan; refuses more than 4 decimal places."""
    scaled = price * 10000
    if scaled != scaled.to_integral_value():
        raise ValueError(
            _("The price %(value)s has more than 4 decimal places.") % {"value": price}
        )
    return int(scaled)


def from_fen(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def from_centi(centi: int) -> Decimal:
    return Decimal(centi).scaleb(-2)


def from_price_units(units: int) -> Decimal:
    return Decimal(units).scaleb(-4)
