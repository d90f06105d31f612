"""Meter reading services (M2): open periods, enter, check, correct, approve, split, monitor.

Each function runs in one transaction, checks the operator's permission and
zone scope, and journals what it changes. The arithmetic is
:mod:`watermis.readings.consumption`; this module stores its results.

Entering a read: the value is checked (dial size, date, consumption rules,
physical maximum, band around the recent average). Findings that need a
person are either confirmed with a reason there and then, held for later
confirmation (files and phones, where nobody can answer), or, far above
average, held until a supervisor approves.
"""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import DateTimeField, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.core import bulk, journal
from watermis.core.models import AuditAction
from watermis.core.money import has_places
from watermis.core.scoping import ensure_in_scope, ensure_zone_in_scope
from watermis.customers.models import (
    Book,
    CustomerStatus,
    Meter,
    MeterEvent,
    MeterEventKind,
    MeterKind,
    MeterStatus,
)
from watermis.system.params import get_param

from . import hooks
from .consumption import (
    CENTI,
    EstimateMethod,
    Level,
    Limits,
    MeterRead,
    NegativeConsumption,
    Replacement,
    check_volume,
    consumption,
    estimate_volume,
    physical_maximum,
    rollover_guess,
    split_volume,
)
from .models import (
    Anomaly,
    MonitoredMeter,
    PeriodStatus,
    Reading,
    ReadingPeriod,
    ReadingSource,
    ReadingSplit,
    ReadingState,
    StatusCode,
)

MASTER_KINDS = (MeterKind.DISTRICT, MeterKind.PLANT)
# The most severe finding is the one stored on the reading.
SEVERITY = [Anomaly.SUPERVISOR, Anomaly.HIGH, Anomaly.LOW, Anomaly.ZERO, Anomaly.ROLLOVER]
MAX_READS_A_MONTH = 3


def month_start(day):
    return day.replace(day=1)


def months_between(earlier, later):
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def planned_date(month, reading_day):
    last = calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=min(reading_day, last))


def _require(actor, perm):
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def current_limits():
    return Limits(
        band_percent=get_param("reading.anomaly_band_percent"),
        band_minimum=get_param("reading.band_minimum"),
        supervisor_multiple=get_param("reading.supervisor_multiple"),
    )


# --- where a read starts ---------------------------------------------------------------


@dataclass
class StartingPoint:
    previous: Decimal
    previous_on: datetime.date | None = None
    previous_estimated: bool = False
    average: Decimal | None = None
    replaced_meter_id: int | None = None
    old_previous: Decimal | None = None
    old_final: Decimal | None = None
    recent: list = field(default_factory=list)  # actual volumes per month, newest first


def _history(meter_ids, before_month):
    """Per meter: (last read row values, actual volumes per month newest first)."""
    last, volumes = {}, {}
    rows = (
        Reading.objects.filter(
            meter_id__in=meter_ids, period__month__lt=before_month, closing__isnull=False
        )
        .order_by("meter_id", "-period__month", "-sequence")
        .values_list(
            "meter_id", "period__month", "closing", "current", "read_on", "estimated", "volume"
        )
    )
    for meter_id, month, closing, current, read_on, estimated, volume in rows.iterator(
        chunk_size=5000
    ):
        if meter_id not in last:
            # still waiting for the needle after an estimate: the next read catches up too
            last[meter_id] = (closing, read_on, estimated or closing != current)
        months = volumes.setdefault(meter_id, {})
        if estimated or (len(months) >= 3 and month not in months):
            continue
        months[month] = months.get(month, Decimal(0)) + volume
    return last, {m: list(v.values()) for m, v in volumes.items()}


def _average(recent):
    return (sum(recent, Decimal(0)) / len(recent)).quantize(Decimal("0.01")) if recent else None


def starting_points(meters, month):
    """Where each meter's read in ``month`` starts: previous read, average, replaced meter."""
    ids = [m.pk for m in meters]
    last, recent = _history(ids, month)
    points = {}
    fresh = []
    for meter in meters:
        if meter.pk in last:
            closing, read_on, estimated = last[meter.pk]
            points[meter.pk] = StartingPoint(closing, read_on, estimated)
        else:
            points[meter.pk] = StartingPoint(meter.initial_reading, meter.installed_on)
            fresh.append(meter.pk)
        points[meter.pk].recent = recent.get(meter.pk, [])
    if fresh:  # a meter that replaced another: the old one's remainder comes with its first read
        events = MeterEvent.objects.filter(kind=MeterEventKind.REPLACE, new_meter_id__in=fresh)
        replaced = {e.new_meter_id: e for e in events.select_related("meter")}
        old_last, old_recent = _history([e.meter_id for e in replaced.values()], month)
        for new_id, event in replaced.items():
            old = event.meter
            point = points[new_id]
            point.replaced_meter_id = old.pk
            point.old_previous = old_last.get(old.pk, (old.initial_reading,))[0]
            point.old_final = event.old_final_reading
            point.recent = old_recent.get(old.pk, [])
    for point in points.values():
        point.average = _average(point.recent)
    return points


