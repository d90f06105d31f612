from rest_framework import serializers

from watermis.core.api import ScopedViewSet, ScopedWriteViewSet

from . import services
from .filtersets import BusinessUnitFilterSet, EmployeeFilterSet, ZoneFilterSet
from .models import BusinessUnit, Employee, Operator, Zone


class ZoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Zone
        fields = ["id", "code", "name", "kind", "sort_order", "active", "note"]


class BusinessUnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = BusinessUnit
        fields = ["id", "code", "name", "zone", "kind", "address", "phone", "shares_data", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "zone" in self.fields:
            self.fields["zone"].queryset = Zone.objects.restrict(request.user)


class EmployeeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Employee
        fields = [
            "id",
            "code",
            "name",
            "gender",
            "phone",
            "unit",
            "is_reader",
            "is_collector",
            "is_installer",
            "is_inspector",
            "hired_on",
            "active",
            "note",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "unit" in self.fields:
            self.fields["unit"].queryset = BusinessUnit.objects.restrict(request.user)


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
