"""Counter payments (F3.8, F3.9, F3.20, F1.2), late-fee waivers (F3.8, F7.8) and reversals
(issue 8; docs/counter.md).

:func:`take_payment` posts one payment in one transaction:

1. lock the customer's account (``ledger.lock_accounts``: every posting takes it, so two
   cashiers paying the same bill queue here);
2. re-read the chosen bills' open principal and late fees as of today
   (``latefees.arrears``) and compare each with what the cashier's screen showed: if
   anything changed (a colleague took the payment a moment ago, a late fee day passed),
   refuse with who changed it and when — the cashier reloads; nothing is written;
3. charge the late fees due today on the chosen bills (``late_fee`` debits with their
   :class:`~watermis.billing.models.LateFeeCharge`), waive what the cashier waives
   (a ``waiver`` credit; above the operator's limit only with a supervisor's signature),
   post the payment credit settling the bills in the documented order (oldest bill
   first; late fee before principal, or all principal first, by the parameter
   ``counter.late_fee_first``); the small change the customer leaves (below
   ``counter.small_change_limit``) is credited with it and carried to the next bill;
   the rest of a partial payment stays in arrears (F3.20);
4. issue the invoice or receipt of the kind chosen from the cashier's own stock for the
   bills now paid in full (``invoices.services.issue_invoice``, in the same
   transaction: no stock left, no payment); record the :class:`CounterPayment`, its
   lines and waivers, and journal them.

The ledger rows are written set-based (``ledger.post_batch``): one insert of the
entries, one of the allocations, one balance update, whatever the number of bills.

:func:`reverse_payment`: the cashier's own payment the same business day, or any with
``payments.reverse_any_payment`` (a supervisor); the invoice printed at the payment is
voided by its issuer first; the payment, its waiver and the late fees charged with it
are reversed by linked entries, never deleted.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from watermis.billing import latefees, ledger
from watermis.billing.corrections import open_billing_month
from watermis.billing.models import (
    Allocation,
    Bill,
    Direction,
    EntryKind,
    LateFeeCharge,
    LedgerEntry,
)
from watermis.core import journal
from watermis.core.models import AuditAction
from watermis.core.money import has_places
from watermis.core.scoping import visible_zone_ids
from watermis.customers.models import Customer
from watermis.documents.sources import operator_name
from watermis.invoices import services as invoice_services
from watermis.invoices.models import Invoice, InvoiceKind, InvoiceState
from watermis.invoices.printing import print_invoices
from watermis.system.params import get_params

from .bank_queries import bank_batches_of_bills
from .models import (
    CounterMethod,
    CounterPayment,
    CounterPaymentLine,
    LateFeeWaiver,
    WaiverLimit,
)

ZERO = Decimal("0.00")
CASH_METHODS = (CounterMethod.CASH, CounterMethod.CHEQUE)  # may be more than the amount


@dataclass(frozen=True)
class CounterRules:
    """The parameters a counter payment follows, read in one query (:meth:`from_params`)."""

    late_fee: latefees.LateFeeRules
    late_fee_first: bool = True
    small_change_limit: Decimal = Decimal("1.00")
    waiver_limit: Decimal = Decimal("50.00")

    @classmethod
    def from_params(cls):
        values = get_params(
            *latefees.LateFeeRules.PARAMS,
            "counter.late_fee_first",
            "counter.small_change_limit",
            "counter.waiver_limit",
        )
        return cls(
            late_fee=latefees.LateFeeRules.from_values(values),
            late_fee_first=values["counter.late_fee_first"],
            small_change_limit=values["counter.small_change_limit"],
            waiver_limit=values["counter.waiver_limit"],
        )


@dataclass(frozen=True)
class Tender:
    """What the cashier entered on the counter screen.

    ``bills``: the chosen bill ids; ``seen``: {bill id: the total due the screen showed for
    it}; ``amount``: what to pay on them (None: all that is due after the waiver; less:
    a partial payment); ``tendered``: the money handed over (cash, cheque; None: the
    amount); ``keep_change``: the customer leaves the small change as credit;
    ``waiver``: late fee waived, with ``waiver_reason``, and ``authoriser`` (an operator
    whose password the screen checked) above the cashier's limit; ``invoice_kind``: the
    invoice or receipt to print (None: none now).
    """

    customer_id: int
    bills: tuple
    seen: dict = field(default_factory=dict)
    tendered: Decimal | None = None
    method: str = CounterMethod.CASH
    amount: Decimal | None = None
    keep_change: bool = False
    waiver: Decimal = ZERO
    waiver_reason: str = ""
    authoriser: object = None
    invoice_kind: object = None
    note: str = ""


# ------------------------------------------------------------------------- who serves whom


def require(actor, perm):
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def home_zone_id(actor):
    """The zone of the operator's business unit (None without a unit)."""
    unit = getattr(actor, "unit", None)
    return unit.zone_id if unit is not None else None


