import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from watermis.billing.bill_tables import NOWRAP, NUMBER, label
from watermis.billing.models import Account, LedgerEntry
from watermis.readings.query_tables import link

from .deposit_queries import PotKind, method_label
from .models import Deposit, DepositChannel, DepositTransfer, TransferRun
from .tables import customer_link


def state_badge(css, text):
    return format_html('<span class="badge {}">{}</span>', css, text)


class DepositTable(tables.Table):
    id = tables.Column(_("Deposit"), attrs=NOWRAP)
    at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP)
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    name = tables.Column(_("Account name"), accessor="customer__name")
    channel = tables.Column(attrs=NOWRAP)
    method = tables.Column(_("Paid by"), attrs=NOWRAP, orderable=False)
    reference = tables.Column(attrs=NOWRAP, visible=False)
    amount = tables.Column(attrs=NUMBER)
    balance_after = tables.Column(attrs=NUMBER)
    tendered = tables.Column(attrs=NUMBER, visible=False)
    change = tables.Column(attrs=NUMBER, visible=False)
    operator = tables.Column(
        accessor="operator__username", verbose_name=label(Deposit, "operator"), attrs=NOWRAP
    )
    zone = tables.Column(accessor="zone__name", verbose_name=label(Deposit, "zone"))
    state = tables.Column(
        _("State"), accessor="correction__id", attrs=NOWRAP, orderable=False, empty_values=()
    )
    note = tables.Column(visible=False)

    class Meta:
        model = Deposit
        fields = ()
        sequence = (
            "id",
            "at",
            "account",
            "name",
            "channel",
            "method",
            "reference",
            "amount",
            "balance_after",
            "tendered",
            "change",
            "operator",
            "zone",
            "state",
            "note",
        )
        order_by = ("-at",)
        attrs = {"id": "deposit-table"}

    def render_id(self, record, value):
        return link(record.get_absolute_url(), f"#{value}")

    def value_id(self, value):
        return value

    def render_account(self, record, value):
        return customer_link(record, value)

    def value_account(self, value):
        return value

    def render_method(self, record):
        return method_label(record) if record.channel == DepositChannel.COUNTER else "—"

    def value_method(self, record):
        return method_label(record) if record.channel == DepositChannel.COUNTER else ""

    def render_state(self, record, value):
        if value:
            return state_badge("text-bg-secondary", _("Corrected"))
        return state_badge("text-bg-success", _("Taken"))

    def value_state(self, record, value):
        return _("Corrected") if value else _("Taken")


class DepositBalanceTable(tables.Table):
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    name = tables.Column(_("Account name"), accessor="customer__name")
    address = tables.Column(_("Address"), accessor="customer__address")
    book = tables.Column(_("Reading book"), accessor="customer__book__code", attrs=NOWRAP)
    zone = tables.Column(accessor="zone__name", verbose_name=label(Account, "zone"))
    deposit = tables.Column(attrs=NUMBER)
    balance = tables.Column(_("Bill account"), attrs=NUMBER)
    updated_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP, visible=False)

    class Meta:
        model = Account
        fields = ()
        sequence = (
            "account",
            "name",
            "address",
            "book",
            "zone",
            "deposit",
            "balance",
            "updated_at",
        )
        order_by = ("account",)
        attrs = {"id": "balance-table"}
        row_attrs = {"class": lambda record: "table-warning" if record.deposit < 0 else ""}

    def render_account(self, record, value):
        return customer_link(record, value)

    def value_account(self, value):
        return value