def _new_row(period, meter, point, sequence=1):
    customer = meter.customer
    return Reading(
        period=period,
        meter=meter,
        customer=customer,
        zone_id=period.zone_id,
        book_id=period.book_id,
        route_order=customer.route_order if customer else 0,
        sequence=sequence,
        previous=point.previous,
        previous_on=point.previous_on,
        previous_estimated=point.previous_estimated,
        average=point.average,
        replaced_meter_id=point.replaced_meter_id,
        old_previous=point.old_previous,
        old_final=point.old_final,
        reader_id=period.book.reader_id if period.book_id else None,
    )


def period_meters(period):
    """The meters a period reads: the book's customers' meters in service, or the master meters."""
    meters = Meter.objects.filter(status=MeterStatus.ACTIVE)
    if period.book_id is None:
        return meters.filter(zone_id=period.zone_id, kind__in=MASTER_KINDS).select_related(None)
    return (
        meters.filter(customer__book_id=period.book_id, kind=MeterKind.CUSTOMER)
        .exclude(customer__status=CustomerStatus.CLOSED)
        .select_related("customer")
    )


def _fill(period):
    meters = list(period_meters(period))
    points = starting_points(meters, period.month)
    rows = [_new_row(period, meter, points[meter.pk]) for meter in meters]
    Reading.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


@transaction.atomic
def open_periods(actor, zone, month, books=None, today=None):
    """Open the month's reading periods of a zone (F2.1, F2.3), from the books' cycles.

    A book is due when it has no period yet or its last one is at least its
    cycle (1, 2 or 3 months) before ``month``; the zone's master meters get a
    period every month. Periods that exist are left alone. Returns the new periods.
    """
    _require(actor, "readings.add_readingperiod")
    ensure_zone_in_scope(actor, zone.pk)
    month = month_start(month)
    today = today or timezone.localdate()
    if months_between(today, month) > 1:
        raise ValidationError({"month": _("Periods can be opened at most one month ahead.")})
    candidates = Book.objects.filter(area__zone=zone, active=True).select_related("reader")
    if books is not None:
        candidates = candidates.filter(pk__in=[b.pk for b in books])
    last = dict(
        ReadingPeriod.objects.filter(book__in=candidates, month__lt=month)
        .values("book")
        .annotate(last=Max("month"))
        .values_list("book", "last")
    )
    exists = set(
        ReadingPeriod.objects.filter(book__in=candidates, month=month).values_list(
            "book_id", flat=True
        )
    )
    saved_actor = journal.saved_operator(actor)
    opened = []
    for book in candidates.order_by("code"):
        if book.pk in exists:
            continue
        if book.pk in last and months_between(last[book.pk], month) < int(book.cycle):
            continue
        opened.append(
            ReadingPeriod(
                zone=zone,
                book=book,
                month=month,
                planned_on=planned_date(month, book.reading_day),
                opened_by=saved_actor,
            )
        )
    has_masters = Meter.objects.filter(
        zone=zone, kind__in=MASTER_KINDS, status=MeterStatus.ACTIVE
    ).exists()
    if (
        books is None
        and has_masters
        and not ReadingPeriod.objects.filter(zone=zone, book=None, month=month).exists()
    ):
        opened.append(
            ReadingPeriod(
                zone=zone,
                month=month,
                planned_on=planned_date(month, 28),
                opened_by=saved_actor,
            )
        )
    entries = []
    for period in opened:
        period.save(force_insert=True)
        count = _fill(period)
        entries.append(
            journal.build_entry(
                period,
                AuditAction.CREATE,
                None,
                {**journal.snapshot(period), "readings": count},
                verb="open_period",
                actor=actor,
            )
        )
    journal.record_many(entries)
    return opened


@transaction.atomic
def close_period(actor, period, reason=""):
    """Close a period (month-end, F3.26): it accepts no more reads or corrections."""
    _require(actor, "readings.change_readingperiod")
    period = ReadingPeriod.objects.select_for_update().get(pk=period.pk)
    ensure_in_scope(actor, period, "change")
    if period.status == PeriodStatus.CLOSED:
        return period
    journal.update_object(
        period,
        {"status": PeriodStatus.CLOSED, "closed_at": timezone.now()},
        reason,
        verb="close_period",
        actor=actor,
    )
    return period


