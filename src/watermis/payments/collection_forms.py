import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from watermis.core.filtersets import ScopedFilterSet
from watermis.core.forms import BootstrapMixin
from watermis.customers.models import Customer
from watermis.org.models import Operator

from .collection import collectors
from .models import Remittance

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CollectorField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.username}) · {obj.unit}"


class CollectorChoiceForm(BootstrapMixin, forms.Form):
    collector = CollectorField(Operator.objects.none(), label=_("Collector"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = collectors(user)


class RegisterForm(BootstrapMixin, forms.Form):
    """The action on the invoices ticked in the collector's outstanding list."""

    PAID, RETURNED, INSPECTION = "paid", "returned", "inspection"
    action = forms.ChoiceField(
        label=_("What came back"),
        choices=[
            (PAID, _("Paid: register the remittance")),
            (RETURNED, _("Returned unpaid: void")),
            (INSPECTION, _("Transfer to inspection-collection")),
        ],
    )
    business_date = forms.DateField(label=_("Collected on"), widget=DATE_WIDGET, required=False)
    reason = forms.CharField(label=_("Reason or note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_date"].initial = timezone.localdate()


class TicketForm(BootstrapMixin, forms.Form):
    collector = CollectorField(Operator.objects.none(), label=_("Collector"))
    account_no = forms.CharField(label=_("Account number"), max_length=20)
    ticket = forms.CharField(label=_("Manual ticket number"), max_length=30)
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=0.01)
    business_date = forms.DateField(label=_("Collected on"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = collectors(user)
        self.fields["business_date"].initial = timezone.localdate()

    def clean_account_no(self):
        number = self.cleaned_data["account_no"].strip()
        customer = Customer.objects.restrict(self.user).filter(account_no=number).first()
        if customer is None:
            raise forms.ValidationError(
                _("No customer with account number %(number)s in your zones."),
                params={"number": number},
            )
        self.customer = customer
        return number


class PeriodForm(BootstrapMixin, forms.Form):
    date_from = forms.DateField(label=_("From"), widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("To"), widget=DATE_WIDGET)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data


class RemittanceFilterSet(ScopedFilterSet):
    collector = django_filters.ModelChoiceFilter(
        queryset=Operator.objects.filter(employee__is_collector=True), label=_("Collector")
    )
    date_from = django_filters.DateFilter(
        field_name="business_date", lookup_expr="gte", label=_("From"), widget=DATE_WIDGET
    )
    date_to = django_filters.DateFilter(
        field_name="business_date", lookup_expr="lte", label=_("To"), widget=DATE_WIDGET
    )

    class Meta:
        model = Remittance
        fields = ["collector", "zone"]
