"""Prepaid deposits (预存水费, F4.1–F4.4; issue 9): taking, correcting, transferring, undoing.

The money is in the ledger's prepaid deposit (``billing.models``: ``Account.deposit``,
the ``DEPOSIT_POT`` entries); the tables of ``models/deposit.py`` record each step.

- **Deposit** (:func:`take_deposit`): a ``deposit`` entry under the account's lock, at
  the counter (method, tendered, change) or from an outside channel, whose reference
  is the entry's idempotency key: a repeated callback gets the first deposit back. A
  deposit does not pay bills by itself; the cashier may pay the customer's open bills
  from it at once (a transfer of that one customer).
- **Correction** (:func:`correct_deposit`): the deposit's entry reversed, with a reason;
  by its operator on its day, by a supervisor afterwards. Refused when the deposit has
  paid bills since and the balance would go below what the overdraft parameter allows.
- **Transfer** (:func:`run_transfer`): for each account of the zone (or the company)
  with deposit money and arrears, oldest open debit first (bills and charged late
  fees; bills at a bank excepted), as much as the deposit covers: the whole open
  amount of each debit, or with ``deposits.partial_cover`` part of the last one. Per
  account one ``transfer_out`` from the deposit and one ``transfer_in`` settling the
  debits, written in bulk a chunk of accounts at a time (each chunk locks its accounts
  in primary-key order and commits on its own: a run killed midway leaves whole
  chunks, and running again transfers only what is still open: idempotent).
  Late fees not yet charged are not charged by a transfer.
- **After a bill run** (``deposits.transfer_after_bill_run``): each book's new bills are
  paid from deposits in the book's own transaction (:func:`transfer_after_bills`).
- **Undo** (:func:`undo_transfer`): both entries reversed, the bills open again, the
  money back in the deposit; refused while a live invoice covers one of the bills.
- The deposit never goes below ``−deposits.overdraft_limit`` (0 by default): a transfer
  takes at most deposit + overdraft, a correction is refused below it.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.billing import ledger
from watermis.billing.models import (
    Account,
    Allocation,
    Bill,
    Direction,
    EntryKind,
    LateFeeCharge,
    LedgerEntry,
)
from watermis.core import bulk, journal
from watermis.core.models import AuditAction
from watermis.core.money import has_places
from watermis.core.scoping import ensure_zone_in_scope, visible_zone_ids
from watermis.customers.models import CustomerStatus
from watermis.documents.sources import operator_name
from watermis.invoices.queries import live_rows
from watermis.system.params import get_params

from .counter import CASH_METHODS, require, zone_problem
from .models import (
    BankBatchLine,
    CounterMethod,
    Deposit,
    DepositChannel,
    DepositCorrection,
    DepositTransfer,
    LineState,
    TransferRun,
    TransferTrigger,
    TransferUndo,
)

ZERO = Decimal("0.00")
CHUNK = 2000
# the debits a transfer pays: bills and the late fees charged on them
TRANSFERABLE = (EntryKind.BILL.value, EntryKind.LATE_FEE.value)
TRANSFER_COLUMNS = (
    "id",
    "run_id",
    "customer_id",
    "zone_id",
    "out_entry_id",
    "in_entry_id",
    "amount",
    "bills",
    "deposit_before",
    "deposit_after",
)


@dataclass(frozen=True)
class DepositRules:
    """The deposit parameters, read in one query (:meth:`from_params`)."""

    partial_cover: bool = False
    overdraft_limit: Decimal = ZERO
    after_bill_run: bool = True
    max_amount: Decimal = Decimal("50000.00")

    @classmethod
    def from_params(cls):
        values = get_params(
            "deposits.partial_cover",
            "deposits.overdraft_limit",
            "deposits.transfer_after_bill_run",
            "deposits.max_amount",
        )
        return cls(
            partial_cover=values["deposits.partial_cover"],
            overdraft_limit=values["deposits.overdraft_limit"],
            after_bill_run=values["deposits.transfer_after_bill_run"],
            max_amount=values["deposits.max_amount"],
        )


def _amount(value, field_name):
    """A typed amount in yuan: above zero, at most two decimals."""
    try:
        value = Decimal(str(value).strip()) if value not in (None, "") else None
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite():
        raise ValidationError({field_name: _("Enter an amount in yuan.")})
    if not has_places(value, 2):
        raise ValidationError({field_name: _("An amount has at most two decimals (fen).")})
    if value <= 0:
        raise ValidationError({field_name: _("Enter an amount above zero.")})
    return value.quantize(Decimal("0.01"))


def voucher_number(deposit):
    """The number printed on a deposit's voucher: the year and the deposit's id."""
    return f"YC{timezone.localtime(deposit.at):%Y}-{deposit.pk:06d}"


# ------------------------------------------------------------------------- deposit


@transaction.atomic
def take_deposit(
    actor,
    customer,
    amount,
    *,
    channel=DepositChannel.COUNTER,
    method=CounterMethod.CASH,
    tendered=None,
    reference="",
    note="",
    pay_bills=False,
    rules=None,
    now=None,
):
    """Take a prepaid deposit (F4.1). Returns the :class:`Deposit` (``repeated`` set when a
    channel's reference was taken before: the first deposit, nothing new written), with
    ``transfer`` set to the :class:`DepositTransfer` when ``pay_bills`` paid open bills.

    Raises ``ValidationError`` naming the field (``amount``, ``tendered``, ``method``,
    ``channel``, ``reference``, ``customer``) and writes nothing; ``PermissionDenied``
    without the permission or for a customer of another zone (F1.2).
    """
    require(actor, "payments.take_deposit")
    problem = zone_problem(actor, customer)
    if problem:
        raise PermissionDenied(problem)
    rules = rules or DepositRules.from_params()
    now = now or timezone.now()
    today = timezone.localdate(now)
    amount = _amount(amount, "amount")
    if amount > rules.max_amount:
        raise ValidationError(
            {
                "amount": _("A single deposit is at most %(max)s yuan (parameter).")
                % {"max": rules.max_amount}
            }
        )
    if channel not in DepositChannel.values:
        raise ValidationError({"channel": _("Choose where the deposit comes from.")})
    reference = (reference or "").strip()
    if channel == DepositChannel.COUNTER:
        if method not in CounterMethod.values:
            raise ValidationError({"method": _("Choose how the customer pays.")})
        tendered = amount if tendered in (None, "") else _amount(tendered, "tendered")
        if tendered < amount:
            raise ValidationError(
                {"tendered": _("The money handed over is less than the deposit.")}
            )
        if tendered > amount and method not in CASH_METHODS:
            raise ValidationError(
                {"tendered": _("Only cash or a cheque may be more than the deposit.")}
            )
        ledger_channel = ""
    else:
        if not reference:
            raise ValidationError(
                {"reference": _("A deposit from a channel carries the channel's reference.")}
            )
        if len(reference) > 64:
            raise ValidationError({"reference": _("A reference has at most 64 characters.")})
        method, tendered, ledger_channel = "", amount, channel
        first = _repeated(channel, reference, customer, amount)
        if first is not None:
            return first
    if customer.status == CustomerStatus.CLOSED:
        raise ValidationError(
            {
                "customer": _("Account %(account)s is closed: it takes no deposit.")
                % {"account": customer.account_no}
            }
        )
    account = ledger.lock_accounts([customer.pk])[customer.pk]
    posted = ledger.post_entry(
        actor,
        customer,
        EntryKind.DEPOSIT,
        amount,
        business_date=today,
        reason=_("Prepaid deposit")
        if not note
        else _("Prepaid deposit: %(note)s") % {"note": note},
        channel=ledger_channel,
        external_key=reference,
        now=now,
    )
    if posted.repeated:  # a parallel callback with the same reference won
        return _repeated(channel, reference, customer, amount)
    deposit = Deposit(
        entry=posted.entry,
        customer=customer,
        zone_id=customer.zone_id,
        operator=journal.saved_operator(actor),
        unit=getattr(actor, "unit", None),
        channel=channel,
        method=method,
        reference=reference,
        amount=amount,
        tendered=tendered,
        change=tendered - amount,
        balance_before=account.deposit,
        balance_after=account.deposit + amount,
        at=now,
        business_date=today,
        note=(note or "").strip()[:200],
    )
    deposit.save(force_insert=True)
    journal.record(
        deposit,
        AuditAction.CREATE,
        None,
        journal.snapshot(deposit),
        verb="take_deposit",
        actor=actor,
    )
    deposit.repeated = False
    deposit.transfer = None
    if pay_bills:
        run = _start(actor, customer.zone_id, TransferTrigger.COUNTER, now, rules)
        _transfer_chunk(run, actor, [customer.pk], rules, now)
        _finish(run)
        deposit.transfer = DepositTransfer.objects.filter(run=run).first()
    return deposit


def _repeated(channel, reference, customer, amount):
    """The deposit a channel's reference brought before (None: none); refuses a reference
    reused for another customer or amount."""
    first = Deposit.objects.filter(channel=channel, reference=reference).first()
    if first is None:
        return None
    if first.customer_id != customer.pk or first.amount != amount:
        raise ValidationError(
            {
                "reference": _(
                    "Reference %(reference)s brought a deposit of %(amount)s for another "
                    "account or amount already."
                )
                % {"reference": reference, "amount": first.amount}
            }
        )
    first.repeated = True
    first.transfer = None
    return first


# ------------------------------------------------------------------------- correction


def correction_problem(actor, deposit, today):
    """Why ``actor`` may not correct ``deposit`` now (None: they may)."""
    if hasattr(deposit, "correction"):
        return _("This deposit was corrected already.")
    if actor.has_perm("payments.correct_any_deposit"):
        return None
    if deposit.operator_id != actor.pk or deposit.business_date != today:
        return _(
            "A deposit is corrected by its operator on the day it was taken; after that a "
            "supervisor corrects it."
        )
    if not actor.has_perm("payments.take_deposit"):
        return _("You do not have permission to do this.")
    return None


@transaction.atomic
def correct_deposit(actor, deposit, reason, *, rules=None, now=None):
    """Reverse a wrong deposit (F4.2) by a linked ledger entry. Returns the
    :class:`DepositCorrection`; the deposit row stays as it was."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the deposit is corrected.")})
    if not Deposit.objects.restrict(actor).filter(pk=deposit.pk).exists():
        raise PermissionDenied(_("This deposit is outside your scope."))
    rules = rules or DepositRules.from_params()
    now = now or timezone.now()
    today = timezone.localdate(now)
    account = ledger.lock_accounts([deposit.customer_id])[deposit.customer_id]
    deposit = Deposit.objects.select_related("entry").get(pk=deposit.pk)
    problem = correction_problem(actor, deposit, today)
    if problem:
        if hasattr(deposit, "correction"):
            raise ValidationError(problem)
        raise PermissionDenied(problem)
    after = account.deposit - deposit.amount
    if after < -rules.overdraft_limit:
        raise ValidationError(
            _(
                "The deposit has paid bills since it was taken: %(left)s is left, less than "
                "the %(amount)s to correct. Undo those transfers first (Deposits › Transfers)."
            )
            % {"left": account.deposit, "amount": deposit.amount}
        )
    reversal = ledger.reverse_entry(actor, deposit.entry, reason, today, now=now)
    correction = DepositCorrection.objects.create(
        deposit=deposit,
        entry=reversal,
        operator=actor,
        reason=reason[:200],
        at=now,
        business_date=today,
        balance_after=after,
    )
    journal.record(
        deposit,
        AuditAction.UPDATE,
        None,
        {"correction": correction.pk, "balance_after": str(after)},
        reason=reason,
        verb="correct_deposit",
        actor=actor,
    )
    return correction


