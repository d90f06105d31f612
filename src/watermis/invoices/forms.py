"""Forms of the invoice pages: kinds, tax codes, stock, issuing, reissue, walking collection."""

from django import forms
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from watermis.core.forms import BootstrapMixin, ScopedFormMixin
from watermis.core.scoping import visible_zone_ids
from watermis.customers.models import Book
from watermis.org.models import Operator, Zone
from watermis.readings.query_forms import DATE_WIDGET

from .kinds import KIND_FIELDS, TAX_CODE_FIELDS
from .models import BuyerType, InvoiceKind, InvoiceStock, ItemTaxCode, Medium
from .queries import PaidChannel


class InvoiceKindForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = InvoiceKind
        fields = KIND_FIELDS


class ItemTaxCodeForm(ScopedFormMixin, forms.ModelForm):
    class Meta:
        model = ItemTaxCode
        fields = TAX_CODE_FIELDS


def issuing_operators(user):
    """Active operators who may issue invoices, in the zones ``user`` sees."""
    perm = Permission.objects.get(content_type__app_label="invoices", codename="add_invoice")
    operators = Operator.objects.filter(is_active=True).filter(
        Q(groups__permissions=perm) | Q(user_permissions=perm) | Q(is_superuser=True)
    )
    zones = visible_zone_ids(user)
    if zones is not None:
        operators = operators.filter(unit__zone_id__in=zones)
    return operators.distinct().order_by("username")


class InvoiceStockForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = InvoiceStock
        fields = ["kind", "operator", "code", "first", "last", "note"]

    def __init__(self, data=None, instance=None, user=None, **kwargs):
        super().__init__(data, instance=instance, **kwargs)
        self.fields["kind"].queryset = InvoiceKind.objects.filter(active=True, medium=Medium.PAPER)
        self.fields["operator"].queryset = issuing_operators(user)
        self.fields["operator"].help_text = _("Operators who issue invoices, in your zones.")
        self.fields["first"].widget.attrs["autofocus"] = True

    def _post_clean(self):
        """The service checks the range (``next`` is set there, not by the form)."""


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, help_text="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.attrs["autofocus"] = True
        if help_text:
            self.fields["reason"].help_text = help_text


def usable_kinds(user, paper_only=False):
    """Kinds ``user`` can issue now: electronic ones, and paper ones they hold stock of."""
    kinds = InvoiceKind.objects.filter(active=True)
    held = InvoiceStock.objects.filter(operator=user, state="issued").values("kind")
    if paper_only:
        return kinds.filter(pk__in=held)
    return kinds.filter(Q(medium=Medium.ELECTRONIC) | Q(pk__in=held))


class IssueForm(BootstrapMixin, forms.Form):
    """Choose bills and a kind; the buyer for the invoice (default: the customer)."""

    kind = forms.ModelChoiceField(label=_("Invoice kind"), queryset=InvoiceKind.objects.none())
    bills = forms.TypedMultipleChoiceField(
        label=_("Bills"), coerce=int, choices=[], widget=forms.CheckboxSelectMultiple
    )
    buyer_name = forms.CharField(
        label=_("Buyer"),
        max_length=100,
        required=False,
        help_text=_("Empty: the customer's name (a combined invoice names its buyer)."),
    )
    buyer_tax_id = forms.CharField(label=_("Buyer's tax id"), max_length=30, required=False)
    buyer_type = forms.ChoiceField(
        label=_("Buyer type"), choices=BuyerType.choices, initial=BuyerType.INDIVIDUAL
    )
    remark = forms.CharField(label=_("Remark"), max_length=200, required=False)

    def __init__(self, *args, user=None, bill_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = usable_kinds(user)
        self.fields["bills"].choices = list(bill_choices)


class ReissueBatchForm(BootstrapMixin, forms.Form):
    kind = forms.ModelChoiceField(label=_("Invoice kind"), queryset=InvoiceKind.objects.none())
    zone = forms.ModelChoiceField(label=_("Zone"), queryset=Zone.objects.none(), required=False)
    paid_from = forms.DateField(label=_("Paid from"), required=False, widget=DATE_WIDGET)
    paid_to = forms.DateField(label=_("Paid to"), required=False, widget=DATE_WIDGET)
    channel = forms.ChoiceField(
        label=_("Paid by"),
        required=False,
        choices=[("", _("Any (not at the counter)")), *PaidChannel.CHOICES],
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = usable_kinds(user)
        self.fields["kind"].empty_label = None
        self.fields["zone"].queryset = Zone.objects.restrict(user)

    def clean(self):
        data = super().clean()
        start, end = data.get("paid_from"), data.get("paid_to")
        if start and end and end < start:
            self.add_error("paid_to", _("The end date cannot be before the start date."))
        return data


class CollectionForm(BootstrapMixin, forms.Form):
    kind = forms.ModelChoiceField(label=_("Invoice kind"), queryset=InvoiceKind.objects.none())
    books = forms.ModelMultipleChoiceField(
        label=_("Reading books"),
        queryset=Book.objects.none(),
        help_text=_("Printed book by book, each in walking order."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = usable_kinds(user, paper_only=True)
        self.fields["kind"].empty_label = None
        self.fields["books"].queryset = (
            Book.objects.restrict(user).filter(active=True).order_by("code")
        )
        self.fields["books"].widget.attrs["size"] = 8
