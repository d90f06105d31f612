import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from watermis.billing.bill_tables import NOWRAP, NUMBER, label, money
from watermis.readings.query_tables import link

from .models import (
    Invoice,
    InvoiceKind,
    InvoiceState,
    InvoiceStock,
    ItemTaxCode,
    NumberUse,
    StockState,
)

STATE_CSS = {
    InvoiceState.ISSUED: "text-bg-success",
    InvoiceState.VOID: "text-bg-secondary",
    InvoiceState.REVERSED: "text-bg-warning",
    StockState.EXHAUSTED: "text-bg-secondary",
    StockState.RETURNED: "text-bg-light border",
}


def badge(value, text):
    return format_html(
        '<span class="badge {}" data-state="{}">{}</span>',
        STATE_CSS.get(value, "text-bg-success"),
        value,
        text,
    )


class InvoiceKindTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)

    class Meta:
        model = InvoiceKind
        fields = (
            "code",
            "name",
            "document",
            "medium",
            "coverage",
            "invoice_type",
            "number_width",
            "sort_order",
            "active",
        )


class ItemTaxCodeTable(tables.Table):
    item = tables.Column(linkify=True)

    class Meta:
        model = ItemTaxCode
        fields = ("item", "goods_name", "tax_code", "unit")


class InvoiceTable(tables.Table):
    number = tables.Column(_("Number"), accessor="number", attrs=NOWRAP)
    code = tables.Column(attrs=NOWRAP, visible=False)
    kind = tables.Column(accessor="kind__name", verbose_name=label(Invoice, "kind"), attrs=NOWRAP)
    business_date = tables.DateColumn(format="Y-m-d", attrs=NOWRAP)
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    buyer_name = tables.Column(attrs={"td": {"style": "min-width: 5rem"}})
    amount = tables.Column(attrs=NUMBER)
    tax_amount = tables.Column(attrs=NUMBER, visible=False)
    state = tables.Column(attrs=NOWRAP)
    origin = tables.Column(attrs=NOWRAP)
    operator = tables.Column(
        accessor="operator__username", verbose_name=label(Invoice, "operator"), attrs=NOWRAP
    )
    zone = tables.Column(accessor="zone__name", verbose_name=label(Invoice, "zone"), visible=False)
    red_of = tables.Column(accessor="red_of__number", verbose_name=label(Invoice, "red_of"))
    medium = tables.Column(visible=False)
    payment_method = tables.Column(attrs=NOWRAP, visible=False)
    issued_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP, visible=False)
    void_reason = tables.Column(visible=False)

    class Meta:
        model = Invoice
        fields = ()
        sequence = (
            "number",
            "code",
            "kind",
            "business_date",
            "account",
            "buyer_name",
            "amount",
            "tax_amount",
            "state",
            "origin",
            "operator",
            "zone",
            "red_of",
            "medium",
            "payment_method",
            "issued_at",
            "void_reason",
        )
        order_by = ("-business_date", "-number")
        row_attrs = {
            "class": lambda record: "text-body-secondary" if record.state != "issued" else ""
        }

    def render_number(self, record, value):
        return link(reverse("invoices:invoice_detail", args=[record.pk]), record.display_number)

    def value_number(self, record, value):
        return value

    def render_account(self, record, value):
        return link(reverse("customers:customer_detail", args=[record.customer_id]), value)

    def render_amount(self, value):
        if value < 0:
            return format_html('<span class="text-danger">{}</span>', money(value))
        return money(value)

    def render_state(self, record, value):
        return badge(record.state, value)


class InvoiceStockTable(tables.Table):
    kind = tables.Column(accessor="kind__name", verbose_name=label(InvoiceStock, "kind"))
    code = tables.Column(attrs=NOWRAP)
    first = tables.Column(attrs=NUMBER, linkify=True)
    last = tables.Column(attrs=NUMBER)
    next = tables.Column(attrs=NUMBER)
    used = tables.Column(_("Used"), accessor="first", orderable=False, attrs=NUMBER)
    remaining = tables.Column(_("Left"), accessor="last", orderable=False, attrs=NUMBER)
    operator = tables.Column(
        accessor="operator__username", verbose_name=label(InvoiceStock, "operator"), attrs=NOWRAP
    )
    state = tables.Column(attrs=NOWRAP)
    zone = tables.Column(accessor="zone__name", verbose_name=label(InvoiceStock, "zone"))
    issued_by = tables.Column(accessor="issued_by__username", attrs=NOWRAP)
    issued_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP)
    returned_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP, visible=False)
    note = tables.Column(visible=False)

    class Meta:
        model = InvoiceStock
        fields = ()
        sequence = (
            "kind",
            "code",
            "first",
            "last",
            "next",
            "used",
            "remaining",
            "operator",
            "state",
            "zone",
            "issued_by",
            "issued_at",
            "returned_at",
            "note",
        )
        order_by = ("kind", "code", "first")

    def render_first(self, record):
        return record.format(record.first)

    def value_first(self, record):
        return record.first

    def render_last(self, record):
        return record.format(record.last)

    def value_last(self, record):
        return record.last

    def render_next(self, record):
        return record.format(record.next) if record.state == StockState.ISSUED else "—"

    def value_next(self, record):
        return record.next

    def render_used(self, record):
        return record.used

    def value_used(self, record):
        return record.used

    def render_remaining(self, record):
        return record.remaining

    def value_remaining(self, record):
        return record.remaining

    def render_state(self, record, value):
        return badge(record.state, value)


class NumberUseTable(tables.Table):
    kind = tables.Column(accessor="stock__kind__name", verbose_name=_("Invoice kind"))
    code = tables.Column(accessor="stock__code", verbose_name=_("Invoice code"), attrs=NOWRAP)
    number = tables.Column(attrs=NOWRAP)
    use = tables.Column(attrs=NOWRAP)
    invoice = tables.Column(accessor="invoice__state", verbose_name=_("Invoice state"))
    amount = tables.Column(accessor="invoice__amount", verbose_name=_("Amount"), attrs=NUMBER)
    reason = tables.Column()
    operator = tables.Column(
        accessor="operator__username", verbose_name=label(NumberUse, "operator"), attrs=NOWRAP
    )
    at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP)
    zone = tables.Column(
        accessor="zone__name", verbose_name=label(NumberUse, "zone"), visible=False
    )

    class Meta:
        model = NumberUse
        fields = ()
        sequence = (
            "kind",
            "code",
            "number",
            "use",
            "invoice",
            "amount",
            "reason",
            "operator",
            "at",
            "zone",
        )
        order_by = ("-at",)

    def render_number(self, record, value):
        if record.invoice_id:
            return link(reverse("invoices:invoice_detail", args=[record.invoice_id]), value)
        return value

    def render_invoice(self, record, value):
        return badge(record.invoice.state, record.invoice.get_state_display())

    def value_invoice(self, record, value):
        return record.invoice.get_state_display() if record.invoice_id else ""