@transaction.atomic
def reading_for(actor, period, meter):
    """The meter's latest read row in an open period, made now if the meter came after opening."""
    ensure_in_scope(actor, period, "view")
    row = Reading.objects.filter(period=period, meter=meter).order_by("-sequence").first()
    if row is not None:
        return row
    _require(actor, "readings.change_reading")
    _check_open(period)
    if meter.status != MeterStatus.ACTIVE:
        raise ValidationError(_("Meter %(meter)s is not in service.") % {"meter": meter})
    if period.book_id is None:
        belongs = meter.kind in MASTER_KINDS and meter.zone_id == period.zone_id
    else:
        belongs = meter.customer_id and meter.customer.book_id == period.book_id
    if not belongs:
        raise ValidationError(
            _("Meter %(meter)s is not read in %(period)s.") % {"meter": meter, "period": period}
        )
    row = _new_row(period, meter, starting_points([meter], period.month)[meter.pk])
    row.save(force_insert=True)
    return row


# --- entering a read ---------------------------------------------------------------------


@dataclass
class Entry:
    """What a clerk, a file, a phone or a remote meter says about one read."""

    current: Decimal | None
    read_on: datetime.date | None
    status_code: str = StatusCode.NORMAL
    rolled_over: bool = False
    estimated: bool = False
    minimum_exempt: bool = False
    reason: str = ""
    note: str = ""
    source: str = ReadingSource.MANUAL
    confirm: bool = False  # the person confirms the findings shown to them, with ``reason``

    def same_as(self, reading):
        return (
            reading.state != ReadingState.PENDING
            and reading.current == self.current
            and reading.read_on == self.read_on
            and reading.status_code == self.status_code
            and reading.rolled_over == self.rolled_over
            and reading.estimated == self.estimated
        )


class NeedsConfirmation(ValidationError):
    """The read is plausible but unusual: confirm it with a reason, or correct it."""

    def __init__(self, findings, volume):
        self.findings = findings
        self.volume = volume
        labels = "; ".join(str(Anomaly(f.code).label) for f in findings)
        super().__init__(
            {
                "current": _("%(volume)s m³: %(findings)s. Confirm with a reason, or correct it.")
                % {"volume": volume, "findings": labels}
            },
            code="confirm",
        )


def _check_open(period):
    if period.status != PeriodStatus.OPEN:
        raise ValidationError(
            _("The reading period %(period)s is closed.") % {"period": period}, code="closed"
        )


def evaluate(reading, entry, today, limits):
    """Check one entry against its reading row: the volume result and the findings.

    Raises ValidationError (naming the field) for what must be corrected.
    """
    meter = reading.meter
    errors = {}
    current = entry.current
    if current is None:
        errors["current"] = _("Enter the current reading.")
    elif current < 0 or not has_places(current, 2):
        errors["current"] = _("A reading is a number of 0 or more with at most two decimals.")
    elif current >= meter.rollover:
        errors["current"] = _("The dial of meter %(meter)s shows at most %(max)s.") % {
            "meter": meter,
            "max": meter.rollover - 1,
        }
    if entry.read_on is None:
        errors["read_on"] = _("Enter the date of the reading.")
    elif entry.read_on > today:
        errors["read_on"] = _("A reading cannot be dated in the future.")
    elif reading.previous_on and entry.read_on < reading.previous_on:
        errors["read_on"] = _("The date is before the previous reading (%(date)s).") % {
            "date": reading.previous_on.isoformat()
        }
    if entry.status_code not in StatusCode.values:
        errors["status_code"] = _("Choose a meter status from the list.")
    if errors:
        raise ValidationError(errors)
    replacement = None
    if reading.replaced_meter_id:
        replacement = Replacement(
            reading.old_previous, reading.old_final, reading.replaced_meter.digits
        )
    read = MeterRead(
        previous=reading.previous,
        current=current,
        digits=meter.digits,
        rolled_over=entry.rolled_over,
        reverse_running=entry.status_code == StatusCode.REVERSE,
        previous_estimated=reading.previous_estimated,
        replacement=replacement,
    )
    try:
        result = consumption(read)
    except NegativeConsumption:
        raise ValidationError(
            {
                "current": _(
                    "%(current)s is below the previous reading %(previous)s. Correct it, tick "
                    "'dial rolled over' (the volume would be %(guess)s m³) or choose the status "
                    "'running backwards'."
                )
                % {
                    "current": current,
                    "previous": reading.previous,
                    "guess": rollover_guess(reading.previous, current, meter.digits),
                }
            }
        ) from None
    days = (entry.read_on - reading.previous_on).days if reading.previous_on else 31
    maximum = physical_maximum(meter.caliber, days + 1)
    average = None if entry.estimated else reading.average
    findings = check_volume(result.volume, average, maximum, limits, result.rolled_over)
    if entry.estimated:
        findings = [f for f in findings if f.level == Level.ERROR]
    if any(f.level == Level.ERROR for f in findings):
        raise ValidationError(
            {
                "current": _(
                    "%(volume)s m³ in %(days)s days is more than a %(caliber)s meter can "
                    "register (%(max)s m³). Check the reading."
                )
                % {
                    "volume": result.volume,
                    "days": days,
                    "caliber": meter.caliber,
                    "max": maximum,
                }
            }
        )
    return result, findings