# ------------------------------------------------------------------------- transfer


def _start(actor, zone_id, trigger, now, rules, bill_run=None):
    return TransferRun.objects.create(
        zone_id=zone_id,
        trigger=trigger,
        bill_run=bill_run,
        business_date=timezone.localdate(now),
        partial=rules.partial_cover,
        overdraft=rules.overdraft_limit,
        started_by=journal.saved_operator(actor),
        started_at=now,
    )


def _finish(run):
    TransferRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())


def running_transfer(zone_id):
    """A transfer of this zone (None: of the company) started by hand and not finished."""
    runs = TransferRun.objects.filter(finished_at=None, trigger=TransferTrigger.MANUAL)
    return runs.filter(zone_id=zone_id).first()


@transaction.atomic
def start_transfer(actor, zone=None, *, rules=None, now=None):
    """Start a deposit transfer of ``zone`` (None: every zone the operator sees) in the
    background (task ``transfer_task``). Returns the :class:`TransferRun`."""
    require(actor, "payments.run_transfer")
    if zone is not None:
        ensure_zone_in_scope(actor, zone.pk)
    elif visible_zone_ids(actor) is not None:
        raise ValidationError({"zone": _("Choose a zone: you do not see every zone.")})
    busy = running_transfer(zone.pk if zone else None)
    if busy is not None:
        raise ValidationError(
            _("A transfer of this zone is running (started %(at)s by %(who)s).")
            % {
                "at": timezone.localtime(busy.started_at).strftime("%Y-%m-%d %H:%M"),
                "who": operator_name(busy.started_by) or _("the system"),
            }
        )
    rules = rules or DepositRules.from_params()
    run = _start(
        actor, zone.pk if zone else None, TransferTrigger.MANUAL, now or timezone.now(), rules
    )
    journal.record(
        run,
        AuditAction.CREATE,
        None,
        {
            "zone": zone.pk if zone else None,
            "partial": run.partial,
            "overdraft": str(run.overdraft),
        },
        verb="start_deposit_transfer",
        actor=actor,
    )
    from .tasks import transfer_task

    transaction.on_commit(lambda: transfer_task.enqueue(run.pk))
    return run


