import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin, ScopedFormMixin
from watermis.customers.models import Meter
from watermis.org.models import Zone

MONTH_WIDGET = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MonthField(forms.DateField):
    """A billing month typed as ``YYYY-MM`` (or a date, or ``YYYYMM``); cleaned to its first day."""

    widget = MONTH_WIDGET
    input_formats = ["%Y-%m", "%Y-%m-%d", "%Y%m"]

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", self.input_formats)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace(day=1) if isinstance(value, datetime.date) else value


class MonthZoneForm(ScopedFormMixin, forms.Form):
    """The month and (optionally) the zone a statistics page is about."""

    month = MonthField(label=_("Billing month"))
    zone = forms.ModelChoiceField(
        queryset=Zone.objects.all(), required=False, label=_("Zone"), empty_label=_("All zones")
    )


class MonthRangeForm(BootstrapMixin, forms.Form):
    month_from = MonthField(label=_("From month"), required=False)
    month_to = MonthField(label=_("To month"), required=False)

    def clean(self):
        data = super().clean()
        first, last = data.get("month_from"), data.get("month_to")
        if first and last and first > last:
            self.add_error("month_to", _("The last month is before the first."))
        return data


class StartMonitoringForm(BootstrapMixin, forms.Form):
    meter = forms.CharField(label=_("Meter number"), max_length=30)
    since = forms.DateField(label=_("Watched from"), widget=DATE_WIDGET, initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_meter(self):
        number = self.cleaned_data["meter"].strip()
        meter = Meter.objects.restrict(self.user, "view").filter(number=number).first()
        if meter is None:
            raise forms.ValidationError(
                _("There is no meter %(number)s in your zones.") % {"number": number}
            )
        return meter


class StopMonitoringForm(BootstrapMixin, forms.Form):
    until = forms.DateField(
        label=_("Watched until"), widget=DATE_WIDGET, initial=timezone.localdate
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)
