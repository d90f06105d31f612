"""Invoice API, read only: invoices with their tax lines and bills (F7.6).

Reads through the restricted queryset (``invoices.view_invoice`` and the
operator's zones), as the pages do. Issuing goes through the pages and, from
the counter, through :mod:`watermis.invoices.services`.
"""

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from watermis.core.api import ScopedModelSerializer, ScopedViewSet
from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.models import Customer
from watermis.org.models import Zone

from .models import (
    Invoice,
    InvoiceBill,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    Medium,
    Origin,
)


class InvoiceApiFilterSet(ScopedFilterSet):
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.all(), label=_("Customer")
    )
    account = django_filters.CharFilter(
        field_name="customer__account_no", label=_("Account number")
    )
    number = django_filters.CharFilter(label=_("Invoice number"))
    kind = django_filters.ModelChoiceFilter(
        queryset=InvoiceKind.objects.all(), label=_("Invoice kind")
    )
    state = django_filters.ChoiceFilter(choices=InvoiceState.choices, label=_("State"))
    origin = django_filters.ChoiceFilter(choices=Origin.choices, label=_("How issued"))
    medium = django_filters.ChoiceFilter(choices=Medium.choices, label=_("Medium"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    date_from = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("From")
    )
    date_to = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("To")
    )
    bill = django_filters.NumberFilter(field_name="bill_rows__bill", label=_("Bill"))

    class Meta:
        model = Invoice
        fields = [
            "customer",
            "account",
            "number",
            "kind",
            "state",
            "origin",
            "medium",
            "zone",
            "date_from",
            "date_to",
            "bill",
        ]


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "position",
            "item",
            "name",
            "tax_code",
            "unit",
            "tier",
            "quantity",
            "unit_price",
            "amount",
            "tax_treatment",
            "tax_rate",
            "net",
            "tax",
            "collected_for",
        ]
        read_only_fields = fields


class InvoiceBillSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceBill
        fields = ["bill", "part", "amount", "live"]
        read_only_fields = fields


class InvoiceSerializer(ScopedModelSerializer):
    kind_code = serializers.CharField(source="kind.code", read_only=True)
    account_no = serializers.CharField(source="customer.account_no", read_only=True)
    operator_name = serializers.CharField(source="operator.username", read_only=True)
    red_of_number = serializers.CharField(source="red_of.number", read_only=True, default="")
    lines = InvoiceLineSerializer(many=True, read_only=True)
    bills = InvoiceBillSerializer(source="bill_rows", many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "kind",
            "kind_code",
            "medium",
            "invoice_type",
            "code",
            "number",
            "state",
            "origin",
            "operator",
            "operator_name",
            "zone",
            "customer",
            "account_no",
            "combined",
            "issued_at",
            "business_date",
            "buyer_name",
            "buyer_tax_id",
            "buyer_type",
            "seller_name",
            "seller_tax_id",
            "amount",
            "net_amount",
            "tax_amount",
            "tax_inclusive",
            "remark",
            "payment",
            "payment_method",
            "red_of",
            "red_of_number",
            "red_reason",
            "red_confirmation_no",
            "voided_at",
            "void_reason",
            "reprints",
            "provider",
            "provider_status",
            "lines",
            "bills",
        ]
        read_only_fields = fields


class InvoiceViewSet(ScopedViewSet):
    """Invoices with their tax lines and bills, e.g. one bill's (``?bill=``); read only."""

    model = Invoice
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceApiFilterSet

    def get_queryset(self):
        return (
            Invoice.objects.restrict(self.request.user, "view")
            .select_related("kind", "customer", "operator", "red_of")
            .prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")),
                Prefetch("bill_rows", queryset=InvoiceBill.objects.order_by("id")),
            )
            .distinct()
            .order_by("pk")
        )
