"""Walking collection (走收, F3.1–F3.5): registering what a collector brings back.

The collector prints walking-collection invoices for their books before the walk
(:func:`watermis.invoices.services.issue_collection_invoices`, origin "collection").
Back at the office a clerk holding ``payments.register_remittance`` registers:

- **paid invoices** (回款登记, F3.2): each invoice's bills are paid by one ledger payment
  (channel ``collector``, external key ``invoice:<id>``, so an invoice never pays twice);
- **manual tickets** (手工票, F3.5): money taken on a handwritten ticket, paid to the
  customer's oldest open bills (key ``ticket:<collector>:<number>``);
- **returned invoices** (F3.3): voided, their bills invoiceable again;
- **transfers to inspection** (转入稽收, F3.4): the invoice is voided and its open bills are
  marked for inspection-collection; they no longer count against the collector.

Every registration locks the customers' accounts in primary-key order first (the
ledger's rule), checks each invoice again under its row lock and writes the journal.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.billing import ledger
from watermis.billing.bills import open_bills, transfer_to_inspection
from watermis.billing.models import Bill, EntryKind, LedgerEntry
from watermis.core import journal
from watermis.core.money import has_places, round_fen
from watermis.core.scoping import ensure_in_scope
from watermis.customers.models import Customer
from watermis.invoices import services as invoice_services
from watermis.invoices.models import Invoice, InvoiceBill, InvoiceState, Origin
from watermis.org.models import Operator

from .models import InspectionTransfer, Remittance, RemittanceLine

ZERO = Decimal("0.00")
CHANNEL = "collector"
PERMISSION = "payments.register_remittance"


def _fen(value):
    """A sum to the fen (SQLite sums decimals in floating point); 0 for no rows."""
    return round_fen(Decimal(value or 0))


def require(actor):
    if actor is None or not actor.has_perm(PERMISSION):
        raise PermissionDenied(_("You do not have permission to do this."))


def collectors(actor):
    """The operators who walk collection routes (their employee is a collector) in the
    zones ``actor`` sees, by name."""
    found = Operator.objects.filter(employee__is_collector=True, is_active=True)
    zones = actor.visible_zone_ids()
    if zones is not None:
        found = found.filter(unit__zone_id__in=zones)
    return found.select_related("employee", "unit").order_by("username")


def collection_invoices(collector):
    """Walking-collection invoices ``collector`` issued that are still live."""
    return Invoice.objects.filter(
        operator=collector, origin=Origin.COLLECTION, state=InvoiceState.ISSUED
    )


class InvoiceDue(NamedTuple):
    """What a walking-collection invoice's live bills owe now."""

    owed: Decimal  # what its open bills still owe
    at_inspection: bool  # a bill was transferred to inspection-collection
    paid_meanwhile: bool  # a bill was paid in full since the invoice was printed
    open_bills: list  # [(bill id, bill entry id)] of the open ones


def _open_by_invoice(invoice_ids):
    """{invoice id: :class:`InvoiceDue`}. An invoice of some parts (water only, say) still
    collects its whole bills: the customer pays the bill."""
    live = {}
    for invoice_id, bill_id in InvoiceBill.objects.filter(
        invoice_id__in=list(invoice_ids), live=True
    ).values_list("invoice_id", "bill_id"):
        live.setdefault(invoice_id, set()).add(bill_id)
    every_bill = {b for bills in live.values() for b in bills}
    open_rows = {
        pk: (_fen(amount), inspection, entry_id)
        for pk, amount, inspection, entry_id in open_bills(
            queryset=Bill.objects.filter(pk__in=list(every_bill))
        ).values_list("pk", "open_amount", "inspection", "entry_id")
    }
    result = {}
    for invoice_id in invoice_ids:
        bills = sorted(live.get(invoice_id, ()))
        still = [b for b in bills if b in open_rows]
        result[invoice_id] = InvoiceDue(
            sum((open_rows[b][0] for b in still), ZERO),
            any(open_rows[b][1] for b in still),
            len(still) < len(bills),
            [(b, open_rows[b][2]) for b in still],
        )
    return result


def outstanding(collector):
    """The collector's live walking-collection invoices with something still to pay and no
    bill transferred to inspection: [(invoice, open amount)], in walking order."""
    invoices = list(
        collection_invoices(collector)
        .select_related("customer", "customer__book")
        .order_by("customer__book__code", "customer__route_order", "customer__account_no", "pk")
    )
    due = _open_by_invoice([i.pk for i in invoices])
    return [
        (invoice, due[invoice.pk].owed)
        for invoice in invoices
        if due[invoice.pk].owed > 0 and not due[invoice.pk].at_inspection
    ]