def candidates(zone_id=None, overdraft=ZERO):
    """Ids of the accounts (of a zone) a transfer looks at: deposit money to take and
    arrears on the bill account, in primary-key order."""
    accounts = Account.objects.filter(balance__lt=0, deposit__gt=-overdraft)
    if zone_id is not None:
        accounts = accounts.filter(zone_id=zone_id)
    return list(accounts.order_by("pk").values_list("pk", flat=True).iterator(20000))


def run_transfer(run_id, *, chunk=CHUNK):
    """The task body: transfer every candidate account of the run, a chunk at a time, each
    chunk in its own transaction. Safe to run again (it transfers only what is open)."""
    run = TransferRun.objects.select_related("started_by").get(pk=run_id)
    rules = DepositRules(partial_cover=run.partial, overdraft_limit=run.overdraft)
    ids = candidates(run.zone_id, run.overdraft)
    TransferRun.objects.filter(pk=run.pk).update(candidates=len(ids), looked_at=0, error="")
    try:
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # as a bill run's book: a commit lost in a crash is lost whole, and
                    # running again transfers what is still open
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit = off")
                _transfer_chunk(run, run.started_by, part, rules, timezone.now())
                TransferRun.objects.filter(pk=run.pk).update(looked_at=F("looked_at") + len(part))
    except Exception as exc:
        TransferRun.objects.filter(pk=run.pk).update(
            error=str(exc)[:4000], finished_at=timezone.now()
        )
        raise
    _finish(run)
    run.refresh_from_db()
    return run


