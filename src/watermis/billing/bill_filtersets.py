"""Filters of the bill and ledger-entry lists (F7.2–F7.4): every filter combines with every other.

The status filter is :func:`bills.filter_bill_status` (the cheap SQL form of the
derived status).
"""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.filtersets import search_customers
from watermis.customers.models import Area, Book, Customer, Meter
from watermis.org.models import Zone
from watermis.readings.query_filtersets import MonthFilter
from watermis.readings.query_forms import DATE_WIDGET

from .bills import filter_bill_status
from .models import (
    Bill,
    BillKind,
    BillStatus,
    Direction,
    EntryKind,
    LedgerEntry,
)


def meters_matching(value):
    """Meter ids (a subquery) whose number starts with ``value`` (as typed, or in capitals:
    both use the number's pattern index)."""
    return Meter.objects.filter(
        Q(number__startswith=value) | Q(number__startswith=value.upper())
    ).values("pk")


def customers_matching(value):
    """Customer ids (a subquery) whose account number, name, initials, address or phone match."""
    return search_customers(Customer.objects.all(), value).values("pk")


class BillFilterSet(ScopedFilterSet):
    """Bills by account, meter, place, month, status, kind, amount and due date (F7.4)."""

    q = django_filters.CharFilter(
        method="search", label=_("Account, name, initials, address or phone")
    )
    meter = django_filters.CharFilter(method="filter_meter", label=_("Meter number"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    area = django_filters.ModelChoiceFilter(
        field_name="book__area", queryset=Area.objects.all(), label=_("Reading area")
    )
    book = django_filters.ModelChoiceFilter(queryset=Book.objects.all(), label=_("Reading book"))
    month_from = MonthFilter(field_name="month", lookup_expr="gte", label=_("From month"))
    month_to = MonthFilter(field_name="month", lookup_expr="lte", label=_("To month"))
    status = django_filters.ChoiceFilter(
        choices=BillStatus.choices, method="filter_status", label=_("Status")
    )
    kind = django_filters.ChoiceFilter(choices=BillKind.choices, label=_("Kind"))
    amount_min = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label=_("Amount from")
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", label=_("Amount to")
    )
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label=_("Due on or before"), widget=DATE_WIDGET
    )

    class Meta:
        model = Bill
        fields = [
            "q",
            "meter",
            "zone",
            "area",
            "book",
            "month_from",
            "month_to",
            "status",
            "kind",
            "amount_min",
            "amount_max",
            "due_before",
        ]

    def search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(customer_id__in=customers_matching(value))

    def filter_status(self, queryset, name, value):
        return filter_bill_status(queryset, value)

    def filter_meter(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(meter_id__in=meters_matching(value))


class LedgerEntryFilterSet(ScopedFilterSet):
    """Ledger entries by account, zone, kind, direction, business date, operator, channel,
    amount; every filter combines."""

    q = django_filters.CharFilter(
        method="search", label=_("Account, name, initials, address or phone")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    kind = django_filters.ChoiceFilter(choices=EntryKind.choices, label=_("Kind"))
    direction = django_filters.ChoiceFilter(choices=Direction.choices, label=_("Direction"))
    date_from = django_filters.DateFilter(
        field_name="business_date",
        lookup_expr="gte",
        label=_("Business date from"),
        widget=DATE_WIDGET,
    )
    date_to = django_filters.DateFilter(
        field_name="business_date",
        lookup_expr="lte",
        label=_("Business date to"),
        widget=DATE_WIDGET,
    )
    operator = django_filters.CharFilter(method="filter_operator", label=_("Operator"))
    channel = django_filters.CharFilter(lookup_expr="iexact", label=_("Channel"))
    amount_min = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label=_("Amount from")
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", label=_("Amount to")
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "q",
            "zone",
            "kind",
            "direction",
            "date_from",
            "date_to",
            "operator",
            "channel",
            "amount_min",
            "amount_max",
        ]

    def search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(customer_id__in=customers_matching(value))

    def filter_operator(self, queryset, name, value):
        """The operator who posted: login name (exact) or name (contains)."""
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(posted_by__username__iexact=value) | Q(posted_by__name__icontains=value)
        )
