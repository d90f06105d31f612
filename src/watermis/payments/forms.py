"""Forms of the counter pages: the payment screen, a reversal's reason, the day-end filter,
waiver limits per role."""

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin
from watermis.invoices.forms import usable_kinds
from watermis.org.models import Operator, Zone
from watermis.readings.query_forms import DATE_WIDGET

from .models import CounterMethod, WaiverLimit

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0}


class CounterForm(BootstrapMixin, forms.Form):
    """The payment part of the counter screen; ``bill_choices`` are the customer's open bills.

    The supervisor who signs a waiver above the cashier's limit types their user name and
    password here; :meth:`clean` checks the password and hands the operator on as
    ``authoriser`` (the service checks their permission and zone).
    """

    customer = forms.IntegerField(widget=forms.HiddenInput)
    bills = forms.MultipleChoiceField(
        label=_("Bills"), choices=(), widget=forms.CheckboxSelectMultiple, required=False
    )
    waiver = forms.DecimalField(label=_("Late fee waived"), required=False, **MONEY)
    waiver_reason = forms.CharField(label=_("Why waived"), max_length=200, required=False)
    authoriser_username = forms.CharField(
        label=_("Supervisor"), max_length=150, required=False, help_text=_("User name")
    )
    authoriser_password = forms.CharField(
        label=_("Supervisor's password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    amount = forms.DecimalField(
        label=_("Amount to pay"),
        required=False,
        help_text=_("Less than due: a partial payment, the rest stays in arrears."),
        **MONEY,
    )
    method = forms.ChoiceField(
        label=_("Paid by"), choices=CounterMethod.choices, initial=CounterMethod.CASH
    )
    tendered = forms.DecimalField(label=_("Tendered"), required=False, **MONEY)
    keep_change = forms.BooleanField(label=_("Keep the change as credit"), required=False)
    invoice_kind = forms.ModelChoiceField(
        label=_("Invoice"),
        queryset=None,
        required=False,
        empty_label=_("No invoice now"),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, user=None, bill_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["bills"].choices = bill_choices
        self.fields["invoice_kind"].queryset = usable_kinds(user).order_by("sort_order", "code")
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "step": "0.01"})
        self.fields["tendered"].widget.attrs.update({"inputmode": "decimal", "step": "0.01"})
        self.fields["waiver"].widget.attrs.update({"step": "0.01"})

    def clean(self):
        data = super().clean()
        username = (data.get("authoriser_username") or "").strip()
        data["authoriser"] = None
        if username:
            operator = authenticate(
                username=username, password=data.get("authoriser_password") or ""
            )
            known = Operator.objects.filter(username=username).first()
            if operator is None or (known is not None and known.is_locked()):
                self.add_error(
                    "authoriser_password",
                    _("Wrong user name or password, or the supervisor is locked or disabled."),
                )
            else:
                data["authoriser"] = operator
        return data


class ReverseForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("What went wrong: wrong account, wrong amount, customer changed their mind."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.attrs["autofocus"] = True


class DayEndForm(BootstrapMixin, forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE_WIDGET)
    cashier = forms.ModelChoiceField(
        label=_("Cashier"), queryset=Operator.objects.none(), required=False
    )
    zone = forms.ModelChoiceField(
        label=_("Zone"),
        queryset=Zone.objects.none(),
        required=False,
        help_text=_("Customers of the zone and cashiers of the zone (cross-zone: both)."),
    )

    def __init__(self, *args, user=None, cashiers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cashier"].queryset = (
            cashiers if cashiers is not None else Operator.objects.none()
        )
        self.fields["zone"].queryset = Zone.objects.restrict(user)
        for field in self.fields.values():
            css = field.widget.attrs.get("class", "")
            field.widget.attrs["class"] = css.replace(
                "form-control", "form-control form-control-sm"
            ).replace("form-select", "form-select form-select-sm")


class WaiverLimitForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = WaiverLimit
        fields = ["role", "limit"]

    def __init__(self, data=None, instance=None, user=None, **kwargs):
        super().__init__(data, instance=instance, **kwargs)
        self.fields["role"].queryset = Group.objects.order_by("name")
