import datetime
import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin, ScopedFormMixin
from watermis.customers.models import Area, Book
from watermis.tariffs.models import WaterCategory

from . import catalogue as cat
from .layout import ALIGNMENTS, ELEMENT_TYPES, LayoutSpec, decimal_mm, validate
from .models import DocumentKind, DocumentLayout
from .services import LAYOUT_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
COLUMN_SPLIT = re.compile(r"\s*[,，]\s*")
PAGE_FIELDS = [name for name in LAYOUT_FIELDS if name != "elements"]


class DocumentLayoutForm(ScopedFormMixin, forms.ModelForm):
    """The page settings of a layout; its elements come with :class:`ElementFormSet`."""

    class Meta:
        model = DocumentLayout
        fields = PAGE_FIELDS
        widgets = {"note": forms.TextInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["kind"].disabled = True
        for name in self.fields:
            if name.startswith(("paper_", "margin_", "offset_")):
                self.fields[name].widget.attrs.update(step="0.1")

    def _post_clean(self):
        """The model's own validation (elements included) runs in the service, where the
        elements are known; here only the fields are checked."""
        try:
            self.instance = forms.models.construct_instance(self, self.instance, PAGE_FIELDS)
        except ValidationError as exc:
            self._update_errors(exc)


def _dec(label, required=False, places=2, **kwargs):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=7,
        decimal_places=places,
        localize=False,
        widget=forms.NumberInput(attrs={"step": "0.1"}),
        **kwargs,
    )


class ElementForm(BootstrapMixin, forms.Form):
    """One element of a layout, as the edit page shows it (one row)."""

    type = forms.ChoiceField(label=_("Type"), choices=list(ELEMENT_TYPES.items()))
    x = _dec("x", required=True)
    y = _dec("y", required=True)
    w = _dec(_("width"), initial=0)
    h = _dec(_("height"), initial=0)
    size = _dec(_("font (pt)"), initial=10, places=1)
    bold = forms.BooleanField(label=_("bold"), required=False)
    align = forms.ChoiceField(
        label=_("align"), choices=list(ALIGNMENTS.items()), initial="L", required=False
    )
    form = forms.BooleanField(
        label=_("form"),
        required=False,
        help_text=_("Part of the pre-printed form: printed only with the form."),
    )
    stroke = _dec(_("line (mm)"), initial=Decimal("0.2"))
    template = forms.CharField(
        label=_("Template"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 1, "spellcheck": "false"}),
    )
    rows = forms.ChoiceField(label=_("Rows"), required=False, choices=[])
    row_height = _dec(_("row height"))
    border = forms.BooleanField(label=_("grid"), required=False)
    columns = forms.CharField(
        label=_("Columns"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_(
            "One column a line: width, alignment (L, C, R), title, template, e.g. "
            '"22, R, 金额, {{ row.amount|money }}".'
        ),
    )

    def __init__(self, *args, kind=None, **kwargs):
        super().__init__(*args, **kwargs)
        lists = cat.list_paths(kind) if kind else []
        self.fields["rows"].choices = [("", "—"), *[(p, p) for p in lists]]
        for name in ("x", "y", "w", "h", "size", "stroke", "row_height"):
            self.fields[name].widget.attrs["class"] += " form-control-sm"
        for name in ("type", "align", "rows"):
            self.fields[name].widget.attrs["class"] += " form-select-sm"
        for name in ("template", "columns"):
            self.fields[name].widget.attrs["class"] += " form-control-sm font-monospace"
        for name, least in (("template", 1), ("columns", 3)):
            text = (self.data.get(self.add_prefix(name)) if self.is_bound else None) or str(
                self.initial.get(name) or ""
            )
            self.fields[name].widget.attrs["rows"] = min(max(least, text.count("\n") + 1), 12)

    def clean_columns(self):
        text = self.cleaned_data.get("columns") or ""
        columns = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = COLUMN_SPLIT.split(line.strip(), maxsplit=3)
            while len(parts) < 4:
                parts.append("")
            width, align, title, template = parts
            try:
                width = float(width)
            except ValueError:
                raise ValidationError(
                    _('Column line %(n)s: the width "%(width)s" is not a number of millimetres.'),
                    params={"n": number, "width": width},
                ) from None
            columns.append(
                {
                    "width": width,
                    "align": (align or "L").upper(),
                    "title": title,
                    "template": template,
                }
            )
        return columns

    def element(self):
        """The element dict (as stored) of the cleaned row."""
        data = self.cleaned_data
        element = {
            "type": data["type"],
            "x": _f(data["x"]),
            "y": _f(data["y"]),
            "w": _f(data.get("w")),
            "h": _f(data.get("h")),
            "form": bool(data.get("form")),
        }
        if data["type"] in ("line", "box"):
            element["stroke"] = _f(data.get("stroke")) or 0.2
            return element
        element.update(
            size=_f(data.get("size")) or 10,
            bold=bool(data.get("bold")),
            align=data.get("align") or "L",
        )
        if data["type"] == "table":
            element.update(
                rows=data.get("rows") or "",
                border=bool(data.get("border")),
                columns=data.get("columns") or [],
            )
            if data.get("row_height"):
                element["row_height"] = _f(data["row_height"])
        else:
            element["template"] = data.get("template") or ""
        return element


def _f(value):
    if value in (None, ""):
        return 0
    value = float(value)
    return int(value) if value == int(value) else value


def element_initial(element):
    """The form values of a stored element dict."""
    initial = {key: element.get(key) for key in ElementForm.base_fields if key in element}
    for key in ("x", "y", "w", "h", "size", "stroke", "row_height"):
        if initial.get(key) is not None:
            initial[key] = _plain(decimal_mm(initial[key]))
    initial["columns"] = "\n".join(
        ", ".join(
            [
                _plain(c.get("width")),
                c.get("align") or "L",
                c.get("title") or "",
                c.get("template") or "",
            ]
        )
        for c in element.get("columns") or []
    )
    return initial


def _plain(value):
    """A number as typed: 30, 30.5 (never 3E+1)."""
    value = round(float(value or 0), 2)
    return str(int(value)) if value == int(value) else f"{value:g}"


class BaseElementFormSet(forms.BaseFormSet):
    def __init__(self, *args, kind=None, **kwargs):
        self.kind = kind
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "kind": self.kind}

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            kind=self.kind,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def kept_forms(self):
        """(display number, form) of the rows not marked for deletion, in order."""
        return [
            (number, form)
            for number, form in enumerate(self.forms, start=1)
            if not (self.can_delete and self._should_delete_form(form))
        ]


