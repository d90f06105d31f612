import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.core.scoping import permission_name
from watermis.org.models import Employee, Zone
from watermis.tariffs.models import Caliber, Tariff, WaterCategory

from .models import (
    Area,
    Book,
    Customer,
    CustomerStatus,
    Meter,
    MeterEvent,
    MeterEventKind,
    MeterKind,
    MeterStatus,
    PaymentMethod,
    ReadingCycle,
)


class AreaFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Code or name"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    active = django_filters.BooleanFilter(label=_("Active"))
    search_fields = ("code", "name")

    class Meta:
        model = Area
        fields = ["q", "zone", "active"]


class BookFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Code or name"))
    zone = django_filters.ModelChoiceFilter(
        field_name="area__zone", queryset=Zone.objects.all(), label=_("Zone")
    )
    area = django_filters.ModelChoiceFilter(queryset=Area.objects.all(), label=_("Reading area"))
    reader = django_filters.ModelChoiceFilter(
        queryset=Employee.objects.filter(is_reader=True), label=_("Meter reader")
    )
    cycle = django_filters.ChoiceFilter(choices=ReadingCycle.choices, label=_("Reading cycle"))
    active = django_filters.BooleanFilter(label=_("Active"))
    search_fields = ("code", "name")

    class Meta:
        model = Book
        fields = ["q", "zone", "area", "reader", "cycle", "active"]


# Trigram indexes (PostgreSQL) serve "contains" from three characters on.
MIN_CONTAINS = 3


def search_customers(queryset, value):
    """Account number (prefix), name (contains; prefix under three characters), pinyin
    initials (prefix), address (contains, from three characters), phone (prefix)."""
    value = (value or "").strip()
    if not value:
        return queryset
    q = Q(account_no__istartswith=value) | Q(phone__startswith=value) | Q(phone2__startswith=value)
    if len(value) >= MIN_CONTAINS:
        q |= Q(name__icontains=value) | Q(address__icontains=value)
    else:  # too short for the trigram indexes: a name starting with it (张伟), by its index
        q |= Q(name__startswith=value)
    if value.isascii() and value.isalpha():
        q |= Q(name_initials__startswith=value.lower())
    return queryset.filter(q)


# A search that finds at most this many customers (or meters) is handed to the database as
# their ids: it then reads exactly their rows by the customer (meter) index, where a subquery
# would have it guess, and on a table of millions often walk the whole list in page order.
SEARCH_IDS = 1_000


def _ids_or_subquery(queryset):
    ids = list(queryset.values_list("pk", flat=True)[: SEARCH_IDS + 1])
    return ids if len(ids) <= SEARCH_IDS else queryset.values("pk")


def meters_matching(value):
    """Meter ids whose number starts with ``value`` (as typed, or in capitals: both use the
    number's pattern index): a list, or a subquery past :data:`SEARCH_IDS`."""
    return _ids_or_subquery(
        Meter.objects.filter(Q(number__startswith=value) | Q(number__startswith=value.upper()))
    )


def customers_matching(value):
    """Customer ids whose account number, name, initials, address or phone match: a list, or
    a subquery past :data:`SEARCH_IDS`."""
    return _ids_or_subquery(search_customers(Customer.objects.all(), value))


def filter_by_search(queryset, value, customer="customer_id", meter=None):
    """``queryset`` narrowed to the rows of the customers a search finds
    (:func:`customers_matching`; ``customer``: the path to their id) or, given ``meter``
    (the path to the meter's id), of the meters whose number starts with it; unchanged
    for an empty search."""
    value = (value or "").strip()
    if not value:
        return queryset
    found = Q(**{f"{customer}__in": customers_matching(value)})
    if meter:
        found |= Q(**{f"{meter}__in": meters_matching(value)})
    return queryset.filter(found)


# Where a customer belongs, for the queries (M7) of rows that name a customer: the customer's
# reading book and what follows from it (area, reader, collector), and its water-use category.
PLACES = {
    "area": ("book__area", Area.objects.all(), _("Reading area")),
    "book": ("book", Book.objects.all(), _("Reading book")),
    "reader": ("book__reader", Employee.objects.filter(is_reader=True), _("Meter reader")),
    "collector": ("book__collector", Employee.objects.filter(is_collector=True), _("Collector")),
    "category": ("category", WaterCategory.objects.all(), _("Water-use category")),
}


def place_filter(place, method="filter_place"):
    """A choice of ``place`` (a key of :data:`PLACES`) read by :meth:`PlaceMixin.filter_place`."""
    _lookup, queryset, label = PLACES[place]
    return django_filters.ModelChoiceFilter(queryset=queryset, method=method, label=label)


def customers_in(place, value):
    """Customer ids (a subquery) of ``value`` of ``place`` (e.g. the books of a reader)."""
    lookup = PLACES[place][0]
    return Customer.objects.filter(**{lookup: value}).values("pk")


