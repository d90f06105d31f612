from rest_framework import mixins

from watermis.core.api import ScopedModelSerializer, ScopedViewSet, ScopedWriteViewSet

from . import services
from .filtersets import AreaFilterSet, BookFilterSet, CustomerFilterSet, MeterFilterSet
from .models import Area, Book, Customer, Meter


class AreaSerializer(ScopedModelSerializer):
    class Meta:
        model = Area
        fields = ["id", *services.AREA_FIELDS]


class BookSerializer(ScopedModelSerializer):
    class Meta:
        model = Book
        fields = ["id", *services.BOOK_FIELDS]


class CustomerSerializer(ScopedModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id",
            "account_no",
            *services.CUSTOMER_FIELDS,
            "zone",
            "status",
            "opened_on",
            "suspended_on",
            "closed_on",
        ]
        read_only_fields = [
            "account_no",
            "zone",
            "status",
            "opened_on",
            "suspended_on",
            "closed_on",
        ]


class MeterSerializer(ScopedModelSerializer):
    class Meta:
        model = Meter
        fields = [
            "id",
            *services.METER_FIELDS,
            "kind",
            "customer",
            "zone",
            "status",
            "removed_on",
            "final_reading",
            "valve_state",
        ]
        read_only_fields = [
            "number",
            "initial_reading",
            "kind",
            "customer",
            "zone",
            "status",
            "removed_on",
            "final_reading",
            "valve_state",
        ]


class AreaViewSet(ScopedWriteViewSet):
    model = Area
    serializer_class = AreaSerializer
    filterset_class = AreaFilterSet
    create_service = services.create_area
    update_service = services.update_area


class BookViewSet(ScopedWriteViewSet):
    model = Book
    serializer_class = BookSerializer
    filterset_class = BookFilterSet
    create_service = services.create_book
    update_service = services.update_book


class ScopedUpdateViewSet(mixins.UpdateModelMixin, ScopedViewSet):
    """Read and update through the app's service; records are created on the pages."""

    def perform_update(self, serializer):
        serializer.instance = self._call(
            type(self).update_service, serializer.instance, serializer.validated_data
        )


class CustomerViewSet(ScopedUpdateViewSet):
    """Customers: read and update. An account is opened with its first meter on the page."""

    model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    update_service = services.update_customer

    def get_queryset(self):
        return super().get_queryset().order_by("account_no")


class MeterViewSet(ScopedUpdateViewSet):
    model = Meter
    serializer_class = MeterSerializer
    filterset_class = MeterFilterSet
    update_service = services.update_meter
