"""Prepaid-deposit API (issue 9; F4.1–F4.5): deposits (take one at the counter or from a
channel, idempotent by the channel's reference; correct one), the accounts' deposit
balances with their total, transfer runs (start one) and undoing a transfer.

Reads go through the restricted querysets, as the pages do; every write calls
:mod:`.deposits`, which checks the permission and the zone again inside its transaction.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from watermis.billing.models import Account
from watermis.core.api import ScopedModelSerializer, ScopedViewSet
from watermis.core.filtersets import ScopedFilterSet
from watermis.customers.models import Customer
from watermis.org.models import Zone

from . import counter, deposit_queries, deposits
from .deposit_filtersets import DepositBalanceFilterSet
from .models import (
    CounterMethod,
    Deposit,
    DepositChannel,
    DepositTransfer,
    TransferRun,
    TransferTrigger,
)

MONEY = {"max_digits": 14, "decimal_places": 2}


class ByMethodPermission:
    """``permission_required`` of the request: ``write_permissions`` by action for POST, the
    view permission otherwise (ScopedModelPermissions reads it)."""

    read_permission = None
    write_permissions = {}

    def get_permissions(self):
        if self.request.method == "POST":
            self.permission_required = self.write_permissions.get(self.action, "__none__")
        else:
            self.permission_required = self.read_permission
        return super().get_permissions()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


# ------------------------------------------------------------------------- deposits


class DepositFilterSet(ScopedFilterSet):
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.all(), label=_("Customer")
    )
    account = django_filters.CharFilter(
        field_name="customer__account_no", label=_("Account number")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    channel = django_filters.ChoiceFilter(choices=DepositChannel.choices, label=_("Channel"))
    reference = django_filters.CharFilter(label=_("Channel reference"))
    date_from = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("From")
    )
    date_to = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("To")
    )

    class Meta:
        model = Deposit
        fields = ["customer", "account", "zone", "channel", "reference", "date_from", "date_to"]


class DepositCorrectionSerializer(serializers.Serializer):
    at = serializers.DateTimeField(read_only=True)
    operator = serializers.IntegerField(source="operator_id", read_only=True)
    reason = serializers.CharField(read_only=True)
    entry = serializers.IntegerField(source="entry_id", read_only=True)
    balance_after = serializers.DecimalField(read_only=True, **MONEY)


class DepositSerializer(ScopedModelSerializer):
    account_no = serializers.CharField(source="customer.account_no", read_only=True)
    voucher_number = serializers.SerializerMethodField()
    correction = DepositCorrectionSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Deposit
        fields = [
            "id",
            "voucher_number",
            "customer",
            "account_no",
            "zone",
            "operator",
            "channel",
            "method",
            "reference",
            "amount",
            "tendered",
            "change",
            "balance_before",
            "balance_after",
            "at",
            "business_date",
            "note",
            "entry",
            "correction",
        ]
        read_only_fields = fields

    def get_voucher_number(self, deposit) -> str:
        return deposits.voucher_number(deposit)


class TakeDepositSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none())
    amount = serializers.DecimalField(**MONEY)
    channel = serializers.ChoiceField(
        choices=DepositChannel.choices, default=DepositChannel.COUNTER
    )
    method = serializers.ChoiceField(
        choices=CounterMethod.choices,
        default=CounterMethod.CASH,
        help_text="At the counter: how the customer pays.",
    )
    tendered = serializers.DecimalField(
        required=False, allow_null=True, help_text="Cash handed over (counter).", **MONEY
    )
    reference = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="A channel's reference: the same reference again returns the first deposit.",
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    pay_bills = serializers.BooleanField(
        default=False, help_text="Pay the customer's open bills from the deposit at once."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["customer"].queryset = counter.counter_customers(
                request.user, "payments.take_deposit"
            )


class DepositViewSet(ByMethodPermission, ScopedViewSet):
    """Prepaid deposits: list, read; take one (POST: 201, or 200 with the first deposit when a
    channel sends a reference again); correct one (POST ``{id}/correct/``)."""

    model = Deposit
    serializer_class = DepositSerializer
    filterset_class = DepositFilterSet
    read_permission = "payments.view_deposit"
    # correcting is the service's to allow (its operator on its day, or a supervisor)
    write_permissions = {"create": "payments.take_deposit", "correct": "payments.view_deposit"}

    def get_queryset(self):
        return (
            Deposit.objects.restrict(self.request.user, "view")
            .select_related("customer", "correction")
            .order_by("pk")
        )

    @extend_schema(
        request=TakeDepositSerializer, responses={200: DepositSerializer, 201: DepositSerializer}
    )
    def create(self, request):
        serializer = TakeDepositSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        deposit = self._call(
            deposits.take_deposit,
            data["customer"],
            data["amount"],
            channel=data["channel"],
            method=data["method"],
            tendered=data.get("tendered"),
            reference=data["reference"],
            note=data["note"],
            pay_bills=data["pay_bills"],
        )
        repeated = deposit.repeated
        # the one just taken (a cross-zone deposit may lie outside what the cashier lists)
        deposit = Deposit.objects.select_related("customer", "correction").get(pk=deposit.pk)
        body = DepositSerializer(deposit, context={"request": request}).data
        return Response(body, status=status.HTTP_200_OK if repeated else status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses=DepositSerializer)
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        """Correct a wrong deposit (a linked reversal entry), with a reason."""
        deposit = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self._call(deposits.correct_deposit, deposit, serializer.validated_data["reason"])
        deposit = self.get_queryset().get(pk=deposit.pk)
        return Response(DepositSerializer(deposit, context={"request": request}).data)


# ------------------------------------------------------------------------- balances


class DepositBalanceSerializer(ScopedModelSerializer):
    account_no = serializers.CharField(source="customer.account_no", read_only=True)
    name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Account
        fields = ["customer", "account_no", "name", "zone", "deposit", "balance", "updated_at"]
        read_only_fields = fields


class DepositTotalSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    total = serializers.DecimalField(**MONEY)
    negative_count = serializers.IntegerField()
    negative = serializers.DecimalField(**MONEY)
    zones = inline_serializer(
        "DepositZoneTotal",
        {
            "zone": serializers.IntegerField(),
            "name": serializers.CharField(),
            "count": serializers.IntegerField(),
            "total": serializers.DecimalField(**MONEY),
        },
        many=True,
    )


class DepositBalanceViewSet(ScopedViewSet):
    """The accounts holding a prepaid deposit (F4.5), by customer id; ``total/``: the sum of
    the filtered accounts and per zone."""

    model = Account
    serializer_class = DepositBalanceSerializer
    filterset_class = DepositBalanceFilterSet
    permission_required = "payments.view_deposit"
    lookup_field = "customer"

    def get_queryset(self):
        return deposit_queries.deposit_accounts(self.request.user).order_by("pk")

    @extend_schema(responses=DepositTotalSerializer)
    @action(detail=False, methods=["get"], pagination_class=None)
    def total(self, request):
        """The total deposit of the (filtered) accounts, and each zone's."""
        queryset = self.filter_queryset(self.get_queryset())
        totals = deposit_queries.balance_totals(queryset)
        totals["zones"] = [
            {"zone": zone.pk, "name": zone.name, "count": count, "total": total}
            for zone, count, total in deposit_queries.zone_balances(queryset)
        ]
        return Response(DepositTotalSerializer(totals).data)


