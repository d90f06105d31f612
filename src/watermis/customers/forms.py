from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin, ScopedFormMixin
from watermis.org.models import Employee, Zone

from . import services
from .models import (
    Area,
    Book,
    Customer,
    CustomerStatus,
    CustomerSurcharge,
    Meter,
    MeterKind,
    MeterStatus,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
REASON_HELP = _("Recorded in the change journal.")


def _date(label, required=True, initial=None):
    return forms.DateField(label=label, required=required, widget=DATE_WIDGET, initial=initial)


def _reading(label, required=True):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        localize=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def _installers():
    return Employee.objects.filter(is_installer=True, active=True)


class AreaForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = Area
        fields = services.AREA_FIELDS


class BookForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = Book
        fields = services.BOOK_FIELDS


class CustomerForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = services.CUSTOMER_FIELDS
        widgets = {"mandate_signed_on": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["book"].queryset = self.fields["book"].queryset.filter(active=True)


class NewCustomerForm(CustomerForm):
    """A new account's details without its place in the route (it goes to the end)."""

    class Meta(CustomerForm.Meta):
        fields = [f for f in services.CUSTOMER_FIELDS if f != "route_order"]


class OpenCustomerForm(NewCustomerForm):
    """The customer part of "open an account" (F5.1); the meter part is a MeterForm."""

    opened_on = _date(capfirst(_("opened on")), initial=timezone.localdate)


class MeterForm(ScopedFormMixin, forms.ModelForm):
    """A customer meter (F5.2). Number and initial reading are fixed once installed."""

    class Meta:
        model = Meter
        fields = services.METER_FIELDS
        widgets = {"installed_on": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tariff"].required = True
        self.fields["tariff"].queryset = self.fields["tariff"].queryset.filter(active=True)
        self.fields["parent"].queryset = self.fields["parent"].queryset.filter(
            kind=MeterKind.CUSTOMER, status=MeterStatus.ACTIVE, parent__isnull=True
        )
        self.fields["master"].queryset = self.fields["master"].queryset.filter(
            kind__in=[MeterKind.DISTRICT, MeterKind.PLANT], status=MeterStatus.ACTIVE
        )
        if self.instance.pk:
            self.fields["parent"].queryset = self.fields["parent"].queryset.exclude(
                pk=self.instance.pk
            )
            for name in ("number", "initial_reading"):
                self.fields[name].disabled = True
        else:
            self.fields["installed_on"].initial = timezone.localdate


class MasterMeterForm(ScopedFormMixin, forms.ModelForm):
    """A district or plant-outlet meter (F6.1)."""

    kind = forms.ChoiceField(
        label=capfirst(_("kind")),
        choices=[c for c in MeterKind.choices if c[0] != MeterKind.CUSTOMER],
    )
    zone = forms.ModelChoiceField(Zone.objects.all(), label=capfirst(_("zone")))

    class Meta:
        model = Meter
        fields = [
            "number",
            "caliber",
            "brand",
            "model",
            "digits",
            "installed_on",
            "initial_reading",
            "location",
            "remote_read",
            "remote_valve",
            "device_address",
            "master",
        ]
        widgets = {"installed_on": DATE_WIDGET}

    field_order = ["kind", "zone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["master"].queryset = self.fields["master"].queryset.filter(
            kind=MeterKind.PLANT, status=MeterStatus.ACTIVE
        )
        self.fields["master"].help_text = _("A district meter can sit behind a plant meter.")
        if self.instance.pk:
            del self.fields["kind"], self.fields["zone"]
            for name in ("number", "initial_reading"):
                self.fields[name].disabled = True
        else:
            self.fields["installed_on"].initial = timezone.localdate


class CustomerStatusForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=CustomerStatus.choices)
    on = _date(_("Date"), initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), max_length=200, help_text=REASON_HELP)


class ReplaceMeterForm(ScopedFormMixin, forms.Form):
    """Meter replacement (F6.3): the old meter's final reading and the new meter."""

    old_final_reading = _reading(_("Old meter final reading"))
    number = forms.CharField(label=_("New meter number"), max_length=30)
    brand = forms.CharField(label=_("Brand"), max_length=50, required=False)
    model = forms.CharField(label=_("Model"), max_length=50, required=False)
    digits = forms.IntegerField(label=_("Dial digits"), min_value=3, max_value=10, initial=5)
    initial_reading = _reading(_("New meter initial reading"))
    on = _date(_("Replaced on"), initial=timezone.localdate)
    installer = forms.ModelChoiceField(_installers(), label=_("Installer"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["initial_reading"].initial = 0

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if Meter.objects.filter(number=number).exists():
            raise forms.ValidationError(_("A meter with this number exists already."))
        return number

    def meter_data(self):
        return {
            name: self.cleaned_data[name]
            for name in ("number", "brand", "model", "digits", "initial_reading")
        }


class TransferMeterForm(ScopedFormMixin, forms.Form):
    """Transfer a meter (F6.5) to an existing account, or to a new one opened in the same form."""

    EXISTING, NEW = "existing", "new"

    target = forms.ChoiceField(
        label=_("Transfer to"),
        choices=[(EXISTING, _("An existing account")), (NEW, _("A new account"))],
        initial=EXISTING,
        widget=forms.RadioSelect,
    )
    to_account = forms.CharField(
        label=_("Account number"),
        max_length=30,
        required=False,
        help_text=_("The account the meter goes to."),
    )
    on = _date(_("Transferred on"), initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), max_length=200, help_text=REASON_HELP)

    def clean(self):
        data = super().clean()
        self.to_customer = None
        if data.get("target") == self.EXISTING:
            account = (data.get("to_account") or "").strip()
            if not account:
                self.add_error("to_account", _("Enter the account number."))
            else:
                found = Customer.objects.restrict(self.user, "change").filter(account_no=account)
                self.to_customer = found.first()
                if self.to_customer is None:
                    self.add_error("to_account", _("No account with this number in your zones."))
        return data


class ShutoffForm(ScopedFormMixin, forms.Form):
    on = _date(_("Date"), initial=timezone.localdate)
    installer = forms.ModelChoiceField(_installers(), label=_("Installer"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class MoveCustomersForm(ScopedFormMixin, forms.Form):
    """Book reassignment (F5.4): the target book and a reason."""

    to_book = forms.ModelChoiceField(Book.objects.filter(active=True), label=_("Target book"))
    reason = forms.CharField(label=_("Reason"), max_length=200, help_text=REASON_HELP)


class BatchUpdateForm(ScopedFormMixin, forms.Form):
    """Batch update (F5.5): tick a field, give its new value."""

    reason = forms.CharField(label=_("Reason"), max_length=200, help_text=REASON_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        customer_fields = forms.models.fields_for_model(Customer, fields=services.BATCH_FIELDS)
        for name in services.BATCH_FIELDS:
            field = customer_fields[name]
            field.required = False
            queryset = getattr(field, "queryset", None)
            if queryset is not None and self.user is not None:
                field.queryset = queryset.restrict(self.user, "view")
            self.fields[f"set_{name}"] = forms.BooleanField(
                label=_("Change %(field)s") % {"field": field.label}, required=False
            )
            self.fields[name] = field
        self.fields["reason"] = self.fields.pop("reason")
        for field in self.fields.values():
            widget = field.widget
            if "class" not in widget.attrs:
                if isinstance(widget, forms.CheckboxInput):
                    widget.attrs["class"] = "form-check-input"
                elif isinstance(widget, forms.Select):
                    widget.attrs["class"] = "form-select"
                else:
                    widget.attrs["class"] = "form-control"

    def clean(self):
        data = super().clean()
        self.changes = {}
        for name in services.BATCH_FIELDS:
            if data.get(f"set_{name}"):
                value = data.get(name)
                field = self.fields[name]
                if value in (None, "") and not isinstance(field, forms.BooleanField):
                    self.add_error(name, _("Give the new value."))
                else:
                    self.changes[name] = value
        if not self.changes and not self.errors:
            raise forms.ValidationError(_("Choose at least one field to change."))
        return data

    def field_pairs(self):
        return [(self[f"set_{name}"], self[name]) for name in services.BATCH_FIELDS]


class CustomerSurchargeForm(ScopedFormMixin, forms.ModelForm):
    """An extra fee for one customer (F11.5)."""

    class Meta:
        model = CustomerSurcharge
        fields = ["item", "kind", "amount", "starts_on", "ends_on", "reason"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class EndSurchargeForm(BootstrapMixin, forms.Form):
    ends_on = _date(_("Last day charged"), initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), max_length=200)
