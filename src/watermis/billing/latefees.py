"""Late fees (滞纳金): what a bill owes for being paid late, and charging it (issue 6).

The rules (docs/late-fees.md; DOMAIN.md section 2):

- a bill's fee runs from the first day after ``due_on + grace_days`` (after the
  last charge's ``through`` date when it has been charged before) up to and
  including the "as of" date, on the bill's unpaid principal, at the daily rate;
- truncated, or rounded half up, to the fen;
- with the cap on, all late fees of a bill together never exceed the bill's
  amount (its principal);
- none for a customer paying by bank deduction, a low-income household, or a
  bill marked "no late fee".

:func:`late_fee` is the arithmetic alone (no database, no clock): it takes the
facts and returns a :class:`LateFee` that says how the amount was found.
:func:`arrears` reads a customer's open bills and what is due on them;
:func:`charge_late_fees` posts the fees to the ledger, idempotent for a date.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from watermis.core import journal
from watermis.core.models import AuditAction
from watermis.core.money import FEN, round_fen
from watermis.core.scoping import ensure_in_scope
from watermis.customers.models import Customer, PaymentMethod
from watermis.system.params import get_params

from . import ledger
from .bills import bills_owing
from .models import Allocation, Bill, EntryKind, LateFeeCharge

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)
ONE_DAY = datetime.timedelta(days=1)

TRUNCATE = "truncate"
HALF_UP = "half_up"
ROUNDINGS = (TRUNCATE, HALF_UP)

# Why a bill carries no late fee (the first that applies).
EXEMPT_BANK = "bank"
EXEMPT_LOW_INCOME = "low_income"
EXEMPT_BILL = "bill"
EXEMPTION_LABELS = {
    EXEMPT_BANK: gettext_lazy("pays by bank deduction"),
    EXEMPT_LOW_INCOME: gettext_lazy("low-income household"),
    EXEMPT_BILL: gettext_lazy("bill marked no late fee"),
}


@dataclass(frozen=True)
class LateFeeRules:
    """The late-fee parameters, read once per call site (:meth:`from_params`)."""

    daily_rate: Decimal
    grace_days: int
    cap_principal: bool = True
    rounding: str = TRUNCATE

    def __post_init__(self):
        if self.rounding not in ROUNDINGS:
            raise ValueError(f"rounding must be one of {ROUNDINGS}, not {self.rounding!r}")
        if self.daily_rate < 0 or self.grace_days < 0:
            raise ValueError("the daily rate and the grace days cannot be negative")

    PARAMS = (
        "late_fee.daily_rate",
        "late_fee.grace_days",
        "late_fee.cap_principal",
        "late_fee.rounding",
    )

    @classmethod
    def from_params(cls):
        """The rules as the administrator set them (system parameters ``late_fee.*``)."""
        return cls.from_values(get_params(*cls.PARAMS))

    @classmethod
    def from_values(cls, values):
        """The rules from ``get_params`` values that include :attr:`PARAMS` (a caller reading
        more parameters in the same query)."""
        return cls(
            daily_rate=values["late_fee.daily_rate"],
            grace_days=values["late_fee.grace_days"],
            cap_principal=values["late_fee.cap_principal"],
            rounding=values["late_fee.rounding"],
        )


def exemption(payment_method, low_income, bill_exempt):
    """Why no late fee is due ("" when one is): bank deduction, low income, or the bill's flag."""
    if payment_method == PaymentMethod.BANK:
        return EXEMPT_BANK
    if low_income:
        return EXEMPT_LOW_INCOME
    if bill_exempt:
        return EXEMPT_BILL
    return ""


@dataclass(frozen=True)
class LateFee:
    """A bill's late fee due as of a date, and how it was found.

    ``amount`` = ``principal`` × ``rate`` × ``days``, to the fen, then capped.
    ``accrues_from`` is the first day counted (or that will be counted);
    ``through`` the last one (the as-of date), None when no day counts.
    ``charged`` is what earlier charges on the bill came to; ``capped`` says
    the cap cut the amount; ``exempt`` names why nothing is due.
    """

    amount: Decimal
    days: int
    accrues_from: datetime.date
    through: datetime.date | None
    principal: Decimal
    rate: Decimal
    charged: Decimal = ZERO
    capped: bool = False
    exempt: str = ""

    def explain(self):
        """One line for a page: the arithmetic, or why there is none."""
        if self.exempt:
            return _("No late fee: %(why)s.") % {"why": EXEMPTION_LABELS[self.exempt]}
        if self.principal <= 0:
            return _("No late fee: nothing is unpaid.")
        if self.days == 0:
            return _("No late fee before %(date)s.") % {"date": self.accrues_from.isoformat()}
        text = _(
            "%(principal)s × %(rate)s per day × %(days)s days (%(start)s to %(end)s) = %(amount)s"
        ) % {
            "principal": self.principal,
            "rate": self.rate.normalize(),
            "days": self.days,
            "start": self.accrues_from.isoformat(),
            "end": self.through.isoformat(),
            "amount": self.amount,
        }
        if self.capped:
            text += " " + _("(capped: a bill's late fees never exceed its amount)")
        return text


