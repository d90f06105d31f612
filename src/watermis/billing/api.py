"""Billing API, read only (issue 6): bills with their lines and status, ledger entries,
account balances.

Everything goes through the restricted querysets (the operator's zones, and
``billing.view_bill`` / ``view_ledgerentry`` / ``view_account``). A bill's
``status``, ``settled`` and ``open_amount`` are computed in SQL
(``bills.with_status``), as on the pages.
"""

import django_filters
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from watermis.core.api import ScopedModelSerializer, ScopedViewSet
from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.models import Customer
from watermis.org.models import Zone
from watermis.readings.query_filtersets import MonthFilter

from .bills import filter_bill_status, with_status
from .models import (
    Account,
    Bill,
    BillKind,
    BillLine,
    BillStatus,
    Direction,
    EntryKind,
    LedgerEntry,
)

MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True}


class BillFilterSet(ScopedFilterSet):
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.all(), label=_("Customer")
    )
    account = django_filters.CharFilter(
        field_name="customer__account_no", label=_("Account number")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    month = MonthFilter(label=_("Billing month"))
    month_from = MonthFilter(field_name="month", lookup_expr="gte", label=_("From month"))
    month_to = MonthFilter(field_name="month", lookup_expr="lte", label=_("To month"))
    status = django_filters.ChoiceFilter(
        choices=BillStatus.choices, method="filter_status", label=_("Status")
    )
    kind = django_filters.ChoiceFilter(choices=BillKind.choices, label=_("Kind"))

    class Meta:
        model = Bill
        fields = [
            "customer",
            "account",
            "zone",
            "month",
            "month_from",
            "month_to",
            "status",
            "kind",
        ]

    def filter_status(self, queryset, name, value):
        return filter_bill_status(queryset, value)


class LedgerEntryFilterSet(ScopedFilterSet):
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.all(), label=_("Customer")
    )
    account = django_filters.CharFilter(
        field_name="customer__account_no", label=_("Account number")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    kind = django_filters.ChoiceFilter(choices=EntryKind.choices, label=_("Kind"))
    direction = django_filters.ChoiceFilter(choices=Direction.choices, label=_("Direction"))
    date_from = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("Business date from")
    )
    date_to = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("Business date to")
    )

    class Meta:
        model = LedgerEntry
        fields = ["customer", "account", "zone", "kind", "direction", "date_from", "date_to"]


class AccountFilterSet(ScopedFilterSet):
    account = django_filters.CharFilter(
        field_name="customer__account_no", label=_("Account number")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    arrears = django_filters.BooleanFilter(method="filter_arrears", label=_("In arrears"))

    class Meta:
        model = Account
        fields = ["account", "zone", "arrears"]

    def filter_arrears(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(balance__lt=0) if value else queryset.filter(balance__gte=0)


class BillLineSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)

    class Meta:
        model = BillLine
        fields = [
            "id",
            "item",
            "item_code",
            "item_name",
            "kind",
            "tier",
            "volume",
            "unit_price",
            "amount",
            "price_from",
        ]
        read_only_fields = fields


class BillSerializer(ScopedModelSerializer):
    account_no = serializers.CharField(source="customer.account_no", read_only=True)
    meter_number = serializers.CharField(source="meter.number", read_only=True, default="")
    settled = serializers.DecimalField(help_text="Σ allocations against the bill.", **MONEY)
    written_off = serializers.DecimalField(help_text="The part settled by write-offs.", **MONEY)
    open_amount = serializers.DecimalField(help_text="What is left to pay.", **MONEY)
    status = serializers.ChoiceField(choices=BillStatus.choices, read_only=True)
    lines = BillLineSerializer(many=True, read_only=True)

    class Meta:
        model = Bill
        fields = [
            "id",
            "kind",
            "customer",
            "account_no",
            "zone",
            "book",
            "meter",
            "meter_number",
            "reading",
            "part",
            "month",
            "period_start",
            "period_end",
            "previous",
            "current",
            "read_volume",
            "volume",
            "tariff",
            "household_size",
            "cycle_start",
            "cycle_to_date",
            "amount",
            "settled",
            "written_off",
            "open_amount",
            "status",
            "issued_on",
            "due_on",
            "state",
            "inspection",
            "late_fee_exempt",
            "corrects",
            "reason",
            "entry",
            "cancel_entry",
            "lines",
        ]
        read_only_fields = fields


class LedgerEntrySerializer(ScopedModelSerializer):
    account_no = serializers.CharField(source="customer.account_no", read_only=True)
    posted_by_name = serializers.CharField(source="posted_by.name", read_only=True, default="")
    reversed_by = serializers.SerializerMethodField()
    bill = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "customer",
            "account_no",
            "zone",
            "kind",
            "direction",
            "amount",
            "business_date",
            "posted_at",
            "period",
            "posted_by",
            "posted_by_name",
            "unit",
            "reason",
            "channel",
            "external_key",
            "reverses",
            "reversed_by",
            "bill",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_reversed_by(self, entry):
        """The entry that reversed this one (null while it stands)."""
        try:
            return entry.reversed_by.pk
        except ObjectDoesNotExist:
            return None

    @extend_schema_field(OpenApiTypes.INT)
    def get_bill(self, entry):
        """The bill whose entry this is (null for other entries)."""
        try:
            return entry.bill.pk
        except ObjectDoesNotExist:
            return None


class AccountSerializer(ScopedModelSerializer):
    account_no = serializers.CharField(source="customer.account_no", read_only=True)
    name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Account
        fields = ["customer", "account_no", "name", "zone", "balance", "updated_at"]
        read_only_fields = fields


class BillViewSet(ScopedViewSet):
    """Bills with their lines, status, settled and open amounts (read only)."""

    model = Bill
    serializer_class = BillSerializer
    filterset_class = BillFilterSet

    def get_queryset(self):
        lines = BillLine.objects.select_related("item").order_by("id")
        return (
            with_status(Bill.objects.restrict(self.request.user, "view"))
            .select_related("customer", "meter")
            .prefetch_related(Prefetch("lines", queryset=lines))
            .order_by("pk")
        )


class LedgerEntryViewSet(ScopedViewSet):
    """Posted ledger entries, e.g. one customer's (``?customer=``), read only."""

    model = LedgerEntry
    serializer_class = LedgerEntrySerializer
    filterset_class = LedgerEntryFilterSet

    def get_queryset(self):
        return (
            LedgerEntry.objects.restrict(self.request.user, "view")
            .select_related("customer", "posted_by", "reversed_by", "bill")
            .order_by("pk")
        )


class AccountViewSet(ScopedViewSet):
    """Account balances (credit +, arrears −), by customer id; read only."""

    model = Account
    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    lookup_field = "customer"

    def get_queryset(self):
        return (
            Account.objects.restrict(self.request.user, "view")
            .select_related("customer")
            .order_by("pk")
        )
