from decimal import Decimal

import django_tables2 as tables
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from watermis.readings.query_tables import MonthColumn, link, month_text

from .bills import status_label
from .models import Bill, BillStatus, Direction, LedgerEntry

FEN = Decimal("0.01")
NUMBER = {"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}}
NOWRAP = {"td": {"class": "text-nowrap"}}
WIDE = {"td": {"style": "min-width: 8rem"}}

STATUS_CSS = {
    BillStatus.UNPAID: "text-bg-warning",
    BillStatus.PARTLY_PAID: "text-bg-info",
    BillStatus.PAID: "text-bg-success",
    BillStatus.WRITTEN_OFF: "text-bg-secondary",
    BillStatus.INSPECTION: "text-bg-dark",
    BillStatus.CANCELLED: "text-bg-light border text-decoration-line-through",
    BillStatus.CREDIT: "text-bg-primary",
}


def label(model, name):
    return capfirst(model._meta.get_field(name).verbose_name)


def money(value):
    """A computed amount to the fen (SQLite returns sums and differences as floats)."""
    return None if value is None else Decimal(value).quantize(FEN)


def status_badge(value):
    return format_html(
        '<span class="badge {} wm-bill-status" data-status="{}">{}</span>',
        STATUS_CSS.get(value, "text-bg-light border"),
        value,
        status_label(value),
    )


def account_href(customer_id, entry_id=None):
    """The account page of a customer; with ``entry_id``, the page and row of that entry."""
    href = reverse("billing:account_detail", args=[customer_id])
    if entry_id:
        href += f"?entry={entry_id}#entry-{entry_id}"
    return href


def related(obj, name):
    """A reverse one-to-one (``entry.bill``), or ``None`` when there is none."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


class BillTable(tables.Table):
    """Bills annotated by ``bills.with_status`` (settled, open amount, status: all in SQL)."""

    number = tables.Column(_("Bill no."), accessor="pk", attrs=NOWRAP)
    month = MonthColumn(label(Bill, "month"), attrs=NOWRAP)
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    name = tables.Column(
        _("Account name"), accessor="customer__name", attrs={"td": {"style": "min-width: 4rem"}}
    )
    meter = tables.Column(_("Meter"), accessor="meter__number", attrs=NOWRAP)
    book = tables.Column(_("Book"), accessor="book__code", attrs=NOWRAP)
    zone = tables.Column(_("Zone"), accessor="zone__name", attrs=NOWRAP, visible=False)
    reader = tables.Column(_("Meter reader"), accessor="book__reader__name", visible=False)
    collector = tables.Column(_("Collector"), accessor="book__collector__name", visible=False)
    category = tables.Column(
        _("Water-use category"), accessor="customer__category__name", visible=False
    )
    tariff = tables.Column(_("Tariff"), accessor="tariff__name", visible=False)
    kind = tables.Column(attrs=NOWRAP, visible=False)
    period_start = tables.DateColumn(format="Y-m-d", attrs=NOWRAP, visible=False)
    period_end = tables.DateColumn(format="Y-m-d", attrs=NOWRAP, visible=False)
    read_volume = tables.Column(attrs=NUMBER, visible=False)
    volume = tables.Column(_("Volume (m³)"), attrs=NUMBER)
    amount = tables.Column(_("Amount"), attrs=NUMBER)
    settled = tables.Column(_("Settled"), attrs=NUMBER)
    open_amount = tables.Column(_("Outstanding"), attrs=NUMBER)
    status = tables.Column(_("Status"), attrs=NOWRAP)
    issued_on = tables.DateColumn(format="Y-m-d", attrs=NOWRAP, visible=False)
    due_on = tables.DateColumn(format="Y-m-d", attrs=NOWRAP)

    class Meta:
        model = Bill
        fields = ()
        sequence = (
            "number",
            "month",
            "account",
            "name",
            "meter",
            "book",
            "zone",
            "reader",
            "collector",
            "category",
            "tariff",
            "kind",
            "period_start",
            "period_end",
            "read_volume",
            "volume",
            "amount",
            "settled",
            "open_amount",
            "status",
            "issued_on",
            "due_on",
        )
        order_by = ("-month", "-number")  # billing_bill_month_idx, backwards
        row_attrs = {
            "class": lambda record: "text-body-secondary" if record.state == "cancelled" else ""
        }

    def render_number(self, record, value):
        return link(reverse("billing:bill_detail", args=[record.pk]), value)

    def render_account(self, record, value):
        return link(account_href(record.customer_id), value)

    def render_status(self, value):
        return status_badge(value)

    def render_settled(self, value):
        return money(value)

    def value_settled(self, value):
        return money(value)

    def render_open_amount(self, value):
        if value and value > 0:
            return format_html('<strong class="text-danger">{}</strong>', money(value))
        return money(value)

    def value_number(self, value):
        return value

    def value_account(self, value):
        return value

    def value_status(self, value):
        return status_label(value)

    def value_open_amount(self, value):
        return money(value)


class PaidBillTable(BillTable):
    """Bills with what the payments of the chosen period paid on each (F7.2): the sum and
    the day of the last one (annotated by the view)."""

    paid = tables.Column(_("Paid in the period"), attrs=NUMBER)
    paid_on = tables.DateColumn(format="Y-m-d", verbose_name=_("Last paid on"), attrs=NOWRAP)

    class Meta(BillTable.Meta):
        sequence = (*BillTable.Meta.sequence[:-2], "paid", "paid_on", "issued_on", "due_on")

    def render_paid(self, value):
        return money(value)

    def value_paid(self, value):
        return money(value)


class LedgerEntryTable(tables.Table):
    """Ledger entries with what they belong to (bill, late fee, write-off) and their reversal."""

    number = tables.Column(_("Entry no."), accessor="pk", attrs=NOWRAP)
    business_date = tables.DateColumn(format="Y-m-d", attrs=NOWRAP)
    posted_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP)
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    name = tables.Column(
        _("Account name"), accessor="customer__name", attrs={"td": {"style": "min-width: 6rem"}}
    )
    zone = tables.Column(_("Zone"), accessor="zone__name", attrs=NOWRAP, visible=False)
    kind = tables.Column(attrs=NOWRAP)
    direction = tables.Column(visible=False)
    debit = tables.Column(
        _("Debit (owes more)"), accessor="amount", order_by=("-direction", "amount"), attrs=NUMBER
    )
    credit = tables.Column(
        _("Credit (owes less)"),
        accessor="amount",
        order_by=("direction", "amount"),
        attrs=NUMBER,
    )
    period = MonthColumn(label(LedgerEntry, "period"), attrs=NOWRAP, visible=False)
    document = tables.Column(_("For"), empty_values=(), orderable=False, attrs=NOWRAP)
    channel = tables.Column(attrs=NOWRAP)
    external_key = tables.Column(visible=False)
    posted_by = tables.Column(label(LedgerEntry, "posted_by"), accessor="posted_by__name")
    unit = tables.Column(label(LedgerEntry, "unit"), accessor="unit__name", visible=False)
    reason = tables.Column(attrs=WIDE)
    reversal = tables.Column(_("Reversal"), empty_values=(), orderable=False, attrs=NOWRAP)

    class Meta:
        model = LedgerEntry
        fields = ()
        sequence = (
            "number",
            "business_date",
            "posted_at",
            "account",
            "name",
            "zone",
            "kind",
            "direction",
            "debit",
            "credit",
            "document",
            "period",
            "channel",
            "external_key",
            "posted_by",
            "unit",
            "reason",
            "reversal",
        )
        order_by = ("-number",)  # newest first: the primary key, backwards
        row_attrs = {
            "id": lambda record: f"entry-{record.pk}",
            "class": lambda record, table: (
                "table-warning" if record.pk == getattr(table, "highlight", None) else ""
            ),
        }

    def render_number(self, record, value):
        return link(account_href(record.customer_id, record.pk), f"#{value}")

    def value_number(self, value):
        return value

    def render_account(self, record, value):
        return link(account_href(record.customer_id), value)

    def value_account(self, value):
        return value

    def render_debit(self, record, value):
        return value if record.direction == Direction.DEBIT else ""

    def value_debit(self, record, value):
        return value if record.direction == Direction.DEBIT else None

    def render_credit(self, record, value):
        return value if record.direction == Direction.CREDIT else ""

    def value_credit(self, record, value):
        return value if record.direction == Direction.CREDIT else None

    def document_of(self, record):
        """(text, href) of what the entry belongs to, or None."""
        bill = related(record, "bill")
        if bill is not None:
            kind = _("Red bill") if bill.amount < 0 else _("Bill")
            return f"{kind} {bill.pk} ({month_text(bill.month)})", bill.get_absolute_url()
        fee = related(record, "late_fee")
        if fee is not None:
            return (
                _("Late fee of bill %(bill)s") % {"bill": fee.bill_id},
                reverse("billing:bill_detail", args=[fee.bill_id]),
            )
        write_off = related(record, "write_off")
        if write_off is not None:
            return (
                _("Write-off of bill %(bill)s") % {"bill": write_off.bill_id},
                reverse("billing:bill_detail", args=[write_off.bill_id]),
            )
        cancelled = related(record, "cancelled_bill")
        if cancelled is not None:
            return (
                _("Cancels bill %(bill)s") % {"bill": cancelled.pk},
                cancelled.get_absolute_url(),
            )
        return None

    def render_document(self, record):
        found = self.document_of(record)
        return link(found[1], found[0]) if found else ""

    def value_document(self, record):
        found = self.document_of(record)
        return found[0] if found else ""

    def reversal_of(self, record):
        """(text, entry) of the reversal link: what this entry reverses, or what reversed it."""
        if record.reverses_id:
            return _("Reverses #%(entry)s") % {"entry": record.reverses_id}, record.reverses_id
        reversed_by = related(record, "reversed_by")
        if reversed_by is not None:
            return _("Reversed by #%(entry)s") % {"entry": reversed_by.pk}, reversed_by.pk
        return None

    def render_reversal(self, record):
        found = self.reversal_of(record)
        if not found:
            return ""
        text, entry_id = found
        css = "text-danger" if not record.reverses_id else ""
        return format_html(
            '<a class="{}" href="{}">{}</a>', css, account_href(record.customer_id, entry_id), text
        )

    def value_reversal(self, record):
        found = self.reversal_of(record)
        return found[0] if found else ""


class AccountEntryTable(LedgerEntryTable):
    """One account's entries, newest first, with the balance after each (a window in SQL)."""

    running_balance = tables.Column(_("Balance after"), attrs=NUMBER, orderable=False)
    account = None
    name = None

    class Meta(LedgerEntryTable.Meta):
        sequence = (
            "number",
            "business_date",
            "posted_at",
            "kind",
            "direction",
            "debit",
            "credit",
            "running_balance",
            "document",
            "period",
            "channel",
            "external_key",
            "posted_by",
            "unit",
            "reason",
            "reversal",
            "zone",
        )
        order_by = ("-posted_at", "-number")  # one account's few rows: the running balance's

    def render_running_balance(self, value):
        css = "text-danger" if value < 0 else ""
        return format_html('<span class="{}">{}</span>', css, money(value))

    def value_running_balance(self, value):
        return money(value)
