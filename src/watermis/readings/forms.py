import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin, ScopedFormMixin
from watermis.org.models import Zone

from .consumption import EstimateMethod
from .models import StatusCode

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]

ESTIMATE_METHODS = [
    (EstimateMethod.AVERAGE, _("Recent average (meter fault)")),
    (EstimateMethod.DOUBLE_LAST, _("Twice last period's volume (no access)")),
    (EstimateMethod.MAX_FLOW, _("The caliber's maximum flow")),
    (EstimateMethod.GIVEN, _("A volume I give")),
]


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


class MonthField(forms.DateField):
    """A billing month typed as YYYY-MM (``<input type="month">``); cleaned to its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def __init__(self, **kwargs):
        super().__init__(input_formats=MONTH_FORMATS, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace(day=1) if isinstance(value, datetime.date) else value


class OpenPeriodsForm(ScopedFormMixin, forms.Form):
    zone = forms.ModelChoiceField(Zone.objects.all(), label=_("Zone"))
    month = MonthField(label=_("Billing month"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].initial = timezone.localdate().replace(day=1)


class ClosePeriodForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class EntryForm(forms.Form):
    """One row of the entry screens: what the clerk typed (the service does the checks)."""

    current = forms.DecimalField(
        label=_("Current reading"), required=False, max_digits=14, decimal_places=4
    )
    read_on = forms.DateField(label=_("Read on"), required=False)
    status_code = forms.ChoiceField(
        label=_("Meter status"), choices=StatusCode.choices, initial=StatusCode.NORMAL
    )
    rolled_over = forms.BooleanField(label=_("Dial rolled over"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    confirm = forms.BooleanField(required=False)


class ConfirmForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class EstimateForm(BootstrapMixin, forms.Form):
    method = forms.ChoiceField(label=_("Estimate by"), choices=ESTIMATE_METHODS)
    volume = _reading(_("Estimated volume (m³)"), required=False)
    read_on = forms.DateField(label=_("Read on"), widget=DATE_WIDGET)
    status_code = forms.ChoiceField(
        label=_("Meter status"), choices=StatusCode.choices, initial=StatusCode.NOBODY_HOME
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)


class InterimForm(BootstrapMixin, forms.Form):
    current = _reading(_("Current reading"))
    read_on = forms.DateField(label=_("Read on"), widget=DATE_WIDGET)
    status_code = forms.ChoiceField(
        label=_("Meter status"), choices=StatusCode.choices, initial=StatusCode.NORMAL
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("Needed to confirm an unusual reading."),
    )


SPLIT_PARTS = 3


class SplitForm(BootstrapMixin, forms.Form):
    """Up to three parts; empty parts are left out."""

    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, SPLIT_PARTS + 1):
            volume = _reading(_("Part %(n)s volume (m³)") % {"n": n}, required=False)
            volume.widget.attrs["class"] = "form-control"
            note = forms.CharField(
                label=_("Part %(n)s note") % {"n": n}, max_length=200, required=False
            )
            note.widget.attrs["class"] = "form-control"
            self.fields[f"volume_{n}"] = volume
            self.fields[f"note_{n}"] = note

    def parts(self):
        data = self.cleaned_data
        return [
            (data[f"volume_{n}"], data[f"note_{n}"])
            for n in range(1, SPLIT_PARTS + 1)
            if data.get(f"volume_{n}") is not None
        ]