def _locked_invoices(actor, collector, invoice_ids):
    if not invoice_ids:
        raise ValidationError({"invoices": _("Choose at least one invoice.")})
    invoices = list(
        Invoice.objects.select_for_update().filter(pk__in=sorted(set(invoice_ids))).order_by("pk")
    )
    if len(invoices) != len(set(invoice_ids)):
        raise ValidationError({"invoices": _("An invoice chosen no longer exists.")})
    for invoice in invoices:
        ensure_in_scope(actor, invoice, "view")
        if invoice.origin != Origin.COLLECTION or invoice.operator_id != collector.pk:
            raise ValidationError(
                {
                    "invoices": _(
                        "Invoice %(number)s is not a walking-collection invoice of %(collector)s."
                    )
                    % {"number": invoice.display_number, "collector": collector}
                }
            )
        if invoice.state != InvoiceState.ISSUED:
            raise ValidationError(
                {
                    "invoices": _("Invoice %(number)s is %(state)s already.")
                    % {
                        "number": invoice.display_number,
                        "state": invoice.get_state_display().lower(),
                    }
                }
            )
    return invoices


def _check_collector(actor, collector):
    require(actor)
    if not collectors(actor).filter(pk=collector.pk).exists():
        raise ValidationError(
            {"collector": _("%(name)s is not a collector of your zones.") % {"name": collector}}
        )


def _clean_date(business_date, now):
    if business_date is None:
        raise ValidationError({"business_date": _("Give the day the money was collected.")})
    if business_date > timezone.localdate(now):
        raise ValidationError({"business_date": _("The collection day cannot be in the future.")})
    return business_date


@dataclass(frozen=True)
class ManualTicket:
    """Money a collector took on a handwritten ticket (手工票, F3.5)."""

    customer: Customer
    number: str
    amount: Decimal


def _clean_ticket(actor, collector, ticket):
    number = (ticket.number or "").strip()
    if not number:
        raise ValidationError({"ticket": _("Give the number printed on the handwritten ticket.")})
    amount = ticket.amount
    if amount is None or amount <= 0 or not has_places(amount, 2):
        raise ValidationError(
            {"amount": _("An amount is above zero with at most two decimals (fen).")}
        )
    ensure_in_scope(actor, ticket.customer, "view")
    if RemittanceLine.objects.filter(collector=collector, ticket=number).exists():
        raise ValidationError(
            {
                "ticket": _("Ticket %(number)s of %(collector)s was registered before.")
                % {"number": number, "collector": collector}
            }
        )
    owed = _fen(
        sum(
            (
                Decimal(b.open_amount)
                for b in open_bills(ticket.customer.pk).filter(inspection=False)
            ),
            ZERO,
        )
    )
    if amount > owed:
        raise ValidationError(
            {
                "amount": _(
                    "%(customer)s owes %(owed)s on bills the collector may collect; "
                    "the ticket says %(amount)s."
                )
                % {"customer": ticket.customer, "owed": owed, "amount": amount}
            }
        )
    return number


@transaction.atomic
def register_remittance(
    actor, collector, *, invoice_ids=(), tickets=(), business_date, note="", now=None
):
    """F3.2/F3.5: register the invoices ``collector`` brought back paid and their manual
    tickets; each becomes a payment on the customer's ledger. Returns the remittance."""
    _check_collector(actor, collector)
    now = now or timezone.now()
    business_date = _clean_date(business_date, now)
    if not invoice_ids and not tickets:
        raise ValidationError(_("Choose at least one invoice or give a manual ticket."))
    customer_ids = set(
        Invoice.objects.filter(pk__in=list(invoice_ids)).values_list("customer_id", flat=True)
    ) | {t.customer.pk for t in tickets}
    ledger.lock_accounts(customer_ids)
    invoices = _locked_invoices(actor, collector, invoice_ids) if invoice_ids else []
    open_amounts = _open_by_invoice([i.pk for i in invoices])
    payments = []
    for invoice in invoices:
        amount, at_inspection, paid_meanwhile, bills = open_amounts[invoice.pk]
        if at_inspection:
            raise ValidationError(
                {
                    "invoices": _(
                        "Bills of invoice %(number)s were transferred to inspection-collection."
                    )
                    % {"number": invoice.display_number}
                }
            )
        if paid_meanwhile or amount <= 0:
            raise ValidationError(
                {
                    "invoices": _(
                        "A bill of invoice %(number)s was paid elsewhere since the invoice was "
                        "printed: register the invoice as returned, and any money the collector "
                        "took as a manual ticket."
                    )
                    % {"number": invoice.display_number}
                }
            )
        payments.append((invoice.customer, invoice, "", amount, [e for _b, e in bills]))
    numbers = set()
    for ticket in tickets:
        number = _clean_ticket(actor, collector, ticket)
        if number in numbers:
            raise ValidationError(
                {"ticket": _("Ticket %(number)s is given twice.") % {"number": number}}
            )
        numbers.add(number)
        payments.append((ticket.customer, None, number, ticket.amount, []))
    remittance = Remittance(
        collector=collector,
        zone_id=collector.unit.zone_id,
        registered_by=journal.saved_operator(actor),
        registered_at=now,
        business_date=business_date,
        count=len(payments),
        amount=sum((p[3] for p in payments), ZERO),
        note=(note or "").strip()[:200],
    )
    journal.create_object(
        remittance,
        _("Remittance of %(collector)s: %(count)s payments, %(amount)s")
        % {"collector": collector, "count": remittance.count, "amount": remittance.amount},
        actor=actor,
    )
    settle_entries = {}
    all_entries = [e for *_rest, entries in payments for e in entries]
    if all_entries:
        settle_entries = LedgerEntry.objects.in_bulk(all_entries)
    lines = []
    for customer, invoice, number, amount, entries in payments:
        key = f"invoice:{invoice.pk}" if invoice else f"ticket:{collector.pk}:{number}"
        label = (
            invoice.display_number
            if invoice
            else _("manual ticket %(number)s") % {"number": number}
        )
        posted = ledger.post_entry(
            actor,
            customer,
            EntryKind.PAYMENT,
            amount,
            business_date=business_date,
            reason=_("Walking collection by %(collector)s, %(what)s")
            % {"collector": collector, "what": label},
            unit=collector.unit,
            channel=CHANNEL,
            external_key=key,
            settle=[settle_entries[e] for e in entries],
            now=now,
        )
        if posted.repeated:
            raise ValidationError(
                {"invoices": _("%(what)s was registered as paid before.") % {"what": label}}
            )
        lines.append(
            RemittanceLine(
                remittance=remittance,
                collector=collector,
                customer=customer,
                invoice=invoice,
                ticket=number,
                amount=amount,
                entry=posted.entry,
            )
        )
    RemittanceLine.objects.bulk_create(lines)
    return remittance