def _open_debits(customer_ids):
    """{customer id: [(entry id, kind, open amount)]} of the bills' and charged late fees'
    open debits, oldest first; bills at a bank (waiting for its answer) left out."""
    rows = (
        bulk.filter_ids(
            LedgerEntry.objects.filter(
                direction=Direction.DEBIT, kind__in=TRANSFERABLE, reversed_by__isnull=True
            ),
            "customer_id",
            customer_ids,
        )
        .annotate(used=Sum("allocations_in__amount"))
        .order_by("customer_id", "business_date", "id")
        .values_list("id", "customer_id", "kind", "amount", "used")
    )
    at_bank = set(
        bulk.filter_ids(
            BankBatchLine.objects.filter(state=LineState.SENT), "customer_id", customer_ids
        ).values_list("bill__entry_id", flat=True)
    )
    debits = {}
    for pk, customer_id, kind, amount, used in rows:
        left = (amount - Decimal(used or 0)).quantize(Decimal("0.01"))  # SQLite: float sums
        if left > 0 and pk not in at_bank:
            debits.setdefault(customer_id, []).append((pk, kind, left))
    return debits


def _take(debits, available, partial):
    """The (entry id, kind, amount) a deposit of ``available`` pays, oldest first."""
    taken = []
    for pk, kind, left in debits:
        if available <= 0:
            break
        if left <= available:
            taken.append((pk, kind, left))
            available -= left
        else:
            if partial:
                taken.append((pk, kind, available))
            break
    return taken


