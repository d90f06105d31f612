"""Issuing, voiding, red invoices and reprints (F3.1, F3.6–F3.19, F3.22; DOMAIN.md section 5).

The core is :func:`issue_invoice`: one invoice of a kind for some bills, in one
transaction (a savepoint inside a caller's; the counter of issue 8, which holds the
customer's account lock right after posting a payment, has it written in its own
transaction). It locks the customers' accounts (as every posting does, so the order
is always accounts → stock), re-reads the bills' status, takes a number from the operator's own stock (paper) or has the
e-invoice provider issue it (electronic), writes the invoice, its bill rows and
tax lines, and journals it. The rules:

- a bill is invoiced when it is paid (its ledger entry fully settled), except a
  walking-collection invoice printed before collection (F3.1);
- a bill's part (water items, agency items, receipt) is on at most one live
  invoice (the database constraint ``invoices_bill_once_live``); a red bill not
  yet invoiced goes on the invoice of the bill it corrects and nets it;
- one customer per invoice unless combined (F3.15); one zone always.

The flows are thin wrappers: one meter (F3.8), a customer's meters and months
(F3.9), agency fees (F3.10), receipts (F3.11), several customers (F3.15),
walking collection for books (F3.1), reissue and batch reissue (F3.6, F3.7,
F3.12–F3.14). Each returns the invoices and the PDF that prints them.

Voiding (F3.16–F3.19) is for the operator who issued the invoice, with a
reason; the bills can be invoiced again. An electronic invoice cannot be
voided: "voiding" it issues a red e-invoice offsetting it in full.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from watermis.billing import ledger
from watermis.billing.bills import (
    filter_bill_status,
    open_bills,
    placeholders,
    settled_bills,
)
from watermis.billing.models import Allocation, Bill, BillKind, BillState, BillStatus
from watermis.core import journal
from watermis.core.models import AuditAction
from watermis.core.scoping import ensure_in_scope
from watermis.customers.models import Customer
from watermis.documents.sources import customers_in_route_order, operator_name
from watermis.org.models import Company

from . import einvoice, numbering
from .contents import TaxLine, bill_parts, item_tax_codes, rate_label, tax_lines
from .models import (
    BuyerType,
    Invoice,
    InvoiceBill,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    InvoiceType,
    Medium,
    Origin,
    Part,
)
from .printing import print_invoices, store_file
from .queries import (
    PaidChannel,
    channel_of,
    filter_channel,
    live_rows,
    with_payment,
    without_live_invoice,
)

ZERO = Decimal("0.00")
BATCH_LIMIT = 2000  # invoices of one batch (one request, one PDF)

# An invoice a collector takes to the customer before the payment (walking collection).
COLLECTION_WORDS = "走收"
METHOD_LABELS = {
    PaidChannel.PREPAID: "预存抵扣",
    PaidChannel.BANK: "银行代扣",
    PaidChannel.MOBILE: "移动支付",
    PaidChannel.COUNTER: "柜台缴费",
    PaidChannel.OTHER: "其他",
}


@dataclass(frozen=True)
class Buyer:
    """Who an invoice is made out to (default: the customer, an individual)."""

    name: str = ""
    tax_id: str = ""
    type: str = BuyerType.INDIVIDUAL
    address: str = ""


@dataclass(frozen=True)
class Issued:
    """What an issuing flow returns: the invoices, in print order, and their PDF."""

    invoices: list
    pdf: bytes


def _bill_ids(bills):
    return sorted({getattr(bill, "pk", bill) for bill in bills})


def _part_label(part):
    return Part(part).label.lower()


def _bill_words(bill):
    return _("Bill #%(bill)s of %(month)s") % {"bill": bill.pk, "month": f"{bill.month:%Y-%m}"}


def _active_kind(kind):
    """The kind (an object as the caller read it, or read by id), refused when retired."""
    if not isinstance(kind, InvoiceKind):
        kind = InvoiceKind.objects.get(pk=kind)
    if not kind.active:
        raise ValidationError({"kind": _("This invoice kind is no longer in use.")})
    return kind


def _check_bill(bill, before_payment):
    """Why ``bill`` (with its ``status``: ``settle_status``) cannot be invoiced, or None."""
    words = _bill_words(bill)
    if bill.kind == BillKind.RED:
        return _(
            "%(bill)s is a red bill: it goes on the invoice of the bill it corrects, or on a "
            "red invoice."
        ) % {"bill": words}
    if bill.state == BillState.CANCELLED:
        return _("%(bill)s is cancelled: there is nothing to invoice.") % {"bill": words}
    if bill.status == BillStatus.WRITTEN_OFF:
        return _("%(bill)s is written off: no payment is left to invoice.") % {"bill": words}
    if not before_payment and bill.status != BillStatus.PAID:
        return _(
            "%(bill)s is not paid: %(open)s of %(amount)s is still open. Invoices are issued "
            "for paid bills (walking-collection invoices before payment)."
        ) % {"bill": words, "open": bill.open_amount, "amount": bill.amount}
    return None


def _live_problem(row):
    invoice = row.invoice
    return _(
        "%(bill)s already has its %(part)s on invoice %(number)s, issued by %(operator)s on "
        "%(day)s: void that invoice first, or reprint it."
    ) % {
        "bill": _bill_words(row.bill),
        "part": _part_label(row.part),
        "number": invoice.display_number,
        "operator": operator_name(invoice.operator),
        "day": f"{invoice.business_date:%Y-%m-%d}",
    }


def payment_method(bills, payment=None):
    """How the bills were paid, as an invoice prints it (the company's language)."""
    if payment is not None:
        return METHOD_LABELS[channel_of(payment.kind, payment.channel)]
    entries = [bill.entry_id for bill in bills if bill.entry_id]
    last = (
        Allocation.objects.filter(debit_id__in=entries, amount__gt=0)
        .select_related("credit")
        .order_by("-id")
        .first()
    )
    if last is None:
        return ""
    return METHOD_LABELS[channel_of(last.credit.kind, last.credit.channel)]


def _seller():
    """(name, tax id) of the company, as invoices name the seller."""
    return Company.objects.order_by("pk").values_list("name", "credit_code").first() or ("", "")


def _request(invoice, lines, original=None):
    """The e-invoice request of ``invoice`` and its tax lines."""
    return einvoice.EInvoiceRequest(
        request_id=invoice.request_id,
        invoice_type=invoice.invoice_type,
        issued_at=invoice.issued_at,
        seller=einvoice.Party(invoice.seller_name, invoice.seller_tax_id),
        buyer=einvoice.Party(
            invoice.buyer_name, invoice.buyer_tax_id, invoice.buyer_address, invoice.buyer_type
        ),
        lines=tuple(
            einvoice.Line(
                name=line.name,
                tax_code=line.tax_code,
                unit=line.unit,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                net=line.net,
                tax=line.tax,
                rate=line.rate,
                rate_label=rate_label(line.treatment, line.rate),
                treatment=line.treatment,
            )
            for line in lines
        ),
        net=invoice.net_amount,
        tax=invoice.tax_amount,
        total=invoice.amount,
        remark=invoice.remark,
        issuer=operator_name(invoice.operator),
        tax_inclusive=invoice.tax_inclusive,
        original_number=original.number if original is not None else "",
        red_reason=invoice.red_reason,
    )


def _check_tax_codes(lines):
    for line in lines:
        if not line.tax_code:
            raise ValidationError(
                {
                    "kind": _(
                        "The price item %(item)s has no tax classification code: an e-invoice "
                        "names one for every line (Invoices › Tax codes)."
                    )
                    % {"item": line.item}
                }
            )


def _number(invoice, actor, kind, lines, original=None):
    """Give ``invoice`` its number: the next of the actor's stock (paper), or the provider's."""
    if kind.uses_stock:
        stock, sequence = numbering.take_number(actor, kind)
        invoice.stock, invoice.sequence = stock, sequence
        invoice.code, invoice.number = stock.code, stock.format(sequence)
        return
    _check_tax_codes(lines)
    provider = einvoice.get_provider()
    invoice.request_id = uuid.uuid4().hex
    request = _request(invoice, lines, original)
    try:
        with translation.override(settings.LANGUAGE_CODE):
            result = provider.red_issue(request) if original else provider.issue(request)
    except einvoice.EInvoiceError as exc:
        raise ValidationError(
            _("The e-invoice provider refused the invoice: %(reason)s") % {"reason": exc}
        ) from exc
    invoice.number = result.number
    invoice.provider = provider.name
    invoice.provider_status = result.status
    invoice.red_confirmation_no = result.confirmation_no or invoice.red_confirmation_no
    for field_name, content, extension in (
        ("pdf_file", result.pdf, "pdf"),
        ("xml_file", result.xml, "xml"),
        ("ofd_file", result.ofd, "ofd"),
    ):
        if content:
            setattr(invoice, field_name, store_file(invoice, result.number, extension, content))


def _save(invoice, lines, rows, actor, reason):
    """Write the invoice, its tax lines and bill rows, the number's use; journal it (the
    journal entry's reason lists the bills and parts)."""
    covered = ", ".join(f"#{row.bill_id} {row.part} {row.amount}" for row in rows)
    summary = _("Bills: %(bills)s") % {"bills": covered}
    # the invoice is built from the kind, stock, bills and customer read under their locks;
    # its number is unique by the stock's lock and a database constraint
    journal.create_object(
        invoice, f"{reason} ({summary})" if reason else summary, actor=actor, checked=True
    )
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                position=position,
                item=line.item,
                name=line.name,
                tax_code=line.tax_code,
                unit=line.unit,
                tier=line.tier,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                tax_treatment=line.treatment,
                tax_rate=line.rate,
                net=line.net,
                tax=line.tax,
                collected_for=line.item.collected_for,
            )
            for position, line in enumerate(lines, start=1)
        ]
    )
    try:
        # no savepoint: the error leaves the issuing transaction (issue_invoice's savepoint,
        # or the counter's) to be rolled back, and it always is, by the ValidationError
        with transaction.atomic(savepoint=False):
            InvoiceBill.objects.bulk_create(rows)
    except IntegrityError:
        raise ValidationError(
            {
                "bills": _(
                    "One of these bills was put on another invoice a moment ago: reload the "
                    "page and choose again."
                )
            }
        ) from None
    if invoice.stock_id:
        numbering.record_use(invoice.stock, invoice.sequence, invoice, actor, invoice.issued_at)
    return invoice