def _state_for(findings, entry, actor, hold):
    """(state, approved) for a checked entry, or raise NeedsConfirmation."""
    levels = {f.level for f in findings}
    confirmed = entry.confirm and entry.reason.strip()
    if Level.SUPERVISOR in levels:
        if confirmed and actor is not None and actor.has_perm("readings.approve_reading"):
            return ReadingState.ENTERED, True
        if confirmed or hold:
            return ReadingState.HELD, False
        return None, False
    if Level.CONFIRM in levels:
        if confirmed:
            return ReadingState.ENTERED, False
        if hold:
            return ReadingState.HELD, False
        return None, False
    return ReadingState.ENTERED, False


def _worst(findings):
    codes = {f.code for f in findings}
    return next((code for code in SEVERITY if code in codes), "")


def _check_correctable(reading):
    """A read already entered may change while its bill is unpaid (F2.6); billing decides."""
    if reading.billed:
        hooks.check_correction(reading)
    if reading.period.status != PeriodStatus.OPEN:
        _check_open(reading.period)


def apply_entry(reading, entry, actor, today, limits, hold=False):
    """Check ``entry`` and set it on ``reading`` (unsaved). Returns the journal's (before, after).

    Returns None when the entry repeats what is stored (uploading a file twice
    changes nothing). Raises ValidationError / NeedsConfirmation.
    """
    if entry.same_as(reading):
        return None
    correcting = reading.state != ReadingState.PENDING
    if correcting:
        _check_correctable(reading)
        if not entry.reason.strip() and entry.source == ReadingSource.MANUAL:
            raise ValidationError({"reason": _("Say why the reading is corrected.")})
    else:
        _check_open(reading.period)
    result, findings = evaluate(reading, entry, today, limits)
    state, approved = _state_for(findings, entry, actor, hold)
    if state is None:
        raise NeedsConfirmation(findings, result.volume)
    before = journal.snapshot(reading)
    reading.current = entry.current.quantize(CENTI)
    reading.read_on = entry.read_on
    reading.status_code = entry.status_code
    reading.rolled_over = result.rolled_over
    reading.estimated = entry.estimated
    reading.minimum_exempt = entry.minimum_exempt
    reading.volume = result.volume
    reading.closing = result.closing
    reading.anomaly = _worst(findings)
    reading.reason = entry.reason.strip()[:200]
    reading.note = entry.note.strip()[:200]
    reading.source = entry.source
    reading.state = state
    reading.entered_by = journal.saved_operator(actor)
    reading.entered_at = timezone.now()
    reading.approved_by = journal.saved_operator(actor) if approved else None
    return before, journal.snapshot(reading), "correct_reading" if correcting else "enter_reading"


def carries_estimate(reading):
    """Whether the read after this one starts from an estimate (this one estimated, or
    still waiting for the needle: its carried reading is above what the dial showed)."""
    return reading.estimated or reading.closing != reading.current


def _next_read(reading):
    """The meter's read that starts where this one ends (next sequence or next period)."""
    month = reading.period.month
    later = Q(period__month__gt=month) | Q(period__month=month, sequence__gt=reading.sequence)
    return (
        Reading.objects.select_for_update(of=("self",))
        .filter(later, meter_id=reading.meter_id)
        .order_by("period__month", "sequence")
        .first()
    )


