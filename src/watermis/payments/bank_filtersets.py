import django_filters
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.org.models import Zone
from watermis.readings.forms import MonthField

from .models import Bank, BankBatch, BankBatchLine, BatchState, LineState


class MonthFilter(django_filters.DateFilter):
    field_class = MonthField


class BankFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Code or name"))
    search_fields = ("code", "name", "customer_bank_prefix")

    class Meta:
        model = Bank
        fields = ["q", "file_format", "active"]


class BankBatchFilterSet(ScopedFilterSet):
    number = django_filters.CharFilter(lookup_expr="icontains", label=_("Batch number"))
    bank = django_filters.ModelChoiceFilter(queryset=Bank.objects.all(), label=_("Bank"))
    zone = django_filters.ModelChoiceFilter(queryset=Zone.objects.all(), label=_("Zone"))
    state = django_filters.ChoiceFilter(choices=BatchState.choices, label=_("State"))
    after = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("Batch date from")
    )
    before = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("Batch date to")
    )

    class Meta:
        model = BankBatch
        fields = ["number", "bank", "zone", "state", "after", "before"]


class BankBatchLineFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Account, name or bank account"))
    state = django_filters.ChoiceFilter(choices=LineState.choices, label=_("State"))
    month = MonthFilter(field_name="month", label=_("Billing month"))
    result_code = django_filters.CharFilter(label=_("Result code"))
    search_fields = ("customer__account_no", "customer__name", "bank_account", "account_name")

    class Meta:
        model = BankBatchLine
        fields = ["q", "state", "month", "result_code"]