def _totals(lines):
    amount = sum((line.amount for line in lines), ZERO)
    tax = sum((line.tax for line in lines), ZERO)
    return amount, amount - tax, tax


@dataclass
class Draft:
    """What an invoice of ``kind`` for some bills would hold (nothing written)."""

    kind: InvoiceKind
    bills: list  # the chosen bills, with ``settled``, ``open_amount``, ``status``
    reds: list  # red bills netted on the invoice
    rows: list  # unsaved InvoiceBill rows
    lines: list  # TaxLine
    amount: Decimal
    net: Decimal
    tax: Decimal
    customer_ids: list
    zone_id: int

    @property
    def customer(self):
        return self.bills[0].customer


def _owners(ids, several_customers):
    if not ids:
        raise ValidationError({"bills": _("Choose at least one bill to invoice.")})
    owners = dict(Bill.objects.filter(pk__in=ids).values_list("pk", "customer_id"))
    missing = [pk for pk in ids if pk not in owners]
    if missing:
        raise ValidationError({"bills": _("Bill #%(bill)s does not exist.") % {"bill": missing[0]}})
    customer_ids = sorted(set(owners.values()))
    if len(customer_ids) > 1 and not several_customers:
        raise ValidationError(
            {
                "bills": _(
                    "The bills belong to %(count)s customers: several customers' bills go on a "
                    "combined invoice."
                )
                % {"count": len(customer_ids)}
            }
        )
    return customer_ids