class DepositEntryTable(tables.Table):
    id = tables.Column(_("Entry"), attrs=NOWRAP)
    business_date = tables.DateColumn(format="Y-m-d", attrs=NOWRAP)
    posted_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP, visible=False)
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    name = tables.Column(_("Account name"), accessor="customer__name")
    pot_kind = tables.Column(_("Kind"), attrs=NOWRAP)
    channel = tables.Column(_("Channel"), accessor="deposit_channel", attrs=NOWRAP)
    money_in = tables.Column(_("In"), accessor="amount", attrs=NUMBER, orderable=False)
    money_out = tables.Column(_("Out"), accessor="amount", attrs=NUMBER, orderable=False)
    operator = tables.Column(
        accessor="posted_by__username", verbose_name=label(LedgerEntry, "posted_by"), attrs=NOWRAP
    )
    zone = tables.Column(accessor="zone__name", verbose_name=label(LedgerEntry, "zone"))
    reason = tables.Column()

    class Meta:
        model = LedgerEntry
        fields = ()
        sequence = (
            "id",
            "business_date",
            "posted_at",
            "account",
            "name",
            "pot_kind",
            "channel",
            "money_in",
            "money_out",
            "operator",
            "zone",
            "reason",
        )
        order_by = ("-business_date", "-id")
        attrs = {"id": "entry-table"}

    def render_account(self, record, value):
        return customer_link(record, value)

    def value_account(self, value):
        return value

    def render_pot_kind(self, value):
        return PotKind.labels.get(value, value)

    def render_channel(self, value):
        return DepositChannel(value).label if value else "—"

    def value_channel(self, value):
        return DepositChannel(value).label if value else ""

    def render_money_in(self, record):
        return record.amount if record.direction == "credit" else ""

    def render_money_out(self, record):
        return record.amount if record.direction == "debit" else ""

    def value_money_in(self, record):
        return record.amount if record.direction == "credit" else None

    def value_money_out(self, record):
        return record.amount if record.direction == "debit" else None


class TransferRunTable(tables.Table):
    id = tables.Column(_("Run"), attrs=NOWRAP)
    started_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP)
    zone = tables.Column(default=_("All zones"))
    trigger = tables.Column(attrs=NOWRAP)
    started_by = tables.Column(attrs=NOWRAP)
    candidates = tables.Column(attrs=NUMBER)
    customers = tables.Column(attrs=NUMBER)
    bills = tables.Column(attrs=NUMBER)
    amount = tables.Column(attrs=NUMBER)
    state = tables.Column(
        _("State"), accessor="finished_at", attrs=NOWRAP, orderable=False, empty_values=()
    )
    partial = tables.BooleanColumn(visible=False)
    overdraft = tables.Column(attrs=NUMBER, visible=False)

    class Meta:
        model = TransferRun
        fields = ()
        sequence = (
            "id",
            "started_at",
            "zone",
            "trigger",
            "started_by",
            "candidates",
            "customers",
            "bills",
            "amount",
            "state",
            "partial",
            "overdraft",
        )
        order_by = ("-started_at",)
        attrs = {"id": "run-table"}

    def render_id(self, record, value):
        return link(record.get_absolute_url(), f"#{value}")

    def value_id(self, value):
        return value

    def state_text(self, record):
        if record.error:
            return _("Failed")
        return _("Done") if record.finished_at else _("Running")

    def render_state(self, record):
        css = "text-bg-danger" if record.error else "text-bg-success"
        if not record.finished_at:
            css = "text-bg-warning"
        return state_badge(css, self.state_text(record))

    def value_state(self, record):
        return self.state_text(record)


class DepositTransferTable(tables.Table):
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    name = tables.Column(_("Account name"), accessor="customer__name")
    zone = tables.Column(accessor="zone__name", verbose_name=label(DepositTransfer, "zone"))
    amount = tables.Column(attrs=NUMBER)
    bills = tables.Column(attrs=NUMBER)
    deposit_before = tables.Column(attrs=NUMBER)
    deposit_after = tables.Column(attrs=NUMBER)
    undone = tables.Column(
        _("Undone"), accessor="undo_pk", attrs=NOWRAP, orderable=False, empty_values=()
    )
    actions = tables.Column(
        "", accessor="pk", orderable=False, exclude_from_export=True, empty_values=()
    )

    class Meta:
        model = DepositTransfer
        fields = ()
        sequence = (
            "account",
            "name",
            "zone",
            "amount",
            "bills",
            "deposit_before",
            "deposit_after",
            "undone",
            "actions",
        )
        order_by = ("account",)
        attrs = {"id": "transfer-table"}
        empty_text = _("No transfer yet.")

    def __init__(self, *args, can_undo=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_undo = can_undo

    def render_account(self, record, value):
        return customer_link(record, value)

    def value_account(self, value):
        return value

    def render_undone(self, record, value):
        if value:
            return state_badge("text-bg-secondary", _("Undone"))
        return "—"

    def value_undone(self, value):
        return _("Yes") if value else _("No")

    def render_actions(self, record):
        if not self.can_undo or record.undo_pk:
            return ""
        return format_html(
            '<a class="btn btn-sm btn-outline-danger py-0" href="{}">{}</a>',
            reverse("payments:transfer_undo", args=[record.pk]),
            _("Undo"),
        )