# ------------------------------------------------------------------------- transfers


class TransferRunSerializer(ScopedModelSerializer):
    class Meta:
        model = TransferRun
        fields = [
            "id",
            "zone",
            "trigger",
            "bill_run",
            "business_date",
            "partial",
            "overdraft",
            "started_by",
            "started_at",
            "finished_at",
            "candidates",
            "looked_at",
            "customers",
            "bills",
            "amount",
            "error",
        ]
        read_only_fields = fields


class StartTransferSerializer(serializers.Serializer):
    zone = serializers.PrimaryKeyRelatedField(
        queryset=Zone.objects.none(),
        required=False,
        allow_null=True,
        help_text="Empty: every zone (for operators who see every zone).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["zone"].queryset = Zone.objects.restrict(request.user)


class TransferRunFilterSet(ScopedFilterSet):
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    trigger = django_filters.ChoiceFilter(choices=TransferTrigger.choices, label=_("Started"))

    class Meta:
        model = TransferRun
        fields = ["zone", "trigger"]


class TransferRunViewSet(ByMethodPermission, ScopedViewSet):
    """Deposit transfer runs (F4.3): list, read (progress and totals); POST starts one in the
    background (201; follow ``finished_at``)."""

    model = TransferRun
    serializer_class = TransferRunSerializer
    filterset_class = TransferRunFilterSet
    read_permission = "payments.view_transferrun"
    write_permissions = {"create": "payments.run_transfer"}

    def get_queryset(self):
        return TransferRun.objects.restrict(self.request.user, "view").order_by("pk")

    @extend_schema(request=StartTransferSerializer, responses={201: TransferRunSerializer})
    def create(self, request):
        serializer = StartTransferSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        run = self._call(deposits.start_transfer, serializer.validated_data.get("zone"))
        return Response(
            TransferRunSerializer(run, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class DepositTransferSerializer(ScopedModelSerializer):
    account_no = serializers.CharField(source="customer.account_no", read_only=True)
    undone = serializers.SerializerMethodField()

    class Meta:
        model = DepositTransfer
        fields = [
            "id",
            "run",
            "customer",
            "account_no",
            "zone",
            "amount",
            "bills",
            "deposit_before",
            "deposit_after",
            "undone",
        ]
        read_only_fields = fields

    def get_undone(self, transfer) -> bool:
        return hasattr(transfer, "undo")


class DepositTransferFilterSet(ScopedFilterSet):
    run = django_filters.NumberFilter(field_name="run_id", label=_("Run"))
    customer = django_filters.ModelChoiceFilter(
        queryset=Customer.objects.all(), label=_("Customer")
    )
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))

    class Meta:
        model = DepositTransfer
        fields = ["run", "customer", "zone"]


class DepositTransferViewSet(ByMethodPermission, ScopedViewSet):
    """What each run took from each deposit; undo one (POST ``{id}/undo/``)."""

    model = DepositTransfer
    serializer_class = DepositTransferSerializer
    filterset_class = DepositTransferFilterSet
    read_permission = "payments.view_deposittransfer"
    write_permissions = {"undo": "payments.undo_transfer"}

    def get_queryset(self):
        return (
            DepositTransfer.objects.restrict(self.request.user, "view")
            .select_related("customer", "undo")
            .order_by("pk")
        )

    @extend_schema(request=ReasonSerializer, responses=DepositTransferSerializer)
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        """Undo a transfer: its bills open again, the money back in the deposit; 400 with the
        reason while an invoice covers one of its bills."""
        transfer = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self._call(deposits.undo_transfer, transfer, serializer.validated_data["reason"])
        transfer = self.get_queryset().get(pk=transfer.pk)
        return Response(DepositTransferSerializer(transfer, context={"request": request}).data)