ElementFormSet = forms.formset_factory(
    ElementForm, formset=BaseElementFormSet, extra=0, can_delete=True, max_num=300
)


class LayoutEditor:
    """The edit page's two forms together: page settings and elements; builds the spec the
    preview renders and attaches each validation problem beside the field it names."""

    def __init__(self, data=None, instance=None, initial=None, user=None, kind=None):
        instance = instance or DocumentLayout()
        initial = initial or {}
        self.form = DocumentLayoutForm(data, instance=instance, initial=initial, user=user)
        kind = instance.kind or (data or {}).get("kind") or initial.get("kind") or kind
        self.kind = kind if kind in DocumentKind.values else None
        elements = initial.get("elements", instance.elements if instance.pk else [])
        self.formset = ElementFormSet(
            data,
            prefix="el",
            kind=self.kind,
            initial=None if data is not None else [element_initial(e) for e in elements],
        )
        self.problems = []

    def is_valid(self):
        """Fields, elements and the layout rules (on the sample data) all pass."""
        ok = self.form.is_valid() & self.formset.is_valid()
        if not ok or self.kind is None:
            return False
        self.problems = self.validate()
        return not self.problems

    def values(self):
        return {name: self.form.cleaned_data.get(name) for name in PAGE_FIELDS}

    def elements(self):
        return [form.element() for _number, form in self.formset.kept_forms()]

    def spec(self):
        return LayoutSpec.from_values(self.kind, self.values(), self.elements())

    def validate(self):
        kept = self.formset.kept_forms()
        numbering = [number for number, _form in kept]
        problems = validate(self.spec(), numbering=numbering)
        for problem in problems:
            if problem.index is None:
                name = problem.field if problem.field in self.form.fields else None
                self.form.add_error(name, problem.message)
                continue
            form = kept[problem.index][1]
            name = problem.field if problem.field in form.fields else None
            if name in ("w", "h", "x", "y", "size", "stroke", "row_height"):
                name = None  # the numbers are narrow: the message goes under the row
            form.add_error(name, problem.message)
        return problems

    def all_errors(self):
        """Every message, for the preview panel."""
        messages = []
        for name, errors in self.form.errors.items():
            label = self.form.fields[name].label if name in self.form.fields else ""
            messages.extend(f"{label}: {e}" if label else str(e) for e in errors)
        for number, form in enumerate(self.formset.forms, start=1):
            for name, errors in form.errors.items():
                for error in errors:
                    if str(error).startswith(str(_("Element"))):
                        messages.append(str(error))
                    else:
                        field = form.fields[name].label if name in form.fields else ""
                        messages.append(
                            _("Element %(n)s: %(field)s: %(error)s")
                            % {"n": number, "field": field, "error": error}
                            if field
                            else _("Element %(n)s: %(error)s") % {"n": number, "error": error}
                        )
        messages.extend(str(e) for e in self.formset.non_form_errors())
        return list(dict.fromkeys(messages))