def counter_customers(actor, perm="payments.take_payment"):
    """The customers ``actor`` may serve at the counter (taking money under ``perm``): those
    of their own zone, or of every zone with ``payments.pay_other_zone`` (F1.2)."""
    customers = Customer.objects.all()
    if not actor.has_perm(perm) or not actor.has_perm("customers.view_customer"):
        return customers.none()
    if actor.has_perm("payments.pay_other_zone"):
        return customers
    home = home_zone_id(actor)
    if home is not None:
        return customers.filter(zone_id=home)
    zones = visible_zone_ids(actor)
    return customers if zones is None else customers.filter(zone_id__in=zones)


def serve_problem(actor, customer):
    """Why ``actor`` may not take a payment for ``customer`` (None: they may)."""
    if not actor.has_perm("payments.take_payment"):
        return _("You do not have permission to take payments.")
    return zone_problem(actor, customer)


def zone_problem(actor, customer):
    """Why ``actor`` may not take money for ``customer`` at their counter (None: they may):
    a customer of another zone needs ``payments.pay_other_zone`` (F1.2)."""
    if actor.has_perm("payments.pay_other_zone"):
        return None
    home = home_zone_id(actor)
    if home is not None:
        if customer.zone_id == home:
            return None
    else:
        zones = visible_zone_ids(actor)
        if zones is None or customer.zone_id in zones:
            return None
    return _(
        "Account %(account)s belongs to another zone: a cross-zone payment needs the "
        "permission to take payments for other zones."
    ) % {"account": customer.account_no}


def is_cross_zone(actor, customer):
    home = home_zone_id(actor)
    return home is not None and customer.zone_id != home


def sees_zone(actor, zone_id):
    zones = visible_zone_ids(actor)
    return zones is None or zone_id in zones


def cross_zone_invoice_words():
    return _(
        "This customer's zone issues the invoice of a cross-zone payment (Invoices › Issue "
        "invoices, by a cashier of that zone): take the payment with no invoice now."
    )


def waiver_limit_of(actor, default):
    """The largest waiver ``actor`` grants alone: the highest limit of their roles, else the
    parameter; None (no limit) for a superuser."""
    if actor.is_superuser:
        return None
    best = WaiverLimit.objects.filter(role__user=actor).aggregate(m=Max("limit"))["m"]
    return default if best is None else best


def authoriser_problem(authoriser, actor, customer):
    """Why ``authoriser`` cannot sign a waiver above ``actor``'s limit (None: they can)."""
    if authoriser is None:
        return _("Above your limit a supervisor signs the waiver: their user name and password.")
    if authoriser.pk == actor.pk:
        return _("Another person signs a waiver above your own limit.")
    if not authoriser.is_active or not authoriser.has_perm("payments.authorise_waiver"):
        return _("%(name)s may not authorise waivers.") % {"name": operator_name(authoriser)}
    zones = visible_zone_ids(authoriser)
    if zones is not None and customer.zone_id not in zones:
        return _("%(name)s does not work in this customer's zone.") % {
            "name": operator_name(authoriser)
        }
    return None


# ------------------------------------------------------------------------- reading


def counter_arrears(customer, on, rules=None):
    """The customer's open bills with their late fees as of ``on``: what the counter screen
    shows and :func:`take_payment` checks (``latefees.arrears``)."""
    rules = rules or CounterRules.from_params()
    return latefees.arrears(customer.pk, on, rules.late_fee, customer=customer)


def _money(value, field_name):
    """An amount typed on the screen: yuan, at most two decimals, not below zero."""
    if value in (None, ""):
        return ZERO
    try:
        value = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({field_name: _("Enter an amount in yuan.")}) from None
    if not value.is_finite() or not has_places(value, 2):
        raise ValidationError({field_name: _("An amount has at most two decimals (fen).")})
    if value < 0:
        raise ValidationError({field_name: _("Enter an amount of zero or more.")})
    return value.quantize(Decimal("0.01"))