def _chosen(ids, parts, customer=None):
    """The bills of ``ids`` with their settlement and status, and ``on_live_invoice`` and
    ``has_red`` (a red bill corrects it) for the checks, in one statement; with their
    customers (``customer``: the caller knows they are all that customer's), in the
    invoice's order."""
    columns = (
        ", EXISTS (SELECT 1 FROM invoices_invoicebill r WHERE r.bill_id = b.id AND r.live"  # noqa: S608 - placeholders only
        f" AND r.part IN ({placeholders(parts)})) AS on_live_invoice"
        ", EXISTS (SELECT 1 FROM billing_bill red WHERE red.corrects_id = b.id"
        " AND red.kind = %s AND red.state = %s) AS has_red"
    )
    chosen = settled_bills(ids, columns, [*parts, BillKind.RED, BillState.ISSUED])
    missing = sorted(set(ids) - {bill.pk for bill in chosen})
    if missing:
        raise ValidationError({"bills": _("Bill #%(bill)s does not exist.") % {"bill": missing[0]}})
    if customer is None:
        customers = Customer.objects.in_bulk({bill.customer_id for bill in chosen})
    else:
        customers = {customer.pk: customer}
        foreign = [bill for bill in chosen if bill.customer_id != customer.pk]
        if foreign:
            raise ValidationError(
                {
                    "bills": _("Bill #%(bill)s is not a bill of account %(account)s.")
                    % {"bill": foreign[0].pk, "account": customer.account_no}
                }
            )
    for bill in chosen:
        bill.customer = customers[bill.customer_id]
    return sorted(
        chosen,
        key=lambda b: (b.customer.account_no, b.month, b.meter_id is None, b.meter_id or 0, b.pk),
    )


