"""The demo company's customers and meters: areas, books, and thousands (up to millions) of accounts.

Deterministic for a given rng. Every kind of meter appears: ordinary meters,
customers with two meters, parent meters with sub-meters, meters shared by
several households (ratios adding up to 1), remote-read and remote-valve
meters with device addresses, district and plant master meters with customer
meters behind them; some accounts are suspended or closed, a few meters were
replaced or transferred (with their MeterEvent rows).

Written in bulk, chunk by chunk (``CHUNK`` customers at a time, so memory stays
bounded at any size), and journaled in bulk: one journal row per customer,
meter, share and event, as :func:`watermis.core.journal.build_entry` makes them.
A million customers is the benchmark size, so the chunks skip the ORM: records
are plain dicts, ids are given here (from the table's highest id; PostgreSQL's
sequences are moved past them at the end), and rows go in with COPY on
PostgreSQL (in a second thread, while the next chunk is generated) and one
``executemany`` per table on SQLite. Account numbers follow each zone's
:class:`AccountSequence` pattern; the sequences are moved past the last number
at the end, so accounts opened later never reuse one.
"""

import datetime
import enum
import functools
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection
from django.db.models import DateField, DateTimeField, DecimalField, Max
from django.utils import timezone

from watermis.core import journal
from watermis.core.models import AuditAction, AuditEntry
from watermis.org.demo import person_name
from watermis.org.models import ZoneKind

from .models import (
    AccountSequence,
    Area,
    Book,
    Customer,
    CustomerStatus,
    Meter,
    MeterEvent,
    MeterEventKind,
    MeterKind,
    MeterShare,
    MeterStatus,
    PaymentMethod,
    ValveState,
)
from .services import name_initials

CHUNK = 10_000
BATCH = 2000
CUSTOMERS_PER_BOOK = 250
TODAY = datetime.date(2026, 1, 1)  # the demo's "now": dates do not depend on the clock

STREETS = ["解放路", "中山路", "人民路", "建设路", "长江路", "和平街", "胜利路", "文化路", "新华街"]
AREA_NAMES = ["一片区", "二片区", "三片区", "四片区"]
FIRMS = ["宏远", "华泰", "长江", "新城", "金鑫", "顺发", "恒通", "天禾", "江汉", "锦程"]
BUSINESSES = ["商贸有限公司", "餐饮店", "超市", "酒店", "物业管理有限公司", "建材厂", "幼儿园"]
SPECIAL_BUSINESSES = ["洗浴中心", "洗车行", "纯净水厂", "游泳馆"]
BRANDS = ["宁波水表", "三川智慧", "新天科技", "汇中仪表", "金卡智能"]
LOCATIONS = ["厨房", "楼道水表井", "室外表井", "卫生间", "一楼表箱"]

_initials = functools.lru_cache(maxsize=200_000)(name_initials)


def _journal(objects, at):
    # Every object carries its zone as an object (not just the id): journal.zone_of
    # then reads it without a query.
    journal.record_many(
        [
            journal.build_entry(
                obj, AuditAction.CREATE, None, journal.snapshot(obj, m2m=False), at=at
            )
            for obj in objects
        ],
        batch_size=BATCH,
    )


def _day(rng, start, end=TODAY):
    """A date from ``start`` to ``end``."""
    return start + datetime.timedelta(days=rng.randint(0, max(0, (end - start).days)))


# --- bulk writing without the ORM ----------------------------------------------------------


def _plain(value):
    """A choice (an enum member) as its stored value; anything else unchanged."""
    return value.value if isinstance(value, enum.Enum) else value