def _shown(value):
    """A total the screen showed (None when missing or garbled: the bill counts as changed)."""
    try:
        value = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        return None
    return value.quantize(Decimal("0.01")) if value.is_finite() else None


def _change_words(line_bill_id, bill_entry_id):
    """Who last paid (or changed) a bill and when, for the stale-screen message."""
    last = (
        Allocation.objects.filter(debit_id=bill_entry_id)
        .select_related("made_by", "made_by__posted_by")
        .order_by("-id")
        .first()
    )
    if last is None or last.made_by.posted_by is None:
        return ""
    return _("by %(name)s at %(time)s") % {
        "name": operator_name(last.made_by.posted_by),
        "time": date_format(timezone.localtime(last.made_by.posted_at), "H:i"),
    }


def _stale_problems(ids, lines, seen, bill_entries):
    problems = []
    for bill_id in ids:
        line = lines.get(bill_id)
        shown = seen.get(bill_id)
        now_due = line.total if line is not None else ZERO
        if shown is not None and line is not None and now_due == shown:
            continue
        words = _change_words(bill_id, bill_entries.get(bill_id))
        if line is None:
            problems.append(
                _(
                    "Bill #%(bill)s was paid or changed %(who)s since your screen showed it: "
                    "nothing is due on it now. Reload the customer and choose again."
                )
                % {"bill": bill_id, "who": words or _("by someone else")}
            )
        else:
            problems.append(
                _(
                    "Bill #%(bill)s of %(month)s now comes to %(now)s, not the %(shown)s your "
                    "screen showed (changed %(who)s). Reload the customer and choose again."
                )
                % {
                    "bill": bill_id,
                    "month": f"{line.bill.month:%Y-%m}",
                    "now": now_due,
                    "shown": shown if shown is not None else "—",
                    "who": words or _("since it was shown"),
                }
            )
    return problems


# ------------------------------------------------------------------------- allocation


@dataclass
class _Debit:
    target: object  # an entry id, or a Posting of the batch
    left: Decimal
    bill_line: object  # the working line it belongs to
    is_fee: bool


@dataclass
class _Line:
    arrears: latefees.ArrearsLine
    fee_posting: object = None
    fees: list = field(default_factory=list)
    principal: _Debit | None = None
    waived: Decimal = ZERO
    paid_fee: Decimal = ZERO
    paid_principal: Decimal = ZERO

    @property
    def bill(self):
        return self.arrears.bill

    @property
    def fee_due(self):
        return self.arrears.fee_open + self.arrears.fee.amount


def _take(debits, amount, record):
    """Settle ``debits`` in order from ``amount``; returns [(target, taken)] and what is left."""
    settle = []
    for debit in debits:
        if amount <= 0:
            break
        taken = min(amount, debit.left)
        if taken <= 0:
            continue
        debit.left -= taken
        amount -= taken
        settle.append((debit.target, taken))
        record(debit, taken)
    return settle, amount


def allocation_order(lines, late_fee_first):
    """The debits a payment settles, in order: oldest bill first; each bill's late fees then
    its principal, or (``late_fee_first`` off) every principal first, then the late fees."""
    if late_fee_first:
        return [d for line in lines for d in [*line.fees, line.principal] if d is not None]
    principals = [line.principal for line in lines if line.principal is not None]
    return principals + [d for line in lines for d in line.fees]


def _bill_words(lines):
    return ", ".join(f"#{line.bill.pk} {line.bill.month:%Y-%m}" for line in lines)


# ------------------------------------------------------------------------- posting