def _draft(actor, kind, ids, customer_ids, before_payment, customer=None):
    parts = kind.parts
    chosen = _chosen(ids, parts, customer)
    zones = {bill.zone_id for bill in chosen}
    if len(zones) > 1:
        raise ValidationError(
            {"bills": _("The bills belong to several zones: an invoice covers one zone's bills.")}
        )
    zone_id = zones.pop()
    for bill in chosen:
        ensure_in_scope(actor, bill, "view")
    problems = [p for p in (_check_bill(bill, before_payment) for bill in chosen) if p]
    if problems:
        raise ValidationError({"bills": problems})
    reds = []
    if any(bill.has_red for bill in chosen):  # few bills are ever corrected by a red bill
        reds = Bill.objects.filter(corrects_id__in=ids, kind=BillKind.RED, state=BillState.ISSUED)
        reds = list(without_live_invoice(reds, parts).order_by("month", "id"))
    everything = chosen + reds
    if any(bill.on_live_invoice for bill in chosen):
        live = live_rows([b.pk for b in chosen], parts)
        raise ValidationError({"bills": [_live_problem(row) for row in live.values()]})
    split = bill_parts(everything, tax_codes=True)
    for bill in chosen:
        if not any(split[bill.pk].amount(part) for part in parts):
            problems.append(
                _("%(bill)s has no %(part)s to invoice.")
                % {
                    "bill": _bill_words(bill),
                    "part": " / ".join(_part_label(p) for p in parts),
                }
            )
    if problems:
        raise ValidationError({"bills": problems})
    rows, invoiced_lines = [], []
    for part in parts:
        for bill in everything:
            amount = split[bill.pk].amount(part)
            if amount:
                rows.append(InvoiceBill(bill=bill, part=part, amount=amount))
                invoiced_lines.extend(split[bill.pk].lines[part])
    lines = tax_lines(invoiced_lines, item_tax_codes(invoiced_lines))
    amount, net, tax = _totals(lines)
    if amount <= 0:
        raise ValidationError(
            {
                "bills": _(
                    "These bills come to %(amount)s after their red bills: there is nothing to "
                    "invoice."
                )
                % {"amount": amount}
            }
        )
    customer_ids = customer_ids if customer is None else [customer.pk]
    return Draft(kind, chosen, reds, rows, lines, amount, net, tax, customer_ids, zone_id)


def draft_invoice(actor, kind, bills, *, before_payment=False, several_customers=False):
    """The invoice :func:`issue_invoice` would issue now, unsaved (the preview of the pages).

    Raises ``ValidationError`` for the same reasons; takes no number and no lock.
    """
    numbering.require(actor, "invoices.add_invoice")
    kind = _active_kind(kind)
    ids = _bill_ids(bills)
    customer_ids = _owners(ids, several_customers)
    return _draft(actor, kind, ids, customer_ids, before_payment)


def issue_invoice(
    actor,
    kind,
    bills,
    *,
    buyer=None,
    remark="",
    payment=None,
    received=None,
    change=None,
    balance_before=None,
    balance_after=None,
    before_payment=False,
    several_customers=False,
    locked_customer=None,
    now=None,
):
    """Issue one invoice of ``kind`` for ``bills`` (objects or ids). Returns the invoice.

    ``payment``: the ledger entry just posted at the counter (origin "at payment"),
    with ``received``, ``change`` and the prepaid balances to print.
    ``before_payment``: a walking-collection invoice of unpaid bills (F3.1).
    ``several_customers``: a combined invoice (F3.15); ``buyer`` names the buyer.
    ``locked_customer``: the caller's transaction holds this customer's account lock and the
    bills are the customer's (the counter, right after posting): the lock is not taken
    again, a bill of another customer is refused, and the invoice is written in the caller's
    transaction without a savepoint of its own (an error leaves it to roll back).
    """
    with transaction.atomic(savepoint=locked_customer is None):
        numbering.require(actor, "invoices.add_invoice")
        kind = _active_kind(kind)
        ids = _bill_ids(bills)
        if locked_customer is None:
            customer_ids = _owners(ids, several_customers)
            ledger.lock_accounts(customer_ids)
        elif not ids:
            raise ValidationError({"bills": _("Choose at least one bill to invoice.")})
        else:
            customer_ids = [locked_customer.pk]
        draft = _draft(actor, kind, ids, customer_ids, before_payment, locked_customer)
        return _issue(
            actor,
            draft,
            buyer or Buyer(),
            remark=remark,
            payment=payment,
            received=received,
            change=change,
            balance_before=balance_before,
            balance_after=balance_after,
            before_payment=before_payment,
            now=now or timezone.now(),
        )


def _issue(actor, draft, buyer, *, remark, payment, before_payment, now, **printed):
    """Number, write and journal the invoice of ``draft`` (read under the accounts' locks);
    ``printed``: the payment's figures the invoice prints (received, change, balances)."""
    kind, chosen, customer_ids = draft.kind, draft.bills, draft.customer_ids
    customer = chosen[0].customer
    buyer_name = (buyer.name or "").strip()
    if not buyer_name:
        if len(customer_ids) > 1:
            raise ValidationError({"buyer_name": _("Name the buyer of a combined invoice.")})
        buyer_name = customer.name
    if kind.invoice_type == InvoiceType.SPECIAL and not (buyer.tax_id or "").strip():
        raise ValidationError(
            {"buyer_tax_id": _("A special VAT invoice names the buyer's tax id.")}
        )
    if printed["balance_after"] is None and len(customer_ids) == 1:
        printed["balance_after"] = ledger.prepaid_of(customer.pk)
    seller_name, seller_tax_id = _seller()
    if payment is not None:
        origin = Origin.PAYMENT
    elif before_payment:
        origin = Origin.COLLECTION
    else:
        origin = Origin.AFTER_PAYMENT
    invoice = Invoice(
        kind=kind,
        medium=kind.medium,
        origin=origin,
        operator=actor,
        unit=getattr(actor, "unit", None),
        zone_id=draft.zone_id,
        customer=customer,
        combined=len(customer_ids) > 1,
        issued_at=now,
        business_date=timezone.localdate(now),
        buyer_name=buyer_name[:100],
        buyer_tax_id=(buyer.tax_id or "").strip()[:30],
        buyer_type=buyer.type or BuyerType.INDIVIDUAL,
        buyer_address=(buyer.address or "").strip()[:200],
        seller_name=seller_name,
        seller_tax_id=seller_tax_id,
        amount=draft.amount,
        net_amount=draft.net,
        tax_amount=draft.tax,
        remark=(remark or "").strip()[:200],
        payment=payment,
        payment_method=COLLECTION_WORDS if before_payment else payment_method(chosen, payment),
        invoice_type=kind.invoice_type,
        **printed,
    )
    _number(invoice, actor, kind, draft.lines)
    for row in draft.rows:
        row.invoice = invoice
    return _save(invoice, draft.lines, draft.rows, actor, remark)


