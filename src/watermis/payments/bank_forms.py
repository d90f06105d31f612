"""Forms of the bank collection pages: a bank and its layouts, generating a batch, uploading
the bank's result file, cancelling a batch."""

import json

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin, ScopedFormMixin
from watermis.customers.models import Book
from watermis.org.models import Zone
from watermis.readings.forms import DATE_WIDGET, MonthField

from .bank import BANK_FIELDS
from .models import Bank

MAX_RESULT_FILE = 100 * 1024 * 1024


class LayoutField(forms.JSONField):
    """A field list as JSON, one field a line."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 8, "class": "font-monospace"}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        if isinstance(value, list):
            items = ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in value)
            return f"[\n{items}\n]" if value else "[]"
        return super().prepare_value(value)


class BankForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = Bank
        fields = BANK_FIELDS
        field_classes = {
            "detail_fields": LayoutField,
            "summary_fields": LayoutField,
            "result_fields": LayoutField,
        }
        help_texts = {
            "detail_fields": _("Leave empty for the format's preset. The field names are below."),
        }


class GenerateForm(ScopedFormMixin, forms.Form):
    zone = forms.ModelChoiceField(Zone.objects.all(), label=_("Zone"))
    bank = forms.ModelChoiceField(
        Bank.objects.filter(active=True),
        label=_("Bank"),
        required=False,
        empty_label=_("Every active bank (a batch each)"),
    )
    books = forms.ModelMultipleChoiceField(
        Book.objects.select_related("area"),
        label=_("Reading books"),
        required=False,
        help_text=_("None chosen: every book of the zone."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    month_from = MonthField(label=_("Bills from month"), required=False)
    month_to = MonthField(label=_("Bills to month"), required=False)


class ResultUploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("Result file"))
    business_date = forms.DateField(
        label=_("Deducted on"),
        widget=DATE_WIDGET,
        help_text=_("The day the bank deducted the money: the payments' date."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_date"].initial = timezone.localdate()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_RESULT_FILE:
            raise forms.ValidationError(_("The file is larger than 100 MB."))
        return upload


class CancelBatchForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
