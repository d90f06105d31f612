import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from watermis.readings.query_tables import NOWRAP, NUMBER, MonthColumn, link

from .models import Bank, BankBatch, BankBatchLine, BatchState, LineState

BATCH_CSS = {
    BatchState.OPEN: "text-bg-warning",
    BatchState.PARTLY: "text-bg-info",
    BatchState.DONE: "text-bg-success",
    BatchState.CANCELLED: "text-bg-light border text-decoration-line-through",
}
LINE_CSS = {
    LineState.SENT: "text-bg-warning",
    LineState.PAID: "text-bg-success",
    LineState.FAILED: "text-bg-danger",
    LineState.RELEASED: "text-bg-light border",
}


def badge(css, value, label):
    return format_html(
        '<span class="badge {}" data-state="{}">{}</span>', css.get(value, ""), value, label
    )


class BankTable(tables.Table):
    code = tables.Column(linkify=True, attrs=NOWRAP)

    class Meta:
        model = Bank
        fields = (
            "code",
            "name",
            "customer_bank_prefix",
            "merchant_no",
            "file_format",
            "encoding",
            "summary",
            "success_codes",
            "active",
        )


class BankBatchTable(tables.Table):
    number = tables.Column(linkify=True, attrs=NOWRAP)
    bank = tables.Column(accessor="bank__code", verbose_name=_("Bank"), attrs=NOWRAP)
    zone = tables.Column(attrs=NOWRAP)
    state = tables.Column(attrs=NOWRAP)
    business_date = tables.DateColumn(format="Y-m-d", attrs=NOWRAP)
    line_count = tables.Column(attrs=NUMBER)
    amount = tables.Column(attrs=NUMBER)
    paid_count = tables.Column(attrs=NUMBER)
    paid_amount = tables.Column(attrs=NUMBER)
    failed_count = tables.Column(attrs=NUMBER)
    failed_amount = tables.Column(attrs=NUMBER)
    open_count = tables.Column(
        _("Still at the bank"), accessor="open_count", orderable=False, attrs=NUMBER
    )
    created_by = tables.Column(attrs=NOWRAP)
    exported_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP, visible=False)
    cancel_reason = tables.Column(visible=False)

    class Meta:
        model = BankBatch
        fields = (
            "number",
            "bank",
            "zone",
            "state",
            "business_date",
            "line_count",
            "amount",
            "paid_count",
            "paid_amount",
            "failed_count",
            "failed_amount",
            "open_count",
            "created_by",
            "exported_at",
            "cancel_reason",
        )
        attrs = {"id": "batch-table"}

    def render_state(self, record):
        return badge(BATCH_CSS, record.state, record.get_state_display())

    def value_state(self, record):
        return record.get_state_display()


class BankBatchLineTable(tables.Table):
    seq = tables.Column(attrs=NUMBER)
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    name = tables.Column(_("Customer"), accessor="customer__name")
    bill = tables.Column(_("Bill"), accessor="bill_id", attrs=NUMBER)
    month = MonthColumn(_("Billing month"), attrs=NOWRAP)
    bank_account = tables.Column(attrs=NOWRAP)
    account_name = tables.Column()
    mandate_no = tables.Column(visible=False)
    amount = tables.Column(attrs=NUMBER)
    state = tables.Column(attrs=NOWRAP)
    result_code = tables.Column(attrs=NOWRAP)
    result_message = tables.Column()
    entry = tables.Column(_("Payment entry"), accessor="entry_id", attrs=NUMBER, visible=False)

    class Meta:
        model = BankBatchLine
        fields = (
            "seq",
            "account",
            "name",
            "bill",
            "month",
            "bank_account",
            "account_name",
            "mandate_no",
            "amount",
            "state",
            "result_code",
            "result_message",
            "entry",
        )
        attrs = {"id": "line-table"}

    def render_account(self, record):
        return link(
            reverse("customers:customer_detail", args=[record.customer_id]),
            record.customer.account_no,
        )

    def value_account(self, record):
        return record.customer.account_no

    def render_bill(self, record):
        return link(reverse("billing:bill_detail", args=[record.bill_id]), f"#{record.bill_id}")

    def value_bill(self, record):
        return record.bill_id

    def render_state(self, record):
        return badge(LINE_CSS, record.state, record.get_state_display())

    def value_state(self, record):
        return record.get_state_display()
