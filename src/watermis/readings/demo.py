"""The demo company's meter readings: 24 months of periods and reads up to the current month.

Works from what is in the database (zones, books, customers, meters, replacement
events), whoever built it. For every month of the window each book gets its
reading period (by its cycle) and each zone with master meters a master period;
months before last month are closed, last month is fully read and open, the
current month is partly read (half the books) so a clerk has work.

Every meter has a true register that moves by its consumption: residential
meters about 10–20 m³ a month, larger meters more, all with a seasonal sine
(summer high). Each read goes through :func:`consumption.consumption` (so
rollovers, estimates and their true-ups, replacements follow the rules) and
:func:`consumption.check_volume` (so the anomaly recorded is what an entry
would find); unusual reads are confirmed with a reason, or held in the open
months. A few anomalies are made on purpose: zeros (empty flats, shut valves),
leak spikes, dials that roll over, estimates trued up the next month. Master
meters read the customers' volume behind them plus 8–15 % loss.

Written in bulk: rows are built in memory and inserted with ``bulk_create``;
the journal gets one ``open_period`` entry per period (with its read count) and
one ``close_period`` entry per closed period, as the services write them.
"""

import datetime
import math
from decimal import Decimal

from django.db import connection
from django.db.models import DateTimeField, Q
from django.utils import timezone

from watermis.core import journal
from watermis.core.models import AuditAction
from watermis.customers.models import (
    Book,
    CustomerStatus,
    Meter,
    MeterEvent,
    MeterEventKind,
    MeterKind,
    MeterStatus,
)
from watermis.org.models import Operator
from watermis.tariffs.models import CategoryKind

from .consumption import Level, MeterRead, Replacement, check_volume, consumption, physical_maximum
from .models import (
    Anomaly,
    PeriodStatus,
    Reading,
    ReadingPeriod,
    ReadingSource,
    ReadingState,
    StatusCode,
)
from .services import SEVERITY, current_limits, month_start, planned_date

MONTHS = 24
BATCH = 2000
MASTER_KINDS = (MeterKind.DISTRICT, MeterKind.PLANT)
SEASON = Decimal("0.25")  # ± share of the yearly mean at the peak (July) and the trough
VOLUME_BY_CALIBER = {  # m³ a month, non-residential meters
    "DN15": (8, 20),
    "DN20": (20, 60),
    "DN25": (40, 120),
    "DN32": (60, 180),
    "DN40": (80, 300),
    "DN50": (150, 500),
}


def add_months(month, n):
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(month):
    return add_months(month, 1) - datetime.timedelta(days=1)


def season(month):
    """The seasonal factor of a month: 1 ± 0.25, highest in July, lowest in January."""
    return 1 + float(SEASON) * math.sin((month.month - 4) / 12 * 2 * math.pi)


class _Meter:
    """A meter's simulation state: its true register, recent volumes, what the last read left."""

    __slots__ = (
        "meter",
        "base",
        "register",
        "closing",
        "closing_on",
        "estimated",
        "recent",
        "zero_from",
        "started",
        "replaced",
    )

    def __init__(self, meter, base, register):
        self.meter = meter
        self.base = base
        self.register = register  # true value, whole m³, unbounded (the dial shows it mod 10^d)
        self.closing = None  # where the next read starts (the dial value)
        self.closing_on = None
        self.estimated = False
        self.recent = []  # actual volumes, newest first
        self.zero_from = None  # a suspended customer: no use from this day
        self.started = False
        self.replaced = None  # (old meter, old previous, old final) for the first read


def _base_volume(rng, meter, kind, household):
    if kind == CategoryKind.RESIDENTIAL:
        return rng.uniform(9, 17) * (0.75 + 0.08 * (household or 2))
    if kind == CategoryKind.SHARED:
        return rng.uniform(25, 50)
    low, high = VOLUME_BY_CALIBER.get(meter.caliber, (150, 500))
    return rng.uniform(low, high) * (1.6 if kind == CategoryKind.SPECIAL else 1)


def _read_day(rng, period, today):
    day = period.planned_on + datetime.timedelta(days=rng.randint(-2, 2))
    return max(period.month, min(day, today, month_end(period.month)))


