"""Form helpers: Bootstrap classes, errors beside fields, scoped choices."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .scoping import ScopedQuerySet


class BootstrapMixin:
    """Adds Bootstrap 5 classes to widgets, and ``is-invalid`` to fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                css = ""
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            if css:
                widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()


class ScopedFormMixin(BootstrapMixin):
    """Limits every choice of a zone-scoped model to what the operator may see.

    Pass ``user=`` when building the form.
    """

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if user is not None and isinstance(queryset, ScopedQuerySet):
                field.queryset = queryset.restrict(user, "view")


def style_filter_form(form):
    """Compact Bootstrap classes on a filter form (django-filter builds its own form)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select form-select-sm"
        else:
            css = "form-control form-control-sm"
        widget.attrs["class"] = css
        if isinstance(widget, forms.NullBooleanSelect):
            widget.choices = [("unknown", _("All")), ("true", _("Yes")), ("false", _("No"))]
        if not isinstance(widget, forms.Select | forms.CheckboxInput):
            widget.attrs.setdefault("placeholder", field.label)
    return form
