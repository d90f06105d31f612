import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from watermis.billing.bill_tables import NOWRAP, NUMBER, label, money
from watermis.readings.query_tables import link

from .models import CounterPayment, LateFeeWaiver, WaiverLimit


def customer_link(record, value):
    return link(reverse("customers:customer_detail", args=[record.customer_id]), value)


class CounterPaymentTable(tables.Table):
    id = tables.Column(_("Payment"), attrs=NOWRAP)
    paid_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP)
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    name = tables.Column(_("Account name"), accessor="customer__name")
    method = tables.Column(attrs=NOWRAP)
    amount = tables.Column(attrs=NUMBER)
    change_kept = tables.Column(attrs=NUMBER)
    waived = tables.Column(attrs=NUMBER)
    tendered = tables.Column(attrs=NUMBER, visible=False)
    change = tables.Column(attrs=NUMBER, visible=False)
    cashier = tables.Column(
        accessor="cashier__username", verbose_name=label(CounterPayment, "cashier"), attrs=NOWRAP
    )
    zone = tables.Column(accessor="zone__name", verbose_name=label(CounterPayment, "zone"))
    cashier_zone = tables.Column(
        accessor="cashier_zone__name", verbose_name=label(CounterPayment, "cashier_zone")
    )
    cross_zone = tables.BooleanColumn()
    state = tables.Column(_("State"), accessor="reversal_entry_id", attrs=NOWRAP)
    reverse_reason = tables.Column(visible=False)

    class Meta:
        model = CounterPayment
        fields = ()
        sequence = (
            "id",
            "paid_at",
            "account",
            "name",
            "method",
            "amount",
            "change_kept",
            "waived",
            "tendered",
            "change",
            "cashier",
            "zone",
            "cashier_zone",
            "cross_zone",
            "state",
            "reverse_reason",
        )
        order_by = ("-paid_at",)
        row_attrs = {
            "class": lambda record: "text-body-secondary" if record.reversal_entry_id else ""
        }

    def render_id(self, record, value):
        return link(record.get_absolute_url(), f"#{value}")

    def render_account(self, record, value):
        return customer_link(record, value)

    def render_amount(self, value):
        return money(value)

    def render_state(self, record, value):
        if record.reversal_entry_id:
            return format_html('<span class="badge text-bg-secondary">{}</span>', _("Reversed"))
        return format_html('<span class="badge text-bg-success">{}</span>', _("Taken"))

    def value_state(self, record, value):
        return _("Reversed") if record.reversal_entry_id else _("Taken")


class LateFeeWaiverTable(tables.Table):
    at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP)
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    name = tables.Column(_("Account name"), accessor="customer__name")
    bill = tables.Column(_("Bill"), accessor="bill_id", attrs=NOWRAP)
    month = tables.Column(_("Billing month"), accessor="bill__month", attrs=NOWRAP)
    amount = tables.Column(attrs=NUMBER)
    limit = tables.Column(attrs=NUMBER)
    reason = tables.Column()
    operator = tables.Column(
        accessor="operator__username", verbose_name=label(LateFeeWaiver, "operator"), attrs=NOWRAP
    )
    authoriser = tables.Column(
        accessor="authoriser__username",
        verbose_name=label(LateFeeWaiver, "authoriser"),
        attrs=NOWRAP,
    )
    payment = tables.Column(_("Payment"), accessor="payment_id", attrs=NOWRAP)
    method = tables.Column(
        label(CounterPayment, "method"), accessor="payment__method", attrs=NOWRAP, visible=False
    )
    state = tables.Column(_("State"), accessor="payment__reversal_entry_id", attrs=NOWRAP)
    zone = tables.Column(accessor="zone__name", verbose_name=label(LateFeeWaiver, "zone"))
    book = tables.Column(_("Book"), accessor="customer__book__code", attrs=NOWRAP, visible=False)
    category = tables.Column(
        _("Water-use category"), accessor="customer__category__name", visible=False
    )

    class Meta:
        model = LateFeeWaiver
        fields = ()
        sequence = (
            "at",
            "account",
            "name",
            "bill",
            "month",
            "amount",
            "limit",
            "reason",
            "operator",
            "authoriser",
            "payment",
            "method",
            "state",
            "zone",
            "book",
            "category",
        )
        order_by = ("-at",)

    def render_account(self, record, value):
        return customer_link(record, value)

    def render_bill(self, record, value):
        return link(reverse("billing:bill_detail", args=[value]), f"#{value}")

    def render_month(self, value):
        return f"{value:%Y-%m}"

    def value_month(self, value):
        return f"{value:%Y-%m}"

    def render_state(self, record, value):
        if value:
            return format_html(
                '<span class="badge text-bg-secondary">{}</span>', _("Reversed with the payment")
            )
        return format_html('<span class="badge text-bg-success">{}</span>', _("Granted"))

    def value_state(self, record, value):
        return _("Reversed with the payment") if value else _("Granted")

    def render_method(self, record):
        return record.payment.get_method_display() if record.payment_id else ""

    def value_method(self, record):
        return self.render_method(record)

    def render_payment(self, record, value):
        if not value:
            return "—"
        return link(reverse("payments:payment_detail", args=[value]), f"#{value}")


class WaiverLimitTable(tables.Table):
    role = tables.Column()
    limit = tables.Column(attrs=NUMBER)

    class Meta:
        model = WaiverLimit
        fields = ("role", "limit")

    def render_role(self, record, value):
        return link(record.get_absolute_url(), value)