def late_fee(
    principal,
    due_on,
    on,
    rules,
    *,
    bill_amount=None,
    charged=ZERO,
    charged_through=None,
    exempt="",
):
    """The late fee of one bill due as of ``on`` (pure: no database, no clock).

    ``principal``: the bill's unpaid amount; ``bill_amount``: the bill's amount
    (the cap; the principal when not given); ``charged``: late fees already
    charged on the bill, through ``charged_through``; ``exempt``: a reason from
    :func:`exemption`, or "".
    """
    principal = Decimal(principal)
    rate = Decimal(rules.daily_rate)
    accrues_from = due_on + datetime.timedelta(days=rules.grace_days + 1)
    if charged_through is not None and charged_through + ONE_DAY > accrues_from:
        accrues_from = charged_through + ONE_DAY
    facts = {"principal": principal, "rate": rate, "charged": charged, "exempt": exempt}
    if exempt or principal <= 0 or on < accrues_from:
        return LateFee(amount=ZERO, days=0, accrues_from=accrues_from, through=None, **facts)
    days = (on - accrues_from).days + 1
    raw = principal * rate * days
    amount = (
        raw.quantize(FEN, rounding=ROUND_DOWN) if rules.rounding == TRUNCATE else round_fen(raw)
    )
    capped = False
    if rules.cap_principal:
        room = max((principal if bill_amount is None else Decimal(bill_amount)) - charged, ZERO)
        if amount > room:
            amount, capped = room, True
    return LateFee(
        amount=amount, days=days, accrues_from=accrues_from, through=on, capped=capped, **facts
    )


# --------------------------------------------------------------- a customer's arrears


@dataclass(frozen=True)
class ArrearsLine:
    """One bill with something to pay: its open principal, the late fees charged on it and
    still unpaid, and the late fee due as of the date (not charged yet)."""

    bill: Bill
    principal: Decimal
    fee: LateFee
    fee_charged: Decimal = ZERO
    fee_open: Decimal = ZERO
    fee_entries: tuple = ()  # (late-fee entry id, open amount) of the charges not paid, oldest first

    @property
    def total(self):
        return self.principal + self.fee_open + self.fee.amount


@dataclass(frozen=True)
class Arrears:
    """What a customer owes on its bills as of ``on`` (principal first, then late fees)."""

    customer_id: int
    on: datetime.date
    lines: tuple
    rules: LateFeeRules

    @property
    def principal(self):
        return sum((line.principal for line in self.lines), ZERO)

    @property
    def overdue(self):
        """The principal of the bills whose due date has passed."""
        return sum((line.principal for line in self.lines if line.bill.due_on < self.on), ZERO)

    @property
    def late_fee_open(self):
        """Late fees charged before and not paid yet."""
        return sum((line.fee_open for line in self.lines), ZERO)

    @property
    def late_fee_due(self):
        """Late fees due as of ``on`` that are not charged yet."""
        return sum((line.fee.amount for line in self.lines), ZERO)

    @property
    def late_fee(self):
        return self.late_fee_open + self.late_fee_due

    @property
    def total(self):
        return self.principal + self.late_fee