def _follow_replacement(reading):
    """A row opened for a meter replaced since: move it to the new meter, old remainder kept."""
    meter = reading.meter
    if meter.status != MeterStatus.REMOVED or reading.state != ReadingState.PENDING:
        return reading
    event = (
        MeterEvent.objects.filter(meter=meter, kind=MeterEventKind.REPLACE)
        .select_related("new_meter")
        .first()
    )
    if event is None or event.new_meter is None:
        raise ValidationError(_("Meter %(meter)s has been removed.") % {"meter": meter})
    new = event.new_meter
    if Reading.objects.filter(period=reading.period, meter=new).exists():
        raise ValidationError(
            _("Meter %(meter)s was replaced by %(new)s: enter the new meter's reading.")
            % {"meter": meter, "new": new}
        )
    reading.replaced_meter = meter
    reading.old_previous = reading.previous
    reading.old_final = event.old_final_reading
    reading.meter = new
    reading.previous = new.initial_reading
    reading.previous_on = new.installed_on
    reading.previous_estimated = False
    return reading


def _locked(reading):
    return (
        Reading.objects.select_for_update(of=("self",))
        .select_related("period", "meter", "replaced_meter")
        .get(pk=reading.pk)
    )


def _cascade(reading, actor, today, limits, reason):
    """After a correction, the next read starts from the corrected value."""
    following = _next_read(reading)
    if following is None or following.previous == reading.closing:
        return
    if following.billed:
        hooks.check_correction(following)
    before = journal.snapshot(following)
    following.previous = reading.closing
    following.previous_on = reading.read_on
    following.previous_estimated = carries_estimate(reading)
    if following.state != ReadingState.PENDING:
        entry = Entry(
            following.current,
            following.read_on,
            following.status_code,
            following.rolled_over,
            following.estimated,
        )
        try:
            result, _findings = evaluate(following, entry, today, limits)
        except ValidationError as exc:
            raise ValidationError(
                {
                    "current": _("The next reading (%(next)s) would not fit: %(error)s")
                    % {"next": following, "error": " ".join(exc.messages)}
                }
            ) from None
        following.volume, following.closing = result.volume, result.closing
    following.save()
    journal.record(
        following,
        AuditAction.UPDATE,
        before,
        journal.snapshot(following),
        reason,
        "previous_corrected",
        actor=actor,
    )
    if following.billed:
        hooks.after_correction(following)


@transaction.atomic
def enter_reading(actor, reading, entry, today=None, hold=False):
    """Enter (or correct) one read (F2.2, F2.3, F2.6). Returns the saved reading.

    ``hold``: findings that need a person hold the read instead of refusing it
    (files, phones). A correction of an entered read needs a reason; a billed
    read changes only while its bill is unpaid (billing decides, and recomputes).
    """
    _require(actor, "readings.change_reading")
    reading = _locked(reading)
    ensure_in_scope(actor, reading, "change")
    today = today or timezone.localdate()
    limits = current_limits()
    reading = _follow_replacement(reading)
    change = apply_entry(reading, entry, actor, today, limits, hold)
    if change is None:
        return reading
    before, after, verb = change
    reading.save()
    journal.record(reading, AuditAction.UPDATE, before, after, entry.reason, verb, actor=actor)
    if verb == "correct_reading":
        _cascade(reading, actor, today, limits, entry.reason)
        if reading.billed:
            hooks.after_correction(reading)
    return reading


@transaction.atomic
def estimate_reading(actor, reading, method, read_on, status_code, reason, volume=None, today=None):
    """Enter an estimated read (meter fault, no access): the register moves by the estimate.

    The next actual read trues it up by itself (its previous is this estimate;
    below it the meter catches up first: 等针).
    """
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the reading is estimated.")})
    locked = _locked(reading)
    meter = locked.meter
    point = starting_points([meter], locked.period.month)[meter.pk]
    days = (read_on - locked.previous_on).days if read_on and locked.previous_on else 30
    try:
        estimated = estimate_volume(method, point.recent, meter.caliber, max(days, 1), volume)
    except ValueError:
        raise ValidationError({"volume": _("Enter the estimated volume (0 or more).")}) from None
    current = locked.previous + estimated
    rolled = current >= meter.rollover
    if rolled:
        current -= meter.rollover
    entry = Entry(
        current,
        read_on,
        status_code,
        rolled_over=rolled,
        estimated=True,
        reason=reason,
        confirm=True,
    )
    return enter_reading(actor, locked, entry, today=today)