def _print(invoices, actor):
    return print_invoices(invoices, printed_by=operator_name(actor))


# ------------------------------------------------------------------------- issuing flows


@transaction.atomic
def issue_for_meter(actor, kind, meter, bills, **options):
    """F3.8: an invoice for bills of one meter."""
    for bill in Bill.objects.filter(pk__in=_bill_ids(bills)):
        if bill.meter_id != meter.pk:
            raise ValidationError(
                {
                    "bills": _("%(bill)s is not a bill of meter %(meter)s.")
                    % {"bill": _bill_words(bill), "meter": meter.number}
                }
            )
    invoice = issue_invoice(actor, kind, bills, **options)
    return Issued([invoice], _print([invoice], actor))


@transaction.atomic
def issue_for_customer(actor, kind, customer, bills, **options):
    """F3.9 (several meters and months), F3.10 (an agency-fee kind), F3.11 (a receipt kind):
    one invoice for bills of one customer."""
    for bill in Bill.objects.filter(pk__in=_bill_ids(bills)):
        if bill.customer_id != customer.pk:
            raise ValidationError(
                {
                    "bills": _("%(bill)s is not a bill of account %(account)s.")
                    % {"bill": _bill_words(bill), "account": customer.account_no}
                }
            )
    invoice = issue_invoice(actor, kind, bills, **options)
    return Issued([invoice], _print([invoice], actor))


@transaction.atomic
def issue_agency_invoice(actor, kind, bills, **options):
    """F3.10: the agency items of the bills on an agency-fee invoice, apart from the water one."""
    if Part.AGENCY not in _active_kind(kind).parts or _active_kind(kind).is_receipt:
        raise ValidationError({"kind": _("Choose an agency-fee invoice kind.")})
    invoice = issue_invoice(actor, kind, bills, **options)
    return Issued([invoice], _print([invoice], actor))


@transaction.atomic
def issue_receipt(actor, kind, bills, **options):
    """F3.11: a receipt (payment-book line); an invoice can be issued for the bills later."""
    if not _active_kind(kind).is_receipt:
        raise ValidationError({"kind": _("Choose a receipt kind.")})
    invoice = issue_invoice(actor, kind, bills, **options)
    return Issued([invoice], _print([invoice], actor))


@transaction.atomic
def issue_combined(actor, kind, bills, buyer, **options):
    """F3.15: one invoice for several customers' bills, made out to ``buyer``."""
    invoice = issue_invoice(actor, kind, bills, buyer=buyer, several_customers=True, **options)
    return Issued([invoice], _print([invoice], actor))


def _check_enough_numbers(actor, kind, needed):
    if kind.uses_stock:
        left = numbering.remaining_numbers(actor, kind)
        if left < needed:
            raise ValidationError(
                {
                    "kind": _(
                        "%(needed)s invoices are to print but you hold %(left)s numbers of "
                        "%(kind)s: ask a supervisor for more stock first."
                    )
                    % {"needed": needed, "left": left, "kind": kind}
                }
            )
    if needed > BATCH_LIMIT:
        raise ValidationError(
            _("%(needed)s invoices at once is more than %(limit)s: narrow the choice.")
            % {"needed": needed, "limit": BATCH_LIMIT}
        )


def collection_bills(actor, kind, books):
    """F3.1: per customer of ``books`` in walking order, the open bills to print invoices for
    (unpaid or partly paid, none of the kind's parts on a live invoice). [(customer, [bills])]"""
    kind = _active_kind(kind)
    bills = without_live_invoice(
        open_bills(queryset=Bill.objects.restrict(actor).filter(customer__book__in=books)),
        kind.parts,
    ).order_by("month", "meter_id", "id")
    by_customer = defaultdict(list)
    for bill in bills:
        by_customer[bill.customer_id].append(bill)
    customers = customers_in_route_order(books, Customer.objects.restrict(actor))
    return [(c, by_customer[c.pk]) for c in customers if by_customer.get(c.pk)]