def _transfer_chunk(run, actor, customer_ids, rules, now):
    """Transfer ``customer_ids`` (sorted) inside the caller's transaction: lock their
    accounts, read their open debits, write the entries, allocations, transfer rows and
    both cached sums in bulk. Returns (customers, bills, amount) transferred."""
    # Only the accounts in debt with money to pay it from: after a bill run's book, few of
    # its thousands. PostgreSQL checks the condition again once a row is locked.
    locked = (
        bulk.filter_ids(Account.objects.all(), "customer_id", customer_ids)
        .filter(balance__lt=0, deposit__gt=-rules.overdraft_limit)
        .order_by("pk")
    )
    if connection.features.has_select_for_update:
        locked = locked.select_for_update()
    accounts = {
        pk: (zone_id, balance, deposit)
        for pk, zone_id, balance, deposit in locked.values_list(
            "pk", "zone_id", "balance", "deposit"
        )
    }
    money = {pk: deposit + rules.overdraft_limit for pk, (_z, _b, deposit) in accounts.items()}
    if not money:
        return 0, 0, ZERO
    debits = _open_debits(sorted(money))
    plans = []
    for customer_id in sorted(debits):
        taken = _take(debits[customer_id], money[customer_id], rules.partial_cover)
        if taken:
            plans.append((customer_id, taken))
    if not plans:
        return 0, 0, ZERO
    entry_ids = iter(bulk.reserve_ids(LedgerEntry, 2 * len(plans)))
    allocation_ids = iter(bulk.reserve_ids(Allocation, sum(len(t) for _c, t in plans)))
    transfer_ids = iter(bulk.reserve_ids(DepositTransfer, len(plans)))
    operator = journal.saved_operator(actor)
    operator_id = operator.pk if operator else None
    unit_id = getattr(operator, "unit_id", None)
    today = run.business_date
    reason = _("Deposit transfer #%(run)s") % {"run": run.pk}
    entries, allocations, transfers, balances, deposits = [], [], [], [], []
    bills, total = 0, ZERO
    for customer_id, taken in plans:
        zone_id, balance, deposit = accounts[customer_id]
        amount = sum((t[2] for t in taken), ZERO)
        out_id, in_id = next(entry_ids), next(entry_ids)
        common = (amount, now, today, None, operator_id, unit_id, reason, None, "", "")
        entries.append(
            (out_id, customer_id, zone_id, EntryKind.TRANSFER_OUT.value, Direction.DEBIT.value)
            + common
        )
        entries.append(
            (in_id, customer_id, zone_id, EntryKind.TRANSFER_IN.value, Direction.CREDIT.value)
            + common
        )
        for debit_id, _kind, part in taken:
            allocations.append((next(allocation_ids), in_id, debit_id, part, in_id))
        count = sum(1 for t in taken if t[1] == EntryKind.BILL)
        transfers.append(
            (next(transfer_ids), run.pk, customer_id, zone_id, out_id, in_id)
            + (amount, count, deposit, deposit - amount)
        )
        balances.append((customer_id, balance + amount))
        deposits.append((customer_id, deposit - amount))
        bills += count
        total += amount
    bulk.write_rows(LedgerEntry._meta.db_table, ledger.ENTRY_COLUMNS, entries)
    bulk.write_rows(Allocation._meta.db_table, ledger.ALLOCATION_COLUMNS, allocations)
    bulk.write_rows(DepositTransfer._meta.db_table, TRANSFER_COLUMNS, transfers)
    bulk.update_column(Account, "balance", balances, key="customer_id")
    bulk.update_column(Account, "deposit", deposits, key="customer_id")
    TransferRun.objects.filter(pk=run.pk).update(
        customers=F("customers") + len(plans), bills=F("bills") + bills, amount=F("amount") + total
    )
    return len(plans), bills, total


# ------------------------------------------------------------------------- after a bill run


def transfer_run_of_bill_run(run):
    """Hook (``billing.hooks.register_run_started``): a bill run that starts while the
    parameter asks for it gets its transfer run, which its books fill."""
    rules = DepositRules.from_params()
    if rules.after_bill_run:
        transfer = _start(
            run.started_by, run.zone_id, TransferTrigger.BILL_RUN, timezone.now(), rules, run
        )
        journal.record(
            transfer,
            AuditAction.CREATE,
            None,
            {"bill_run": run.pk, "partial": transfer.partial, "overdraft": str(transfer.overdraft)},
            verb="start_deposit_transfer",
            actor=run.started_by,
        )


def transfer_after_bills(actor, customer_ids, run_book):
    """Hook (``billing.hooks.register_bills_written``): pay a book's new bills from its
    customers' deposits, in the book's transaction (the accounts are locked already)."""
    run = TransferRun.objects.filter(bill_run_id=run_book.run_id).first()
    if run is None:
        return
    rules = DepositRules(partial_cover=run.partial, overdraft_limit=run.overdraft)
    for start in range(0, len(customer_ids), CHUNK):
        _transfer_chunk(run, actor, customer_ids[start : start + CHUNK], rules, timezone.now())
    TransferRun.objects.filter(pk=run.pk).update(
        looked_at=F("looked_at") + len(customer_ids), finished_at=timezone.now()
    )


# ------------------------------------------------------------------------- undo


