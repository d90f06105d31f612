"""Numbers as tariff pages show them: prices with 2 to 4 places, volumes without trailing zeros."""

from decimal import Decimal

from django import template

register = template.Library()


def plain(value, min_places=0):
    """``value`` without trailing zeros beyond ``min_places`` (never in exponent form)."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    places = max(min_places, -value.normalize().as_tuple().exponent)
    return f"{value:.{places}f}"


@register.filter
def price(value):
    """A unit price: 2.07, 2.0725, 160.00."""
    return plain(value, 2)


@register.filter
def qty(value):
    """A volume or a threshold: 180, 22.5."""
    return plain(value, 0)