@transaction.atomic
def issue_collection_invoices(actor, kind, books, now=None):
    """F3.1: walking-collection invoices for the books' unpaid bills before collection, one per
    customer, numbered and printed in walking order (one PDF)."""
    numbering.require(actor, "invoices.add_invoice")
    kind = _active_kind(kind)
    if not kind.uses_stock:
        raise ValidationError(
            {"kind": _("Walking-collection invoices are printed on paper: choose a paper kind.")}
        )
    groups = collection_bills(actor, kind, books)
    if not groups:
        raise ValidationError(
            _("The chosen books have no unpaid bill without an invoice of this kind.")
        )
    _check_enough_numbers(actor, kind, len(groups))
    # every account at once, in primary-key order: a batch never deadlocks with a counter
    ledger.lock_accounts([customer.pk for customer, _bills in groups])
    invoices = [
        issue_invoice(actor, kind, bills, before_payment=True, now=now) for _c, bills in groups
    ]
    return Issued(invoices, _print(invoices, actor))


# ------------------------------------------------------------------------- reissue


def reissue_candidates(actor, kind, *, zone=None, paid_from=None, paid_to=None, channel=""):
    """F3.6/F3.7: paid bills with none of the kind's parts on a live invoice, by the zone,
    the day they were settled and how (annotated by ``with_payment``)."""
    kind = _active_kind(kind)
    bills = Bill.objects.restrict(actor).filter(kind=BillKind.REGULAR, state=BillState.ISSUED)
    if zone is not None:
        bills = bills.filter(zone=zone)
    bills = with_payment(filter_bill_status(bills, BillStatus.PAID))
    if paid_from:
        bills = bills.filter(paid_on__gte=paid_from)
    if paid_to:
        bills = bills.filter(paid_on__lte=paid_to)
    bills = filter_channel(bills, channel)
    return without_live_invoice(bills, kind.parts).select_related("customer")


def _by_customer(bills):
    groups = defaultdict(list)
    for bill in bills:
        groups[bill.customer_id].append(bill)
    return groups


@transaction.atomic
def reissue_invoices(actor, kind, bills, *, buyer=None, remark="", now=None):
    """F3.12–F3.14: invoices for bills paid without one (prepaid deduction, bank, mobile):
    one per customer, merging that customer's meters and months. Never twice for a bill."""
    numbering.require(actor, "invoices.add_invoice")
    kind = _active_kind(kind)
    groups = _by_customer(
        Bill.objects.filter(pk__in=_bill_ids(bills)).order_by("customer__account_no", "month", "id")
    )
    if not groups:
        raise ValidationError({"bills": _("Choose at least one bill to invoice.")})
    _check_enough_numbers(actor, kind, len(groups))
    # every account at once, in primary-key order: a batch never deadlocks with a counter
    ledger.lock_accounts(list(groups))
    invoices = [
        issue_invoice(actor, kind, group, buyer=buyer, remark=remark, now=now)
        for group in groups.values()
    ]
    return Issued(invoices, _print(invoices, actor))


@transaction.atomic
def reissue_batch(actor, kind, *, zone=None, paid_from=None, paid_to=None, channel="", now=None):
    """F3.6/F3.7: reissue for every bill the filters find, one invoice per customer."""
    numbering.require(actor, "invoices.add_invoice")
    bills = list(
        reissue_candidates(
            actor, kind, zone=zone, paid_from=paid_from, paid_to=paid_to, channel=channel
        ).order_by("customer__account_no", "month", "id")
    )
    if not bills:
        raise ValidationError(_("No paid bill without an invoice matches these filters."))
    return reissue_invoices(actor, kind, bills, now=now)


# ------------------------------------------------------------------------- void, red, reprint


def _release(invoice):
    """The invoice's bill rows go off: its bills can be invoiced again."""
    bills = list(invoice.bill_rows.filter(live=True).values_list("bill_id", flat=True))
    invoice.bill_rows.filter(live=True).update(live=False)
    return bills


def void_problem(actor, invoice, returned=False):
    """Why ``actor`` cannot void ``invoice``, or None. ``returned``: a walking-collection
    invoice the collector brought back unpaid, voided by whoever registers remittances
    (F3.3) rather than by its issuer."""
    if returned:
        if invoice.origin != Origin.COLLECTION:
            return _("Invoice %(number)s is not a walking-collection invoice.") % {
                "number": invoice.display_number
            }
    elif invoice.operator_id != getattr(actor, "pk", None):
        return _("Only the operator who issued invoice %(number)s (%(operator)s) may void it.") % {
            "number": invoice.display_number,
            "operator": operator_name(invoice.operator),
        }
    if invoice.state != InvoiceState.ISSUED:
        return _("Invoice %(number)s is %(state)s already.") % {
            "number": invoice.display_number,
            "state": invoice.get_state_display().lower(),
        }
    if invoice.medium == Medium.ELECTRONIC and invoice.red_of_id:
        return _("A red e-invoice cannot be voided or offset again.")
    red = invoice.red_invoices.filter(state=InvoiceState.ISSUED).first()
    if red is not None:
        return _("Red invoice %(red)s offsets this invoice: void the red invoice first.") % {
            "red": red.display_number
        }
    return None


