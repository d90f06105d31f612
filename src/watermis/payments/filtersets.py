"""Filters of the counter payment list and the waiver query (F7.8): every filter combines."""

import django_filters
from django.utils.translation import gettext_lazy as _

from watermis.billing.bill_filtersets import customers_matching
from watermis.core.filtersets import ScopedFilterSet
from watermis.invoices.filtersets import filter_operator
from watermis.org.models import Zone
from watermis.readings.query_forms import DATE_WIDGET

from .models import CounterMethod, CounterPayment, LateFeeWaiver
from .queries import in_zone


class CounterPaymentFilterSet(ScopedFilterSet):
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
    cross_zone = django_filters.BooleanFilter(label=_("Cross-zone"))
    reversed = django_filters.BooleanFilter(
        field_name="reversal_entry", lookup_expr="isnull", exclude=True, label=_("Reversed")
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
            "cross_zone",
            "reversed",
        ]

    def filter_customer(self, queryset, name, value):
        value = (value or "").strip()
        return queryset.filter(customer__in=customers_matching(value)) if value else queryset

    def filter_cashier(self, queryset, name, value):
        return filter_operator(queryset, "cashier", value)

    def filter_zone(self, queryset, name, value):
        return in_zone(queryset, value)


class LateFeeWaiverFilterSet(ScopedFilterSet):
    """Waivers by customer, dates, who waived, who authorised, zone, above the limit (F7.8)."""

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

    class Meta:
        model = LateFeeWaiver
        fields = [
            "q",
            "date_from",
            "date_to",
            "operator",
            "authoriser",
            "zone",
            "above_limit",
            "reason",
            "reversed",
            "amount_min",
        ]

    def filter_customer(self, queryset, name, value):
        value = (value or "").strip()
        return queryset.filter(customer__in=customers_matching(value)) if value else queryset

    def filter_waived_by(self, queryset, name, value):
        return filter_operator(queryset, "operator", value)

    def filter_authoriser(self, queryset, name, value):
        return filter_operator(queryset, "authoriser", value)