# ------------------------------------------------------------------------- printing


def layout_field():
    return forms.ModelChoiceField(
        DocumentLayout.objects.none(),
        label=_("Layout"),
        required=False,
        empty_label=_("The active layout"),
    )


class PrintFormMixin(ScopedFormMixin):
    def limit_layouts(self, kind):
        self.fields["layout"].queryset = DocumentLayout.objects.filter(kind=kind).order_by(
            "-active", "name"
        )


class MeterCardPrintForm(PrintFormMixin, forms.Form):
    books = forms.ModelMultipleChoiceField(
        Book.objects.filter(active=True).select_related("area__zone"),
        label=_("Reading books"),
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text=_("Cards print book after book, each book in walking order."),
    )
    layout = layout_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_layouts(DocumentKind.METER_CARD)


class NoticePrintForm(PrintFormMixin, forms.Form):
    NOTICE_KINDS = [
        (DocumentKind.PAYMENT_NOTICE, DocumentKind.PAYMENT_NOTICE.label),
        (DocumentKind.ARREARS_NOTICE, DocumentKind.ARREARS_NOTICE.label),
    ]

    kind = forms.ChoiceField(label=_("Notice"), choices=NOTICE_KINDS)
    books = forms.ModelMultipleChoiceField(
        Book.objects.filter(active=True).select_related("area__zone"),
        label=_("Reading books"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Notices print book after book, each book in walking order."),
    )
    areas = forms.ModelMultipleChoiceField(
        Area.objects.filter(active=True).select_related("zone"),
        label=_("Reading areas"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Every active book of these areas, after the books chosen above."),
    )
    categories = forms.ModelMultipleChoiceField(
        WaterCategory.objects.all(),
        label=_("Water categories"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Only customers of these categories; none chosen: all."),
    )
    min_total = forms.DecimalField(
        label=_("Owing at least (yuan)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text=_("Only customers whose notice totals this much or more, late fees included."),
    )
    min_months = forms.IntegerField(
        label=_("Months owed at least"),
        required=False,
        min_value=1,
        max_value=120,
        help_text=_("Only customers owing for this many months or more."),
    )
    on = forms.DateField(label=_("As of"), widget=DATE_WIDGET)
    pay_by = forms.DateField(label=_("Pay by"), widget=DATE_WIDGET)
    layout = layout_field()

    def __init__(self, *args, customer=None, **kwargs):
        self.customer = customer
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["on"].initial = today
        self.fields["pay_by"].initial = today + datetime.timedelta(days=10)
        if customer is not None:
            for name in ("books", "areas", "categories", "min_total", "min_months"):
                del self.fields[name]
        kind = (self.data.get("kind") if self.is_bound else None) or self.initial.get("kind")
        self.fields["layout"].queryset = DocumentLayout.objects.filter(
            kind__in=[k for k, _label in self.NOTICE_KINDS]
        ).order_by("kind", "-active", "name")
        if kind in DocumentKind.values:
            self.limit_layouts(kind)

    def clean(self):
        data = super().clean()
        if self.customer is None and not data.get("books") and not data.get("areas"):
            self.add_error("books", _("Choose at least one reading book or area."))
        on, pay_by = data.get("on"), data.get("pay_by")
        if on and pay_by and pay_by < on:
            self.add_error("pay_by", _("The pay-by date cannot be before the as-of date."))
        layout = data.get("layout")
        if layout is not None and layout.kind != data.get("kind"):
            self.add_error("layout", _("This layout is not for the chosen notice."))
        return data
