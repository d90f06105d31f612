"""Filters of the invoice lists (F7.6), stock and numbers used: every filter combines."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.filtersets import PlaceMixin, customers_matching, place_filter
from watermis.org.models import Zone
from watermis.readings.query_forms import DATE_WIDGET

from .models import (
    Invoice,
    InvoiceBill,
    InvoiceKind,
    InvoiceState,
    InvoiceStock,
    ItemTaxCode,
    Medium,
    NumberUse,
    NumberUseKind,
    Origin,
    StockState,
)
from .queries import PaidChannel
from .services import COLLECTION_WORDS, METHOD_LABELS

COLLECTED = "collected"
# How an invoice's bills were paid, as it prints it (``Invoice.payment_method``).
PAID_BY_CHOICES = [
    *PaidChannel.CHOICES,
    (COLLECTED, _("Door-to-door collection (invoice before payment)")),
]


def filter_operator(queryset, field, value):
    """By operator: login name (exact) or name (contains)."""
    value = (value or "").strip()
    if not value:
        return queryset
    return queryset.filter(
        Q(**{f"{field}__username__iexact": value}) | Q(**{f"{field}__name__icontains": value})
    )


class InvoiceKindFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Code or name"))
    medium = django_filters.ChoiceFilter(choices=Medium.choices, label=_("Medium"))
    active = django_filters.BooleanFilter(label=_("Active"))
    search_fields = ("code", "name")

    class Meta:
        model = InvoiceKind
        fields = ["q", "medium", "active"]


class ItemTaxCodeFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Item, name or code"))
    search_fields = ("item__name", "item__code", "goods_name", "tax_code")

    class Meta:
        model = ItemTaxCode
        fields = ["q"]


class InvoiceFilterSet(PlaceMixin, ScopedFilterSet):
    """Invoices by number, customer, operator, kind, state, date, origin, medium, zone, the
    customer's area, book, reader, collector and category, how paid, amount (F7.6)."""

    number = django_filters.CharFilter(method="filter_number", label=_("Invoice number"))
    q = django_filters.CharFilter(
        method="search", label=_("Account, name, initials, address or phone")
    )
    buyer = django_filters.CharFilter(
        field_name="buyer_name", lookup_expr="icontains", label=_("Buyer")
    )
    operator = django_filters.CharFilter(method="filter_by_operator", label=_("Issued by"))
    kind = django_filters.ModelChoiceFilter(
        queryset=InvoiceKind.objects.all(), label=_("Invoice kind")
    )
    state = django_filters.ChoiceFilter(choices=InvoiceState.choices, label=_("State"))
    origin = django_filters.ChoiceFilter(choices=Origin.choices, label=_("How issued"))
    medium = django_filters.ChoiceFilter(choices=Medium.choices, label=_("Medium"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    area = place_filter("area")
    book = place_filter("book")
    reader = place_filter("reader")
    collector = place_filter("collector")
    category = place_filter("category")
    paid_by = django_filters.ChoiceFilter(
        choices=PAID_BY_CHOICES, method="filter_paid_by", label=_("Paid by")
    )
    date_from = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("From"), widget=DATE_WIDGET
    )
    date_to = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("To"), widget=DATE_WIDGET
    )
    amount_min = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label=_("Amount from")
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", label=_("Amount to")
    )

    class Meta:
        model = Invoice
        fields = [
            "number",
            "q",
            "buyer",
            "operator",
            "kind",
            "state",
            "origin",
            "medium",
            "zone",
            "area",
            "book",
            "reader",
            "collector",
            "category",
            "paid_by",
            "date_from",
            "date_to",
            "amount_min",
            "amount_max",
        ]

    def filter_paid_by(self, queryset, name, value):
        """The words the invoice printed for how its bills were paid."""
        words = COLLECTION_WORDS if value == COLLECTED else METHOD_LABELS.get(value)
        return queryset.filter(payment_method=words) if words else queryset

    def filter_number(self, queryset, name, value):
        """The number as printed (code and number, or a number's end: typed from the form)."""
        value = (value or "").replace(" ", "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(number=value) | Q(number__endswith=value))

    def search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        customers = customers_matching(value)
        for_their_bills = InvoiceBill.objects.filter(bill__customer_id__in=customers)
        return queryset.filter(
            Q(customer_id__in=customers) | Q(pk__in=for_their_bills.values("invoice_id"))
        )

    def filter_by_operator(self, queryset, name, value):
        return filter_operator(queryset, "operator", value)


class InvoiceStockFilterSet(ScopedFilterSet):
    kind = django_filters.ModelChoiceFilter(
        queryset=InvoiceKind.objects.all(), label=_("Invoice kind")
    )
    code = django_filters.CharFilter(lookup_expr="iexact", label=_("Invoice code"))
    number = django_filters.NumberFilter(method="filter_number", label=_("Holds number"))
    operator = django_filters.CharFilter(method="filter_by_operator", label=_("Operator"))
    state = django_filters.ChoiceFilter(choices=StockState.choices, label=_("State"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    issued_from = django_filters.DateFilter(
        field_name="issued_at", lookup_expr="date__gte", label=_("Issued from"), widget=DATE_WIDGET
    )
    issued_to = django_filters.DateFilter(
        field_name="issued_at", lookup_expr="date__lte", label=_("Issued to"), widget=DATE_WIDGET
    )

    class Meta:
        model = InvoiceStock
        fields = [
            "kind",
            "code",
            "number",
            "operator",
            "state",
            "zone",
            "issued_from",
            "issued_to",
        ]

    def filter_number(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(first__lte=value, last__gte=value)

    def filter_by_operator(self, queryset, name, value):
        return filter_operator(queryset, "operator", value)


class NumberUseFilterSet(ScopedFilterSet):
    """Every number taken from stock: printed or spoiled, by whom, when (F11.10)."""

    kind = django_filters.ModelChoiceFilter(
        field_name="stock__kind", queryset=InvoiceKind.objects.all(), label=_("Invoice kind")
    )
    code = django_filters.CharFilter(
        field_name="stock__code", lookup_expr="iexact", label=_("Invoice code")
    )
    number = django_filters.CharFilter(
        field_name="number", lookup_expr="endswith", label=_("Number")
    )
    use = django_filters.ChoiceFilter(choices=NumberUseKind.choices, label=_("Used for"))
    operator = django_filters.CharFilter(method="filter_by_operator", label=_("Operator"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    date_from = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label=_("From"), widget=DATE_WIDGET
    )
    date_to = django_filters.DateFilter(
        field_name="at", lookup_expr="date__lte", label=_("To"), widget=DATE_WIDGET
    )

    class Meta:
        model = NumberUse
        fields = ["kind", "code", "number", "use", "operator", "zone", "date_from", "date_to"]

    def filter_by_operator(self, queryset, name, value):
        return filter_operator(queryset, "operator", value)
