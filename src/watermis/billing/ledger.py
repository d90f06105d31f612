"""Posting to the customer ledger: the only code that writes entries, allocations and balances.

Rules (DESIGN.md "Money and the ledger", STYLE.md 5–8):

- accounts are locked in one place, :func:`lock_accounts`, always in primary-key
  order, so concurrent posts cannot deadlock; the cached balance changes only
  under that lock, in the transaction that writes the entry;
- an external payment carries ``(channel, external_key)``, unique: a repeated
  callback gets the first entry back instead of paying twice;
- credits settle debits: a new credit pays the named debits first, then the
  oldest open ones; a new debit is paid from open credit at once. So a bill
  account never has open credit and open debits together;
- the prepaid deposit (``DEPOSIT_POT``: deposits, transfers out) is a pot of its own:
  its entries move ``Account.deposit``, never ``balance``, and are never allocated;
  deposit money reaches the bills only through a transfer (``payments.deposits``);
- nothing is edited: :func:`reverse_entry` posts the opposite entry and cancels
  the reversed entry's allocations with negative ones;
- bulk paths (bill runs, :func:`pay_in_bulk`) keep the same rules set-based: accounts
  locked in primary-key order by :func:`lock_balances`, balances set from the locked
  values in the same transaction.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.core import bulk
from watermis.core.journal import saved_operator
from watermis.core.money import has_places
from watermis.customers.models import Customer

from .models import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    DEPOSIT_POT,
    Account,
    Allocation,
    Direction,
    EntryKind,
    LedgerEntry,
)

ZERO = Decimal("0.00")

ENTRY_COLUMNS = (
    "id",
    "customer_id",
    "zone_id",
    "kind",
    "direction",
    "amount",
    "posted_at",
    "business_date",
    "period",
    "posted_by_id",
    "unit_id",
    "reason",
    "reverses_id",
    "channel",
    "external_key",
)
ALLOCATION_COLUMNS = ("id", "credit_id", "debit_id", "amount", "made_by_id")


def lock_accounts(customer_ids):
    """The accounts of these customers, created when missing, locked in primary-key order.

    One query when every account exists (the usual case: the lock itself)."""
    ids = sorted(set(customer_ids))
    locked = {
        account.pk: account
        for account in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    if len(locked) == len(ids):
        return locked
    have = set(locked)
    missing = [i for i in ids if i not in have]
    if missing:
        zones = dict(Customer.objects.filter(pk__in=missing).values_list("pk", "zone_id"))
        Account.objects.bulk_create(
            [Account(customer_id=i, zone_id=zones[i]) for i in missing], ignore_conflicts=True
        )
    locked = Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {account.pk: account for account in locked}


def lock_balances(customer_ids, zones):
    """The bulk form of :func:`lock_accounts`: create missing accounts (``zones``: customer →
    zone), lock them in primary-key order, return their balances. One query when every
    account exists (the usual case)."""
    locked = bulk.filter_ids(Account.objects.all(), "customer_id", customer_ids).order_by("pk")
    if connection.features.has_select_for_update:
        locked = locked.select_for_update()
    balances = dict(locked.values_list("pk", "balance"))
    missing = [c for c in customer_ids if c not in balances]
    if missing:
        now = timezone.now()
        bulk.write_rows(
            Account._meta.db_table,
            ["customer_id", "zone_id", "balance", "deposit", "updated_at"],
            [(c, zones[c], ZERO, ZERO, now) for c in missing],
        )
        balances = dict(locked.values_list("pk", "balance"))
    return balances


def direction_of(kind):
    if kind in DEBIT_KINDS:
        return Direction.DEBIT
    if kind in CREDIT_KINDS:
        return Direction.CREDIT
    raise ValueError(f"{kind!r} has no fixed direction")


def _check_amount(amount):
    if amount is None or amount <= 0 or not has_places(amount, 2):
        raise ValidationError(
            {"amount": _("An amount is above zero with at most two decimals (fen).")}
        )


def open_entries(customer_id, direction):
    """The bill account's entries of ``direction`` not yet fully allocated, oldest first,
    as (entry, open amount). Reversals, reversed entries and the deposit's entries are
    never open."""
    related = "allocations_in" if direction == Direction.DEBIT else "allocations_out"
    rows = (
        LedgerEntry.objects.filter(customer_id=customer_id, direction=direction)
        .exclude(kind__in=(EntryKind.REVERSAL, *DEPOSIT_POT))
        .filter(reversed_by__isnull=True)
        .annotate(used=Sum(f"{related}__amount"))
        .order_by("business_date", "id")
    )
    result = []
    for entry in rows:
        remaining = entry.amount - (entry.used or ZERO)
        if remaining > 0:
            result.append((entry, remaining))
    return result


def _allocate(entry, targets, made_by):
    """Allocate ``entry`` against ``targets`` [(other entry, open amount)] until it is used up."""
    remaining = entry.amount - _allocated(entry)
    rows = []
    for other, open_amount in targets:
        if remaining <= 0:
            break
        amount = min(remaining, open_amount)
        credit, debit = (entry, other) if entry.direction == Direction.CREDIT else (other, entry)
        rows.append(Allocation(credit=credit, debit=debit, amount=amount, made_by=made_by))
        remaining -= amount
    Allocation.objects.bulk_create(rows)
    return rows


def _allocated(entry):
    field = "credit" if entry.direction == Direction.CREDIT else "debit"
    total = Allocation.objects.filter(**{field: entry}).aggregate(s=Sum("amount"))["s"]
    return total or ZERO


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    repeated: bool = False  # the external key was posted before: this is the first entry


@transaction.atomic
def post_entry(
    actor,
    customer,
    kind,
    amount,
    *,
    business_date,
    reason="",
    period=None,
    unit=None,
    channel="",
    external_key="",
    settle=(),
    now=None,
):
    """Post one entry to a customer's account and allocate it. Returns :class:`Posted`.

    ``settle``: for a credit, the debit entries to pay first (in that order).
    ``channel`` + ``external_key``: idempotent intake of outside payments.
    """
    _check_amount(amount)
    direction = direction_of(kind)
    if external_key:
        first = LedgerEntry.objects.filter(channel=channel, external_key=external_key).first()
        if first is not None:
            return Posted(first, repeated=True)
    accounts = lock_accounts([customer.pk])
    entry = LedgerEntry(
        customer=customer,
        zone_id=customer.zone_id,
        kind=kind,
        direction=direction,
        amount=amount,
        posted_at=now or timezone.now(),
        business_date=business_date,
        period=period,
        posted_by=saved_operator(actor),
        unit=unit if unit is not None else getattr(actor, "unit", None),
        reason=(reason or "")[:200],
        channel=channel,
        external_key=external_key,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError:
        if not external_key:
            raise
        first = LedgerEntry.objects.get(channel=channel, external_key=external_key)
        return Posted(first, repeated=True)
    account = accounts[customer.pk]
    if kind in DEPOSIT_POT:
        Account.objects.filter(pk=account.pk).update(deposit=F("deposit") + entry.signed)
        return Posted(entry)
    Account.objects.filter(pk=account.pk).update(balance=F("balance") + entry.signed)
    if direction == Direction.CREDIT:
        named = []
        for debit in settle:
            if debit.customer_id != customer.pk or debit.direction != Direction.DEBIT:
                raise ValidationError(_("A payment settles only this customer's bills."))
            left = debit.amount - _allocated(debit)
            if left > 0 and debit.kind != EntryKind.REVERSAL:
                named.append((debit, left))
        chosen = {d.pk for d, _left in named}
        rest = [
            (d, left)
            for d, left in open_entries(customer.pk, Direction.DEBIT)
            if d.pk not in chosen
        ]
        _allocate(entry, [*named, *rest], entry)
    else:
        _allocate(entry, open_entries(customer.pk, Direction.CREDIT), entry)
    return Posted(entry)


@dataclass(eq=False)
class Posting:
    """One entry of :func:`post_batch`: its kind and amount, and for a credit the debits it
    settles, in order: ``settle`` = [(debit, amount)], a debit being an existing entry (or
    its id) or an earlier :class:`Posting` of the same batch. ``entry`` is set once posted."""

    kind: str
    amount: Decimal
    period: object = None
    reason: str = ""
    channel: str = ""
    settle: list = field(default_factory=list)
    entry: LedgerEntry | None = None


def _debit_id(debit):
    if isinstance(debit, Posting):
        if debit.entry is None:
            raise ValueError("a posting settles only postings listed before it")
        return debit.entry.pk
    return getattr(debit, "pk", debit)


def post_batch(actor, customer, postings, *, business_date, now=None, unit=None):
    """Post several entries of one account and their allocations in a few queries (the
    counter's hot path): one insert of the entries, one of the allocations, one update of
    the balance. Returns the entries, in the order of ``postings``.

    The caller holds the account's lock (:func:`lock_accounts`) and has read the open
    amounts under it: a credit settles exactly the (debit, amount) pairs it names, so
    the caller keeps the ledger's rules (named debits first, then the oldest open ones;
    never open credit beside open debits). ``verify`` proves the result.
    """
    now = now or timezone.now()
    entries = []
    for posting in postings:
        _check_amount(posting.amount)
        direction = direction_of(posting.kind)
        if posting.settle and (direction != Direction.CREDIT or posting.kind in DEPOSIT_POT):
            raise ValueError("only a credit of the bill account settles debits in a batch")
        entries.append(
            LedgerEntry(
                customer=customer,
                zone_id=customer.zone_id,
                kind=posting.kind,
                direction=direction,
                amount=posting.amount,
                posted_at=now,
                business_date=business_date,
                period=posting.period,
                posted_by=saved_operator(actor),
                unit=unit if unit is not None else getattr(actor, "unit", None),
                reason=(posting.reason or "")[:200],
                channel=posting.channel,
            )
        )
    if connection.features.can_return_rows_from_bulk_insert:
        LedgerEntry.objects.bulk_create(entries)
    else:  # SQLite before 3.35 (Debian 12's Python) returns no ids from a bulk insert
        for entry in entries:
            entry.save(force_insert=True)
    allocations = []
    for posting, entry in zip(postings, entries, strict=True):
        posting.entry = entry
        used = ZERO
        for debit, amount in posting.settle:
            if amount <= 0:
                continue
            used += amount
            allocations.append(
                Allocation(
                    credit_id=entry.pk,
                    debit_id=_debit_id(debit),
                    amount=amount,
                    made_by_id=entry.pk,
                )
            )
        if used > entry.amount:
            raise ValueError(f"a {posting.kind} of {entry.amount} cannot settle {used}")
    if allocations:
        Allocation.objects.bulk_create(allocations)
    bills = sum((e.signed for e in entries if e.kind not in DEPOSIT_POT), ZERO)
    deposit = sum((e.signed for e in entries if e.kind in DEPOSIT_POT), ZERO)
    if bills or deposit:
        Account.objects.filter(pk=customer.pk).update(
            balance=F("balance") + bills, deposit=F("deposit") + deposit
        )
    return entries


@transaction.atomic
def reverse_entry(actor, entry, reason, business_date, now=None):
    """Undo a posted entry with its opposite; its allocations are cancelled, then the
    account's open credits and debits settle each other again. Returns the reversal."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the entry is reversed.")})
    lock_accounts([entry.customer_id])
    entry = LedgerEntry.objects.get(pk=entry.pk)
    if entry.kind == EntryKind.REVERSAL:
        raise ValidationError(_("A reversal cannot be reversed; post a new entry instead."))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("This entry has been reversed already."))
    opposite = Direction.DEBIT if entry.direction == Direction.CREDIT else Direction.CREDIT
    reversal = LedgerEntry.objects.create(
        customer_id=entry.customer_id,
        zone_id=entry.zone_id,
        kind=EntryKind.REVERSAL,
        direction=opposite,
        amount=entry.amount,
        posted_at=now or timezone.now(),
        business_date=business_date,
        period=entry.period,
        posted_by=saved_operator(actor),
        unit=getattr(actor, "unit", None),
        reason=reason.strip()[:200],
        reverses=entry,
    )
    if entry.kind in DEPOSIT_POT:  # never allocated
        Account.objects.filter(pk=entry.customer_id).update(deposit=F("deposit") + reversal.signed)
        return reversal
    field = "credit" if entry.direction == Direction.CREDIT else "debit"
    pairs = (
        Allocation.objects.filter(**{field: entry})
        .values("credit_id", "debit_id")
        .annotate(total=Sum("amount"))
    )
    Allocation.objects.bulk_create(
        [
            Allocation(
                credit_id=p["credit_id"],
                debit_id=p["debit_id"],
                amount=-p["total"],
                made_by=reversal,
            )
            for p in pairs
            if p["total"]
        ]
    )
    Account.objects.filter(pk=entry.customer_id).update(balance=F("balance") + reversal.signed)
    settle_account(entry.customer_id, reversal)
    return reversal