# Stored values of the choices the generator writes.
ACTIVE = _plain(CustomerStatus.ACTIVE)
SUSPENDED = _plain(CustomerStatus.SUSPENDED)
CLOSED = _plain(CustomerStatus.CLOSED)
COUNTER = _plain(PaymentMethod.COUNTER)
COLLECTOR = _plain(PaymentMethod.COLLECTOR)
BANK = _plain(PaymentMethod.BANK)
PREPAID = _plain(PaymentMethod.PREPAID)
CUSTOMER_METER = _plain(MeterKind.CUSTOMER)
IN_SERVICE = _plain(MeterStatus.ACTIVE)
REMOVED = _plain(MeterStatus.REMOVED)
VALVE_CLOSED = _plain(ValveState.CLOSED)
INSTALL = _plain(MeterEventKind.INSTALL)
REPLACE = _plain(MeterEventKind.REPLACE)
TRANSFER = _plain(MeterEventKind.TRANSFER)


_JSON = json.JSONEncoder(ensure_ascii=False)  # as the journal's UnicodeJSONEncoder writes it


class _Writer:
    """Inserts each chunk's rows, table by table, on the connection's own DB-API
    connection (so in the same transaction).

    Rows are sequences of database-ready values. PostgreSQL gets them by COPY,
    in a second thread while the next chunk is generated (the server does the
    work, so the two overlap; a chunk waits until the one before it is written).
    SQLite gets one ``executemany`` per table, at once: it works in this process,
    where a thread would only contend for the interpreter.
    """

    def __init__(self):
        connection.ensure_connection()
        self.raw = connection.connection
        self.copy = connection.vendor == "postgresql"
        self.pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-writer")
            if self.copy
            else None
        )
        self.busy = None

    def submit(self, batches):
        """Write ``batches`` of (table, columns, rows) after the chunk in progress."""
        self.wait()
        if self.pool is None:
            with connection.wrap_database_errors:
                self._write(batches)
        else:
            self.busy = self.pool.submit(self._write, batches)

    def wait(self):
        """Wait for the chunk in progress; its database error is raised here."""
        if self.busy is not None:
            busy, self.busy = self.busy, None
            with connection.wrap_database_errors:
                busy.result()

    def close(self):
        """Stop the thread (after the chunk in progress, even when something failed)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def _write(self, batches):
        quote = connection.ops.quote_name
        for table, columns, rows in batches:
            if not rows:
                continue
            names = ", ".join(quote(column) for column in columns)
            if self.copy:
                with (
                    self.raw.cursor() as cursor,
                    cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["?"] * len(columns))
                sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608 - model names
                self.raw.executemany(sql, rows)


class _Journal:
    """Journal rows for created objects, as :func:`journal.build_entry` would make them,
    in the current audit context, at one time."""

    def __init__(self, at):
        ctx = journal.current_context()
        actor = journal.saved_operator(ctx.actor)
        fields = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
        values = {
            "at": connection.ops.adapt_datetimefield_value(at),
            "actor_id": getattr(actor, "pk", None),
            "actor_name": getattr(actor, "username", "") or "",
            "source": ctx.source,
            "request_id": ctx.request_id,
            "ip": ctx.ip,
            "action": _plain(AuditAction.CREATE),
            "verb": "",
            "object_type": "",
            "object_id": "",
            "object_repr": "",
            "zone_id": None,
            "before": None,
            "after": None,
            "reason": "",
        }
        self.columns = [f.column for f in fields]
        self.base = [values[f.attname] for f in fields]  # a new journal field fails here
        names = [f.attname for f in fields]
        self.slots = [names.index(n) for n in ("object_type", "object_id", "object_repr")]
        self.zone_slot, self.after_slot = names.index("zone_id"), names.index("after")
        self.rows = []

    def add(self, object_type, object_id, text, zone_id, after):
        row = self.base.copy()
        type_slot, id_slot, repr_slot = self.slots
        row[type_slot], row[id_slot], row[repr_slot] = object_type, str(object_id), text[:200]
        row[self.zone_slot], row[self.after_slot] = zone_id, after
        self.rows.append(row)


class _Table:
    """A model the chunks write without the ORM.

    :meth:`new` takes a record (a dict keyed by field attname; missing fields
    take their default) and its ``str()``, and gives it the next id;
    :meth:`rows` turns the pending records into database rows, each journaled
    with the snapshot :func:`journal.snapshot` would take.
    """

    def __init__(self, model):
        fields = model._meta.concrete_fields
        scope = getattr(model, "zone_scope", None)
        if scope not in (None, "zone"):  # journal.zone_of, for the models written here
            raise ValueError(f"{model.__name__}: zone_scope {scope!r} is not supported")
        exclude = set(getattr(model, "journal_exclude", ()))
        self.model = model
        self.label = model._meta.label_lower
        self.columns = [f.column for f in fields]
        self.defaults = {
            f.attname: None if f.primary_key else _plain(f.get_default()) for f in fields
        }
        self.journaled = [(i, f.attname) for i, f in enumerate(fields) if f.name not in exclude]
        self.dates = [
            i
            for i, f in enumerate(fields)
            if isinstance(f, DateField) and not isinstance(f, DateTimeField)
        ]
        self.decimals = [i for i, f in enumerate(fields) if isinstance(f, DecimalField)]
        self.stamps = [  # auto_now(_add): the time the chunk is written
            i
            for i, f in enumerate(fields)
            if isinstance(f, DateTimeField) and (f.auto_now or f.auto_now_add)
        ]
        self.zone = [f.attname for f in fields].index("zone_id") if scope == "zone" else None
        self.next_id = (model._base_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
        self.pending = []
        self.written = 0

    def new(self, record, text):
        record["id"] = self.next_id
        self.next_id += 1
        self.pending.append((record, text))
        return record

    def rows(self, entries, at):
        """The pending records as database rows (a batch for :class:`_Writer`); their
        journal rows go to ``entries``."""
        defaults, zone, label = self.defaults, self.zone, self.label
        stamp_db = connection.ops.adapt_datetimefield_value(at)
        stamp_json = journal.snapshot_value(at)
        dumps = _JSON.encode
        rows = []
        for record, text in self.pending:
            values = list({**defaults, **record}.values())  # an unknown key makes a row too long
            for i in self.dates:
                if values[i] is not None:
                    values[i] = values[i].isoformat()
            for i in self.decimals:
                if values[i] is not None:
                    values[i] = str(values[i])
            for i in self.stamps:
                values[i] = stamp_json
            after = dumps({name: values[i] for i, name in self.journaled})
            for i in self.stamps:
                values[i] = stamp_db
            rows.append(values)
            entries.add(label, record["id"], text, None if zone is None else values[zone], after)
        self.written += len(rows)
        self.pending = []
        return self.model._meta.db_table, self.columns, rows


class _Generator:
    """Makes the customers of one chunk and writes them."""

    def __init__(self, rng, zones, books, categories, tariffs, masters, sequences):
        self.rng = rng
        zone_name = {z.pk: z.name for z in zones}
        self.books = [(b.pk, b.area.zone_id, zone_name[b.area.zone_id]) for b in books]
        self.master = {b.pk: masters[b.area_id].pk for b in books}  # meters sit behind it
        self.categories = {code: c.pk for code, c in categories.items()}
        self.tariffs = {code: t.pk for code, t in tariffs.items()}
        self.numbers = {z.pk: s.next_value for z, s in sequences.items()}
        self.patterns = {z.pk: (z.code, s.pattern) for z, s in sequences.items()}
        self.townships = {z.pk for z in zones if z.kind == ZoneKind.TOWNSHIP}
        self.kind_label = {k.value: str(k.label) for k in MeterEventKind}  # MeterEvent.__str__
        self.customers = _Table(Customer)
        self.meters = _Table(Meter)
        self.shares = _Table(MeterShare)
        self.events = _Table(MeterEvent)
        self.meter_no = 0
        self.total = 0
        self.writer = None  # a _Writer while the chunks are written

    @property
    def counts(self):
        return {
            "customers": self.customers.written,
            "meters": self.meters.written,
            "shares": self.shares.written,
            "events": self.events.written,
        }

    # --- single records ------------------------------------------------------------

    def customer(self, index, category):
        rng = self.rng
        book_id, zone_id, zone_name = self.books[index * len(self.books) // self.total]
        code, pattern = self.patterns[zone_id]
        account_no = pattern.format(zone=code, seq=self.numbers[zone_id])
        self.numbers[zone_id] += 1
        township = zone_id in self.townships
        if category in ("NONRES", "SPECIAL"):
            kinds = BUSINESSES if category == "NONRES" else SPECIAL_BUSINESSES
            name = f"江城{rng.choice(FIRMS)}{rng.choice(kinds)}"
            initials = _initials(name)
            household, id_number = 0, ""
        else:
            name = person_name(rng)
            # Character by character: for every name person_name makes, the same as the
            # whole name's (pinyin of a phrase never spans a surname and a given name here).
            initials = "".join(map(_initials, name))
            household = rng.randint(1, 6)
            id_number = (
                f"4201{rng.randint(0, 99):02d}{rng.randint(1950, 2000)}"
                f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 9999):04d}"
                if rng.random() < 0.5
                else ""
            )
        if township:
            method = COLLECTOR if rng.random() < 0.7 else COUNTER
        else:
            method = rng.choice([COUNTER] * 3 + [BANK, PREPAID])
        record = {
            "account_no": account_no,
            "name": name,
            "name_initials": initials,
            "id_number": id_number,
            "phone": f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}",
            "address": (
                f"江城市{zone_name}{rng.choice(STREETS)}{rng.randint(1, 400)}号"
                f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(1, 30)}0{rng.randint(1, 4)}室"
            ),
            "zone_id": zone_id,
            "book_id": book_id,
            "route_order": (index % CUSTOMERS_PER_BOOK + 1) * 10,
            "category_id": self.categories[category],
            "household_size": household,
            "low_income": category in ("RES", "RESG") and rng.random() < 0.03,
            "payment_method": method,
            "bank_name": "中国工商银行江城分行" if method == BANK else "",
            "bank_account": f"6222{rng.randint(0, 10**15 - 1):015d}" if method == BANK else "",
            "status": ACTIVE,
            "opened_on": _day(self.rng, datetime.date(2008, 1, 1), datetime.date(2025, 6, 30)),
        }
        return self.customers.new(record, f"{account_no} {name}")

    def meter(self, customer, tariff, caliber="DN15", parent=None):
        rng = self.rng
        self.meter_no += 1
        number = f"M{self.meter_no:09d}"
        remote = rng.random() < 0.08
        valve = remote and rng.random() < 0.4
        record = {
            "number": number,
            "kind": CUSTOMER_METER,
            "customer_id": customer["id"],
            "zone_id": customer["zone_id"],
            "caliber": caliber,
            "brand": rng.choice(BRANDS),
            "digits": 5 if caliber in ("DN15", "DN20", "DN25") else 6,
            "installed_on": customer["opened_on"],
            "initial_reading": Decimal(rng.randint(0, 30)),
            "tariff_id": self.tariffs[tariff],
            "location": rng.choice(LOCATIONS),
            "remote_read": remote,
            "remote_valve": valve,
            "device_address": f"{self.meter_no:012d}" if remote else "",
            "master_id": self.master[customer["book_id"]],
            "parent_id": parent["id"] if parent else None,
            "status": IN_SERVICE,
        }
        return self.meters.new(record, number)

    def share(self, meter, customer, ratio):
        text = f"{meter['number']} {customer['account_no']} {customer['name']} {ratio}"
        self.shares.new(
            {"meter_id": meter["id"], "customer_id": customer["id"], "ratio": ratio}, text
        )

    def event(self, meter, kind, on, **fields):
        record = {"meter_id": meter["id"], "kind": kind, "on": on, **fields}
        self.events.new(record, f"{meter['number']} {self.kind_label[kind]} {on}")

    # --- a chunk ------------------------------------------------------------------

    def chunk(self, start, end):
        """Generate customers ``start`` to ``end`` - 1 with their meters, shares and events."""
        rng = self.rng

        def install(meter):
            self.event(
                meter,
                INSTALL,
                meter["installed_on"],
                zone_id=meter["zone_id"],
                new_initial_reading=meter["initial_reading"],
                to_customer_id=meter["customer_id"],
            )

        def remove(meter, on):
            meter["status"], meter["removed_on"] = REMOVED, on
            meter["final_reading"] = meter["initial_reading"] + rng.randint(100, 5000)

        index = start
        while index < end:
            room = end - index
            r = rng.random()
            if r < 0.03 and room >= 4:  # one meter shared by 2–4 households
                size = rng.randint(2, 4)
                group = [self.customer(index + k, "SHARED") for k in range(size)]
                meter = self.meter(group[0], "SHARED", caliber="DN20")
                install(meter)
                ratio = (Decimal(1) / size).quantize(Decimal("0.0001"))
                for k, household in enumerate(group):
                    last = k == size - 1
                    self.share(meter, household, Decimal(1) - ratio * (size - 1) if last else ratio)
                index += size
            elif r < 0.05 and room >= 3:  # a parent meter with two sub-meters
                owner = self.customer(index, "NONRES")
                parent = self.meter(owner, "NONRES", caliber="DN50")
                install(parent)
                for k in (1, 2):
                    category = "NONRES" if rng.random() < 0.5 else "RES"
                    tenant = self.customer(index + k, category)
                    install(self.meter(tenant, category, parent=parent))
                index += 3
            elif r < 0.056 and room >= 2:  # a closed account whose meter went to a new one
                old, new = self.customer(index, "RES"), self.customer(index + 1, "RES")
                new["opened_on"] = _day(rng, old["opened_on"])
                old["status"], old["closed_on"] = CLOSED, new["opened_on"]
                meter = self.meter(old, "RES")
                install(meter)
                meter["customer_id"], meter["zone_id"] = new["id"], new["zone_id"]
                self.event(
                    meter,
                    TRANSFER,
                    new["opened_on"],
                    zone_id=new["zone_id"],
                    from_customer_id=old["id"],
                    to_customer_id=new["id"],
                    reason="过户",
                )
                index += 2
            else:
                book_zone = self.books[index * len(self.books) // self.total][1]
                x = rng.random()
                if x < 0.12:
                    category, caliber = "NONRES", rng.choice(["DN20", "DN25", "DN40", "DN50"])
                elif x < 0.14:
                    category, caliber = "SPECIAL", rng.choice(["DN25", "DN40"])
                else:
                    category = "RESG" if book_zone in self.townships else "RES"
                    caliber = "DN15"
                customer = self.customer(index, category)
                own = []
                for _k in range(2 if rng.random() < 0.05 else 1):
                    meter = self.meter(customer, category, caliber=caliber)
                    own.append(meter)
                    install(meter)
                    if rng.random() < 0.015:  # replaced meter: the old one retired
                        on = _day(rng, meter["installed_on"])
                        new = self.meter(customer, category, caliber=caliber)
                        new["installed_on"], new["initial_reading"] = on, Decimal(0)
                        remove(meter, on)
                        own.append(new)
                        install(new)
                        self.event(
                            meter,
                            REPLACE,
                            on,
                            zone_id=meter["zone_id"],
                            old_final_reading=meter["final_reading"],
                            new_meter_id=new["id"],
                            new_initial_reading=new["initial_reading"],
                            from_customer_id=customer["id"],
                            to_customer_id=customer["id"],
                            reason="表坏换表",
                        )
                s = rng.random()
                if s < 0.02:
                    customer["status"] = SUSPENDED
                    customer["suspended_on"] = _day(rng, customer["opened_on"])
                    for meter in own:
                        if meter["remote_valve"] and meter["status"] == IN_SERVICE:
                            meter["valve_state"] = VALVE_CLOSED
                elif s < 0.03:
                    customer["status"] = CLOSED
                    customer["closed_on"] = _day(rng, customer["opened_on"])
                    for meter in own:
                        if meter["status"] == IN_SERVICE:
                            remove(meter, customer["closed_on"])
                index += 1
        self.write()

    def write(self):
        """Hand the chunk's rows, table by table, then their journal rows, to the writer."""
        at = timezone.now()
        entries = _Journal(at)
        batches = [
            t.rows(entries, at) for t in (self.customers, self.meters, self.shares, self.events)
        ]
        batches.append((AuditEntry._meta.db_table, entries.columns, entries.rows))
        self.writer.submit(batches)

    def finish(self):
        """Wait for the last chunk; move the id sequences (PostgreSQL) past the ids given here."""
        self.writer.wait()
        models = [t.model for t in (self.customers, self.meters, self.shares, self.events)]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)


