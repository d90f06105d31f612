"""Reading bills for invoicing: which are invoiced, which can be, how they were paid.

- :func:`without_live_invoice`: bills with none of the given parts on a live invoice
  and something to invoice in them (a line of such an item);
- :func:`with_payment`: bills annotated with how their last settlement was made:
  ``paid_on`` (when the allocation was made), ``paid_kind`` and ``paid_channel``
  (of the credit); :func:`filter_channel` keeps one :class:`PaidChannel`;
- :func:`live_rows`: the live invoice rows of some bills, by (bill, part).
"""

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from watermis.billing.models import Allocation, BillLine, EntryKind
from watermis.tariffs.models import RevenueKind

from .models import InvoiceBill, Part

MOBILE_CHANNELS = ("wechat", "alipay", "mobile", "unionpay")


# A bill paid from the prepaid deposit is settled by a deposit transfer's ``transfer_in``.
PREPAID_KINDS = (EntryKind.TRANSFER_IN, EntryKind.DEPOSIT)


class PaidChannel:
    """How a bill was paid, as the batch reissue filters it (F3.6)."""

    PREPAID = "prepaid"
    BANK = "bank"
    MOBILE = "mobile"
    COUNTER = "counter"
    OTHER = "other"
    CHOICES = [
        (PREPAID, _("Prepaid deduction")),
        (BANK, _("Bank (deduction or collection)")),
        (MOBILE, _("Mobile payment")),
        (COUNTER, _("Counter")),
        (OTHER, _("Other credits")),
    ]


def channel_of(kind, channel):
    """The :class:`PaidChannel` of a settling credit of ``kind`` through ``channel``."""
    if kind in PREPAID_KINDS:
        return PaidChannel.PREPAID
    if kind != EntryKind.PAYMENT:
        return PaidChannel.OTHER
    if channel == "bank":
        return PaidChannel.BANK
    if channel in MOBILE_CHANNELS:
        return PaidChannel.MOBILE
    return PaidChannel.COUNTER if not channel else PaidChannel.OTHER


def has_items(part):
    """Q of bills with a line of ``part`` with an amount (own or agency items; a receipt:
    any line)."""
    lines = BillLine.objects.filter(bill_id=OuterRef("pk")).exclude(amount=0)
    if part == Part.AGENCY:
        lines = lines.filter(item__revenue_kind=RevenueKind.AGENCY)
    elif part == Part.OWN:
        lines = lines.exclude(item__revenue_kind=RevenueKind.AGENCY)
    return Exists(lines)


def on_live_invoice(parts):
    """Whether the bill (the outer query's row) has one of ``parts`` on a live invoice."""
    return Exists(
        InvoiceBill.objects.filter(bill_id=OuterRef("pk"), part__in=list(parts), live=True)
    )


def without_live_invoice(queryset, parts):
    """Bills with something to invoice in ``parts`` and none of them on a live invoice."""
    something = Q()
    for part in parts:
        something |= Q(has_items(part))
    return queryset.filter(something).filter(~on_live_invoice(parts))


def with_payment(queryset):
    """Bills annotated with ``paid_on``, ``paid_kind``, ``paid_channel`` of their last settlement."""
    last = Allocation.objects.filter(debit_id=OuterRef("entry_id"), amount__gt=0).order_by("-id")
    return queryset.annotate(
        paid_on=Subquery(last.values("made_by__business_date")[:1]),
        paid_kind=Subquery(last.values("credit__kind")[:1]),
        paid_channel=Subquery(last.values("credit__channel")[:1]),
    )


def filter_channel(queryset, channel):
    """Bills (annotated by :func:`with_payment`) last settled through ``channel``."""
    if not channel:
        return queryset
    payment = Q(paid_kind=EntryKind.PAYMENT)
    if channel == PaidChannel.PREPAID:
        return queryset.filter(paid_kind__in=PREPAID_KINDS)
    if channel == PaidChannel.BANK:
        return queryset.filter(payment, paid_channel="bank")
    if channel == PaidChannel.MOBILE:
        return queryset.filter(payment, paid_channel__in=MOBILE_CHANNELS)
    if channel == PaidChannel.COUNTER:
        return queryset.filter(payment, paid_channel="")
    return queryset.exclude(paid_kind__in=(*PREPAID_KINDS, EntryKind.PAYMENT)) | queryset.filter(
        payment
    ).exclude(paid_channel__in=("", "bank", *MOBILE_CHANNELS))


def live_rows(bill_ids, parts=None):
    """{(bill id, part): InvoiceBill} of live invoice rows of these bills."""
    rows = InvoiceBill.objects.filter(bill_id__in=list(bill_ids), live=True).select_related(
        "invoice", "invoice__operator", "bill"
    )
    if parts is not None:
        rows = rows.filter(part__in=list(parts))
    return {(row.bill_id, row.part): row for row in rows}