@transaction.atomic
def void_invoice(actor, invoice, reason, now=None, returned=False):
    """F3.16–F3.19: void an invoice (its issuer only, with a reason); its bills can be
    invoiced again. An e-invoice is offset in full by a red e-invoice instead.
    ``returned``: F3.3, a walking-collection invoice brought back unpaid, voided by an
    operator who registers collectors' remittances.

    Returns the voided invoice (paper) or the red e-invoice that offsets it.
    """
    numbering.require(
        actor, "payments.register_remittance" if returned else "invoices.void_invoice"
    )
    reason = numbering.clean_reason(reason, _("Say why the invoice is voided."))
    invoice = (
        Invoice.objects.select_for_update().select_related("kind", "operator").get(pk=invoice.pk)
    )
    ensure_in_scope(actor, invoice, "view")
    problem = void_problem(actor, invoice, returned)
    if problem:
        raise ValidationError(problem)
    now = now or timezone.now()
    if invoice.medium == Medium.ELECTRONIC:
        return _offset_in_full(actor, invoice, reason, now)
    bills = _release(invoice)
    journal.update_object(
        invoice,
        {
            "state": InvoiceState.VOID,
            "voided_by": actor,
            "voided_at": now,
            "void_reason": reason,
        },
        _("%(reason)s (bills released: %(bills)s)")
        % {"reason": reason, "bills": ", ".join(f"#{b}" for b in bills)},
        verb="void_invoice",
        actor=actor,
    )
    return invoice


def _red_invoice(actor, original, rows, lines, reason, now, live=True):
    """A red invoice offsetting ``original`` by ``rows`` (negative) with these tax lines."""
    amount, net, tax = _totals(lines)
    red = Invoice(
        kind=original.kind,
        medium=original.medium,
        origin=Origin.RED,
        operator=actor,
        unit=getattr(actor, "unit", None),
        zone_id=original.zone_id,
        customer_id=original.customer_id,
        combined=original.combined,
        issued_at=now,
        business_date=timezone.localdate(now),
        buyer_name=original.buyer_name,
        buyer_tax_id=original.buyer_tax_id,
        buyer_type=original.buyer_type,
        buyer_address=original.buyer_address,
        seller_name=original.seller_name,
        seller_tax_id=original.seller_tax_id,
        amount=amount,
        net_amount=net,
        tax_amount=tax,
        red_of=original,
        red_reason=reason,
        payment_method=original.payment_method,
        invoice_type=original.invoice_type,
    )
    _number(red, actor, original.kind, lines, original=original)
    for row in rows:
        row.invoice = red
        row.live = live
    return _save(red, lines, rows, actor, reason)


def _negated_lines(invoice):
    """The tax lines of ``invoice`` as it was issued, each negated: a red invoice offsetting
    it in full repeats its goods, codes, rates and tax exactly (today's tax codes or rates
    may differ from the day it was issued)."""
    return [
        TaxLine(
            item=line.item,
            kind="",
            tier=line.tier,
            unit_price=line.unit_price,
            quantity=-line.quantity if line.quantity is not None else None,
            amount=-line.amount,
            name=line.name,
            tax_code=line.tax_code,
            unit=line.unit,
            treatment=line.tax_treatment,
            rate=line.tax_rate,
            net=-line.net,
            tax=-line.tax,
        )
        for line in invoice.lines.select_related("item").order_by("position")
    ]


def _offset_in_full(actor, invoice, reason, now):
    rows = list(invoice.bill_rows.all())
    lines = _negated_lines(invoice)
    negated = [InvoiceBill(bill_id=row.bill_id, part=row.part, amount=-row.amount) for row in rows]
    _release(invoice)
    red = _red_invoice(actor, invoice, negated, lines, reason, now, live=False)
    journal.update_object(
        invoice,
        {
            "state": InvoiceState.REVERSED,
            "voided_by": actor,
            "voided_at": now,
            "void_reason": reason,
        },
        _("%(reason)s (red e-invoice %(red)s)") % {"reason": reason, "red": red.number},
        verb="offset_invoice",
        actor=actor,
    )
    return red


