"""Reading API (M2): periods (open, close), reads (enter), handheld file upload.

Reads go through the scoped querysets; every write calls a service. A read
that needs confirmation answers 400 with ``code: "confirm"`` and the findings,
so a client can show them and send the entry again with ``confirm`` and a reason.
"""

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from watermis.core.api import ScopedModelSerializer, ScopedViewSet
from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.models import Book, Meter
from watermis.org.models import Zone

from . import handheld, services
from .models import (
    Anomaly,
    PeriodStatus,
    Reading,
    ReadingPeriod,
    ReadingSource,
    ReadingState,
    StatusCode,
)


class ReadingPeriodFilterSet(ScopedFilterSet):
    month = django_filters.DateFilter(label=_("Billing month"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    book = django_filters.ModelChoiceFilter(queryset=Book.objects.all(), label=_("Reading book"))
    status = django_filters.ChoiceFilter(choices=PeriodStatus.choices, label=_("Status"))

    class Meta:
        model = ReadingPeriod
        fields = ["month", "zone", "book", "status"]


class ReadingFilterSet(ScopedFilterSet):
    period = django_filters.ModelChoiceFilter(
        queryset=ReadingPeriod.objects.all(), label=_("Reading period")
    )
    book = django_filters.ModelChoiceFilter(queryset=Book.objects.all(), label=_("Reading book"))
    meter = django_filters.ModelChoiceFilter(queryset=Meter.objects.all(), label=_("Meter"))
    account = django_filters.CharFilter(
        field_name="customer__account_no", label=_("Account number")
    )
    month = django_filters.DateFilter(field_name="period__month", label=_("Billing month"))
    state = django_filters.ChoiceFilter(choices=ReadingState.choices, label=_("State"))
    anomaly = django_filters.ChoiceFilter(choices=Anomaly.choices, label=_("Anomaly"))

    class Meta:
        model = Reading
        fields = ["period", "book", "meter", "account", "month", "state", "anomaly"]


class ReadingPeriodSerializer(ScopedModelSerializer):
    class Meta:
        model = ReadingPeriod
        fields = [
            "id",
            "zone",
            "book",
            "month",
            "planned_on",
            "status",
            "opened_at",
            "opened_by",
            "closed_at",
        ]
        read_only_fields = fields


class OpenPeriodsSerializer(serializers.Serializer):
    zone = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.all())
    month = serializers.DateField(help_text="Any day of the billing month.")
    books = serializers.PrimaryKeyRelatedField(
        queryset=Book.objects.all(), many=True, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["zone"].queryset = Zone.objects.restrict(request.user)
            self.fields["books"].child_relation.queryset = Book.objects.restrict(request.user)


class ClosePeriodSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReadingSerializer(ScopedModelSerializer):
    meter_number = serializers.CharField(source="meter.number", read_only=True)
    account_no = serializers.CharField(source="customer.account_no", read_only=True, default="")

    class Meta:
        model = Reading
        fields = [
            "id",
            "period",
            "meter",
            "meter_number",
            "customer",
            "account_no",
            "zone",
            "book",
            "route_order",
            "sequence",
            "previous",
            "previous_on",
            "previous_estimated",
            "average",
            "current",
            "read_on",
            "volume",
            "closing",
            "status_code",
            "rolled_over",
            "estimated",
            "source",
            "state",
            "anomaly",
            "reason",
            "note",
            "reader",
            "entered_by",
            "entered_at",
            "approved_by",
            "billed",
        ]
        read_only_fields = fields


class EntrySerializer(serializers.Serializer):
    """What ``POST /api/readings/{id}/enter/`` takes: one read (F2.2, F2.3, F2.6)."""

    current = serializers.DecimalField(max_digits=12, decimal_places=2)
    read_on = serializers.DateField()
    status_code = serializers.ChoiceField(choices=StatusCode.choices, default=StatusCode.NORMAL)
    rolled_over = serializers.BooleanField(default=False)
    estimated = serializers.BooleanField(default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    confirm = serializers.BooleanField(
        default=False, help_text="Confirm the findings of an earlier answer, with a reason."
    )
    source = serializers.ChoiceField(choices=ReadingSource.choices, default=ReadingSource.MANUAL)

    def entry(self):
        return services.Entry(**self.validated_data)


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A handheld file (.csv or .xlsx, see the layout).")


def _service_error(exc):
    """A Django ValidationError as a DRF one; NeedsConfirmation keeps its findings."""
    if isinstance(exc, services.NeedsConfirmation):
        detail = {
            **exc.message_dict,
            "code": "confirm",
            "volume": str(exc.volume),
            "findings": [{"code": f.code, "level": f.level} for f in exc.findings],
        }
        return exceptions.ValidationError(detail)
    detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    return exceptions.ValidationError(detail)


class _ServiceCalls:
    def call(self, service, *args, **kwargs):
        try:
            return service(self.request.user, *args, **kwargs)
        except DjangoValidationError as exc:
            raise _service_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc


class ReadingPeriodViewSet(_ServiceCalls, ScopedViewSet):
    """Reading periods: list, read; open a zone's month (POST ``open/``), close one."""

    model = ReadingPeriod
    serializer_class = ReadingPeriodSerializer
    filterset_class = ReadingPeriodFilterSet

    def get_queryset(self):
        # opening and closing are checked by the services (add / change readingperiod)
        return ReadingPeriod.objects.restrict(self.request.user, "view").order_by("pk")

    @action(detail=False, methods=["post"], serializer_class=OpenPeriodsSerializer)
    def open(self, request):
        """Open the month's periods of a zone (books due by their cycle, master meters)."""
        serializer = OpenPeriodsSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        opened = self.call(
            services.open_periods,
            data["zone"],
            data["month"],
            books=data.get("books") or None,
            today=timezone.localdate(),
        )
        return Response(
            ReadingPeriodSerializer(opened, many=True, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @action(detail=True, methods=["post"], serializer_class=ClosePeriodSerializer)
    def close(self, request, pk=None):
        """Close a period: no more reads or corrections."""
        period = self.get_object()
        serializer = ClosePeriodSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        period = self.call(services.close_period, period, serializer.validated_data["reason"])
        return Response(ReadingPeriodSerializer(period, context={"request": request}).data)


class ReadingViewSet(_ServiceCalls, ScopedViewSet):
    """Reads: list and read with filters; enter one (POST ``{id}/enter/``); upload a file."""

    model = Reading
    serializer_class = ReadingSerializer
    filterset_class = ReadingFilterSet
    permission_required = None

    def get_permissions(self):
        # writes need readings.change_reading (POST would ask for add_reading otherwise)
        self.permission_required = (
            "readings.change_reading" if self.request.method == "POST" else None
        )
        return super().get_permissions()

    def get_queryset(self):
        return (
            Reading.objects.restrict(self.request.user, "view")
            .select_related("meter", "customer")
            .order_by("pk")
        )

    @action(detail=True, methods=["post"], serializer_class=EntrySerializer)
    def enter(self, request, pk=None):
        """Enter or correct the read. 400 with ``code: "confirm"`` and ``findings`` when it
        needs confirming: send it again with ``confirm: true`` and a ``reason``."""
        reading = self.get_object()
        serializer = EntrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reading = self.call(
            services.enter_reading, reading, serializer.entry(), today=timezone.localdate()
        )
        return Response(ReadingSerializer(reading, context={"request": request}).data)

    @action(
        detail=False,
        methods=["post"],
        serializer_class=UploadSerializer,
        parser_classes=[MultiPartParser, FormParser],
    )
    def upload(self, request):
        """Upload a handheld file: all or nothing; the counts, or every error."""
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            result = handheld.import_file(
                request.user, upload, upload.name, today=timezone.localdate()
            )
        except handheld.HandheldFileError as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        body = {
            "rows": result.rows,
            "saved": result.saved,
            "held": result.held,
            "unchanged": result.unchanged,
            "skipped": result.skipped,
            "errors": [
                {"row": e.row, "column": e.column, "message": e.message} for e in result.errors
            ],
        }
        return Response(body, status=status.HTTP_200_OK if result.ok else 400)
