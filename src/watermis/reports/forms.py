"""What a report covers: months, grouping, and any combination of places, people and tariffs."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import ScopedFormMixin
from watermis.core.scoping import visible_zone_ids
from watermis.customers.models import Area, Book
from watermis.org.models import Employee, Zone
from watermis.readings.query_forms import MonthField
from watermis.tariffs.models import Tariff, WaterCategory

from .queries import GROUPS


def this_month():
    return timezone.localdate().replace(day=1)


class ReportForm(ScopedFormMixin, forms.Form):
    """Months from–to, the grouping, and filters that all combine (zone, area, book, reader,
    collector, category, tariff); zones, areas, books and staff limited to the operator's."""

    month_from = MonthField(label=_("From month"))
    month_to = MonthField(label=_("To month"))
    group_by = forms.ChoiceField(
        label=_("Group by"),
        choices=[(k, v[0]) for k, v in GROUPS.items()],
        initial="zone",
        required=False,
    )
    zone = forms.ModelChoiceField(
        Zone.objects.all(), label=_("Zone"), required=False, empty_label=_("All zones")
    )
    area = forms.ModelChoiceField(Area.objects.all(), label=_("Reading area"), required=False)
    book = forms.ModelChoiceField(Book.objects.all(), label=_("Reading book"), required=False)
    reader = forms.ModelChoiceField(
        Employee.objects.filter(is_reader=True), label=_("Meter reader"), required=False
    )
    collector = forms.ModelChoiceField(
        Employee.objects.filter(is_collector=True), label=_("Collector"), required=False
    )
    category = forms.ModelChoiceField(
        WaterCategory.objects.all(), label=_("Water-use category"), required=False
    )
    tariff = forms.ModelChoiceField(Tariff.objects.all(), label=_("Tariff"), required=False)

    MAX_MONTHS = 120

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        visible = visible_zone_ids(user) if user is not None else None
        if visible is not None:
            self.fields["area"].queryset = Area.objects.filter(zone_id__in=visible)
            self.fields["book"].queryset = Book.objects.filter(area__zone_id__in=visible)
        for name in ("area", "book", "reader", "collector", "category", "tariff"):
            self.fields[name].empty_label = _("All")
        for field in self.fields.values():
            css = field.widget.attrs.get("class", "")
            field.widget.attrs["class"] = css.replace(
                "form-control", "form-control form-control-sm"
            ).replace("form-select", "form-select form-select-sm")

    def clean(self):
        data = super().clean()
        first, last = data.get("month_from"), data.get("month_to")
        if first and last:
            if first > last:
                self.add_error("month_to", _("The last month is before the first."))
            elif (last.year - first.year) * 12 + last.month - first.month >= self.MAX_MONTHS:
                self.add_error(
                    "month_to",
                    _("A report covers at most %(n)s months.") % {"n": self.MAX_MONTHS},
                )
        return data

    @classmethod
    def initial_for(cls, months=1):
        """This month (or the last ``months`` months up to it), grouped by zone."""
        last = this_month()
        first = last
        for _n in range(months - 1):
            first = (first - datetime.timedelta(days=1)).replace(day=1)
        return {"month_from": first, "month_to": last, "group_by": "zone"}
