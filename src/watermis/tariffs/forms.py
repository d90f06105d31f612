import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import ScopedFormMixin

from . import services
from .models import (
    Caliber,
    MinimumVolume,
    PriceItem,
    SurchargeKind,
    Tariff,
    TierMode,
    WaterCategory,
)
from .templatetags.tariff_format import plain

MAX_TIERS = 5
MAX_BRACKETS = 4
MAX_SURCHARGES = 4

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PriceItemForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = PriceItem
        fields = services.ITEM_FIELDS


class WaterCategoryForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = WaterCategory
        fields = services.CATEGORY_FIELDS


class TariffForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = Tariff
        fields = services.TARIFF_FIELDS


class MinimumVolumeForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = MinimumVolume
        fields = services.MINIMUM_FIELDS


def _decimal(label="", places=None, digits=10, required=False, **kwargs):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=digits,
        decimal_places=places,
        localize=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        **kwargs,
    )


class TariffVersionForm(ScopedFormMixin, forms.Form):
    """One whole version of a tariff: dates, tiers, a price grid, quota brackets, surcharges.

    ``items`` are the price items offered in the grid (one row each). The form
    builds the ``data`` that ``services.create_version`` / ``update_version``
    take (:meth:`service_data`); the service validates the content, and its
    errors about tiers, prices, brackets and surcharges show beside those
    sections (:meth:`add_section_error`).
    """

    SECTIONS = ("tiers", "prices", "brackets", "surcharges")

    effective_from = forms.DateField(label=capfirst(_("effective from")), widget=DATE_WIDGET)
    note = forms.CharField(
        label=capfirst(_("note")),
        max_length=200,
        required=False,
        help_text=_("e.g. the number of the price authority's notice"),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=200, help_text=_("Recorded in the change journal.")
    )
    tier_mode = forms.ChoiceField(label=capfirst(_("tiers")), choices=TierMode.choices)
    cycle_start_month = forms.TypedChoiceField(
        label=capfirst(_("cycle starts in month")),
        coerce=int,
        choices=[(m, str(m)) for m in range(1, 13)],
        initial=1,
        help_text=_("For cumulative tiers: the month the 12-month tier cycle begins."),
    )
    base_household_size = forms.IntegerField(
        label=capfirst(_("base household size")),
        min_value=0,
        max_value=99,
        initial=4,
        help_text=_("Tier thresholds apply as set up to this many people."),
    )
    person_step = forms.DecimalField(
        label=capfirst(_("extra volume per extra person")),
        min_value=0,
        max_digits=8,
        decimal_places=2,
        initial=0,
        localize=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("m³ added to the widened tiers for each person above the base size."),
    )
    widen_tiers = forms.CharField(
        label=capfirst(_("tiers widened per person")),
        max_length=20,
        required=False,
        initial="1",
        help_text=_("Tier numbers, comma separated, e.g. 1 or 1,2"),
    )
    quota_base_item = forms.ModelChoiceField(
        PriceItem.objects.all(),
        label=capfirst(_("quota surcharge base item")),
        required=False,
        help_text=_("Over-quota surcharges are multiples of this item's price."),
    )
    quota_surcharge_item = forms.ModelChoiceField(
        PriceItem.objects.all(), label=capfirst(_("quota surcharge billed as")), required=False
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        self.section_errors = {}
        new = {}
        for n in range(1, MAX_TIERS):
            new[f"tier{n}_upper"] = _decimal(
                _("Tier %(n)s up to (m³)") % {"n": n}, max_value=Decimal("99999999")
            )
        for item in self.items:
            new[f"price_{item.pk}_0"] = _decimal(
                _("%(item)s, flat price") % {"item": item}, places=4, min_value=0
            )
            for n in range(1, MAX_TIERS + 1):
                new[f"price_{item.pk}_{n}"] = _decimal(
                    _("%(item)s, tier %(n)s") % {"item": item, "n": n}, places=4, min_value=0
                )
        for n in range(1, MAX_BRACKETS + 1):
            new[f"bracket{n}_upper"] = _decimal(
                _("Bracket %(n)s: up to %% over plan") % {"n": n},
                places=2,
                digits=7,
                min_value=0,
            )
            new[f"bracket{n}_multiple"] = _decimal(
                _("Bracket %(n)s: times the base price") % {"n": n},
                places=2,
                digits=6,
                min_value=0,
            )
        item_choices = self.fields["quota_base_item"].queryset
        for n in range(1, MAX_SURCHARGES + 1):
            new[f"surcharge{n}_item"] = forms.ModelChoiceField(
                item_choices, label=_("Surcharge %(n)s: item") % {"n": n}, required=False
            )
            new[f"surcharge{n}_kind"] = forms.ChoiceField(
                label=_("Surcharge %(n)s: kind") % {"n": n},
                choices=[("", "---------"), *SurchargeKind.choices],
                required=False,
            )
            new[f"surcharge{n}_amount"] = _decimal(
                _("Surcharge %(n)s: amount") % {"n": n}, min_value=0, max_value=Decimal("999999")
            )
        for name, field in new.items():
            small = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = small
            self.fields[name] = field

    # --- the page's sections ------------------------------------------------------

    def tier_fields(self):
        return [self[f"tier{n}_upper"] for n in range(1, MAX_TIERS)]

    def price_rows(self):
        return [
            (
                item,
                self[f"price_{item.pk}_0"],
                [self[f"price_{item.pk}_{n}"] for n in range(1, MAX_TIERS + 1)],
            )
            for item in self.items
        ]

    def bracket_rows(self):
        return [
            (n, self[f"bracket{n}_upper"], self[f"bracket{n}_multiple"])
            for n in range(1, MAX_BRACKETS + 1)
        ]

    def surcharge_rows(self):
        return [
            (self[f"surcharge{n}_item"], self[f"surcharge{n}_kind"], self[f"surcharge{n}_amount"])
            for n in range(1, MAX_SURCHARGES + 1)
        ]

    def tier_numbers(self):
        return range(1, MAX_TIERS + 1)

    def section_field_names(self, section):
        if section == "tiers":
            return [f"tier{n}_upper" for n in range(1, MAX_TIERS)]
        if section == "prices":
            return [name for name in self.fields if name.startswith("price_")]
        if section == "brackets":
            return [name for name in self.fields if name.startswith("bracket")]
        return [name for name in self.fields if name.startswith("surcharge")]

    def add_section_error(self, section, messages):
        """Show ``messages`` beside a section (tiers, prices, brackets, surcharges)."""
        self.section_errors.setdefault(section, []).extend(messages)
        self.errors.setdefault(section, self.error_class()).extend(messages)
        names = self.section_field_names(section)
        filled = [n for n in names if str(self.data.get(self.add_prefix(n), "")).strip()]
        for name in filled or names[:1]:
            widget = self.fields[name].widget
            widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()

    # --- checks a single row can make ---------------------------------------------------

    def clean(self):
        data = super().clean()
        for n in range(1, MAX_BRACKETS + 1):
            upper, multiple = data.get(f"bracket{n}_upper"), data.get(f"bracket{n}_multiple")
            if upper is not None and multiple is None and f"bracket{n}_multiple" not in self.errors:
                self.add_error(f"bracket{n}_multiple", _("Give the multiple of this bracket."))
        for n in range(1, MAX_SURCHARGES + 1):
            item = data.get(f"surcharge{n}_item")
            kind = data.get(f"surcharge{n}_kind")
            amount = data.get(f"surcharge{n}_amount")
            if item is None and (kind or amount is not None):
                self.add_error(
                    f"surcharge{n}_item", _("Choose the item this surcharge is billed as.")
                )
            if item is not None:
                if not kind:
                    self.add_error(f"surcharge{n}_kind", _("Choose per m³ or fixed per bill."))
                if amount is None and f"surcharge{n}_amount" not in self.errors:
                    self.add_error(f"surcharge{n}_amount", _("Give the amount."))
        return data

    def service_data(self):
        """The cleaned form as the ``data`` of ``services.create_version``."""
        data = self.cleaned_data
        out = {
            name: data.get(name)
            for name in (
                "effective_from",
                "tier_mode",
                "cycle_start_month",
                "base_household_size",
                "person_step",
                "quota_base_item",
                "quota_surcharge_item",
                "reason",
            )
        }
        if out["person_step"] is not None:  # as stored (2 places): the journal compares text
            out["person_step"] = out["person_step"].quantize(Decimal("0.01"))
        out["widen_tiers"] = data.get("widen_tiers") or ""
        out["note"] = data.get("note") or ""
        uppers = [data.get(f"tier{n}_upper") for n in range(1, MAX_TIERS)]
        filled = [i for i, u in enumerate(uppers) if u is not None]
        given = uppers[: filled[-1] + 1] if filled else []
        if out["tier_mode"] == TierMode.FLAT:
            out["tiers"] = given
        else:
            out["tiers"] = [*given, None]
        prices = []
        for item in self.items:
            flat = data.get(f"price_{item.pk}_0")
            if flat is not None:
                prices.append((item, None, flat))
            for n in range(1, MAX_TIERS + 1):
                value = data.get(f"price_{item.pk}_{n}")
                if value is not None:
                    prices.append((item, n, value))
        out["prices"] = prices
        out["brackets"] = [
            (data.get(f"bracket{n}_upper"), data.get(f"bracket{n}_multiple"))
            for n in range(1, MAX_BRACKETS + 1)
            if data.get(f"bracket{n}_upper") is not None
            or data.get(f"bracket{n}_multiple") is not None
        ]
        out["surcharges"] = [
            (
                data[f"surcharge{n}_item"],
                data.get(f"surcharge{n}_kind"),
                data.get(f"surcharge{n}_amount"),
            )
            for n in range(1, MAX_SURCHARGES + 1)
            if data.get(f"surcharge{n}_item") is not None
        ]
        return out


def version_initial(data):
    """Form initial values from ``services.version_data`` (a version to copy or to change)."""
    initial = {
        name: data.get(name)
        for name in (
            "tier_mode",
            "cycle_start_month",
            "base_household_size",
            "widen_tiers",
            "quota_base_item",
            "quota_surcharge_item",
            "note",
        )
    }
    initial["person_step"] = plain(data.get("person_step") or 0)
    for n, upper in enumerate(data.get("tiers") or [], start=1):
        if upper is not None and n < MAX_TIERS:
            initial[f"tier{n}_upper"] = plain(upper)
    for item, tier, price in data.get("prices") or []:
        initial[f"price_{item.pk}_{tier or 0}"] = plain(price, 2)
    for n, (upper, multiple) in enumerate(data.get("brackets") or [], start=1):
        if n <= MAX_BRACKETS:
            initial[f"bracket{n}_upper"] = plain(upper)
            initial[f"bracket{n}_multiple"] = plain(multiple)
    for n, (item, kind, amount) in enumerate(data.get("surcharges") or [], start=1):
        if n <= MAX_SURCHARGES:
            initial[f"surcharge{n}_item"] = item
            initial[f"surcharge{n}_kind"] = kind
            initial[f"surcharge{n}_amount"] = plain(amount, 2)
    return initial


def _last_day_of_previous_month(day):
    return day.replace(day=1) - datetime.timedelta(days=1)


def default_period(today=None):
    """Last month's reading period: (last reading date, this reading date)."""
    today = today or timezone.localdate()
    end = _last_day_of_previous_month(today)
    return _last_day_of_previous_month(end), end


class PreviewForm(ScopedFormMixin, forms.Form):
    """The facts of one bill to price with a tariff (the cashier's explanation)."""

    tariff = forms.ModelChoiceField(
        Tariff.objects.select_related("category"), label=capfirst(_("tariff"))
    )
    volume = _decimal(_("Volume (m³)"), places=2, digits=12, required=True, min_value=0)
    period_start = forms.DateField(
        label=_("Previous reading date"),
        widget=DATE_WIDGET,
        help_text=_("The bill covers the days after this date up to the reading date."),
    )
    period_end = forms.DateField(label=_("Reading date"), widget=DATE_WIDGET)
    cycle_to_date = _decimal(
        _("Cycle to date (m³)"),
        places=2,
        digits=12,
        min_value=0,
        help_text=_("Cumulative tiers: volume already billed in this tier cycle."),
    )
    household_size = forms.IntegerField(
        label=_("Household size"),
        required=False,
        min_value=0,
        max_value=99,
        help_text=_("People; blank: not declared."),
    )
    low_income = forms.BooleanField(label=_("Low-income household (no tiers)"), required=False)
    planned_volume = _decimal(
        _("Planned volume (m³)"),
        places=2,
        digits=12,
        min_value=0,
        help_text=_("Volume above the plan pays the over-plan surcharge."),
    )
    caliber = forms.ChoiceField(
        label=_("Meter caliber"),
        required=False,
        choices=[("", "---------"), *Caliber.choices],
        help_text=_("Applies the category's minimum volume."),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The reading date is before the previous reading."))
        return data
