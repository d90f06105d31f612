"""Filters of the counter payment list and the waiver query (F7.8): every filter combines."""

import django_filters
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.filtersets import PlaceMixin, customers_matching, place_filter
from watermis.invoices.filtersets import filter_operator
from watermis.org.models import Zone
from watermis.readings.query_filtersets import MonthFilter
from watermis.readings.query_forms import DATE_WIDGET

from .models import CounterMethod, CounterPayment, LateFeeWaiver
from .queries import in_zone


class CounterPaymentFilterSet(PlaceMixin, ScopedFilterSet):
    q = django_filters.CharFilter(
        method="filter_customer", label=_("Account, name, initials, address or phone")
    )
    date_from = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("From"), widget=DATE_WIDGET
    )
    date_to = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("To"), widget=DATE_WIDGET
    )
    cashier = django_filters.CharFilter(method="filter_cashier", label=_("Cashier"))
    method = django_filters.ChoiceFilter(choices=CounterMethod.choices, label=_("Paid by"))
    zone = django_filters.ModelChoiceFilter(
        queryset=Zone.objects.all(), method="filter_zone", label=_("Zone")
    )
    area = place_filter("area")
    book = place_filter("book")
    reader = place_filter("reader")
    collector = place_filter("collector")
    category = place_filter("category")
    cross_zone = django_filters.BooleanFilter(label=_("Cross-zone"))
    reversed = django_filters.BooleanFilter(
        field_name="reversal_entry", lookup_expr="isnull", exclude=True, label=_("Reversed")
    )
    amount_min = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label=_("Amount from")
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", label=_("Amount to")
    )

    class Meta:
        model = CounterPayment
        fields = [
            "q",
            "date_from",
            "date_to",
            "cashier",
            "method",
            "zone",
            "area",
            "book",
            "reader",
            "collector",
            "category",
            "cross_zone",
            "reversed",
            "amount_min",
            "amount_max",
        ]

    def filter_customer(self, queryset, name, value):
        value = (value or "").strip()
        return queryset.filter(customer__in=customers_matching(value)) if value else queryset

    def filter_cashier(self, queryset, name, value):
        return filter_operator(queryset, "cashier", value)

    def filter_zone(self, queryset, name, value):
        return in_zone(queryset, value)


class LateFeeWaiverFilterSet(PlaceMixin, ScopedFilterSet):
    """Waivers by customer, dates, who waived, who authorised, zone, the customer's area,
    book, reader, collector and category, the bill's month, how the payment was made, above
    the limit, reason, reversed, amount (F7.8); every filter combines."""

    q = django_filters.CharFilter(
        method="filter_customer", label=_("Account, name, initials, address or phone")
    )
    date_from = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("From"), widget=DATE_WIDGET
    )
    date_to = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("To"), widget=DATE_WIDGET
    )
    operator = django_filters.CharFilter(method="filter_waived_by", label=_("Waived by"))
    authoriser = django_filters.CharFilter(method="filter_authoriser", label=_("Authorised by"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    area = place_filter("area")
    book = place_filter("book")
    reader = place_filter("reader")
    collector = place_filter("collector")
    category = place_filter("category")
    month_from = MonthFilter(field_name="bill__month", lookup_expr="gte", label=_("From month"))
    month_to = MonthFilter(field_name="bill__month", lookup_expr="lte", label=_("To month"))
    method = django_filters.ChoiceFilter(
        field_name="payment__method", choices=CounterMethod.choices, label=_("Paid by")
    )
    above_limit = django_filters.BooleanFilter(
        field_name="authoriser", lookup_expr="isnull", exclude=True, label=_("Above the limit")
    )
    reason = django_filters.CharFilter(lookup_expr="icontains", label=_("Reason"))
    reversed = django_filters.BooleanFilter(
        field_name="payment__reversal_entry",
        lookup_expr="isnull",
        exclude=True,
        label=_("Reversed with the payment"),
    )
    amount_min = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label=_("Amount from")
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", label=_("Amount to")
    )

    class Meta:
        model = LateFeeWaiver
        fields = [
            "q",
            "date_from",
            "date_to",
            "operator",
            "authoriser",
            "zone",
            "area",
            "book",
            "reader",
            "collector",
            "category",
            "month_from",
            "month_to",
            "method",
            "above_limit",
            "reason",
            "reversed",
            "amount_min",
            "amount_max",
        ]

    def filter_customer(self, queryset, name, value):
        value = (value or "").strip()
        return queryset.filter(customer__in=customers_matching(value)) if value else queryset

    def filter_waived_by(self, queryset, name, value):
        return filter_operator(queryset, "operator", value)

    def filter_authoriser(self, queryset, name, value):
        return filter_operator(queryset, "authoriser", value)
