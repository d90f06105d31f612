"""Invoice kinds (F11.9) and the tax codes of price items: created and changed here only,
scope- and permission-checked, row-locked, journaled."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from watermis.core.services import create_scoped, update_scoped

from .models import Invoice, InvoiceKind, ItemTaxCode

KIND_FIELDS = [
    "code",
    "name",
    "document",
    "medium",
    "coverage",
    "invoice_type",
    "number_width",
    "sort_order",
    "active",
    "note",
]
PRINTING_FIELDS = ("document", "medium", "coverage", "number_width")
TAX_CODE_FIELDS = ["item", "goods_name", "tax_code", "unit"]


@transaction.atomic
def create_kind(actor, data):
    return create_scoped(actor, InvoiceKind, KIND_FIELDS, data)


@transaction.atomic
def update_kind(actor, kind, data):
    """Change a kind; once invoices of it exist, what it prints and covers stays as it was."""
    used = Invoice.objects.filter(kind=kind).exists()
    if used:
        changed = [
            name for name in PRINTING_FIELDS if name in data and data[name] != getattr(kind, name)
        ]
        if changed:
            raise ValidationError(
                {
                    name: _(
                        "Invoices of this kind have been issued: what it prints, on what and "
                        "which items it covers stay as they were. Make a new kind instead."
                    )
                    for name in changed
                }
            )
    return update_scoped(actor, kind, KIND_FIELDS, data)


@transaction.atomic
def create_tax_code(actor, data):
    return create_scoped(actor, ItemTaxCode, TAX_CODE_FIELDS, data)


@transaction.atomic
def update_tax_code(actor, code, data):
    return update_scoped(actor, code, TAX_CODE_FIELDS, data)
