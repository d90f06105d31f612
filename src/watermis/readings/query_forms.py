import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin, ScopedFormMixin
from watermis.customers.models import Meter, MeterKind
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


class LossTrendForm(MonthZoneForm):
    """The last month, the zone (or all) and the kind of master meters of a loss-rate trend:
    kinds are never added together (a plant outlet's volume behind is its district meters')."""

    KINDS = [
        (MeterKind.DISTRICT, _("District master meters")),
        (MeterKind.PLANT, _("Plant outlet meters")),
    ]

    month = MonthField(label=_("To month"))
    kind = forms.ChoiceField(label=_("Master meters"), choices=KINDS)


class LossRateForm(MonthZoneForm):
    """The loss-rate query (F7.1): month, zone, kind of master meter, how the rate stands,
    meter number or location; all combine."""

    BANDS = [
        ("high", _("Above the limit")),
        ("normal", _("Within the limit")),
        ("negative", _("Negative: check the readings")),
        ("unread", _("Master meter not read")),
    ]

    kind = forms.ChoiceField(
        choices=[("", _("All kinds"))]
        + [c for c in MeterKind.choices if c[0] != MeterKind.CUSTOMER],
        required=False,
        label=_("Kind"),
    )
    band = forms.ChoiceField(
        choices=[("", _("All rates")), *BANDS], required=False, label=_("Loss rate")
    )
    q = forms.CharField(required=False, label=_("Meter number or location"))


class MasterHistoryForm(BootstrapMixin, forms.Form):
    """The months of one master meter's history (F7.1): up to ``month``, from ``month_from``
    (or the 24 months before)."""

    MAX_MONTHS = 120

    month_from = MonthField(label=_("From month"), required=False)
    month = MonthField(label=_("To month"))

    def clean(self):
        data = super().clean()
        first, last = data.get("month_from"), data.get("month")
        if first and last:
            if first > last:
                self.add_error("month_from", _("The first month is after the last."))
            elif (last.year - first.year) * 12 + last.month - first.month >= self.MAX_MONTHS:
                self.add_error(
                    "month_from",
                    _("Choose at most %(months)s months.") % {"months": self.MAX_MONTHS},
                )
        return data


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