@transaction.atomic
def confirm_reading(actor, reading, reason):
    """Confirm a held read (F2.3): a clerk for usual findings, a supervisor far above average."""
    _require(actor, "readings.change_reading")
    reading = _locked(reading)
    ensure_in_scope(actor, reading, "change")
    if reading.state != ReadingState.HELD:
        raise ValidationError(_("Only a held reading can be confirmed."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for confirming.")})
    if reading.anomaly == Anomaly.SUPERVISOR:
        _require(actor, "readings.approve_reading")
    change = _confirmed(reading, reason, actor)
    reading.save()
    journal.record(reading, *change, actor=actor)
    return reading


def _confirmed(reading, reason, actor):
    """Mark a held read entered (unsaved); the journal's (action, before, after, reason, verb)."""
    before = journal.snapshot(reading)
    reading.state = ReadingState.ENTERED
    reading.reason = reason.strip()[:200]
    if reading.anomaly == Anomaly.SUPERVISOR:
        reading.approved_by = journal.saved_operator(actor)
    return AuditAction.UPDATE, before, journal.snapshot(reading), reason, "confirm_reading"


# --- several reads, several bills -------------------------------------------------------------


def is_monitored(meter, on):
    return (
        MonitoredMeter.objects.filter(meter=meter, since__lte=on)
        .exclude(until__lt=month_start(on))
        .exists()
    )


@transaction.atomic
def add_interim_reading(actor, period, meter, entry, today=None):
    """Another read of a monitored meter in the same period (F2.5): up to three a month."""
    _require(actor, "readings.change_reading")
    ensure_in_scope(actor, period, "change")
    _check_open(period)
    if not is_monitored(meter, entry.read_on or period.month):
        raise ValidationError(
            _("Meter %(meter)s is not monitored: it is read once a period.") % {"meter": meter}
        )
    last = (
        Reading.objects.select_for_update(of=("self",))
        .filter(period=period, meter=meter)
        .order_by("-sequence")
        .first()
    )
    if last is None or last.state == ReadingState.PENDING:
        raise ValidationError(_("Enter the first reading of the period first."))
    if last.sequence >= MAX_READS_A_MONTH:
        raise ValidationError(
            _("A monitored meter is read at most %(n)s times a month.") % {"n": MAX_READS_A_MONTH}
        )
    row = Reading(
        period=period,
        meter=meter,
        customer_id=last.customer_id,
        zone_id=last.zone_id,
        book_id=last.book_id,
        route_order=last.route_order,
        sequence=last.sequence + 1,
        previous=last.closing,
        previous_on=last.read_on,
        previous_estimated=carries_estimate(last),
        average=last.average,
        reader_id=last.reader_id,
    )
    row.save(force_insert=True)
    return enter_reading(actor, row, entry, today=today)


@transaction.atomic
def start_monitoring(actor, meter, since, reason):
    """Put a meter under watch (F2.5)."""
    _require(actor, "readings.add_monitoredmeter")
    ensure_in_scope(actor, meter, "view")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the meter is watched.")})
    if MonitoredMeter.objects.filter(meter=meter, until=None).exists():
        raise ValidationError(_("Meter %(meter)s is already monitored.") % {"meter": meter})
    watch = MonitoredMeter(
        meter=meter,
        zone_id=meter.zone_id,
        since=since,
        reason=reason.strip(),
        added_by=journal.saved_operator(actor),
    )
    return journal.create_object(watch, actor=actor)


@transaction.atomic
def stop_monitoring(actor, watch, until, reason=""):
    _require(actor, "readings.change_monitoredmeter")
    ensure_in_scope(actor, watch, "change")
    if watch.until is not None:
        raise ValidationError(_("This watch has ended already."))
    if until < watch.since:
        raise ValidationError({"until": _("The end cannot be before the start.")})
    return journal.update_object(watch, {"until": until}, reason, actor=actor)


@transaction.atomic
def split_reading(actor, reading, parts, reason):
    """Bill a read's volume as two or more bills (F2.4). ``parts``: [(volume, note), ...].

    A new split replaces the previous one (kept, inactive); a billed read cannot be split.
    """
    _require(actor, "readings.add_readingsplit")
    reading = _locked(reading)
    ensure_in_scope(actor, reading, "change")
    if reading.state != ReadingState.ENTERED:
        raise ValidationError(_("Only an entered, confirmed reading can be split."))
    if reading.billed:
        raise ValidationError(_("This reading is billed already."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the volume is split.")})
    try:
        volumes = split_volume(reading.volume, [volume for volume, _note in parts])
    except (ValueError, ArithmeticError):
        raise ValidationError(
            {
                "parts": _("Give two or more parts above zero that add up to %(volume)s m³.")
                % {"volume": reading.volume}
            }
        ) from None
    old = list(ReadingSplit.objects.filter(reading=reading, active=True))
    ReadingSplit.objects.filter(pk__in=[s.pk for s in old]).update(active=False)
    made = ReadingSplit.objects.bulk_create(
        [
            ReadingSplit(reading=reading, part=n, volume=volume, note=(note or "")[:200])
            for n, (volume, (_v, note)) in enumerate(zip(volumes, parts, strict=True), start=1)
        ]
    )
    journal.record(
        reading,
        AuditAction.ACTION,
        {"split": [str(s.volume) for s in old]},
        {"split": [str(s.volume) for s in made]},
        reason,
        "split_reading",
        actor=actor,
    )
    return made


__all__ = [
    "Entry",
    "EstimateMethod",
    "NeedsConfirmation",
    "add_interim_reading",
    "close_period",
    "confirm_reading",
    "enter_reading",
    "estimate_reading",
    "open_periods",
    "reading_for",
    "split_reading",
    "start_monitoring",
    "stop_monitoring",
]


# --- bulk entry (handheld files, API uploads, benchmarks) ---------------------------------

IMPORT_CHUNK = 2000


@dataclass
class BulkRow:
    """One read of a file: ``key`` names it in the errors (e.g. the file's row number)."""

    key: object
    reading_id: int
    entry: Entry


@dataclass
class BulkError:
    key: object
    field: str  # an Entry field name ("current", "read_on", ...) or "" for the whole row
    message: str


@dataclass
class BulkResult:
    saved: int = 0  # entered (or corrected) and confirmed
    held: int = 0  # saved, held for a person to confirm
    unchanged: int = 0  # the file repeats what is stored
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


class _Refused(Exception):
    pass


def _bulk_errors(key, exc):
    if hasattr(exc, "error_dict"):
        return [
            BulkError(key, name, message)
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return [BulkError(key, "", message) for message in exc.messages]


READING_ENTRY_FIELDS = [
    "current",
    "read_on",
    "status_code",
    "rolled_over",
    "estimated",
    "minimum_exempt",
    "volume",
    "closing",
    "anomaly",
    "reason",
    "note",
    "source",
    "state",
    "entered_by",
    "entered_at",
    "approved_by",
    "meter",
    "replaced_meter",
    "old_previous",
    "old_final",
    "previous",
    "previous_on",
    "previous_estimated",
]


def _write_readings(readings, names):
    """Save ``names`` of many readings: one prepared UPDATE per row, sent as one batch.

    (``bulk_update`` builds a CASE per field and row and is far slower at file sizes.)
    """
    if not readings:
        return
    fields = [Reading._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(Reading._meta.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608
    stamps = [i for i, f in enumerate(fields) if isinstance(f, DateTimeField)]
    attnames = [f.attname for f in fields]
    params = []
    for reading in readings:
        values = [getattr(reading, name) for name in attnames]
        for i in stamps:  # the backend's own form (SQLite: naive UTC)
            values[i] = fields[i].get_db_prep_save(values[i], connection)
        values.append(reading.pk)
        params.append(values)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _confirm_held(reading, entry, actor):
    """A file row repeating a held read, now with a reason: confirm it (as confirm_reading).

    Returns the journal entry (the reading is changed, unsaved), or None when
    nothing changes (no new reason; far above average without the right to approve).
    """
    reason = entry.reason.strip()
    if reading.state != ReadingState.HELD or not reason or reason == reading.reason:
        return None
    supervisor = reading.anomaly == Anomaly.SUPERVISOR
    if supervisor and not (actor is None or actor.has_perm("readings.approve_reading")):
        return None
    return journal.build_entry(reading, *_confirmed(reading, reason, actor), actor=actor)


def import_entries(actor, rows, today=None):
    """Enter many reads at once (F2.3 handheld files): all or nothing.

    ``rows``: :class:`BulkRow` items. Every row is checked as :func:`enter_reading`
    checks it, with ``hold=True`` (findings that need a person hold the read,
    unless the row gives a reason: then it is confirmed). A row that changes an
    entered read needs a reason. If any row has an error nothing is written and
    the result lists every error; otherwise the reads are written in batches
    (:func:`_write_readings`) with one journal entry per changed read. A row that repeats
    what is stored changes nothing (a file uploaded twice is journaled once).
    Rows are locked in primary-key order, chunk by chunk.
    """
    _require(actor, "readings.change_reading")
    today = today or timezone.localdate()
    limits = current_limits()
    result = BulkResult()
    seen = {}
    for row in rows:
        if row.reading_id in seen:
            result.errors.append(
                BulkError(
                    row.key,
                    "",
                    _("The same meter is read twice in the file (also %(other)s).")
                    % {"other": seen[row.reading_id]},
                )
            )
        else:
            seen[row.reading_id] = row.key
    if result.errors:
        return result
    by_id = {row.reading_id: row for row in rows}
    ids = sorted(by_id)
    counts = {ReadingState.ENTERED: 0, ReadingState.HELD: 0}
    try:
        with transaction.atomic():
            scoped = Reading.objects.restrict(actor, "change") if actor is not None else None
            for start in range(0, len(ids), IMPORT_CHUNK):
                chunk = ids[start : start + IMPORT_CHUNK]
                query = Reading.objects if scoped is None else scoped
                loaded = {
                    r.pk: r
                    for r in query.select_for_update(of=("self",))
                    .select_related("period", "meter", "replaced_meter")
                    .filter(pk__in=chunk)
                    .order_by("pk")
                }
                changed, entries, corrected = [], [], []
                for pk in chunk:
                    row = by_id[pk]
                    reading = loaded.get(pk)
                    if reading is None:
                        result.errors.append(
                            BulkError(row.key, "", _("No such reading in your zones."))
                        )
                        continue
                    entry = row.entry
                    if entry.same_as(reading):
                        confirmed = _confirm_held(reading, entry, actor)
                        if confirmed is None:
                            result.unchanged += 1
                            continue
                        counts[ReadingState.ENTERED] += 1
                        changed.append(reading)
                        entries.append(confirmed)
                        continue
                    if reading.state != ReadingState.PENDING and not entry.reason.strip():
                        result.errors.append(
                            BulkError(
                                row.key,
                                "reason",
                                _(
                                    "The reading was entered already (%(current)s): "
                                    "give a reason to correct it."
                                )
                                % {"current": reading.current},
                            )
                        )
                        continue
                    try:
                        reading = _follow_replacement(reading)
                        change = apply_entry(reading, entry, actor, today, limits, hold=True)
                    except ValidationError as exc:
                        result.errors.extend(_bulk_errors(row.key, exc))
                        continue
                    if change is None:
                        result.unchanged += 1
                        continue
                    before, after, verb = change
                    counts[reading.state] += 1
                    changed.append(reading)
                    entries.append(
                        journal.build_entry(
                            reading,
                            AuditAction.UPDATE,
                            before,
                            after,
                            entry.reason,
                            verb,
                            actor=actor,
                        )
                    )
                    if verb == "correct_reading":
                        corrected.append((reading, entry.reason))
                if result.errors:
                    continue  # keep checking the rest; nothing will be written
                _write_readings(changed, READING_ENTRY_FIELDS)
                journal.record_many(entries)
                for reading, reason in corrected:
                    try:
                        _cascade(reading, actor, today, limits, reason)
                        if reading.billed:
                            hooks.after_correction(reading)
                    except ValidationError as exc:
                        result.errors.extend(_bulk_errors(by_id[reading.pk].key, exc))
            if result.errors:
                raise _Refused
    except _Refused:
        result.unchanged = 0
        return result
    result.saved = counts[ReadingState.ENTERED]
    result.held = counts[ReadingState.HELD]
    return result


# --- billing's use of reads -------------------------------------------------------------------


def claim_for_billing(period, reading_ids=None):
    """Mark the period's entered, unbilled reads billed and return their ids; a meter waits
    while another of its reads this month is pending or held. The UPDATE locks the rows
    till the billing transaction ends, so a correction waits for the bills."""
    sql = (
        "UPDATE readings_reading SET billed = %s WHERE period_id = %s AND state = %s "
        "AND billed = %s AND meter_id NOT IN (SELECT meter_id FROM readings_reading "
        "WHERE period_id = %s AND state <> %s)"
    )
    params = [True, period.pk, ReadingState.ENTERED, False, period.pk, ReadingState.ENTERED]
    if reading_ids is not None:
        ids = [int(i) for i in reading_ids] or [0]  # a handful: one read's correction
        sql += f" AND id IN ({', '.join(['%s'] * len(ids))})"
        params += ids
    with connection.cursor() as cursor:
        cursor.execute(sql + " RETURNING id", params)
        return [row[0] for row in cursor.fetchall()]


def release_from_billing(reading_ids):
    """Give back claimed reads that billing left out (they stay billable)."""
    if reading_ids:
        bulk.filter_ids(Reading.objects.all(), "id", reading_ids).update(billed=False)


def unbill_reading(actor, reading_id, reason):
    """A read whose bill was cancelled becomes billable again (journaled)."""
    reading = Reading.objects.select_for_update().get(pk=reading_id)
    if not reading.billed:
        return reading
    before = journal.snapshot(reading)
    reading.billed = False
    reading.save(update_fields=["billed"])
    journal.record(
        reading,
        AuditAction.UPDATE,
        before,
        journal.snapshot(reading),
        reason,
        "unbill_reading",
        actor=actor,
    )
    return reading