@transaction.atomic
def take_payment(actor, tender, now=None, rules=None):
    """Post a counter payment (see the module's docstring). Returns the
    :class:`CounterPayment`, with ``invoice`` set to the invoice issued (or None).

    Raises ``ValidationError`` naming the field (``bills``, ``amount``, ``tendered``,
    ``keep_change``, ``waiver``, ``waiver_reason``, ``authoriser``, ``invoice_kind``,
    ``method``) and writes nothing; ``PermissionDenied`` outside the cashier's scope.
    """
    require(actor, "payments.take_payment")
    now = now or timezone.now()
    today = timezone.localdate(now)
    rules = rules or CounterRules.from_params()
    if tender.method not in CounterMethod.values:
        raise ValidationError({"method": _("Choose how the customer pays.")})
    try:
        ids = sorted({int(pk) for pk in tender.bills})
    except (TypeError, ValueError):
        ids = []
    if not ids:
        raise ValidationError({"bills": _("Choose at least one bill to pay.")})
    customer = Customer.objects.filter(pk=tender.customer_id).first()
    if customer is None:
        raise ValidationError({"bills": _("This customer does not exist.")})
    problem = serve_problem(actor, customer)
    if problem:
        raise PermissionDenied(problem)
    waiver = _money(tender.waiver, "waiver")
    account = ledger.lock_accounts([customer.pk])[customer.pk]

    # what is due now, under the lock, against what the screen showed
    due = latefees.arrears(customer.pk, today, rules.late_fee, customer=customer)
    by_bill = {line.bill.pk: line for line in due.lines}
    seen = {int(k): _shown(v) for k, v in (tender.seen or {}).items()}
    stale = [i for i in ids if i not in by_bill or seen.get(i) != by_bill[i].total]
    if stale:
        entries = {i: by_bill[i].bill.entry_id for i in stale if i in by_bill}
        gone = [i for i in stale if i not in by_bill]
        if gone:
            owners = {
                pk: (owner, entry_id)
                for pk, owner, entry_id in Bill.objects.filter(pk__in=gone).values_list(
                    "pk", "customer_id", "entry_id"
                )
            }
            foreign = [i for i in gone if owners.get(i, (None,))[0] != customer.pk]
            if foreign:
                raise ValidationError(
                    {
                        "bills": _("Bill #%(bill)s is not a bill of account %(account)s.")
                        % {"bill": foreign[0], "account": customer.account_no}
                    }
                )
            entries.update({i: owners[i][1] for i in gone})
        raise ValidationError({"bills": _stale_problems(stale, by_bill, seen, entries)})
    at_bank = bank_batches_of_bills(ids)
    if at_bank:
        bill, batch = min(at_bank.items())
        raise ValidationError(
            {
                "bills": _(
                    "Bill #%(bill)s is at the bank in deduction batch %(batch)s: wait for the "
                    "bank's answer, or cancel the batch first."
                )
                % {"bill": bill, "batch": batch}
            }
        )
    lines = [_Line(line) for line in due.lines if line.bill.pk in set(ids)]
    total_due = sum((line.arrears.total for line in lines), ZERO)
    fee_total = sum((line.fee_due for line in lines), ZERO)

    # the waiver
    authoriser, limit = None, None
    if waiver > 0:
        if waiver > fee_total:
            raise ValidationError(
                {
                    "waiver": _(
                        "Only late fees are waived: the chosen bills carry %(fee)s of late fee."
                    )
                    % {"fee": fee_total}
                }
            )
        if not (tender.waiver_reason or "").strip():
            raise ValidationError({"waiver_reason": _("Say why the late fee is waived.")})
        limit = waiver_limit_of(actor, rules.waiver_limit)
        if limit is not None and waiver > limit:
            problem = authoriser_problem(tender.authoriser, actor, customer)
            if problem:
                raise ValidationError(
                    {
                        "authoriser": _("%(amount)s is above your waiver limit of %(limit)s. ")
                        % {"amount": waiver, "limit": limit}
                        + problem
                    }
                )
            authoriser = tender.authoriser

    # the money
    payable = total_due - waiver
    amount = payable if tender.amount in (None, "") else _money(tender.amount, "amount")
    if amount <= 0:
        raise ValidationError({"amount": _("Enter the amount to pay, above zero.")})
    if amount > payable:
        raise ValidationError(
            {
                "amount": _(
                    "The chosen bills come to %(payable)s: pay at most that (a deposit is "
                    "taken on the prepaid page)."
                )
                % {"payable": payable}
            }
        )
    if tender.method in CASH_METHODS:
        tendered = amount if tender.tendered in (None, "") else _money(tender.tendered, "tendered")
        if tendered < amount:
            raise ValidationError(
                {
                    "tendered": _("%(tendered)s tendered is less than the %(amount)s to pay.")
                    % {"tendered": tendered, "amount": amount}
                }
            )
    else:
        tendered = amount
        if tender.tendered not in (None, "") and _money(tender.tendered, "tendered") != amount:
            raise ValidationError(
                {"tendered": _("A card, scan or transfer takes exactly the amount to pay.")}
            )
    change, kept = tendered - amount, ZERO
    if tender.keep_change and change > 0:
        if amount != payable:
            raise ValidationError(
                {
                    "keep_change": _(
                        "Change is kept as credit only when the chosen bills are paid in full: "
                        "pay the whole amount instead."
                    )
                }
            )
        if change >= rules.small_change_limit:
            raise ValidationError(
                {
                    "keep_change": _(
                        "Only change below %(limit)s is kept as credit; give %(change)s back."
                    )
                    % {"limit": rules.small_change_limit, "change": change}
                }
            )
        kept, change = change, ZERO

    # the debits, in order; what the waiver and the payment settle
    postings = []
    for line in lines:
        arrears = line.arrears
        line.fees = [_Debit(pk, left, line, True) for pk, left in arrears.fee_entries]
        if arrears.fee.amount > 0:
            line.fee_posting = ledger.Posting(
                EntryKind.LATE_FEE,
                arrears.fee.amount,
                period=line.bill.month,
                reason=latefees.late_fee_reason(line.bill, line.arrears.fee),
            )
            postings.append(line.fee_posting)
            line.fees.append(_Debit(line.fee_posting, arrears.fee.amount, line, True))
        if arrears.principal > 0:
            line.principal = _Debit(arrears.bill.entry_id, arrears.principal, line, False)

    def waived(debit, taken):
        debit.bill_line.waived += taken

    def paid(debit, taken):
        if debit.is_fee:
            debit.bill_line.paid_fee += taken
        else:
            debit.bill_line.paid_principal += taken

    period = open_billing_month(customer.zone_id, today)
    words = _bill_words(lines)
    waiver_posting = None
    if waiver > 0:
        settle, _rest = _take([d for line in lines for d in line.fees], waiver, waived)
        waiver_posting = ledger.Posting(
            EntryKind.WAIVER,
            waiver,
            period=period,
            reason=(_("Late fee waived at the counter (%(bills)s): %(reason)s"))
            % {"bills": words, "reason": tender.waiver_reason.strip()},
            settle=settle,
        )
        postings.append(waiver_posting)
    settle, _rest = _take(allocation_order(lines, rules.late_fee_first), amount, paid)
    if kept > 0:  # carried to the next bill: the account's other open debits, oldest first
        chosen = {d.target for line in lines for d in [*line.fees, line.principal] if d}
        others = [
            _Debit(entry.pk, left, None, False)
            for entry, left in ledger.open_entries(customer.pk, Direction.DEBIT)
            if entry.pk not in chosen
        ]
        more, _rest = _take(others, kept, lambda debit, taken: None)
        settle += more
    payment_posting = ledger.Posting(
        EntryKind.PAYMENT,
        amount + kept,
        period=period,
        reason=_("Counter payment (%(bills)s)") % {"bills": words},
        settle=settle,
    )
    postings.append(payment_posting)
    ledger.post_batch(actor, customer, postings, business_date=today, now=now)
    entry = payment_posting.entry

    charges = [
        LateFeeCharge(
            bill=line.bill,
            entry=line.fee_posting.entry,
            accrues_from=line.arrears.fee.accrues_from,
            through=line.arrears.fee.through,
            days=line.arrears.fee.days,
            principal=line.arrears.fee.principal,
            daily_rate=line.arrears.fee.rate,
            amount=line.arrears.fee.amount,
        )
        for line in lines
        if line.fee_posting is not None
    ]
    if charges:
        LateFeeCharge.objects.bulk_create(charges)

    # the invoice, for the bills now paid in full
    invoice, invoice_note = None, ""
    paid_in_full = [
        line.bill for line in lines if line.arrears.principal > 0 and line.principal.left == 0
    ]
    kind = tender.invoice_kind
    if kind not in (None, "") and not sees_zone(actor, customer.zone_id):
        raise ValidationError({"invoice_kind": cross_zone_invoice_words()})
    if kind in (None, ""):
        invoice_note = _("No invoice was asked for: issue it later from the invoice pages.")
    elif not paid_in_full:
        invoice_note = _(
            "No bill is paid in full yet: the invoice is issued when the rest is paid."
        )
    else:
        deposit = max(account.deposit, ZERO)  # the prepaid balance: deposit and open credit
        balance_before = deposit + max(account.balance, ZERO)
        after = account.balance + amount + kept + waiver - _fees(lines)
        balance_after = deposit + max(after, ZERO)
        try:
            invoice = invoice_services.issue_invoice(
                actor,
                kind if isinstance(kind, InvoiceKind) else InvoiceKind.objects.get(pk=kind),
                paid_in_full,
                payment=entry,
                received=tendered,
                change=change,
                balance_before=balance_before,
                balance_after=balance_after,
                locked_customer=customer,
                now=now,
            )
        except (ValidationError, PermissionDenied, InvoiceKind.DoesNotExist) as exc:
            raise ValidationError({"invoice_kind": _invoice_problem(exc)}) from exc
        if len(paid_in_full) < len(lines):
            invoice_note = _("Bills paid in part are invoiced when the rest is paid.")

    home = home_zone_id(actor)
    payment = CounterPayment(
        entry=entry,
        customer=customer,
        zone_id=customer.zone_id,
        cashier=actor,
        unit=getattr(actor, "unit", None),
        cashier_zone_id=home,
        cross_zone=is_cross_zone(actor, customer),
        paid_at=now,
        business_date=today,
        method=tender.method,
        due=total_due,
        late_fee=fee_total,
        waived=waiver,
        amount=amount,
        change_kept=kept,
        tendered=tendered,
        change=change,
        note=(tender.note or "").strip()[:200],
        invoice_note=invoice_note[:200],
    )
    payment.save(force_insert=True)
    CounterPaymentLine.objects.bulk_create(
        [
            CounterPaymentLine(
                payment=payment,
                bill=line.bill,
                principal=line.arrears.principal,
                late_fee=line.fee_due,
                late_fee_entry=line.fee_posting.entry if line.fee_posting else None,
                waived=line.waived,
                paid_fee=line.paid_fee,
                paid_principal=line.paid_principal,
            )
            for line in lines
        ]
    )
    waivers = [
        LateFeeWaiver(
            bill=line.bill,
            customer=customer,
            zone_id=customer.zone_id,
            amount=line.waived,
            entry=waiver_posting.entry,
            payment=payment,
            operator=actor,
            authoriser=authoriser,
            limit=limit,
            reason=tender.waiver_reason.strip()[:200],
            at=now,
            business_date=today,
        )
        for line in lines
        if line.waived > 0
    ]
    if waivers:
        LateFeeWaiver.objects.bulk_create(waivers)
    journal.record_many(
        [
            journal.build_entry(
                payment,
                AuditAction.CREATE,
                after=journal.snapshot(payment, m2m=False),
                reason=payment_posting.reason,
                verb="take_payment",
                at=now,
                actor=actor,
            ),
            *(
                journal.build_entry(
                    charge,
                    AuditAction.CREATE,
                    after=journal.snapshot(charge, m2m=False),
                    reason=charge.entry.reason,
                    verb="late_fee",
                    at=now,
                    actor=actor,
                )
                for charge in charges
            ),
            *(
                journal.build_entry(
                    waiver_row,
                    AuditAction.CREATE,
                    after=journal.snapshot(waiver_row, m2m=False),
                    reason=waiver_row.reason,
                    verb="waive_late_fee",
                    at=now,
                    actor=actor,
                )
                for waiver_row in waivers
            ),
        ]
    )
    payment.invoice = invoice
    return payment


