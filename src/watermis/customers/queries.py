"""Reading customer data for other apps (billing, payments, reports)."""

from django.db.models import Q

from watermis.core.money import to_price_units
from watermis.tariffs.calculator import Fee

from .models import CustomerSurcharge


def customer_fees(customer_id, on_date):
    """The customer's own surcharges in force on ``on_date``, as calculator fees."""
    surcharges = (
        CustomerSurcharge.objects.filter(customer_id=customer_id, starts_on__lte=on_date)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on_date))
        .select_related("item")
        .order_by("item__sort_order", "pk")
    )
    return tuple(
        Fee(s.item.code, s.item.name, s.kind, to_price_units(s.amount)) for s in surcharges
    )
