from rest_framework import serializers

from watermis.core.api import ScopedModelSerializer, ScopedViewSet, ScopedWriteViewSet

from . import services
from .filtersets import BusinessUnitFilterSet, EmployeeFilterSet, ZoneFilterSet
from .models import BusinessUnit, Employee, Operator, Zone


class ZoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Zone
        fields = ["id", *services.ZONE_FIELDS]


class BusinessUnitSerializer(ScopedModelSerializer):
    class Meta:
        model = BusinessUnit
        fields = ["id", *services.UNIT_FIELDS]


class EmployeeSerializer(ScopedModelSerializer):
    class Meta:
        model = Employee
        fields = ["id", *services.EMPLOYEE_FIELDS]


class OperatorSerializer(serializers.ModelSerializer):
    roles = serializers.SlugRelatedField(
        source="groups", many=True, read_only=True, slug_field="name"
    )

    class Meta:
        model = Operator
        fields = [
            "id",
            "username",
            "name",
            "employee",
            "unit",
            "roles",
            "all_zones",
            "is_active",
            "last_login",
        ]


class ZoneViewSet(ScopedWriteViewSet):
    model = Zone
    serializer_class = ZoneSerializer
    filterset_class = ZoneFilterSet
    create_service = services.create_zone
    update_service = services.update_zone


class BusinessUnitViewSet(ScopedWriteViewSet):
    model = BusinessUnit
    serializer_class = BusinessUnitSerializer
    filterset_class = BusinessUnitFilterSet
    create_service = services.create_unit
    update_service = services.update_unit


class EmployeeViewSet(ScopedWriteViewSet):
    model = Employee
    serializer_class = EmployeeSerializer
    filterset_class = EmployeeFilterSet
    create_service = services.create_employee
    update_service = services.update_employee


class OperatorViewSet(ScopedViewSet):
    model = Operator
    serializer_class = OperatorSerializer