def _fees(lines):
    return sum((line.arrears.fee.amount for line in lines), ZERO)


def _invoice_problem(exc):
    if isinstance(exc, InvoiceKind.DoesNotExist):
        return _("Choose an invoice kind in use.")
    messages = exc.messages if hasattr(exc, "messages") else [str(exc)]
    return _("No invoice could be printed, so the payment was not taken: %(why)s") % {
        "why": " ".join(str(m) for m in messages)
    }


# ------------------------------------------------------------------------- reversal


def reversal_problem(actor, payment, today):
    """Why ``actor`` may not reverse ``payment`` now (None: they may)."""
    if payment.is_reversed:
        return _("This payment was reversed already.")
    if actor.has_perm("payments.reverse_any_payment"):
        return None
    if payment.cashier_id != actor.pk:
        return _("Only the cashier who took a payment reverses it; a supervisor may reverse any.")
    if payment.business_date != today:
        return _(
            "A payment is reversed by its cashier on the day it was taken; after that a "
            "supervisor reverses it."
        )
    if not actor.has_perm("payments.take_payment"):
        return _("You do not have permission to do this.")
    return None


def live_invoices(payment):
    """The live invoices printed at ``payment``."""
    return list(
        Invoice.objects.filter(payment_id=payment.entry_id, state=InvoiceState.ISSUED)
        .select_related("operator", "kind")
        .order_by("pk")
    )