def red_invoice_targets(red_bill):
    """The live invoices a red bill would offset: [(invoice, [parts])], and the parts of the
    red bill already on a live red invoice."""
    rows = (
        InvoiceBill.objects.filter(
            bill_id=red_bill.corrects_id, live=True, part__in=(Part.OWN, Part.AGENCY)
        )
        .select_related("invoice", "invoice__kind")
        .order_by("invoice_id", "part")
    )
    targets = defaultdict(list)
    invoices = {}
    for row in rows:
        invoices[row.invoice_id] = row.invoice
        targets[row.invoice_id].append(row.part)
    done = set(InvoiceBill.objects.filter(bill=red_bill, live=True).values_list("part", flat=True))
    return [(invoices[pk], parts) for pk, parts in targets.items()], done


@transaction.atomic
def issue_red_invoices(actor, red_bill, reason="", now=None):
    """A red invoice for a red bill (F3.22): negative, linked (``red_of``) to each live invoice
    of the corrected bill. Returns :class:`Issued`."""
    numbering.require(actor, "invoices.add_invoice")
    red_bill = Bill.objects.get(pk=getattr(red_bill, "pk", red_bill))
    ensure_in_scope(actor, red_bill, "view")
    if red_bill.kind != BillKind.RED or red_bill.corrects_id is None:
        raise ValidationError(_("%(bill)s is not a red bill.") % {"bill": _bill_words(red_bill)})
    if red_bill.state != BillState.ISSUED:
        raise ValidationError(_("%(bill)s is cancelled.") % {"bill": _bill_words(red_bill)})
    ledger.lock_accounts([red_bill.customer_id])
    targets, done = red_invoice_targets(red_bill)
    if not targets:
        raise ValidationError(
            _(
                "Bill #%(bill)s has no live invoice: the red bill goes on that bill's invoice "
                "when it is issued, and nets its amount."
            )
            % {"bill": red_bill.corrects_id}
        )
    reason = (reason or red_bill.reason or "").strip()[:200] or _("Bill corrected")
    split = bill_parts([red_bill])[red_bill.pk]
    now = now or timezone.now()
    invoices = []
    for original, parts in targets:
        parts = [p for p in parts if p not in done and split.amount(p)]
        if not parts:
            continue
        original = Invoice.objects.select_for_update().select_related("kind").get(pk=original.pk)
        if original.state != InvoiceState.ISSUED:  # voided while we were not holding it
            raise ValidationError(
                _("Invoice %(number)s is %(state)s already.")
                % {
                    "number": original.display_number,
                    "state": original.get_state_display().lower(),
                }
            )
        offset = (
            original.red_invoices.filter(state=InvoiceState.ISSUED).aggregate(s=Sum("amount"))["s"]
            or ZERO
        )
        amount = sum((split.amount(p) for p in parts), ZERO)
        if original.amount + offset + amount < 0:
            raise ValidationError(
                _(
                    "Invoice %(number)s has %(left)s left to offset; the red bill takes off "
                    "%(amount)s."
                )
                % {
                    "number": original.display_number,
                    "left": original.amount + offset,
                    "amount": -amount,
                }
            )
        bill_lines = [line for p in parts for line in split.lines[p]]
        rows = [InvoiceBill(bill=red_bill, part=p, amount=split.amount(p)) for p in parts]
        lines = tax_lines(bill_lines, item_tax_codes(bill_lines))
        invoices.append(_red_invoice(actor, original, rows, lines, reason, now))
    if not invoices:
        raise ValidationError(
            _("%(bill)s is on an invoice already (a red invoice, or netted on its bill's invoice).")
            % {"bill": _bill_words(red_bill)}
        )
    return Issued(invoices, _print(invoices, actor))


@transaction.atomic
def reprint_invoice(actor, invoice):
    """The invoice printed again, marked as a copy (the e-invoice's own file); journaled."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    ensure_in_scope(actor, invoice, "view")
    if invoice.state == InvoiceState.VOID:
        raise ValidationError(
            _("Invoice %(number)s is void: a void invoice is not printed again.")
            % {"number": invoice.display_number}
        )
    Invoice.objects.filter(pk=invoice.pk).update(reprints=F("reprints") + 1)
    invoice.refresh_from_db()
    journal.record(
        invoice,
        AuditAction.ACTION,
        {"reprints": invoice.reprints - 1},
        {"reprints": invoice.reprints},
        _("Copy %(n)s printed") % {"n": invoice.reprints},
        verb="reprint_invoice",
        actor=actor,
    )
    return print_invoices([invoice], copy=True, printed_by=operator_name(actor))


@transaction.atomic
def query_einvoice(actor, invoice):
    """Ask the provider for an e-invoice's status; a change is stored and journaled."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    ensure_in_scope(actor, invoice, "view")
    if invoice.medium != Medium.ELECTRONIC:
        raise ValidationError(_("Only electronic invoices have a provider to ask."))
    try:
        status = einvoice.get_provider().query(invoice.number)
    except einvoice.EInvoiceError as exc:
        raise ValidationError(
            _("The e-invoice provider did not answer: %(reason)s") % {"reason": exc}
        ) from exc
    journal.update_object(invoice, {"provider_status": status}, verb="query_einvoice", actor=actor)
    return status
