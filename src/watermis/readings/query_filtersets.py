import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.filtersets import (
    PlaceMixin,
    filter_by_search,
    place_filter,
)
from watermis.customers.models import Book
from watermis.org.models import Employee, Zone

from .models import Anomaly, MonitoredMeter, Reading, ReadingSource, ReadingState
from .query_forms import DATE_WIDGET, MonthField


class MonthFilter(django_filters.Filter):
    field_class = MonthField


def search_reads(queryset, value):
    """The reads of the customers a search finds (account number, name, initials, address,
    phone) or of the meters whose number starts with ``value``."""
    return filter_by_search(queryset, value, meter="meter_id")


class ReadingFilterSet(PlaceMixin, ScopedFilterSet):
    """Every read (F2.2 history): by account, meter, month range, zone, area, book, reader,
    the customer's water-use category, state, anomaly, source; all combine."""

    q = django_filters.CharFilter(method="search", label=_("Account, meter or name"))
    month_from = MonthFilter(field_name="period__month", lookup_expr="gte", label=_("From month"))
    month_to = MonthFilter(field_name="period__month", lookup_expr="lte", label=_("To month"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    area = place_filter("area", method="filter_area")
    book = django_filters.ModelChoiceFilter(queryset=Book.objects.all(), label=_("Reading book"))
    reader = django_filters.ModelChoiceFilter(
        queryset=Employee.objects.filter(is_reader=True), label=_("Meter reader")
    )
    category = place_filter("category")
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
            "area",
            "book",
            "reader",
            "category",
            "state",
            "anomaly",
            "source",
            "estimated",
        ]

    def search(self, queryset, name, value):
        return search_reads(queryset, value)

    def filter_area(self, queryset, name, value):
        """Reads of the area's books (the book the read was made in)."""
        if value is None:
            return queryset
        return queryset.filter(book_id__in=Book.objects.filter(area=value).values("pk"))


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
            "area",
            "book",
            "reader",
            "category",
            "anomaly",
            "state",
            "source",
            "estimated",
            "q",
        ]


WATCH_CHOICES = [("active", _("Being watched")), ("ended", _("Ended"))]


def watching(value, today=None):
    """Q of watches (``MonitoredMeter``) going on (``value`` "active") or ended ("ended")."""
    today = today or timezone.localdate()
    ongoing = Q(until__isnull=True) | Q(until__gte=today)
    if value == "active":
        return ongoing
    if value == "ended":
        return ~ongoing
    return Q()


class MonitoredReadingFilterSet(ReadingFilterSet):
    """Reads of monitored meters (F7.5): the read filters, and whether the watch goes on."""

    watch = django_filters.ChoiceFilter(
        method="filter_watch", choices=WATCH_CHOICES, label=_("Watch"), empty_label=_("All")
    )

    class Meta(ReadingFilterSet.Meta):
        fields = [*ReadingFilterSet.Meta.fields, "watch"]

    def filter_watch(self, queryset, name, value):
        watches = MonitoredMeter.objects.filter(watching(value))
        return queryset.filter(meter_id__in=watches.values("meter_id"))


class MonitoredMeterFilterSet(PlaceMixin, ScopedFilterSet):
    """Watched meters by account or meter, watch, zone, the customer's area, book, reader,
    collector and category, and the days watched."""

    customer_field = "meter__customer"

    q = django_filters.CharFilter(method="search", label=_("Account, meter or name"))
    active = django_filters.ChoiceFilter(
        method="filter_active", choices=WATCH_CHOICES, label=_("Watch"), empty_label=_("All")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    area = place_filter("area")
    book = place_filter("book")
    reader = place_filter("reader")
    collector = place_filter("collector")
    category = place_filter("category")
    since_from = django_filters.DateFilter(
        field_name="since", lookup_expr="gte", label=_("Watch started from"), widget=DATE_WIDGET
    )
    since_to = django_filters.DateFilter(
        field_name="since", lookup_expr="lte", label=_("Watch started to"), widget=DATE_WIDGET
    )
    reason = django_filters.CharFilter(lookup_expr="icontains", label=_("Reason"))

    class Meta:
        model = MonitoredMeter
        fields = [
            "q",
            "active",
            "zone",
            "area",
            "book",
            "reader",
            "collector",
            "category",
            "since_from",
            "since_to",
            "reason",
        ]

    def search(self, queryset, name, value):
        return filter_by_search(queryset, value, customer="meter__customer_id", meter="meter_id")

    def filter_active(self, queryset, name, value):
        return queryset.filter(watching(value))