@transaction.atomic
def reverse_payment(actor, payment, reason, now=None):
    """Reverse a counter payment (a cashier's mistake): the invoice printed at it is voided
    by its issuer, then the payment, the waiver and the late fees charged with it are
    reversed by linked ledger entries. Returns the payment."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the payment is reversed.")})
    now = now or timezone.now()
    today = timezone.localdate(now)
    if not CounterPayment.objects.restrict(actor).filter(pk=payment.pk).exists():
        raise PermissionDenied(_("This payment is outside your scope."))
    ledger.lock_accounts([payment.customer_id])
    payment = CounterPayment.objects.select_for_update().get(pk=payment.pk)
    problem = reversal_problem(actor, payment, today)
    if problem:
        if payment.is_reversed:
            raise ValidationError(problem)
        raise PermissionDenied(problem)
    for invoice in live_invoices(payment):
        if invoice.operator_id != actor.pk:
            raise ValidationError(
                _(
                    "Invoice %(number)s printed at this payment was issued by %(operator)s: "
                    "they void it first (Invoices › the invoice › Void), then the payment is "
                    "reversed."
                )
                % {"number": invoice.display_number, "operator": operator_name(invoice.operator)}
            )
        invoice_services.void_invoice(actor, invoice, reason, now=now)
    reversal = ledger.reverse_entry(actor, payment.entry, reason, today, now=now)
    waiver_entries = sorted(set(payment.waivers.values_list("entry_id", flat=True)))
    fee_entries = sorted(
        payment.lines.exclude(late_fee_entry=None).values_list("late_fee_entry_id", flat=True)
    )
    for pk in [*waiver_entries, *fee_entries]:
        ledger.reverse_entry(
            actor,
            LedgerEntry.objects.get(pk=pk),
            _("Reversal of counter payment %(payment)s: %(reason)s")
            % {"payment": payment.pk, "reason": reason},
            today,
            now=now,
        )
    return journal.update_object(
        payment,
        {
            "reversal_entry": reversal,
            "reversed_by": actor,
            "reversed_at": now,
            "reversed_on": today,
            "reverse_reason": reason[:200],
        },
        reason,
        verb="reverse_payment",
        actor=actor,
    )


# ------------------------------------------------------------------------- printing


@transaction.atomic
def print_payment_invoices(actor, payment):
    """The PDF of the invoices printed at ``payment``: the first print is the original, later
    ones are copies (``invoices.services.reprint_invoice``, counted and journaled)."""
    if not CounterPayment.objects.restrict(actor).filter(pk=payment.pk).exists():
        raise PermissionDenied(_("This payment is outside your scope."))
    payment = CounterPayment.objects.select_for_update().get(pk=payment.pk)
    invoices = live_invoices(payment)
    if not invoices:
        raise ValidationError(_("No live invoice was printed at this payment."))
    if payment.invoice_printed:  # one invoice a payment: the counter prints one kind
        return invoice_services.reprint_invoice(actor, invoices[0])
    journal.update_object(payment, {"invoice_printed": True}, verb="print_invoice", actor=actor)
    return print_invoices(invoices, printed_by=operator_name(actor))


# ------------------------------------------------------------------------- waiver limits


def save_waiver_limit(actor, data, limit=None):
    """Create or change a role's waiver limit (journaled)."""
    require(actor, "payments.change_waiverlimit" if limit else "payments.add_waiverlimit")
    if limit is None:
        return journal.create_object(
            WaiverLimit(role=data["role"], limit=data["limit"]), actor=actor
        )
    limit = WaiverLimit.objects.select_for_update().get(pk=limit.pk)
    return journal.update_object(limit, {"role": data["role"], "limit": data["limit"]}, actor=actor)
