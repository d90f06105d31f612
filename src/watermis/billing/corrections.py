"""Correcting a wrong bill (F3.22): cancel it in an open month, offset it with a red bill after.

- **Open month** (the bill's reading period is still open and nothing has been
  paid on it): :func:`cancel_bill` reverses the bill's ledger entry, marks the
  bill cancelled and its read unbilled, so the bill run can bill the read again.
- **Closed month, or a paid bill**: a red (negative) bill. A clerk asks
  (:func:`request_red_bill`) with a reason and an amount (the whole bill, or a
  part); a different manager approves (:func:`approve_red_bill`), which issues
  the red bill in the zone's open billing month with negative lines mirroring
  the wrong bill's, and posts a ``red_bill`` credit that settles the wrong
  bill first. On a paid bill the credit has nothing left to settle there: it
  pays the account's other open bills or stays as prepaid credit (the ledger
  does that by itself).

A bill can be reduced by red bills at most to zero; the part written off is
not owed and cannot be credited again.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.core import journal
from watermis.core.money import has_places, round_fen
from watermis.core.scoping import ensure_in_scope, ensure_zone_in_scope
from watermis.readings import services as reading_services
from watermis.readings.models import PeriodStatus, ReadingPeriod

from . import approvals, ledger
from .bills import with_status
from .models import (
    Bill,
    BillKind,
    BillLine,
    BillState,
    EntryKind,
    MonthEnd,
    RedBillRequest,
    WriteOffState,
)

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
VOLUME = Decimal("0.01")


def require(actor, perm):
    """Refuse (PermissionDenied) unless ``actor`` holds ``perm``; jobs (no actor) may."""
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def clean_amount(amount, field="amount"):
    """A positive amount of at most two decimals, as a Decimal (else a field error)."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        value = None
    if value is None or not value.is_finite() or value <= 0 or not has_places(value, 2):
        raise ValidationError(
            {field: _("Enter an amount above zero with at most two decimals (fen).")}
        )
    return value.quantize(FEN)


def clean_reason(reason, message, field="reason"):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: message})
    return reason[:200]


