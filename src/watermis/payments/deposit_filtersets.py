"""Filters of the prepaid-deposit lists (F4.5, F4.6): every filter combines."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from watermis.billing.models import Account, LedgerEntry
from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.filtersets import customers_matching
from watermis.customers.models import Book
from watermis.invoices.filtersets import filter_operator
from watermis.org.models import Zone
from watermis.readings.query_forms import DATE_WIDGET

from .deposit_queries import PotKind
from .models import Deposit, DepositChannel, DepositTransfer, TransferRun, TransferTrigger

CUSTOMER_LABEL = _("Account, name, initials, address or phone")


def match_customer(queryset, name, value):
    value = (value or "").strip()
    return queryset.filter(customer__in=customers_matching(value)) if value else queryset


class DepositFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method=match_customer, label=CUSTOMER_LABEL)
    date_from = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("From"), widget=DATE_WIDGET
    )
    date_to = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("To"), widget=DATE_WIDGET
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    operator = django_filters.CharFilter(method="filter_operator", label=_("Operator"))
    channel = django_filters.ChoiceFilter(choices=DepositChannel.choices, label=_("Channel"))
    corrected = django_filters.BooleanFilter(
        field_name="correction", lookup_expr="isnull", exclude=True, label=_("Corrected")
    )

    class Meta:
        model = Deposit
        fields = ["q", "date_from", "date_to", "zone", "operator", "channel", "corrected"]

    def filter_operator(self, queryset, name, value):
        return filter_operator(queryset, "operator", value)


class DepositBalanceFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method=match_customer, label=CUSTOMER_LABEL)
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    book = django_filters.ModelChoiceFilter(
        field_name="customer__book", queryset=Book.objects.all(), label=_("Reading book")
    )
    balance_min = django_filters.NumberFilter(
        field_name="deposit", lookup_expr="gte", label=_("Deposit from")
    )
    balance_max = django_filters.NumberFilter(
        field_name="deposit", lookup_expr="lte", label=_("Deposit to")
    )
    negative = django_filters.BooleanFilter(method="filter_negative", label=_("Below zero"))

    class Meta:
        model = Account
        fields = ["q", "zone", "book", "balance_min", "balance_max", "negative"]

    def filter_negative(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(deposit__lt=0) if value else queryset.filter(deposit__gt=0)


class DepositEntryFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method=match_customer, label=CUSTOMER_LABEL)
    date_from = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("From"), widget=DATE_WIDGET
    )
    date_to = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("To"), widget=DATE_WIDGET
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    pot_kind = django_filters.ChoiceFilter(
        choices=PotKind.choices, method="filter_kind", label=_("Kind")
    )
    operator = django_filters.CharFilter(method="filter_operator", label=_("Operator"))
    channel = django_filters.ChoiceFilter(
        choices=DepositChannel.choices, method="filter_channel", label=_("Channel")
    )
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
            "date_from",
            "date_to",
            "zone",
            "pot_kind",
            "operator",
            "channel",
            "amount_min",
            "amount_max",
        ]

    def filter_kind(self, queryset, name, value):
        return queryset.filter(PotKind.filters[value]) if value else queryset

    def filter_operator(self, queryset, name, value):
        return filter_operator(queryset, "posted_by", value)

    def filter_channel(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            Q(deposit_record__channel=value) | Q(reverses__deposit_record__channel=value)
        )


class TransferRunFilterSet(ScopedFilterSet):
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    trigger = django_filters.ChoiceFilter(choices=TransferTrigger.choices, label=_("Started"))
    date_from = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("From"), widget=DATE_WIDGET
    )
    date_to = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("To"), widget=DATE_WIDGET
    )

    class Meta:
        model = TransferRun
        fields = ["zone", "trigger", "date_from", "date_to"]


class DepositTransferFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method=match_customer, label=CUSTOMER_LABEL)
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    undone = django_filters.BooleanFilter(
        field_name="undo", lookup_expr="isnull", exclude=True, label=_("Undone")
    )

    class Meta:
        model = DepositTransfer
        fields = ["q", "zone", "undone"]
