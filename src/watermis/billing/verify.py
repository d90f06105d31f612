"""Proving the books: every account, entry and allocation adds up (issue 6, DESIGN.md).

:func:`verify_books` returns the problems found (an empty list: the books are
right); ``manage.py verify`` prints them and fails when there are any. The test
suite runs it after every money test.
"""

from decimal import Decimal

from django.apps import apps
from django.db.models import Case, DecimalField, Exists, F, OuterRef, Q, Sum, When
from django.db.models.functions import Round

from .models import (
    DEPOSIT_POT,
    IN_DEPOSIT,
    Account,
    Allocation,
    Direction,
    EntryKind,
    LedgerEntry,
)

ZERO = Decimal("0.00")
SIGNED = Case(
    When(direction=Direction.CREDIT, then=F("amount")),
    default=-F("amount"),
    output_field=DecimalField(max_digits=16, decimal_places=2),
)


def _fen(value):
    """SQLite keeps decimals as binary floats, so its sums carry float noise: compare to the fen."""
    return Decimal(value).quantize(ZERO)


def _account_problems(limit):
    """Each account's ``balance`` is the sum of its bill-account entries, its ``deposit``
    the sum of its deposit entries."""
    problems = []
    sums = {}
    for customer_id, in_deposit, total in (
        LedgerEntry.objects.annotate(pot=Case(When(IN_DEPOSIT, then=True), default=False))
        .values("customer_id", "pot")
        .annotate(total=Sum(SIGNED))
        .values_list("customer_id", "pot", "total")
    ):
        sums.setdefault(customer_id, [ZERO, ZERO])[1 if in_deposit else 0] = _fen(total)
    cached = {
        pk: [_fen(balance), _fen(deposit)]
        for pk, balance, deposit in Account.objects.values_list("customer_id", "balance", "deposit")
    }
    for customer_id in sorted(set(sums) | set(cached)):
        entries, account = sums.get(customer_id, [ZERO, ZERO]), cached.get(customer_id)
        if account is None:
            problems.append(
                f"customer {customer_id}: entries total {entries[0]:.2f} but no account"
            )
            continue
        for name, have, want in zip(("balance", "deposit"), account, entries, strict=True):
            if have != want:
                problems.append(
                    f"customer {customer_id}: cached {name} {have:.2f} != entries total {want:.2f}"
                )
        if len(problems) >= limit:
            break
    return problems


def _deposit_problems(limit):
    """Deposit entries are never allocated; an allocation never joins the two pots."""
    bad = Allocation.objects.filter(
        Q(credit__kind__in=DEPOSIT_POT) | Q(debit__kind__in=DEPOSIT_POT)
    ).values_list("pk", flat=True)[:limit]
    return [f"allocation {pk}: a deposit entry is allocated" for pk in bad]


def _allocation_problems(limit):
    problems = []
    for side, direction in (("debit", Direction.DEBIT), ("credit", Direction.CREDIT)):
        related = "allocations_in" if side == "debit" else "allocations_out"
        over = (
            # rounded to the fen: SQLite sums decimals as floats (0.1 + 0.2 > 0.3)
            LedgerEntry.objects.annotate(used=Round(Sum(f"{related}__amount"), 2))
            .filter(Q(used__gt=F("amount")) | Q(used__lt=0))
            .values_list("pk", "amount", "used")[:limit]
        )
        problems += [f"entry {pk}: {amount} allocated {used}" for pk, amount, used in over]
        wrong = Allocation.objects.exclude(**{f"{side}__direction": direction})
        wrong = wrong.exclude(**{f"{side}__kind": EntryKind.REVERSAL})
        problems += [
            f"allocation {pk}: {side} side is not a {side}"
            for pk in wrong.values_list("pk", flat=True)[:limit]
        ]
    crossed = Allocation.objects.exclude(credit__customer_id=F("debit__customer_id"))
    problems += [
        f"allocation {pk}: between two customers"
        for pk in crossed.values_list("pk", flat=True)[:limit]
    ]
    return problems


def _reversal_problems(limit):
    bad = LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).filter(
        Q(reverses__isnull=True)
        | ~Q(amount=F("reverses__amount"))
        | Q(direction=F("reverses__direction"))
        | ~Q(customer_id=F("reverses__customer_id"))
    )
    return [
        f"reversal {pk} does not mirror its entry"
        for pk in bad.values_list("pk", flat=True)[:limit]
    ]


MONEY_APPS = ("billing", "payments")


def unchecked_references():
    """(model, field) of every reference of the money apps the database does not check
    (``db_constraint=False``: billing's bulk tables, the bank batch lines)."""
    return [
        (model, field)
        for model in apps.get_models()
        if model._meta.app_label in MONEY_APPS
        for field in model._meta.concrete_fields
        if field.is_relation and not field.db_constraint
    ]


def _reference_problems(limit):
    """Every reference the database does not check itself leads to an existing row: one
    anti-join per reference."""
    problems = []
    for model, field in unchecked_references():
        target = field.related_model
        # NOT EXISTS, not NOT IN: PostgreSQL turns it into an anti-join (NOT IN with
        # a million ids outgrows work_mem and probes the sub-query row by row).
        exists = Exists(target._base_manager.filter(pk=OuterRef(field.attname)))
        orphans = (
            model._base_manager.exclude(**{f"{field.attname}__isnull": True})
            .filter(~exists)
            .order_by("pk")
            .values_list("pk", field.attname)[:limit]
        )
        problems += [
            f"{model._meta.model_name} {pk}: {field.name} {ref} does not exist"
            for pk, ref in orphans
        ]
    return problems


def _company_problems():
    entries = _fen(LedgerEntry.objects.aggregate(t=Sum(SIGNED))["t"] or ZERO)
    totals = Account.objects.aggregate(b=Sum("balance"), d=Sum("deposit"))
    accounts = _fen(totals["b"] or ZERO) + _fen(totals["d"] or ZERO)
    problems = []
    if entries != accounts:
        problems.append(f"company: entries total {entries:.2f} != accounts total {accounts:.2f}")
    return problems


def verify_books(limit=100):
    """Every problem found in the ledger (at most ``limit`` of each kind)."""
    return [
        *_account_problems(limit),
        *_allocation_problems(limit),
        *_deposit_problems(limit),
        *_reversal_problems(limit),
        *_reference_problems(limit),
        *_company_problems(),
    ]


__all__ = ["verify_books"]
