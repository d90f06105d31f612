from django import forms
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin


class ParameterForm(BootstrapMixin, forms.Form):
    value = forms.CharField(label=_("Value"), max_length=200)
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, spec=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = spec
        if spec is not None and spec.kind == "choice":
            self.fields["value"] = forms.ChoiceField(label=_("Value"), choices=spec.choices)
        elif spec is not None and spec.kind == "bool":
            self.fields["value"] = forms.ChoiceField(
                label=_("Value"), choices=(("1", _("Yes")), ("0", _("No")))
            )
        self.fields["value"].help_text = spec.help if spec is not None else ""
        # the value field may have been replaced after BootstrapMixin styled it
        widget = self.fields["value"].widget
        widget.attrs["class"] = (
            "form-select" if isinstance(widget, forms.Select) else "form-control"
        )
