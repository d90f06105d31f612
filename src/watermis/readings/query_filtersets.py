import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.models import Book
from watermis.org.models import Employee, Zone

from .models import Anomaly, MonitoredMeter, Reading, ReadingSource, ReadingState
from .query_forms import MonthField


class MonthFilter(django_filters.Filter):
    field_class = MonthField


def search_reads(queryset, value):
    """Account number or meter number (prefix), customer name (contains)."""
    value = (value or "").strip()
    if not value:
        return queryset
    return queryset.filter(
        Q(customer__account_no__istartswith=value)
        | Q(meter__number__istartswith=value)
        | Q(customer__name__icontains=value)
    )


class ReadingFilterSet(ScopedFilterSet):
    """Every read (F2.2 history): by account, meter, month range, book, state; all combine."""

    q = django_filters.CharFilter(method="search", label=_("Account, meter or name"))
    month_from = MonthFilter(field_name="period__month", lookup_expr="gte", label=_("From month"))
    month_to = MonthFilter(field_name="period__month", lookup_expr="lte", label=_("To month"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    book = django_filters.ModelChoiceFilter(queryset=Book.objects.all(), label=_("Reading book"))
    reader = django_filters.ModelChoiceFilter(
        queryset=Employee.objects.filter(is_reader=True), label=_("Meter reader")
    )
    state = django_filters.ChoiceFilter(choices=ReadingState.choices, label=_("State"))
    anomaly = django_filters.ChoiceFilter(choices=Anomaly.choices, label=_("Anomaly"))
    source = django_filters.ChoiceFilter(
        choices=ReadingSource.choices, label=_("Entered by way of")
    )
    estimated = django_filters.BooleanFilter(label=_("Estimated"))

    class Meta:
        model = Reading
        fields = [
            "q",
            "month_from",
            "month_to",
            "zone",
            "book",
            "reader",
            "state",
            "anomaly",
            "source",
            "estimated",
        ]

    def search(self, queryset, name, value):
        return search_reads(queryset, value)


class AbnormalReadingFilterSet(ReadingFilterSet):
    """Abnormal-volume query (F6.8): reads with a finding or held; every filter combines."""

    state = django_filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in (ReadingState.ENTERED, ReadingState.HELD)],
        label=_("State"),
    )

    class Meta(ReadingFilterSet.Meta):
        fields = [
            "month_from",
            "month_to",
            "zone",
            "book",
            "reader",
            "anomaly",
            "state",
            "source",
            "estimated",
            "q",
        ]


class MonitoredMeterFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Account, meter or name"))
    active = django_filters.ChoiceFilter(
        method="filter_active",
        choices=[("active", _("Being watched")), ("ended", _("Ended"))],
        label=_("Watch"),
        empty_label=_("All"),
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))

    class Meta:
        model = MonitoredMeter
        fields = ["q", "active", "zone"]

    def search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(meter__customer__account_no__istartswith=value)
            | Q(meter__number__istartswith=value)
            | Q(meter__customer__name__icontains=value)
        )

    def filter_active(self, queryset, name, value):
        ongoing = Q(until__isnull=True) | Q(until__gte=timezone.localdate())
        if value == "active":
            return queryset.filter(ongoing)
        if value == "ended":
            return queryset.exclude(ongoing)
        return queryset