def apply_open_credit(debits):
    """Pay new debit entries from their accounts' open credit (bulk-written bills; accounts
    locked by the caller), as :func:`post_entry` does for one debit."""
    for debit in debits.order_by("customer_id", "id"):
        credits = open_entries(debit.customer_id, Direction.CREDIT)
        if credits:
            _allocate(debit, credits, debit)


def settle_account(customer_id, made_by):
    """Pair the account's open credits with its open debits, oldest first (under its lock)."""
    for credit, _left in open_entries(customer_id, Direction.CREDIT):
        debits = open_entries(customer_id, Direction.DEBIT)
        if not debits:
            break
        rows = _allocate(credit, debits, made_by)
        if not rows:
            break


def balance_of(customer_id):
    """The bill account's cached balance (credit +, arrears −); 0 for an account with no
    entries."""
    value = Account.objects.filter(pk=customer_id).values_list("balance", flat=True).first()
    return value if value is not None else ZERO


def deposit_of(customer_id):
    """The prepaid deposit's cached balance; 0 for an account with no entries."""
    value = Account.objects.filter(pk=customer_id).values_list("deposit", flat=True).first()
    return value if value is not None else ZERO


def prepaid_of(customer_id):
    """What the customer has paid ahead: the deposit and the bill account's open credit
    (what a printed document calls the prepaid balance, 预存余额)."""
    row = Account.objects.filter(pk=customer_id).values_list("balance", "deposit").first()
    if row is None:
        return ZERO
    return max(row[1], ZERO) + max(row[0], ZERO)


