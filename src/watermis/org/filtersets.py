import django_filters
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet

from .models import BusinessUnit, Employee, LoginEvent, LoginEventKind, Operator, Zone, ZoneKind


class ZoneFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Code or name"))
    kind = django_filters.ChoiceFilter(choices=ZoneKind.choices, label=_("Kind"))
    active = django_filters.BooleanFilter(label=_("Active"))
    search_fields = ("code", "name")

    class Meta:
        model = Zone
        fields = ["q", "kind", "active"]


class BusinessUnitFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Code, name or address"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    shares_data = django_filters.BooleanFilter(label=_("Shares data"))
    active = django_filters.BooleanFilter(label=_("Active"))
    search_fields = ("code", "name", "address")

    class Meta:
        model = BusinessUnit
        fields = ["q", "zone", "kind", "shares_data", "active"]


class EmployeeFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Number, name or phone"))
    zone = django_filters.ModelChoiceFilter(
        field_name="unit__zone", queryset=Zone.objects.all(), label=_("Zone")
    )
    unit = django_filters.ModelChoiceFilter(
        queryset=BusinessUnit.objects.all(), label=_("Business unit")
    )
    is_reader = django_filters.BooleanFilter(label=_("Meter reader"))
    is_collector = django_filters.BooleanFilter(label=_("Collector"))
    is_installer = django_filters.BooleanFilter(label=_("Installer"))
    is_inspector = django_filters.BooleanFilter(label=_("Inspector"))
    active = django_filters.BooleanFilter(label=_("In service"))
    search_fields = ("code", "name", "phone")

    class Meta:
        model = Employee
        fields = [
            "q",
            "zone",
            "unit",
            "gender",
            "is_reader",
            "is_collector",
            "is_installer",
            "is_inspector",
            "active",
        ]


class OperatorFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("User name or name"))
    unit = django_filters.ModelChoiceFilter(
        queryset=BusinessUnit.objects.all(), label=_("Business unit")
    )
    groups = django_filters.ModelChoiceFilter(
        queryset=Group.objects.order_by("name"), label=_("Role")
    )
    is_active = django_filters.BooleanFilter(label=_("Active"))
    search_fields = ("username", "name")

    class Meta:
        model = Operator
        fields = ["q", "unit", "groups", "is_active"]


class LoginEventFilterSet(ScopedFilterSet):
    username = django_filters.CharFilter(lookup_expr="icontains", label=_("User name"))
    kind = django_filters.ChoiceFilter(choices=LoginEventKind.choices, label=_("Event"))
    ip = django_filters.CharFilter(lookup_expr="startswith", label=_("IP address"))
    after = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("From"))
    before = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("To"))

    class Meta:
        model = LoginEvent
        fields = ["username", "kind", "ip", "after", "before"]