class _Builder:
    def __init__(self, rng, today):
        self.rng = rng
        self.today = today
        self.current = month_start(today)
        self.first = add_months(self.current, -(MONTHS - 1))
        self.limits = current_limits()
        self.manager = Operator.objects.filter(username="manager").first()
        self.rows = []
        self.count = 0

    # --- one read -----------------------------------------------------------------------

    def read(self, period, state, kind, when, use=0):
        """Build the Reading row of ``state`` (a _Meter) in ``period``; ``kind`` says how."""
        rng, meter = self.rng, state.meter
        customer = meter.customer
        previous = state.closing
        previous_on = state.closing_on
        row = Reading(
            period=period,
            meter=meter,
            customer=customer,
            zone_id=period.zone_id,
            book_id=period.book_id,
            route_order=customer.route_order if customer else 0,
            previous=previous,
            previous_on=previous_on,
            previous_estimated=state.estimated,
            average=(
                (sum(state.recent[:3]) / len(state.recent[:3])).quantize(Decimal("0.01"))
                if state.recent
                else None
            ),
            reader_id=period.book.reader_id if period.book_id else None,
        )
        if state.replaced:
            old, old_previous, old_final = state.replaced
            row.replaced_meter, row.old_previous, row.old_final = old, old_previous, old_final
        if kind == "pending":
            return row
        state.replaced = None
        rollover = 10**meter.digits
        estimated = kind == "estimate"
        if estimated:
            # below the month's true use, so next month's actual read trues it up upwards
            average = sum(state.recent[:3]) / max(len(state.recent[:3]), 1)
            guess = max(0, min(int(average * Decimal("0.8")), use - 1))
            current = Decimal((int(previous) + guess) % rollover)
        else:
            current = Decimal(state.register % rollover)
        replacement = (
            Replacement(row.old_previous, row.old_final, row.replaced_meter.digits)
            if row.replaced_meter_id
            else None
        )
        result = consumption(
            MeterRead(
                previous=previous,
                current=current,
                digits=meter.digits,
                rolled_over=current < previous and not state.estimated,
                previous_estimated=state.estimated,
                replacement=replacement,
            )
        )
        days = (when - previous_on).days if previous_on else 31
        findings = check_volume(
            result.volume,
            None if estimated else row.average,
            physical_maximum(meter.caliber, days + 1),
            self.limits,
            result.rolled_over,
        )
        findings = [f for f in findings if f.level != Level.ERROR]
        codes = {f.code for f in findings}
        worst = next((code for code in SEVERITY if code in codes), "")
        row.current = current
        row.read_on = when
        row.volume = result.volume
        row.closing = result.closing
        row.rolled_over = result.rolled_over
        row.estimated = estimated
        row.anomaly = worst
        row.source = (
            ReadingSource.REMOTE
            if meter.remote_read
            else (ReadingSource.HANDHELD if rng.random() < 0.6 else ReadingSource.MANUAL)
        )
        row.entered_at = timezone.make_aware(datetime.datetime.combine(when, datetime.time(17)))
        row.state = ReadingState.ENTERED
        if estimated:
            row.status_code = StatusCode.NOBODY_HOME
            row.reason = "无人在家，按近三月平均估抄"
        elif kind == "zero":
            row.status_code = StatusCode.VALVE_SHUT if state.zero_from else StatusCode.NO_USE
            row.reason = "停水" if state.zero_from else "空置房"
        if findings:
            open_month = period.month >= add_months(self.current, -1)
            if open_month and (rng.random() < 0.5 or kind == "spike"):
                row.state = ReadingState.HELD
                row.reason = row.reason if estimated or kind == "zero" else ""
            else:
                row.reason = row.reason or {
                    "supervisor": "漏水，已核实",
                    "rollover": "水表走穿，已核实",
                    "zero": "无用水，已核实",
                }.get(worst, "用水变化，已核实")
                if worst == Anomaly.SUPERVISOR:
                    row.approved_by = self.manager
        state.closing, state.closing_on, state.estimated = row.closing, when, estimated
        if not estimated:
            state.recent.insert(0, result.volume)
            del state.recent[3:]
        return row

    def add(self, row):
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= BATCH * 5:
            self.flush()

    def flush(self):
        _insert_readings(self.rows)
        self.rows = []


def _insert_readings(rows):
    """Insert unsaved Reading objects: COPY on PostgreSQL, one executemany elsewhere.

    (``bulk_create`` compiles every value through the ORM: most of the demo's time.)
    """
    if not rows:
        return
    fields = [f for f in Reading._meta.concrete_fields if not f.primary_key]
    attnames = [f.attname for f in fields]
    stamps = [i for i, f in enumerate(fields) if isinstance(f, DateTimeField)]
    quote = connection.ops.quote_name
    table = quote(Reading._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    adapt = connection.ops.adapt_datetimefield_value
    values = []
    for row in rows:
        data = row.__dict__
        line = [data[name] for name in attnames]
        for i in stamps:
            line[i] = adapt(line[i]) if line[i] is not None else None
        values.append(line)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for line in values:
                    copy.write_row(line)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)  # noqa: S608