def pay_in_bulk(payments, reason):
    """Post many payments at once, each paying exactly one whole open debit (the demo's
    history; bulk intake). ``payments``: (debit entry id, customer id, zone id, amount,
    business date, posted at, billing month, channel[, external key]). Runs in the
    caller's transaction. Returns the new payment entries' ids, in the order of
    ``payments``."""
    if not payments:
        return []
    debits = {p[0] for p in payments}
    used = dict(
        bulk.filter_ids(Allocation.objects.all(), "debit_id", debits)
        .values("debit_id")
        .annotate(total=Sum("amount"))
        .values_list("debit_id", "total")
    )
    owed = {
        pk: (customer_id, amount)
        for pk, customer_id, amount in bulk.filter_ids(
            LedgerEntry.objects.filter(direction=Direction.DEBIT), "id", debits
        ).values_list("id", "customer_id", "amount")
    }
    for debit_id, customer_id, _zone, amount, *_rest in payments:
        debit_customer, debit_amount = owed.get(debit_id, (None, ZERO))
        if debit_customer != customer_id or debit_amount - (used.get(debit_id) or ZERO) != amount:
            raise ValidationError(
                _("Each payment of a bulk intake pays the whole open amount of its own bill.")
            )
    balances = lock_balances(sorted({p[1] for p in payments}), {p[1]: p[2] for p in payments})
    entry_ids = iter(bulk.reserve_ids(LedgerEntry, len(payments)))
    allocation_ids = iter(bulk.reserve_ids(Allocation, len(payments)))
    entries, allocations = [], []
    for debit_id, customer_id, zone_id, amount, day, posted_at, month, channel, *key in payments:
        entry_id = next(entry_ids)
        entries.append(
            (entry_id, customer_id, zone_id, EntryKind.PAYMENT.value, Direction.CREDIT.value)
            + (amount, posted_at, day, month, None, None, reason, None, channel, "".join(key))
        )
        allocations.append((next(allocation_ids), entry_id, debit_id, amount, entry_id))
        balances[customer_id] += amount
    bulk.write_rows(LedgerEntry._meta.db_table, ENTRY_COLUMNS, entries)
    bulk.write_rows(Allocation._meta.db_table, ALLOCATION_COLUMNS, allocations)
    bulk.update_column(Account, "balance", balances.items(), key="customer_id")
    return [row[0] for row in entries]
