from django.db.models import Prefetch
from rest_framework import serializers

from watermis.core.api import ScopedViewSet

from . import services
from .filtersets import PriceItemFilterSet, TariffFilterSet, WaterCategoryFilterSet
from .models import (
    PriceItem,
    QuotaBracket,
    Surcharge,
    Tariff,
    TariffPrice,
    TariffTier,
    TariffVersion,
    WaterCategory,
)


class PriceItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriceItem
        fields = ["id", *services.ITEM_FIELDS]


class WaterCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = WaterCategory
        fields = ["id", *services.CATEGORY_FIELDS]


class TariffTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = TariffTier
        fields = ["number", "upper"]


class TariffPriceSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = TariffPrice
        fields = ["item", "tier", "unit_price"]


class QuotaBracketSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuotaBracket
        fields = ["number", "upper_percent", "multiple"]


class SurchargeSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Surcharge
        fields = ["item", "kind", "amount"]


class TariffVersionSerializer(serializers.ModelSerializer):
    tiers = TariffTierSerializer(many=True, read_only=True)
    prices = TariffPriceSerializer(many=True, read_only=True)
    quota_brackets = QuotaBracketSerializer(many=True, read_only=True)
    surcharges = SurchargeSerializer(many=True, read_only=True)
    quota_base_item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    quota_surcharge_item = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = TariffVersion
        fields = [
            "id",
            "effective_from",
            "tier_mode",
            "cycle_start_month",
            "base_household_size",
            "person_step",
            "widen_tiers",
            "tiers",
            "prices",
            "quota_base_item",
            "quota_surcharge_item",
            "quota_brackets",
            "surcharges",
            "note",
        ]


class TariffSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    versions = TariffVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Tariff
        fields = ["id", "code", "name", "category", "note", "active", "versions"]


class PriceItemViewSet(ScopedViewSet):
    model = PriceItem
    serializer_class = PriceItemSerializer
    filterset_class = PriceItemFilterSet


class WaterCategoryViewSet(ScopedViewSet):
    model = WaterCategory
    serializer_class = WaterCategorySerializer
    filterset_class = WaterCategoryFilterSet


class TariffViewSet(ScopedViewSet):
    """Tariffs with every version (oldest first) the operator may see, prices included."""

    model = Tariff
    serializer_class = TariffSerializer
    filterset_class = TariffFilterSet

    def get_queryset(self):
        versions = (
            TariffVersion.objects.restrict(self.request.user)
            .order_by("effective_from")
            .select_related("quota_base_item", "quota_surcharge_item")
            .prefetch_related(
                "tiers",
                Prefetch("prices", queryset=TariffPrice.objects.select_related("item")),
                "quota_brackets",
                Prefetch("surcharges", queryset=Surcharge.objects.select_related("item")),
            )
        )
        return (
            super()
            .get_queryset()
            .select_related("category")
            .prefetch_related(Prefetch("versions", queryset=versions))
        )
