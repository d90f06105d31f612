import django_filters
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet

from .models import (
    Caliber,
    CategoryKind,
    MinimumVolume,
    PriceItem,
    RevenueKind,
    Tariff,
    TaxTreatment,
    WaterCategory,
)


class PriceItemFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Code or name"))
    revenue_kind = django_filters.ChoiceFilter(choices=RevenueKind.choices, label=_("Revenue"))
    tax_treatment = django_filters.ChoiceFilter(
        choices=TaxTreatment.choices, label=_("Tax treatment")
    )
    active = django_filters.BooleanFilter(label=_("Active"))
    search_fields = ("code", "name", "collected_for")

    class Meta:
        model = PriceItem
        fields = ["q", "revenue_kind", "tax_treatment", "active"]


class WaterCategoryFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Code or name"))
    kind = django_filters.ChoiceFilter(choices=CategoryKind.choices, label=_("Kind"))
    active = django_filters.BooleanFilter(label=_("Active"))
    search_fields = ("code", "name")

    class Meta:
        model = WaterCategory
        fields = ["q", "kind", "active"]


class TariffFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Code or name"))
    category = django_filters.ModelChoiceFilter(
        queryset=WaterCategory.objects.all(), label=_("Water-use category")
    )
    active = django_filters.BooleanFilter(label=_("Active"))
    search_fields = ("code", "name", "note")

    class Meta:
        model = Tariff
        fields = ["q", "category", "active"]


class MinimumVolumeFilterSet(ScopedFilterSet):
    category = django_filters.ModelChoiceFilter(
        queryset=WaterCategory.objects.all(), label=_("Water-use category")
    )
    caliber = django_filters.ChoiceFilter(choices=Caliber.choices, label=_("Caliber"))

    class Meta:
        model = MinimumVolume
        fields = ["category", "caliber"]
