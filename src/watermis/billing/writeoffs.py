"""Bad-debt write-offs (F3.21): a clerk asks, a different manager approves, then the ledger.

A write-off takes up to a bill's open amount off what the customer owes. The
request names the bill, the amount and why; one request per bill waits at a
time (a database constraint). Approval re-reads the open amount under the
account's lock and posts a ``write_off`` credit that settles exactly that bill
(``ledger.post_entry(..., settle=[bill.entry])``); the bill's status becomes
"written off" once nothing is open and part was written off
(:func:`watermis.billing.bills.with_status`). Nothing is deleted: a rejected
request stays, with who decided and why.

:func:`bad_debts` sums approved write-offs by zone and month (the month their
entry was posted in) for the bad-debt report (F8.6).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.core import journal
from watermis.core.scoping import ensure_in_scope

from . import approvals, ledger
from .corrections import (
    bill_with_status,
    clean_amount,
    clean_reason,
    open_billing_month,
    require,
)
from .models import BillKind, BillState, EntryKind, WriteOff, WriteOffState

ZERO = Decimal("0.00")


def write_off_problem(bill):
    """Why ``bill`` (annotated by ``with_status``) cannot be written off, or None."""
    if bill.kind == BillKind.RED:
        return _("A red bill is a credit: there is nothing to write off.")
    if bill.state == BillState.CANCELLED:
        return _("This bill is cancelled: there is nothing to write off.")
    if bill.entry_id is None or bill.open_amount <= 0:
        return _("Nothing is open on this bill: it is paid, written off or of zero amount.")
    return None


def _now(now):
    return now or timezone.now()


@transaction.atomic
def request_write_off(actor, bill, amount, reason, now=None):
    """Ask for a write-off of ``amount`` (at most the bill's open amount) of ``bill``."""
    require(actor, "billing.add_writeoff")
    ensure_in_scope(actor, bill, "view")
    amount = clean_amount(amount)
    reason = clean_reason(reason, _("Say why the bill cannot be collected."))
    ledger.lock_accounts([bill.customer_id])
    bill = bill_with_status(bill)
    problem = write_off_problem(bill)
    if problem:
        raise ValidationError(problem)
    if amount > bill.open_amount:
        raise ValidationError(
            {
                "amount": _("At most the bill's open amount, %(open)s, can be written off.")
                % {"open": bill.open_amount}
            }
        )
    if WriteOff.objects.filter(bill=bill, state=WriteOffState.REQUESTED).exists():
        raise ValidationError(_("A write-off of this bill is already awaiting approval."))
    write_off = WriteOff(
        bill=bill,
        zone_id=bill.zone_id,
        amount=amount,
        reason=reason,
        requested_by=actor,
        requested_at=_now(now),
    )
    try:
        with transaction.atomic():
            journal.create_object(write_off, reason, actor=actor)
    except IntegrityError:
        raise ValidationError(_("A write-off of this bill is already awaiting approval.")) from None
    return write_off


@transaction.atomic
def approve_write_off(actor, write_off, note="", now=None):
    """Approve a requested write-off: post the ``write_off`` credit against its bill."""
    require(actor, "billing.approve_writeoff")
    write_off = approvals.locked(write_off)
    ensure_in_scope(actor, write_off, "approve")
    approvals.check_undecided(write_off, _("This write-off has been decided already (%(state)s)."))
    approvals.check_other_person(
        actor, write_off, _("You asked for this write-off: another manager must approve it.")
    )
    bill = bill_with_status(write_off.bill)
    problem = write_off_problem(bill)
    if problem:
        raise ValidationError(problem)
    if write_off.amount > bill.open_amount:
        raise ValidationError(
            _(
                "Only %(open)s is still open on this bill, less than the %(amount)s asked "
                "for: reject this request and ask again."
            )
            % {"open": bill.open_amount, "amount": write_off.amount}
        )
    now = _now(now)
    today = timezone.localdate(now)
    posted = ledger.post_entry(
        actor,
        bill.customer,
        EntryKind.WRITE_OFF,
        write_off.amount,
        business_date=today,
        period=open_billing_month(bill.zone_id, today),
        reason=_("Write-off of bill %(bill)s: %(reason)s")
        % {"bill": bill.pk, "reason": write_off.reason},
        settle=[bill.entry],
        now=now,
    )
    return approvals.record_decision(
        actor,
        write_off,
        WriteOffState.APPROVED,
        note,
        now,
        "approve_write_off",
        entry=posted.entry,
    )


@transaction.atomic
def reject_write_off(actor, write_off, note, now=None):
    """Refuse a requested write-off, saying why; nothing is posted."""
    require(actor, "billing.approve_writeoff")
    note = clean_reason(note, _("Say why the write-off is rejected."), field="note")
    write_off = approvals.locked(write_off)
    ensure_in_scope(actor, write_off, "approve")
    approvals.check_undecided(write_off, _("This write-off has been decided already (%(state)s)."))
    return approvals.record_decision(
        actor, write_off, WriteOffState.REJECTED, note, _now(now), "reject_write_off"
    )


def bad_debts(queryset=None, *, zone=None, month_from=None, month_to=None):
    """Approved write-offs summed by zone and month (F8.6), oldest month first.

    ``queryset``: write-offs to start from (a restricted or filtered one);
    ``month_from``/``month_to``: first days of months, inclusive. The month is
    the billing month the write-off's ledger entry was posted in; a reversed
    write-off entry does not count. Rows: ``zone_id``, ``zone_name``,
    ``month``, ``count``, ``amount``.
    """
    queryset = WriteOff.objects.all() if queryset is None else queryset
    queryset = queryset.filter(
        state=WriteOffState.APPROVED, entry__isnull=False, entry__reversed_by__isnull=True
    )
    if zone is not None:
        queryset = queryset.filter(zone=zone)
    if month_from is not None:
        queryset = queryset.filter(entry__period__gte=month_from)
    if month_to is not None:
        queryset = queryset.filter(entry__period__lte=month_to)
    rows = (
        queryset.order_by()
        .values("zone_id", "zone__name", "entry__period")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("entry__period", "zone__name", "zone_id")
    )
    return [
        {
            "zone_id": row["zone_id"],
            "zone_name": row["zone__name"],
            "month": row["entry__period"],
            "count": row["count"],
            "amount": row["amount"] or ZERO,
        }
        for row in rows
    ]