@transaction.atomic
def register_returned(actor, collector, invoice_ids, reason, now=None):
    """F3.3: the invoices ``collector`` brought back unpaid are voided (their bills can be
    invoiced again). Returns the voided invoices."""
    _check_collector(actor, collector)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the invoices came back unpaid.")})
    invoices = _locked_invoices(actor, collector, invoice_ids)
    return [
        invoice_services.void_invoice(actor, invoice, reason, now=now, returned=True)
        for invoice in invoices
    ]


@transaction.atomic
def register_inspection(actor, collector, invoice_ids, reason, now=None):
    """F3.4: hand the invoices' open bills to inspection-collection: the invoices are voided,
    the bills marked; they no longer count against the collector. Returns the transfers."""
    _check_collector(actor, collector)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the bills go to inspection-collection.")})
    now = now or timezone.now()
    invoices = _locked_invoices(actor, collector, invoice_ids)
    open_amounts = _open_by_invoice([i.pk for i in invoices])
    transfers = []
    for invoice in invoices:
        bill_ids = [b for b, _e in open_amounts[invoice.pk].open_bills]
        invoice_services.void_invoice(
            actor,
            invoice,
            _("Transferred to inspection-collection: %(reason)s") % {"reason": reason},
            now=now,
            returned=True,
        )
        for bill_id in transfer_to_inspection(bill_ids):
            transfer = InspectionTransfer(
                bill_id=bill_id,
                zone_id=invoice.zone_id,
                collector=collector,
                invoice=invoice,
                transferred_by=journal.saved_operator(actor),
                transferred_at=now,
                reason=reason[:200],
            )
            journal.create_object(transfer, reason, actor=actor)
            transfers.append(transfer)
    return transfers


def collector_statistics(collector_list, date_from, date_to):
    """F3.2: per collector, the walking-collection invoices issued, paid (remitted), returned
    and transferred between the dates, the manual tickets, and what is outstanding now."""
    rows = []
    for collector in collector_list:
        issued = Invoice.objects.filter(
            operator=collector,
            origin=Origin.COLLECTION,
            business_date__range=(date_from, date_to),
        ).aggregate(n=Count("pk"), s=Sum("amount"))
        lines = RemittanceLine.objects.filter(
            collector=collector, remittance__business_date__range=(date_from, date_to)
        ).aggregate(
            paid_n=Count("pk", filter=Q(invoice__isnull=False)),
            paid_s=Sum("amount", filter=Q(invoice__isnull=False)),
            ticket_n=Count("pk", filter=Q(invoice__isnull=True)),
            ticket_s=Sum("amount", filter=Q(invoice__isnull=True)),
        )
        returned = Invoice.objects.filter(
            operator=collector,
            origin=Origin.COLLECTION,
            state=InvoiceState.VOID,
            voided_at__date__range=(date_from, date_to),
        ).aggregate(n=Count("pk"), s=Sum("amount"))
        transferred = InspectionTransfer.objects.filter(
            collector=collector, transferred_at__date__range=(date_from, date_to)
        ).aggregate(n=Count("pk"), s=Sum("bill__amount"))
        now_open = outstanding(collector)
        rows.append(
            {
                "collector": collector,
                "issued": issued["n"],
                "issued_amount": _fen(issued["s"]),
                "paid": lines["paid_n"],
                "paid_amount": _fen(lines["paid_s"]),
                "tickets": lines["ticket_n"],
                "ticket_amount": _fen(lines["ticket_s"]),
                "returned": returned["n"],
                "returned_amount": _fen(returned["s"]),
                "transferred": transferred["n"],
                "transferred_amount": _fen(transferred["s"]),
                "outstanding": len(now_open),
                "outstanding_amount": sum((a for _i, a in now_open), ZERO),
            }
        )
    return rows
