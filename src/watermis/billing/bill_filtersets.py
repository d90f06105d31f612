"""Filters of the bill and ledger-entry lists (F7.2–F7.4): every filter combines with every other.

The status filter is :func:`bills.filter_bill_status` (the cheap SQL form of the
derived status); the payment filters are :func:`bills.filter_paid` (one subquery of
allocations). Every filter on a large table is an indexed column or an id subquery.
"""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.filtersets import (
    PlaceMixin,
    filter_by_search,
    meters_matching,
    place_filter,
)
from watermis.customers.models import Book
from watermis.org.models import Zone
from watermis.readings.query_filtersets import MonthFilter
from watermis.readings.query_forms import DATE_WIDGET
from watermis.tariffs.models import Tariff

from .bills import OPEN_STATUSES, PaidBy, filter_bill_status, filter_paid, paid_by_q
from .models import (
    Bill,
    BillKind,
    BillStatus,
    Direction,
    EntryKind,
    LedgerEntry,
)


class BillFilterSet(PlaceMixin, ScopedFilterSet):
    """Bills by account, meter, place, month, status, kind, tariff, amount, due date and how
    and when they were paid (F7.2–F7.4); every filter combines with every other.

    Place: area, book, reader and collector are those of the book the bill was billed in
    (``Bill.book``); the water-use category is the customer's. Paid: the payment filters
    (dates, how, by whom) describe one payment together (:func:`bills.payments_made`).
    """

    q = django_filters.CharFilter(
        method="search", label=_("Account, name, initials, address or phone")
    )
    meter = django_filters.CharFilter(method="filter_meter", label=_("Meter number"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    area = place_filter("area", method="filter_book")
    book = place_filter("book", method="filter_book")
    reader = place_filter("reader", method="filter_book")
    collector = place_filter("collector", method="filter_book")
    category = place_filter("category")
    tariff = django_filters.ModelChoiceFilter(queryset=Tariff.objects.all(), label=_("Tariff"))
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
    paid_from = django_filters.DateFilter(
        method="filter_paid", label=_("Paid from"), widget=DATE_WIDGET
    )
    paid_to = django_filters.DateFilter(
        method="filter_paid", label=_("Paid to"), widget=DATE_WIDGET
    )
    paid_by = django_filters.ChoiceFilter(
        choices=PaidBy.choices, method="filter_paid", label=_("Paid by")
    )
    paid_operator = django_filters.CharFilter(method="filter_paid", label=_("Payment taken by"))

    class Meta:
        model = Bill
        fields = [
            "q",
            "meter",
            "zone",
            "area",
            "book",
            "reader",
            "collector",
            "category",
            "tariff",
            "month_from",
            "month_to",
            "status",
            "kind",
            "amount_min",
            "amount_max",
            "due_before",
            "paid_from",
            "paid_to",
            "paid_by",
            "paid_operator",
        ]

    def search(self, queryset, name, value):
        return filter_by_search(queryset, value)

    def filter_status(self, queryset, name, value):
        return filter_bill_status(queryset, value)

    def filter_meter(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(meter_id__in=meters_matching(value))

    def filter_book(self, queryset, name, value):
        """The book the bill was billed in, or the books of an area, reader or collector."""
        if value is None:
            return queryset
        if name == "book":
            return queryset.filter(book_id=value.pk)
        lookup = {"area": "area", "reader": "reader", "collector": "collector"}[name]
        return queryset.filter(book_id__in=Book.objects.filter(**{lookup: value}).values("pk"))

    def paid_criteria(self):
        """The payment filters as :func:`bills.payments_made` takes them ({} if none is set)."""
        if not self.is_bound or not self.form.is_valid():
            return {}
        data = self.form.cleaned_data
        criteria = {
            "date_from": data.get("paid_from"),
            "date_to": data.get("paid_to"),
            "paid_by": data.get("paid_by") or "",
            "operator": (data.get("paid_operator") or "").strip(),
        }
        return criteria if any(criteria.values()) else {}

    def filter_paid(self, queryset, name, value):
        """The payment filters make one condition on one payment, applied once (by the first
        of them that is set)."""
        criteria = self.paid_criteria()
        if getattr(self, "_paid_applied", False) or not criteria:
            return queryset
        self._paid_applied = True
        return filter_paid(queryset, **criteria)

    def filter_queryset(self, queryset):
        self._paid_applied = False
        return super().filter_queryset(queryset)


class ArrearsFilterSet(BillFilterSet):
    """The arrears (F7.3): the bill filters, the status one of those left to pay."""

    status = django_filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in OPEN_STATUSES],
        method="filter_status",
        label=_("Status"),
    )

    class Meta(BillFilterSet.Meta):
        pass


class LedgerEntryFilterSet(PlaceMixin, ScopedFilterSet):
    """Ledger entries by account, zone, the customer's area, book, reader, collector and
    category, kind, direction, business date, billing month, operator, how paid, channel,
    amount; every filter combines."""

    q = django_filters.CharFilter(
        method="search", label=_("Account, name, initials, address or phone")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    area = place_filter("area")
    book = place_filter("book")
    reader = place_filter("reader")
    collector = place_filter("collector")
    category = place_filter("category")
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
    period_from = MonthFilter(field_name="period", lookup_expr="gte", label=_("From month"))
    period_to = MonthFilter(field_name="period", lookup_expr="lte", label=_("To month"))
    operator = django_filters.CharFilter(method="filter_operator", label=_("Operator"))
    paid_by = django_filters.ChoiceFilter(
        choices=PaidBy.choices, method="filter_paid_by", label=_("Paid by")
    )
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
            "area",
            "book",
            "reader",
            "collector",
            "category",
            "kind",
            "direction",
            "date_from",
            "date_to",
            "period_from",
            "period_to",
            "operator",
            "paid_by",
            "channel",
            "amount_min",
            "amount_max",
        ]

    def filter_paid_by(self, queryset, name, value):
        """Payments (and transfers from the prepaid deposit) made that way."""
        return queryset.filter(paid_by_q(value))

    def search(self, queryset, name, value):
        return filter_by_search(queryset, value)

    def filter_operator(self, queryset, name, value):
        """The operator who posted: login name (exact) or name (contains)."""
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(posted_by__username__iexact=value) | Q(posted_by__name__icontains=value)
        )
