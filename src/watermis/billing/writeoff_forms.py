"""Forms and filter sets of the write-off and bill-correction pages (F3.21, F3.22)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.core.forms import BootstrapMixin
from watermis.org.models import Operator, Zone
from watermis.readings.query_filtersets import MonthFilter
from watermis.readings.query_forms import MonthField

from .models import RedBillRequest, WriteOff, WriteOffState

AMOUNT = {"max_digits": 14, "decimal_places": 2, "min_value": 0.01}


class WriteOffRequestForm(BootstrapMixin, forms.Form):
    amount = forms.DecimalField(label=_("Amount to write off"), **AMOUNT)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Why the bill cannot be collected (customer gone, bankrupt, ...)."),
    )


class CancelBillForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class RedBillRequestForm(BootstrapMixin, forms.Form):
    amount = forms.DecimalField(
        label=_("Red bill amount"),
        required=False,
        help_text=_("What the red bill takes off; empty: all that is left of the bill."),
        **AMOUNT,
    )
    month = MonthField(
        label=_("Billing month of the red bill"),
        required=False,
        help_text=_("Empty: the zone's open billing month when the red bill is approved."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=200, help_text=_("What was wrong with the bill.")
    )


class DecisionForm(BootstrapMixin, forms.Form):
    """Approve or reject a request; the pressed button names the decision."""

    note = forms.CharField(
        label=_("Note"),
        max_length=200,
        required=False,
        help_text=_("Needed to reject: say why."),
    )


def search_bills(queryset, value):
    """Account number (prefix) or customer name (contains) of the request's bill."""
    value = (value or "").strip()
    if not value:
        return queryset
    return queryset.filter(
        Q(bill__customer__account_no__istartswith=value) | Q(bill__customer__name__icontains=value)
    )


class RequestFilterSet(ScopedFilterSet):
    """Shared filters of write-offs and red bill requests; every filter combines."""

    q = django_filters.CharFilter(method="search", label=_("Account or name"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    state = django_filters.ChoiceFilter(choices=WriteOffState.choices, label=_("State"))
    requested_by = django_filters.ModelChoiceFilter(
        queryset=Operator.objects.none(), label=_("Requested by")
    )
    month_from = MonthFilter(field_name="bill__month", lookup_expr="gte", label=_("From month"))
    month_to = MonthFilter(field_name="bill__month", lookup_expr="lte", label=_("To month"))
    amount_min = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label=_("Amount from")
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", label=_("Amount to")
    )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        requesters = self._meta.model.objects.all()
        user = getattr(request, "user", None)
        if user is not None:
            from watermis.core.scoping import visible_zone_ids

            requesters = requesters.in_zones(visible_zone_ids(user))
        self.form.fields["requested_by"].queryset = Operator.objects.filter(
            pk__in=requesters.values("requested_by")
        ).order_by("username")

    def search(self, queryset, name, value):
        return search_bills(queryset, value)


class WriteOffFilterSet(RequestFilterSet):
    class Meta:
        model = WriteOff
        fields = [
            "q",
            "zone",
            "state",
            "requested_by",
            "month_from",
            "month_to",
            "amount_min",
            "amount_max",
        ]


class WriteOffApprovalFilterSet(RequestFilterSet):
    """Write-offs awaiting approval: the state is given."""

    class Meta:
        model = WriteOff
        fields = [name for name in WriteOffFilterSet.Meta.fields if name != "state"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("state")
        del self.form.fields["state"]


class RedBillRequestFilterSet(RequestFilterSet):
    class Meta:
        model = RedBillRequest
        fields = WriteOffFilterSet.Meta.fields
