"""Forms of the prepaid-deposit pages: the deposit screen, a reason (correction, undo), the
start of a transfer run."""

from django import forms
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin
from watermis.core.scoping import visible_zone_ids
from watermis.org.models import Zone

from .models import CounterMethod


class DepositForm(BootstrapMixin, forms.Form):
    customer = forms.IntegerField(widget=forms.HiddenInput)
    amount = forms.DecimalField(label=_("Amount to deposit"), max_digits=14, decimal_places=2)
    method = forms.ChoiceField(
        label=_("Paid by"), choices=CounterMethod.choices, initial=CounterMethod.CASH
    )
    tendered = forms.DecimalField(
        label=_("Tendered"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("Cash handed over; empty: the amount."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    pay_bills = forms.BooleanField(
        label=_("Pay the open bills from the deposit now"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("amount", "tendered"):
            self.fields[name].widget = forms.TextInput(
                attrs={
                    "class": "form-control form-control-lg",
                    "inputmode": "decimal",
                    "autocomplete": "off",
                }
            )
        self.fields["amount"].widget.attrs.update(autofocus=True, accesskey="a")
        self.fields["tendered"].widget.attrs["accesskey"] = "t"


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, help_text="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.attrs["autofocus"] = True
        self.fields["reason"].help_text = help_text


class TransferStartForm(BootstrapMixin, forms.Form):
    zone = forms.ModelChoiceField(label=_("Zone"), queryset=Zone.objects.none(), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["zone"]
        field.queryset = Zone.objects.restrict(user).order_by("code")
        if visible_zone_ids(user) is None:
            field.empty_label = _("All zones")
        else:
            field.required = True