def build(rng, org, tariffs, customers=3000, progress=None):
    """Areas, books, master meters and ``customers`` accounts with their meters.

    ``org`` and ``tariffs`` are what :mod:`watermis.org.demo` and
    :mod:`watermis.tariffs.demo` built. ``progress(done, total)`` is called after
    each chunk. Returns a dict with the areas, books and counts.
    """
    now = timezone.now()
    zones = org["zones"]
    staff = {}
    for employee in org["employees"]:
        staff.setdefault(employee.unit.zone_id, []).append(employee)
    areas = []
    for zone in zones:
        for n in range(3 if zone.kind == ZoneKind.URBAN else 2):
            areas.append(
                Area(code=f"{zone.code}{n + 1:02d}", name=f"{zone.name}{AREA_NAMES[n]}", zone=zone)
            )
    Area.objects.bulk_create(areas)
    book_count = max(len(areas) * 2, -(-customers // CUSTOMERS_PER_BOOK))
    books = []
    for n in range(book_count):
        area = areas[n * len(areas) // book_count]
        people = staff.get(area.zone_id, [])
        readers = [e for e in people if e.is_reader]
        collectors = [e for e in people if e.is_collector]
        books.append(
            Book(
                code=f"{area.code}{n + 1:05d}",
                name=f"{area.name}第{n + 1}册",
                area=area,
                reader=readers[n % len(readers)] if readers else None,
                collector=collectors[n % len(collectors)] if collectors else None,
                reading_day=rng.choice([5, 10, 15, 20, 25]),
            )
        )
    Book.objects.bulk_create(books, batch_size=BATCH)

    plants, districts = {}, {}
    for zone in zones:
        plants[zone.pk] = Meter(
            number=f"P-{zone.code}",
            kind=MeterKind.PLANT,
            zone=zone,
            caliber="DN300",
            digits=8,
            installed_on=datetime.date(2005, 1, 1),
            location=f"{zone.name}水厂出厂",
            remote_read=True,
            device_address=f"P{zone.pk:011d}",
        )
    Meter.objects.bulk_create(plants.values())
    for area in areas:
        if area.zone.kind == ZoneKind.URBAN:
            districts[area.pk] = Meter(
                number=f"D-{area.code}",
                kind=MeterKind.DISTRICT,
                zone=area.zone,
                caliber="DN200",
                digits=8,
                installed_on=datetime.date(2010, 1, 1),
                location=f"{area.name}总表井",
                master=plants[area.zone_id],
                remote_read=True,
                device_address=f"D{area.pk:011d}",
            )
    Meter.objects.bulk_create(districts.values())
    masters = {a.pk: districts.get(a.pk) or plants[a.zone_id] for a in areas}

    sequences = {}
    for zone in zones:
        sequences[zone], _created = AccountSequence.objects.get_or_create(zone=zone)
    _journal([*areas, *books, *plants.values(), *districts.values()], now)

    generator = _Generator(
        rng,
        zones,
        books,
        tariffs["categories"],
        tariffs["tariffs"],
        masters,
        sequences,
    )
    generator.total = max(customers, 1)
    generator.writer = _Writer()
    try:
        for start in range(0, customers, CHUNK):
            generator.chunk(start, min(customers, start + CHUNK))
            if progress:
                progress(min(customers, start + CHUNK), customers)
        generator.finish()
    finally:
        generator.writer.close()
    for zone, sequence in sequences.items():
        sequence.next_value = generator.numbers[zone.pk]
        sequence.save(update_fields=["next_value"])
    return {"areas": areas, "books": books, **generator.counts}