def build(rng, today=None):
    """Periods and reads of the last 24 months up to ``today``'s month (default: today).

    Returns counts: periods, readings, held, anomalies.
    """
    today = today or timezone.localdate()
    b = _Builder(rng, today)
    months = [add_months(b.first, n) for n in range(MONTHS)]
    books = list(Book.objects.filter(active=True).select_related("area__zone", "reader"))
    meters = list(
        Meter.objects.select_related("customer__category")
        .order_by("pk")
        .filter(Q(kind=MeterKind.CUSTOMER) | Q(kind__in=MASTER_KINDS))
    )
    customer_meters = [m for m in meters if m.kind == MeterKind.CUSTOMER]
    masters = [m for m in meters if m.kind in MASTER_KINDS]
    replaced = {
        e.new_meter_id: e
        for e in MeterEvent.objects.filter(kind=MeterEventKind.REPLACE, new_meter__isnull=False)
    }

    # --- meters' simulation state -------------------------------------------------------
    states = {}
    spikes, estimates, zeros = set(), set(), set()
    for meter in customer_meters:
        customer = meter.customer
        base = _base_volume(rng, meter, customer.category.kind, customer.household_size)
        installed = meter.installed_on
        months_used = max(0, (b.first.year - installed.year) * 12 + b.first.month - installed.month)
        register = int(meter.initial_reading) + int(base * months_used * rng.uniform(0.8, 1.1))
        if meter.status == MeterStatus.REMOVED and meter.final_reading and meter.removed_on:
            months_left = max(
                0,
                (meter.removed_on.year - b.first.year) * 12
                + meter.removed_on.month
                - b.first.month,
            )
            register = max(
                int(meter.initial_reading),
                int(meter.final_reading - Decimal(base * months_left * 1.3)),
            )
        state = _Meter(meter, base, register % 10**meter.digits)
        if customer.status == CustomerStatus.SUSPENDED and customer.suspended_on:
            state.zero_from = customer.suspended_on
        states[meter.pk] = state
    # a few dials close to their maximum: they roll over inside the window
    residential = [s for s in states.values() if s.meter.digits == 5 and s.base < 25]
    for state in rng.sample(residential, min(3, len(residential))):
        state.register = 10**5 - int(state.base * rng.randint(4, 18))
    for state in states.values():
        r = rng.random()
        if r < 0.004:
            spikes.add((state.meter.pk, rng.choice(months[1:])))
        elif r < 0.008:
            estimates.add((state.meter.pk, rng.choice(months[3:-2])))
        elif r < 0.012:
            zeros.add((state.meter.pk, rng.choice(months[1:])))

    # --- periods --------------------------------------------------------------------------
    zones = {book.area.zone_id: book.area.zone for book in books}
    master_zones = {m.zone_id for m in masters if m.status == MeterStatus.ACTIVE}
    for m in masters:
        zones.setdefault(m.zone_id, m.zone)
    periods = []
    for n, month in enumerate(months):
        closed = month < add_months(b.current, -1)
        closed_at = (
            timezone.make_aware(datetime.datetime.combine(add_months(month, 2), datetime.time(9)))
            if closed
            else None
        )
        for book in books:
            if n % int(book.cycle or 1):
                continue
            periods.append(
                ReadingPeriod(
                    zone=book.area.zone,
                    book=book,
                    month=month,
                    planned_on=planned_date(month, book.reading_day),
                    status=PeriodStatus.CLOSED if closed else PeriodStatus.OPEN,
                    closed_at=closed_at,
                )
            )
        for zone_id in sorted(master_zones):
            periods.append(
                ReadingPeriod(
                    zone=zones[zone_id],
                    month=month,
                    planned_on=planned_date(month, 28),
                    status=PeriodStatus.CLOSED if closed else PeriodStatus.OPEN,
                    closed_at=closed_at,
                )
            )
    ReadingPeriod.objects.bulk_create(periods, batch_size=BATCH)
    by_book = {}
    for period in periods:
        by_book.setdefault(period.month, {})[period.book_id or -period.zone_id] = period
    meters_of_book = {}
    for meter in customer_meters:
        meters_of_book.setdefault(meter.customer.book_id, []).append(meter)
    read_counts = {}

    # --- customer reads, month by month ----------------------------------------------------
    master_volume = {}  # (master id, month) -> customers' volume behind it
    parent_of = {m.pk: m.parent_id for m in customer_meters}
    master_of = {m.pk: m.master_id for m in meters}
    for month in months:
        season_factor = season(month)
        end = month_end(month)
        current_month = month == b.current
        month_periods = by_book[month]
        volumes = {}
        for book_index, book in enumerate(books):
            period = month_periods.get(book.pk)
            if period is None:
                continue
            # the current month: half the books read (nearly all meters), the rest to do
            book_read = not current_month or book_index % 2 == 0
            for meter in meters_of_book.get(book.pk, ()):
                state = states[meter.pk]
                if meter.installed_on > end:
                    continue
                if meter.status == MeterStatus.REMOVED and meter.removed_on <= end:
                    if meter.removed_on >= month:
                        # the meter comes off this month: its final read is the replacement's
                        for new_id, event in replaced.items():
                            if event.meter_id == meter.pk and new_id in states:
                                final = event.old_final_reading
                                previous = state.closing
                                if previous is not None and final is not None:
                                    previous = min(previous, final)
                                states[new_id].replaced = (meter, previous, final)
                    continue
                if customer_closed(meter.customer, month):
                    continue
                if not state.started:
                    state.started = True
                    if meter.installed_on >= b.first:
                        state.register = int(meter.initial_reading)
                        state.closing, state.closing_on = meter.initial_reading, meter.installed_on
                    else:
                        state.closing = Decimal(state.register % 10**meter.digits)
                        state.closing_on = add_months(month, -1) + datetime.timedelta(days=19)
                    state.closing = Decimal(state.closing).quantize(Decimal("0.01"))
                    if state.replaced and state.replaced[1] is None:
                        state.replaced = None
                when = max(_read_day(rng, period, b.today), state.closing_on)
                kind = "normal"
                if (meter.pk, month) in zeros or (state.zero_from and state.zero_from <= when):
                    kind, use = "zero", 0
                else:
                    use = state.base * season_factor * rng.uniform(0.85, 1.15)
                    if (meter.pk, month) in spikes:
                        kind, use = "spike", use * rng.uniform(4, 6)
                    use = max(1, round(use))
                if (meter.pk, month) in estimates:
                    kind = "estimate"
                pending = current_month and (not book_read or rng.random() < 0.05)
                if not pending:
                    state.register += use
                    volumes[meter.pk] = use
                row = b.read(period, state, "pending" if pending else kind, when, use)
                b.add(row)
                read_counts[period.pk] = read_counts.get(period.pk, 0) + 1
                if not pending and row.volume is not None:
                    master = master_of.get(meter.pk)
                    parent = parent_of.get(meter.pk)
                    if master and not (parent and master_of.get(parent) == master):
                        key = (master, month)
                        master_volume[key] = master_volume.get(key, 0) + row.volume

        # --- master meters: the volume behind them plus 8-15 % loss --------------------------
        for meter in sorted(masters, key=lambda m: (m.kind != MeterKind.DISTRICT, m.pk)):
            if meter.status != MeterStatus.ACTIVE or meter.installed_on > end:
                continue
            period = month_periods.get(-meter.zone_id)
            if period is None:
                continue
            state = states.get(meter.pk)
            if state is None:
                start = rng.randint(10**6, 10**7)
                state = states[meter.pk] = _Meter(meter, 0, start)
                state.closing = Decimal(start)
                state.closing_on = add_months(month, -1) + datetime.timedelta(days=27)
            behind = master_volume.get((meter.pk, month), Decimal(0))
            when = min(period.planned_on, b.today)
            pending = current_month and b.today < period.planned_on
            if not pending:
                supplied = int(behind * Decimal(rng.uniform(1.08, 1.15))) + 1
                state.register += supplied
            row = b.read(period, state, "pending" if pending else "normal", when)
            row.anomaly = ""  # a master meter's volume is not checked against a band
            if not pending:
                row.state = ReadingState.ENTERED
                row.reason = ""
                row.approved_by = None
                row.source = ReadingSource.REMOTE
                master = master_of.get(meter.pk)
                if master:  # a district meter sits behind its plant meter
                    key = (master, month)
                    master_volume[key] = master_volume.get(key, 0) + row.volume
            b.add(row)
            read_counts[period.pk] = read_counts.get(period.pk, 0) + 1
    b.flush()

    # --- journal: the periods opened (and closed), as the services record them -----------
    entries = []
    for period in periods:
        after = {**journal.snapshot(period, m2m=False), "readings": read_counts.get(period.pk, 0)}
        entries.append(
            journal.build_entry(period, AuditAction.CREATE, None, after, verb="open_period")
        )
        if period.status == PeriodStatus.CLOSED:
            entries.append(
                journal.build_entry(
                    period,
                    AuditAction.UPDATE,
                    {"status": PeriodStatus.OPEN.value},
                    {"status": PeriodStatus.CLOSED.value},
                    verb="close_period",
                    at=period.closed_at,
                )
            )
    journal.record_many(entries)
    held = Reading.objects.filter(state=ReadingState.HELD).count()
    return {"periods": len(periods), "readings": b.count, "held": held}


def customer_closed(customer, month):
    return (
        customer is not None
        and customer.status == CustomerStatus.CLOSED
        and customer.closed_on is not None
        and customer.closed_on < month
    )
