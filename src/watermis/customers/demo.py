"""The demo company's customers and meters: areas, books, and thousands (up to millions) of accounts.

Deterministic for a given rng. Every kind of meter appears: ordinary meters,
customers with two meters, parent meters with sub-meters, meters shared by
several households (ratios adding up to 1), remote-read and remote-valve
meters with device addresses, district and plant master meters with customer
meters behind them; some accounts are suspended or closed, a few meters were
replaced or transferred (with their MeterEvent rows).

Written in bulk, chunk by chunk (``CHUNK`` customers at a time, so memory stays
bounded at any size), and journaled in bulk. Account numbers follow each
zone's :class:`AccountSequence` pattern; the sequences are moved past the last
number at the end, so accounts opened later never reuse one.
"""

import datetime
import functools
from decimal import Decimal

from django.utils import timezone

from watermis.core import journal
from watermis.core.models import AuditAction
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


class _Generator:
    """Makes the customers of one chunk and writes them."""

    def __init__(self, rng, zones, books, categories, tariffs, masters, sequences):
        self.rng = rng
        self.books = books
        self.categories = categories
        self.tariffs = tariffs
        self.masters = masters  # area id → master meter customer meters sit behind
        self.numbers = {z.pk: s.next_value for z, s in sequences.items()}
        self.patterns = {z.pk: (z.code, s.pattern) for z, s in sequences.items()}
        self.zone_kind = {z.pk: z.kind for z in zones}
        self.meter_no = 0
        self.total = 0
        self.counts = {"customers": 0, "meters": 0, "shares": 0, "events": 0}

    # --- single objects ------------------------------------------------------------

    def customer(self, index, category):
        rng = self.rng
        book = self.books[index * len(self.books) // self.total]
        zone_id = book.area.zone_id
        code, pattern = self.patterns[zone_id]
        account_no = pattern.format(zone=code, seq=self.numbers[zone_id])
        self.numbers[zone_id] += 1
        township = self.zone_kind[zone_id] == ZoneKind.TOWNSHIP
        if category in ("NONRES", "SPECIAL"):
            kinds = BUSINESSES if category == "NONRES" else SPECIAL_BUSINESSES
            name = f"江城{rng.choice(FIRMS)}{rng.choice(kinds)}"
            household, id_number = 0, ""
        else:
            name = person_name(rng)
            household = rng.randint(1, 6)
            id_number = (
                f"4201{rng.randint(0, 99):02d}{rng.randint(1950, 2000)}"
                f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 9999):04d}"
                if rng.random() < 0.5
                else ""
            )
        if township:
            method = PaymentMethod.COLLECTOR if rng.random() < 0.7 else PaymentMethod.COUNTER
        else:
            method = rng.choice(
                [PaymentMethod.COUNTER] * 3 + [PaymentMethod.BANK, PaymentMethod.PREPAID]
            )
        zone_name = book.area.zone.name
        return Customer(
            account_no=account_no,
            name=name,
            name_initials=_initials(name),
            id_number=id_number,
            phone=f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}",
            address=(
                f"江城市{zone_name}{rng.choice(STREETS)}{rng.randint(1, 400)}号"
                f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(1, 30)}0{rng.randint(1, 4)}室"
            ),
            zone=book.area.zone,
            book=book,
            route_order=(index % CUSTOMERS_PER_BOOK + 1) * 10,
            category=self.categories[category],
            household_size=household,
            low_income=category in ("RES", "RESG") and rng.random() < 0.03,
            payment_method=method,
            bank_name="中国工商银行江城分行" if method == PaymentMethod.BANK else "",
            bank_account=(
                f"6222{rng.randint(0, 10**15 - 1):015d}" if method == PaymentMethod.BANK else ""
            ),
            status=CustomerStatus.ACTIVE,
            opened_on=_day(self.rng, datetime.date(2008, 1, 1), datetime.date(2025, 6, 30)),
        )

    def meter(self, customer, tariff, caliber="DN15", **extra):
        rng = self.rng
        self.meter_no += 1
        remote = rng.random() < 0.08
        valve = remote and rng.random() < 0.4
        return Meter(
            number=f"M{self.meter_no:09d}",
            kind=MeterKind.CUSTOMER,
            customer=customer,
            zone=customer.zone,
            caliber=caliber,
            brand=rng.choice(BRANDS),
            digits=5 if caliber in ("DN15", "DN20", "DN25") else 6,
            installed_on=customer.opened_on,
            initial_reading=Decimal(rng.randint(0, 30)),
            tariff=self.tariffs[tariff],
            location=rng.choice(LOCATIONS),
            remote_read=remote,
            remote_valve=valve,
            device_address=f"{self.meter_no:012d}" if remote else "",
            master=self.masters.get(customer.book.area_id),
            **extra,
        )

    # --- a chunk ------------------------------------------------------------------

    def chunk(self, start, end):
        """Generate customers ``start`` to ``end`` - 1 with their meters, shares and events."""
        rng = self.rng
        customers, meters, subs, shares, events = [], [], [], [], []

        def install(meter):
            events.append(
                MeterEvent(
                    meter=meter,
                    kind=MeterEventKind.INSTALL,
                    on=meter.installed_on,
                    zone=meter.zone,
                    new_initial_reading=meter.initial_reading,
                    to_customer=meter.customer,
                )
            )

        def remove(meter, on):
            meter.status, meter.removed_on = MeterStatus.REMOVED, on
            meter.final_reading = meter.initial_reading + rng.randint(100, 5000)

        index = start
        while index < end:
            room = end - index
            r = rng.random()
            if r < 0.03 and room >= 4:  # one meter shared by 2–4 households
                size = rng.randint(2, 4)
                group = [self.customer(index + k, "SHARED") for k in range(size)]
                meter = self.meter(group[0], "SHARED", caliber="DN20")
                meters.append(meter)
                install(meter)
                ratio = (Decimal(1) / size).quantize(Decimal("0.0001"))
                for k, household in enumerate(group):
                    last = k == size - 1
                    share = Decimal(1) - ratio * (size - 1) if last else ratio
                    shares.append(MeterShare(meter=meter, customer=household, ratio=share))
                customers.extend(group)
                index += size
            elif r < 0.05 and room >= 3:  # a parent meter with two sub-meters
                owner = self.customer(index, "NONRES")
                parent = self.meter(owner, "NONRES", caliber="DN50")
                meters.append(parent)
                install(parent)
                customers.append(owner)
                for k in (1, 2):
                    category = "NONRES" if rng.random() < 0.5 else "RES"
                    tenant = self.customer(index + k, category)
                    sub = self.meter(tenant, category, parent=parent)
                    subs.append(sub)
                    install(sub)
                    customers.append(tenant)
                index += 3
            elif r < 0.056 and room >= 2:  # a closed account whose meter went to a new one
                old, new = self.customer(index, "RES"), self.customer(index + 1, "RES")
                new.opened_on = _day(rng, old.opened_on)
                old.status, old.closed_on = CustomerStatus.CLOSED, new.opened_on
                meter = self.meter(old, "RES")
                meters.append(meter)
                install(meter)
                meter.customer, meter.zone = new, new.zone
                events.append(
                    MeterEvent(
                        meter=meter,
                        kind=MeterEventKind.TRANSFER,
                        on=new.opened_on,
                        zone=new.zone,
                        from_customer=old,
                        to_customer=new,
                        reason="过户",
                    )
                )
                customers.extend([old, new])
                index += 2
            else:
                township = self.zone_kind[
                    self.books[index * len(self.books) // self.total].area.zone_id
                ]
                x = rng.random()
                if x < 0.12:
                    category, caliber = "NONRES", rng.choice(["DN20", "DN25", "DN40", "DN50"])
                elif x < 0.14:
                    category, caliber = "SPECIAL", rng.choice(["DN25", "DN40"])
                else:
                    category = "RESG" if township == ZoneKind.TOWNSHIP else "RES"
                    caliber = "DN15"
                customer = self.customer(index, category)
                customers.append(customer)
                first = len(meters)
                for _k in range(2 if rng.random() < 0.05 else 1):
                    meter = self.meter(customer, category, caliber=caliber)
                    meters.append(meter)
                    install(meter)
                    if rng.random() < 0.015:  # replaced meter: the old one retired
                        on = _day(rng, meter.installed_on)
                        new = self.meter(customer, category, caliber=caliber)
                        new.installed_on, new.initial_reading = on, Decimal(0)
                        new.master = meter.master
                        remove(meter, on)
                        meters.append(new)
                        install(new)
                        events.append(
                            MeterEvent(
                                meter=meter,
                                kind=MeterEventKind.REPLACE,
                                on=on,
                                zone=meter.zone,
                                old_final_reading=meter.final_reading,
                                new_meter=new,
                                new_initial_reading=new.initial_reading,
                                from_customer=customer,
                                to_customer=customer,
                                reason="表坏换表",
                            )
                        )
                s = rng.random()
                if s < 0.02:
                    customer.status = CustomerStatus.SUSPENDED
                    customer.suspended_on = _day(rng, customer.opened_on)
                    for meter in meters[first:]:
                        if meter.remote_valve and meter.status == MeterStatus.ACTIVE:
                            meter.valve_state = ValveState.CLOSED
                elif s < 0.03:
                    customer.status = CustomerStatus.CLOSED
                    customer.closed_on = _day(rng, customer.opened_on)
                    for meter in meters[first:]:
                        if meter.status == MeterStatus.ACTIVE:
                            remove(meter, customer.closed_on)
                index += 1

        Customer.objects.bulk_create(customers, batch_size=BATCH)
        Meter.objects.bulk_create(meters, batch_size=BATCH)
        Meter.objects.bulk_create(subs, batch_size=BATCH)
        MeterShare.objects.bulk_create(shares, batch_size=BATCH)
        MeterEvent.objects.bulk_create(events, batch_size=BATCH)
        _journal([*customers, *meters, *subs, *shares, *events], timezone.now())
        self.counts["customers"] += len(customers)
        self.counts["meters"] += len(meters) + len(subs)
        self.counts["shares"] += len(shares)
        self.counts["events"] += len(events)


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
    for start in range(0, customers, CHUNK):
        generator.chunk(start, min(customers, start + CHUNK))
        if progress:
            progress(min(customers, start + CHUNK), customers)
    for zone, sequence in sequences.items():
        sequence.next_value = generator.numbers[zone.pk]
        sequence.save(update_fields=["next_value"])
    return {"areas": areas, "books": books, **generator.counts}