class PlaceMixin:
    """Filters rows by where their customer belongs (:data:`PLACES`): an id subquery on the
    customer key, ``customer_field``, which the large tables index (entries, invoices,
    waivers...). Declare the filters with :func:`place_filter`."""

    customer_field = "customer"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if user is None:
            return
        for name, (_lookup, queryset, _label) in PLACES.items():
            # a choice the operator may not read (a cashier and the staff list) is left out
            if name in self.filters and not user.has_perm(permission_name(queryset.model, "view")):
                del self.filters[name]
                self.form.fields.pop(name, None)

    def filter_place(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(**{f"{self.customer_field}_id__in": customers_in(name, value)})


class CustomerFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(
        method="search", label=_("Account, name, initials, address or phone")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    area = django_filters.ModelChoiceFilter(
        field_name="book__area", queryset=Area.objects.all(), label=_("Reading area")
    )
    book = django_filters.ModelChoiceFilter(queryset=Book.objects.all(), label=_("Reading book"))
    category = django_filters.ModelChoiceFilter(
        queryset=WaterCategory.objects.all(), label=_("Water-use category")
    )
    status = django_filters.ChoiceFilter(choices=CustomerStatus.choices, label=_("Status"))
    payment_method = django_filters.ChoiceFilter(
        choices=PaymentMethod.choices, label=_("Payment method")
    )
    opened_after = django_filters.DateFilter(
        field_name="opened_on", lookup_expr="gte", label=_("Opened from")
    )
    opened_before = django_filters.DateFilter(
        field_name="opened_on", lookup_expr="lte", label=_("Opened to")
    )

    class Meta:
        model = Customer
        fields = [
            "q",
            "zone",
            "area",
            "book",
            "category",
            "status",
            "payment_method",
            "opened_after",
            "opened_before",
        ]

    def search(self, queryset, name, value):
        return search_customers(queryset, value)


class NewCustomerFilterSet(ScopedFilterSet):
    """New accounts by open date and zone (F5.6)."""

    opened_after = django_filters.DateFilter(
        field_name="opened_on", lookup_expr="gte", label=_("Opened from")
    )
    opened_before = django_filters.DateFilter(
        field_name="opened_on", lookup_expr="lte", label=_("Opened to")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    area = django_filters.ModelChoiceFilter(
        field_name="book__area", queryset=Area.objects.all(), label=_("Reading area")
    )
    category = django_filters.ModelChoiceFilter(
        queryset=WaterCategory.objects.all(), label=_("Water-use category")
    )
    status = django_filters.ChoiceFilter(choices=CustomerStatus.choices, label=_("Status"))

    class Meta:
        model = Customer
        fields = ["opened_after", "opened_before", "zone", "area", "category", "status"]


class ClosedCustomerFilterSet(ScopedFilterSet):
    """Closed accounts (F5.7)."""

    closed_after = django_filters.DateFilter(
        field_name="closed_on", lookup_expr="gte", label=_("Closed from")
    )
    closed_before = django_filters.DateFilter(
        field_name="closed_on", lookup_expr="lte", label=_("Closed to")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    area = django_filters.ModelChoiceFilter(
        field_name="book__area", queryset=Area.objects.all(), label=_("Reading area")
    )
    q = django_filters.CharFilter(
        method="search", label=_("Account, name, initials, address or phone")
    )

    class Meta:
        model = Customer
        fields = ["closed_after", "closed_before", "zone", "area", "q"]

    def search(self, queryset, name, value):
        return search_customers(queryset, value)


class MeterFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Meter number or customer"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    kind = django_filters.ChoiceFilter(choices=MeterKind.choices, label=_("Kind"))
    caliber = django_filters.ChoiceFilter(choices=Caliber.choices, label=_("Caliber"))
    status = django_filters.ChoiceFilter(choices=MeterStatus.choices, label=_("Status"))
    remote_read = django_filters.BooleanFilter(label=_("Remote reading"))
    tariff = django_filters.ModelChoiceFilter(queryset=Tariff.objects.all(), label=_("Tariff"))

    class Meta:
        model = Meter
        fields = ["q", "zone", "kind", "caliber", "status", "remote_read", "tariff"]

    def search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        q = (
            Q(number__istartswith=value)
            | Q(customer__account_no__istartswith=value)
            | Q(customer__name__icontains=value)
        )
        if value.isascii() and value.isalpha():
            q |= Q(customer__name_initials__startswith=value.lower())
        return queryset.filter(q)


class MasterMeterFilterSet(MeterFilterSet):
    kind = django_filters.ChoiceFilter(
        choices=[c for c in MeterKind.choices if c[0] != MeterKind.CUSTOMER], label=_("Kind")
    )

    class Meta:
        model = Meter
        fields = ["q", "zone", "kind", "caliber", "status", "remote_read"]


class MeterEventFilterSet(ScopedFilterSet):
    """Meter events; replacement history (F6.7) is the "replaced" kind."""

    kind = django_filters.ChoiceFilter(choices=MeterEventKind.choices, label=_("Event"))
    after = django_filters.DateFilter(field_name="on", lookup_expr="gte", label=_("From"))
    before = django_filters.DateFilter(field_name="on", lookup_expr="lte", label=_("To"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    installer = django_filters.ModelChoiceFilter(
        queryset=Employee.objects.filter(is_installer=True), label=_("Installer")
    )
    q = django_filters.CharFilter(method="search", label=_("Meter number or account"))

    class Meta:
        model = MeterEvent
        fields = ["kind", "after", "before", "zone", "installer", "q"]

    def search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(meter__number__istartswith=value)
            | Q(new_meter__number__istartswith=value)
            | Q(from_customer__account_no__istartswith=value)
            | Q(to_customer__account_no__istartswith=value)
        )