def _next_month(month):
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def open_billing_month(zone_id, today=None):
    """The zone's open billing month: the month after its last month-end close
    (F3.26); before any close, the month of ``today``."""
    last = (
        MonthEnd.objects.filter(zone_id=zone_id)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    if last is not None:
        return _next_month(last)
    return (today or timezone.localdate()).replace(day=1)


def month_is_closed(zone_id, month):
    return MonthEnd.objects.filter(zone_id=zone_id, month=month.replace(day=1)).exists()


def reading_period_of(bill):
    """The reading period the bill was billed from (its read's, else its book's for the month)."""
    if bill.reading_id:
        return ReadingPeriod.objects.filter(readings__pk=bill.reading_id).first()
    if bill.book_id:
        return ReadingPeriod.objects.filter(book_id=bill.book_id, month=bill.month).first()
    return None


def to_fen(bill):
    """``bill``'s status amounts as Decimals of two places (SQLite drops trailing zeros)."""
    for name in ("settled", "written_off", "open_amount"):
        setattr(bill, name, Decimal(getattr(bill, name)).quantize(FEN))
    return bill


def bill_with_status(bill):
    """The bill re-read with ``settled``, ``written_off``, ``open_amount`` and ``status``."""
    queryset = with_status(Bill.objects.filter(pk=bill.pk)).select_related("customer", "zone")
    return to_fen(queryset.get())


# --- cancelling (open month) ----------------------------------------------------------------


def cancel_problem(bill):
    """Why ``bill`` (annotated by ``with_status``) cannot be cancelled, or None."""
    if bill.kind != BillKind.REGULAR:
        return _("A red bill cannot be cancelled.")
    if bill.state != BillState.ISSUED:
        return _("This bill is cancelled already.")
    period = reading_period_of(bill)
    if (
        period is None
        or period.status != PeriodStatus.OPEN
        or month_is_closed(bill.zone_id, bill.month)
    ):
        return _(
            "The reading period of %(month)s is closed: this bill can only be corrected "
            "with a red bill."
        ) % {"month": f"{bill.month:%Y-%m}"}
    if bill.settled > 0:
        return _(
            "%(settled)s has been paid or credited on this bill: it cannot be cancelled; "
            "request a red bill instead."
        ) % {"settled": bill.settled}
    return None


@transaction.atomic
def cancel_bill(actor, bill, reason, now=None):
    """Cancel an unpaid bill of an open month: reverse its entry, unbill its read.

    The bill run's reading-correction hook calls this, then bills the read again.
    """
    require(actor, "billing.correct_bill")
    ensure_in_scope(actor, bill, "correct")
    reason = clean_reason(reason, _("Say why the bill is cancelled."))
    ledger.lock_accounts([bill.customer_id])
    Bill.objects.select_for_update().filter(pk=bill.pk).get()
    bill = bill_with_status(bill)
    problem = cancel_problem(bill)
    if problem:
        raise ValidationError(problem)
    now = now or timezone.now()
    reversal = None
    if bill.entry_id:
        reversal = ledger.reverse_entry(actor, bill.entry, reason, timezone.localdate(now), now=now)
    journal.update_object(
        bill,
        {"state": BillState.CANCELLED, "cancel_entry": reversal},
        reason,
        verb="cancel_bill",
        actor=actor,
    )
    if bill.reading_id:
        reading_services.unbill_reading(actor, bill.reading_id, reason)
    return bill


# --- red bills (closed month) ---------------------------------------------------------------


def red_bill_room(bill):
    """What red bills may still take off ``bill`` (annotated by ``with_status``):
    its amount less earlier red bills and the part written off."""
    reds = -(
        bill.corrections.filter(kind=BillKind.RED, state=BillState.ISSUED).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    reds = Decimal(reds).quantize(FEN)
    return max(bill.amount - reds - Decimal(bill.written_off).quantize(FEN), ZERO), reds


def red_bill_problem(bill):
    """Why no red bill can be asked for against ``bill`` (annotated), or None."""
    if bill.kind != BillKind.REGULAR:
        return _("A red bill cannot itself be corrected by a red bill.")
    if bill.state != BillState.ISSUED:
        return _("This bill is cancelled: there is nothing to correct.")
    room, _reds = red_bill_room(bill)
    if room <= 0:
        return _(
            "Nothing is left to correct on this bill: earlier red bills and write-offs "
            "cover its whole amount."
        )
    return None


def _check_amount_fits(bill, amount):
    room, reds = red_bill_room(bill)
    if amount > room:
        raise ValidationError(
            {
                "amount": _(
                    "At most %(room)s: the bill's %(amount)s less earlier red bills "
                    "(%(reds)s) and write-offs (%(written_off)s)."
                )
                % {
                    "room": room,
                    "amount": bill.amount,
                    "reds": reds,
                    "written_off": bill.written_off,
                }
            }
        )


def _check_month(bill, month, today=None):
    if month < bill.month:
        raise ValidationError(
            {"month": _("The red bill's month cannot be before the bill's own month.")}
        )
    if month < open_billing_month(bill.zone_id, today) or month_is_closed(bill.zone_id, month):
        raise ValidationError(
            {
                "month": _("The billing month %(month)s is closed; choose an open month.")
                % {"month": f"{month:%Y-%m}"}
            }
        )


@transaction.atomic
def request_red_bill(actor, bill, reason, amount=None, month=None, now=None):
    """Ask for a red bill of ``amount`` (default: all that is left) against ``bill``."""
    require(actor, "billing.correct_bill")
    ensure_in_scope(actor, bill, "correct")
    reason = clean_reason(reason, _("Say what was wrong with the bill."))
    ledger.lock_accounts([bill.customer_id])
    bill = bill_with_status(bill)
    problem = red_bill_problem(bill)
    if problem:
        raise ValidationError(problem)
    amount = red_bill_room(bill)[0] if amount in (None, "") else clean_amount(amount)
    _check_amount_fits(bill, amount)
    if month is not None:
        month = month.replace(day=1)
        _check_month(bill, month, timezone.localdate(now) if now else None)
    if RedBillRequest.objects.filter(bill=bill, state=WriteOffState.REQUESTED).exists():
        raise ValidationError(_("A red bill for this bill is already awaiting approval."))
    request = RedBillRequest(
        bill=bill,
        zone_id=bill.zone_id,
        amount=amount,
        month=month,
        reason=reason,
        requested_by=actor,
        requested_at=now or timezone.now(),
    )
    try:
        with transaction.atomic():
            journal.create_object(request, reason, actor=actor)
    except IntegrityError:
        raise ValidationError(_("A red bill for this bill is already awaiting approval.")) from None
    return request


def mirror_lines(lines, total, amount):
    """Negative copies of ``lines`` (of a bill of ``total``) for a red bill of ``amount``.

    The whole bill: each line negated. A part: each line's amount and volume in
    proportion, rounded half up to the fen (volume to 0.01 m³); the rounding
    remainder goes on the last line, so the lines add up to exactly −amount.
    """
    lines = list(lines)
    whole = amount == total
    mirrored, used = [], ZERO
    for index, line in enumerate(lines):
        if whole:
            part, volume = line.amount, line.volume
        elif index == len(lines) - 1:
            part = amount - used
            volume = (line.volume * amount / total).quantize(VOLUME)
        else:
            part = round_fen(line.amount * amount / total)
            volume = (line.volume * amount / total).quantize(VOLUME)
        used += part
        mirrored.append(
            BillLine(
                item_id=line.item_id,
                kind=line.kind,
                tier=line.tier,
                volume=-volume,
                unit_price=line.unit_price,
                amount=-part,
                price_from=line.price_from,
            )
        )
    return mirrored


@transaction.atomic
def approve_red_bill(actor, request, note="", now=None):
    """Approve a red bill request: issue the red bill and post its credit. Returns the red bill."""
    require(actor, "billing.approve_correction")
    request = approvals.locked(request)
    ensure_zone_in_scope(actor, request.zone_id)
    approvals.check_undecided(
        request, _("This red bill request has been decided already (%(state)s).")
    )
    approvals.check_other_person(
        actor, request, _("You asked for this red bill: another manager must approve it.")
    )
    wrong = bill_with_status(request.bill)
    problem = red_bill_problem(wrong)
    if problem:
        raise ValidationError(problem)
    _check_amount_fits(wrong, request.amount)
    now = now or timezone.now()
    today = timezone.localdate(now)
    month = request.month or open_billing_month(wrong.zone_id, today)
    _check_month(wrong, month, today)
    amount = request.amount
    posted = ledger.post_entry(
        actor,
        wrong.customer,
        EntryKind.RED_BILL,
        amount,
        business_date=today,
        period=month,
        reason=_("Red bill for bill %(bill)s: %(reason)s")
        % {"bill": wrong.pk, "reason": request.reason},
        settle=[wrong.entry] if wrong.entry_id else (),
        now=now,
    )
    ratio = amount / wrong.amount
    red = Bill(
        kind=BillKind.RED,
        customer_id=wrong.customer_id,
        zone_id=wrong.zone_id,
        book_id=wrong.book_id,
        meter_id=wrong.meter_id,
        part=wrong.part,
        month=month,
        period_start=wrong.period_start,
        period_end=wrong.period_end,
        read_volume=-(wrong.read_volume * ratio).quantize(VOLUME),
        volume=-(wrong.volume * ratio).quantize(VOLUME),
        tariff_id=wrong.tariff_id,
        household_size=wrong.household_size,
        amount=-amount,
        issued_on=today,
        due_on=today,
        entry=posted.entry,
        corrects_id=wrong.pk,
        late_fee_exempt=True,
        reason=request.reason,
        approved_by=journal.saved_operator(actor),
    )
    journal.create_object(red, request.reason, actor=actor)
    lines = mirror_lines(wrong.lines.order_by("id"), wrong.amount, amount)
    for line in lines:
        line.bill = red
    BillLine.objects.bulk_create(lines)
    approvals.record_decision(
        actor, request, WriteOffState.APPROVED, note, now, "approve_red_bill", red_bill=red
    )
    return red


@transaction.atomic
def reject_red_bill(actor, request, note, now=None):
    """Refuse a red bill request, saying why; nothing is issued."""
    require(actor, "billing.approve_correction")
    note = clean_reason(note, _("Say why the red bill is rejected."), field="note")
    request = approvals.locked(request)
    ensure_zone_in_scope(actor, request.zone_id)
    approvals.check_undecided(
        request, _("This red bill request has been decided already (%(state)s).")
    )
    return approvals.record_decision(
        actor, request, WriteOffState.REJECTED, note, now or timezone.now(), "reject_red_bill"
    )
