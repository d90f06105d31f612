from django.core.exceptions import ValidationError

from watermis.core.api import ScopedModelSerializer, ScopedWriteViewSet

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


class FirstMeterSerializer(ScopedModelSerializer):
    class Meta:
        model = Meter
        fields = services.METER_FIELDS


class CustomerSerializer(ScopedModelSerializer):
    first_meter = FirstMeterSerializer(
        write_only=True,
        required=False,
        help_text="The account's first meter (required to open an account).",
    )

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
            "first_meter",
        ]
        read_only_fields = [
            "account_no",
            "zone",
            "status",
            "opened_on",
            "suspended_on",
            "closed_on",
        ]


class NewMeterSerializer(ScopedModelSerializer):
    """Adding a meter to an existing customer (F5.2)."""

    class Meta:
        model = Meter
        fields = ["id", "customer", *services.METER_FIELDS]


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


def open_customer_from_api(actor, data):
    """POST /api/customers/: open an account with its first meter (F5.1)."""
    data = dict(data)
    meter = data.pop("first_meter", None)
    if not meter:
        raise ValidationError({"first_meter": "An account is opened with its first meter."})
    return services.open_customer(actor, data, meter)


def add_meter_from_api(actor, data):
    """POST /api/meters/: another meter for an existing customer (F5.2)."""
    data = dict(data)
    return services.add_meter(actor, data.pop("customer"), data)


class CustomerViewSet(ScopedWriteViewSet):
    """Customers: open (with ``first_meter``), read, update."""

    model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    create_service = open_customer_from_api
    update_service = services.update_customer

    def get_queryset(self):
        return super().get_queryset().order_by("account_no")


class MeterViewSet(ScopedWriteViewSet):
    """Meters: add to a customer, read, update (replacement and transfer are on the pages)."""

    model = Meter
    serializer_class = MeterSerializer
    filterset_class = MeterFilterSet
    create_service = add_meter_from_api
    update_service = services.update_meter

    def get_serializer_class(self):
        return NewMeterSerializer if self.action == "create" else MeterSerializer