def bills_paid(in_entry_ids):
    """{transfer-in entry id: [(bill, amount)]}: the bills each transfer paid (or paid part
    of; a late fee counts for its bill), oldest first, in three queries for any number of
    transfers (a run's report reads them a chunk at a time)."""
    paid = {}
    for credit_id, debit_id, amount in bulk.filter_ids(
        Allocation.objects.filter(made_by_id=F("credit_id")), "credit_id", in_entry_ids
    ).values_list("credit_id", "debit_id", "amount"):
        paid.setdefault(credit_id, {})[debit_id] = amount
    debit_ids = sorted({d for amounts in paid.values() for d in amounts})
    bills = {
        bill.entry_id: bill for bill in bulk.filter_ids(Bill.objects.all(), "entry_id", debit_ids)
    }
    for charge in bulk.filter_ids(
        LateFeeCharge.objects.select_related("bill"), "entry_id", debit_ids
    ):
        bills[charge.entry_id] = charge.bill
    result = {}
    for in_entry_id, amounts in paid.items():
        by_bill = {}
        for debit_id, amount in amounts.items():
            bill = bills.get(debit_id)
            if bill is not None:
                by_bill.setdefault(bill.pk, [bill, ZERO])[1] += amount
        rows = sorted(by_bill.values(), key=lambda row: (row[0].due_on, row[0].month, row[0].pk))
        result[in_entry_id] = [(bill, amount) for bill, amount in rows]
    return result


def transfer_bills(transfer):
    """The bills ``transfer`` paid, with what it paid on each: [(bill, amount)], oldest first."""
    return bills_paid([transfer.in_entry_id]).get(transfer.in_entry_id, [])


def undo_problem(transfer):
    """Why ``transfer`` cannot be undone (None: it can): undone already, or a live invoice
    covers one of its bills."""
    if TransferUndo.objects.filter(transfer=transfer).exists():
        return _("This transfer was undone already.")
    bills = [bill.pk for bill, _amount in transfer_bills(transfer)]
    invoiced = sorted({row.invoice.display_number for row in live_rows(bills).values()})
    if invoiced:
        return _(
            "Invoice %(numbers)s covers bills this transfer paid: void it first (Invoices › "
            "the invoice › Void), then undo the transfer."
        ) % {"numbers": ", ".join(invoiced)}
    return None


@transaction.atomic
def undo_transfer(actor, transfer, reason, *, now=None):
    """Undo a deposit transfer (F4.4): its bills return to unpaid, the money to the deposit.
    Returns the :class:`TransferUndo`."""
    require(actor, "payments.undo_transfer")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the transfer is undone.")})
    if not DepositTransfer.objects.restrict(actor).filter(pk=transfer.pk).exists():
        raise PermissionDenied(_("This transfer is outside your scope."))
    now = now or timezone.now()
    today = timezone.localdate(now)
    ledger.lock_accounts([transfer.customer_id])
    transfer = DepositTransfer.objects.get(pk=transfer.pk)
    problem = undo_problem(transfer)
    if problem:
        raise ValidationError(problem)
    words = _("Transfer #%(run)s undone: %(reason)s") % {"run": transfer.run_id, "reason": reason}
    entries = LedgerEntry.objects.in_bulk([transfer.in_entry_id, transfer.out_entry_id])
    ledger.reverse_entry(actor, entries[transfer.in_entry_id], words, today, now=now)
    ledger.reverse_entry(actor, entries[transfer.out_entry_id], words, today, now=now)
    undo = TransferUndo.objects.create(
        transfer=transfer, operator=actor, reason=reason[:200], at=now, business_date=today
    )
    journal.record(
        transfer,
        AuditAction.UPDATE,
        None,
        {"undo": undo.pk, "amount": str(transfer.amount)},
        reason=reason,
        verb="undo_deposit_transfer",
        actor=actor,
    )
    return undo


def undo_run(actor, run, reason, *, now=None):
    """Undo every transfer of ``run`` that can be: each in its own transaction. Returns
    (transfers undone, [(transfer, why not)] of those that cannot be)."""
    require(actor, "payments.undo_transfer")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the transfer is undone.")})
    undone, kept = 0, []
    pending = (
        DepositTransfer.objects.restrict(actor)
        .filter(run=run, undo__isnull=True)
        .select_related("customer")
        .order_by("customer_id")
    )
    for transfer in pending.iterator(1000):
        try:
            undo_transfer(actor, transfer, reason, now=now)
        except ValidationError as exc:
            kept.append((transfer, " ".join(exc.messages)))
        else:
            undone += 1
    return undone, kept
