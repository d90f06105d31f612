"""Forms of the bill-run and month-end pages."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import ScopedFormMixin
from watermis.org.models import Zone
from watermis.readings.forms import DATE_WIDGET, MonthField


def _last_month():
    today = timezone.localdate()
    return (today.replace(day=1) - timezone.timedelta(days=1)).replace(day=1)


class StartRunForm(ScopedFormMixin, forms.Form):
    zone = forms.ModelChoiceField(Zone.objects.all(), label=_("Zone"))
    month = MonthField(label=_("Billing month"))
    issued_on = forms.DateField(label=_("Bill date"), widget=DATE_WIDGET)
    dry_run = forms.BooleanField(
        label=_("Preview only"),
        required=False,
        initial=True,
        help_text=_("Prices the reads and shows the totals without writing any bill."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].initial = _last_month()
        self.fields["issued_on"].initial = timezone.localdate()


class MonthEndForm(ScopedFormMixin, forms.Form):
    zone = forms.ModelChoiceField(Zone.objects.all(), label=_("Zone"))
    month = MonthField(label=_("Billing month"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].initial = _last_month()