def _charges(customer_ids):
    """Every late-fee charge of these customers not reversed, with what is paid of it, by
    bill and date. Most customers were never charged one: a light look first spares them
    the query that sums the payments (Django takes milliseconds to build it)."""
    rows = LateFeeCharge.objects.filter(bill__customer_id__in=customer_ids)
    if not rows.exists():
        return []
    paid = (
        Allocation.objects.filter(debit_id=OuterRef("entry_id"))
        .order_by()
        .values("debit_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        rows.filter(entry__reversed_by__isnull=True)
        .annotate(
            paid=Coalesce(Subquery(paid, output_field=MONEY), Value(ZERO), output_field=MONEY)
        )
        .select_related("bill")
        .order_by("bill_id", "through", "id")
    )


def arrears_for(customer_ids, on, rules=None, customers=None):
    """:class:`Arrears` of each customer as of ``on``, in four queries whatever the number
    of customers and bills: the customers, their open bills, whether any late fee was ever
    charged them and, if so, those charges.
    ``customers``: the customer objects when the caller has them (one query less)."""
    rules = rules or LateFeeRules.from_params()
    customer_ids = list(customer_ids)
    if customers is not None:
        facts = {c.pk: (c.payment_method, c.low_income) for c in customers}
    else:
        facts = {
            pk: (method, low)
            for pk, method, low in Customer.objects.filter(pk__in=customer_ids).values_list(
                "pk", "payment_method", "low_income"
            )
        }
    bills = bills_owing(customer_ids)
    charged, charged_through, fee_open, fee_bills, fee_entries = {}, {}, {}, {}, {}
    for charge in _charges(customer_ids):
        bill_id = charge.bill_id
        charged[bill_id] = charged.get(bill_id, ZERO) + charge.amount
        if charged_through.get(bill_id) is None or charge.through > charged_through[bill_id]:
            charged_through[bill_id] = charge.through
        left = charge.amount - charge.paid.quantize(FEN)
        if left > 0:
            fee_open[bill_id] = fee_open.get(bill_id, ZERO) + left
            fee_bills[bill_id] = charge.bill
            fee_entries.setdefault(bill_id, []).append((charge.entry_id, left))
    lines = {pk: [] for pk in customer_ids}
    open_ids = set()
    for bill in bills:
        open_ids.add(bill.pk)
        method, low = facts.get(bill.customer_id, ("", False))
        principal = bill.open_amount.quantize(FEN)  # SQLite sums decimals as floats
        fee = late_fee(
            principal,
            bill.due_on,
            on,
            rules,
            bill_amount=bill.amount,
            charged=charged.get(bill.pk, ZERO),
            charged_through=charged_through.get(bill.pk),
            exempt=exemption(method, low, bill.late_fee_exempt),
        )
        lines[bill.customer_id].append(
            ArrearsLine(
                bill=bill,
                principal=principal,
                fee=fee,
                fee_charged=charged.get(bill.pk, ZERO),
                fee_open=fee_open.get(bill.pk, ZERO),
                fee_entries=tuple(fee_entries.get(bill.pk, ())),
            )
        )
    for bill_id, bill in fee_bills.items():
        if bill_id in open_ids:
            continue
        # the bill is paid but a late fee charged on it is not
        fee = LateFee(
            amount=ZERO,
            days=0,
            accrues_from=charged_through[bill_id] + ONE_DAY,
            through=None,
            principal=ZERO,
            rate=rules.daily_rate,
            charged=charged[bill_id],
        )
        lines[bill.customer_id].append(
            ArrearsLine(
                bill=bill,
                principal=ZERO,
                fee=fee,
                fee_charged=charged[bill_id],
                fee_open=fee_open[bill_id],
                fee_entries=tuple(fee_entries[bill_id]),
            )
        )
    return {
        pk: Arrears(
            customer_id=pk,
            on=on,
            rules=rules,
            lines=tuple(sorted(rows, key=lambda line: _bill_order(line.bill))),
        )
        for pk, rows in lines.items()
    }


def _bill_order(bill):
    return (bill.due_on, bill.month, bill.pk)


def arrears(customer_id, on, rules=None, customer=None):
    """A customer's open bills as of ``on``: for each the open principal, the late fees
    charged and unpaid, the late fee due (explained); and the totals."""
    customers = [customer] if customer is not None else None
    return arrears_for([customer_id], on, rules, customers=customers)[customer_id]


# --------------------------------------------------------------- charging


def late_fee_reason(bill, fee):
    """The reason a charged late fee's ledger entry gives (month, days, dates)."""
    return _("Late fee on the %(month)s bill: %(days)s days, %(start)s to %(end)s") % {
        "month": f"{bill.month:%Y-%m}",
        "days": fee.days,
        "start": fee.accrues_from.isoformat(),
        "end": fee.through.isoformat(),
    }


@transaction.atomic
def charge_late_fees(actor, customer, on, bills=None, *, rules=None, now=None):
    """Charge the late fees due as of ``on`` (all open bills, or only ``bills``): one
    LATE_FEE ledger entry and one :class:`LateFeeCharge` per bill with a fee above zero.

    Runs under the account lock, so two counters cannot charge the same days twice;
    charging again for the same date adds nothing (the next charge starts the day after
    the last one's ``through``). Each charge is journaled in the request's context.
    Returns the new charges.
    """
    ensure_in_scope(actor, customer, "view")
    ledger.lock_accounts([customer.pk])
    wanted = None
    if bills is not None:
        wanted = {getattr(bill, "pk", bill) for bill in bills}
        if Bill.objects.filter(pk__in=wanted).exclude(customer_id=customer.pk).exists():
            raise ValidationError(
                {"bills": _("A late fee is charged only on the customer's own bills.")}
            )
    rules = rules or LateFeeRules.from_params()
    due = arrears(customer.pk, on, rules)
    created = []
    for line in due.lines:
        fee = line.fee
        if fee.amount <= 0 or (wanted is not None and line.bill.pk not in wanted):
            continue
        reason = late_fee_reason(line.bill, fee)
        entry = ledger.post_entry(
            actor,
            customer,
            EntryKind.LATE_FEE,
            fee.amount,
            business_date=on,
            period=line.bill.month,
            reason=reason,
            now=now,
        ).entry
        created.append(
            LateFeeCharge.objects.create(
                bill=line.bill,
                entry=entry,
                accrues_from=fee.accrues_from,
                through=fee.through,
                days=fee.days,
                principal=fee.principal,
                daily_rate=fee.rate,
                amount=fee.amount,
            )
        )
    now = created[0].entry.posted_at if created else None
    journal.record_many(
        [
            journal.build_entry(
                charge,
                AuditAction.CREATE,
                after=journal.snapshot(charge),
                reason=charge.entry.reason,
                verb="late_fee",
                at=now,
                actor=actor,
            )
            for charge in created
        ]
    )
    return created
