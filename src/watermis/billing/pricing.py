"""Pricing a reading period: from its reads to bill drafts, with the reads left out and why.

Everything a book needs is loaded in a handful of set-based queries (reads,
meters, customers, shares, splits, sub-meters, surcharges, each customer's
tier-year position, minimum volumes); the tariff calculator then prices each
bill in memory. Nothing is written here: :mod:`billrun` writes the drafts.

Rules (docs/billing-rules.md):

- A meter is billed once its reads of the month are entered; unread (pending)
  and held reads wait. A monitored meter's reads of the month are billed
  together, from the first read's start to the last read's date.
- Parent meter (套表): its volume less its sub-meters' reads of the same month;
  waits while a sub-meter's read is pending or held.
- Minimum volume: the category's monthly minimum for the caliber × the months
  of the period, unless the read is exempt; applied to the meter's volume,
  before it is shared or split.
- A volume split (F2.4) gives one bill per part; a shared meter gives each
  household its share (``split_by_ratios``); each is priced as its own bill,
  with its customer's household size, tiers and surcharges.
- Tier year: a customer's cumulative tiers continue from their last bill of
  the same tier year (in this run too, for a second meter or part).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _

from watermis.core import bulk
from watermis.core.money import from_centi, from_fen, to_price_units
from watermis.customers.models import Customer, CustomerSurcharge, Meter, MeterShare
from watermis.readings.consumption import net_parent_volume, split_by_ratios
from watermis.readings.models import Reading, ReadingSplit, ReadingState
from watermis.tariffs import calculator
from watermis.tariffs.models import MinimumVolume, PriceItem, TariffVersion
from watermis.tariffs.queries import VERSION_PREFETCH, spec_from_version

from .models import Bill, BillKind, BillState

ZERO = Decimal("0.00")


@dataclass(slots=True)
class Draft:
    """One bill to write: its facts and its priced lines."""

    customer_id: int
    zone_id: int
    book_id: int | None
    meter_id: int
    reading_id: int
    part: int
    month: datetime.date
    period_start: datetime.date
    period_end: datetime.date
    previous: Decimal | None
    current: Decimal | None
    read_volume: Decimal
    volume: Decimal
    tariff_id: int
    household_size: int
    cycle_start: datetime.date | None
    cycle_to_date: Decimal
    amount: Decimal
    lines: tuple
    reading_ids: tuple = ()


@dataclass(slots=True)
class Skip:
    reading_id: int
    meter: str
    account: str
    reason: str


@dataclass
class Priced:
    drafts: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    waiting: int = 0  # reads not entered yet (pending or held)


class TariffBook:
    """Calculator specs per tariff and minimum volumes, loaded once and kept for a whole run."""

    def __init__(self):
        self._specs = {}
        self._minimums = None
        self._items = None

    def specs(self, tariff_ids):
        missing = [t for t in tariff_ids if not self._specs.get(t)]
        if missing:
            versions = defaultdict(list)
            rows = (
                TariffVersion.objects.filter(tariff_id__in=missing)
                .order_by("effective_from")
                .prefetch_related(*VERSION_PREFETCH)
            )
            for version in rows:
                versions[version.tariff_id].append(spec_from_version(version))
            for tariff_id in missing:
                self._specs[tariff_id] = versions.get(tariff_id, [])
        return self._specs

    def minimum(self, category_id, caliber):
        if self._minimums is None:
            self._minimums = {
                (c, k): v
                for c, k, v in MinimumVolume.objects.values_list(
                    "category_id", "caliber", "monthly_volume"
                )
            }
        return self._minimums.get((category_id, caliber), ZERO)

    def item_id(self, code):
        if self._items is None or code not in self._items:
            self._items = dict(PriceItem.objects.values_list("code", "pk"))
        return self._items[code]


def months_of(start, end):
    """Whole months a period covers, at least one (30 days a month, rounded)."""
    return max(1, round((end - start).days / 30))


def _tier_positions(customer_ids, since):
    """Each customer's last issued bill ending on or after ``since``: (cycle start, tier-year
    volume after it). Older bills cannot share a tier year with a period starting a year later.

    Looked up customer by customer through the bills' (customer, month) index, in its
    order: as one filter over the bills, PostgreSQL's planner (whose statistics lag behind
    a bill run, and say "empty" on a new system) scanned every bill written so far, once a
    book. A bill's month is never before its period's end month, so ``month >= since``'s
    month loses no bill the period condition keeps."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.id, b.cycle_start, b.cycle_to_date FROM unnest(%s::bigint[]) AS c(id) "
                "CROSS JOIN LATERAL (SELECT cycle_start, cycle_to_date FROM billing_bill "
                "WHERE customer_id = c.id AND month >= %s AND state = %s AND kind = %s "
                "AND period_end >= %s AND cycle_start IS NOT NULL "
                "ORDER BY month DESC, period_end DESC, id DESC LIMIT 1) AS b",
                [
                    bulk.array_literal(customer_ids),
                    since.replace(day=1),
                    BillState.ISSUED,
                    BillKind.REGULAR,
                    since,
                ],
            )
            return {customer_id: (start, to_date) for customer_id, start, to_date in cursor}
    rows = bulk.filter_ids(
        Bill.objects.filter(
            state=BillState.ISSUED, kind=BillKind.REGULAR, period_end__gte=since
        ).exclude(cycle_start=None),
        "customer_id",
        customer_ids,
    ).order_by("customer_id", "month", "period_end", "id")
    return {
        customer_id: (start, to_date)
        for customer_id, start, to_date in rows.values_list(
            "customer_id", "cycle_start", "cycle_to_date"
        )
    }


def _surcharges(customer_ids, on):
    fees = defaultdict(list)
    rows = (
        bulk.filter_ids(
            CustomerSurcharge.objects.filter(starts_on__lte=on), "customer_id", customer_ids
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .order_by("item__sort_order", "pk")
        .values_list("customer_id", "item__code", "item__name", "kind", "amount")
    )
    for customer_id, code, name, kind, amount in rows:
        fees[customer_id].append(calculator.Fee(code, name, kind, to_price_units(amount)))
    return {k: tuple(v) for k, v in fees.items()}


READ_FIELDS = (
    "id",
    "meter_id",
    "customer_id",
    "zone_id",
    "book_id",
    "sequence",
    "previous",
    "previous_on",
    "current",
    "read_on",
    "volume",
    "state",
    "billed",
    "minimum_exempt",
    "meter__number",
    "meter__tariff_id",
    "meter__caliber",
    "meter__installed_on",
    "customer__account_no",
    "customer__category_id",
)


def price_period(period, tariffs=None, reading_ids=None, include_billed=False):
    """Drafts for the unbilled entered reads of a reading period (or only ``reading_ids``)."""
    tariffs = tariffs or TariffBook()
    reads = Reading.objects.filter(period=period)
    wanted = None if reading_ids is None else set(reading_ids)
    by_meter = defaultdict(list)
    for row in reads.order_by("meter_id", "sequence").values(*READ_FIELDS):
        if wanted is None or row["id"] in wanted:
            by_meter[row["meter_id"]].append(row)
    result = Priced()
    if not by_meter:
        return result
    period_meters = reads.values("meter_id")
    subs = defaultdict(list)
    for sub_id, parent_id in Meter.objects.filter(parent_id__in=period_meters).values_list(
        "pk", "parent_id"
    ):
        subs[parent_id].append(sub_id)
    sub_reads = defaultdict(list)
    if subs:
        for meter_id, state, volume in Reading.objects.filter(
            meter_id__in=[s for ids in subs.values() for s in ids], period__month=period.month
        ).values_list("meter_id", "state", "volume"):
            sub_reads[meter_id].append((state, volume))
    shares = defaultdict(list)
    for meter_id, customer_id, ratio in (
        MeterShare.objects.filter(meter_id__in=period_meters)
        .order_by("meter_id", "pk")
        .values_list("meter_id", "customer_id", "ratio")
    ):
        shares[meter_id].append((customer_id, ratio))
    splits = defaultdict(list)
    for reading_id, part, volume in (
        ReadingSplit.objects.filter(reading__period=period, active=True)
        .order_by("reading_id", "part")
        .values_list("reading_id", "part", "volume")
    ):
        splits[reading_id].append((part, volume))
    customers = Q(pk__in=reads.values("customer_id"))
    if shares:
        customers |= Q(
            pk__in=MeterShare.objects.filter(meter_id__in=period_meters).values("customer_id")
        )
    chosen = Customer.objects.filter(customers)
    people = {
        row[0]: row[1:]
        for row in chosen.values_list(
            "pk", "household_size", "low_income", "zone_id", "book_id", "account_no"
        )
    }
    earliest = min(
        (r["previous_on"] or r["meter__installed_on"] for rows in by_meter.values() for r in rows),
        default=period.month,
    )
    positions = _tier_positions(list(people), earliest - datetime.timedelta(days=366))
    fees = _surcharges(list(people), period.month + datetime.timedelta(days=62))
    specs = tariffs.specs({rows[0]["meter__tariff_id"] for rows in by_meter.values()} - {None})

    for meter_id, rows in by_meter.items():
        first = rows[0]
        todo = [r for r in rows if include_billed or not r["billed"]]
        if not todo:
            continue
        if any(r["state"] != ReadingState.ENTERED for r in todo):
            result.waiting += 1
            continue

        def skip(reason, first=first):
            result.skipped.append(
                Skip(first["id"], first["meter__number"], first["customer__account_no"], reason)
            )

        tariff_id = first["meter__tariff_id"]
        if tariff_id is None or not specs.get(tariff_id):
            skip(_("The meter has no tariff with a version in force."))
            continue
        waiting_subs = [
            s
            for s in subs.get(meter_id, ())
            if any(state != ReadingState.ENTERED for state, _v in sub_reads.get(s, ()))
        ]
        if waiting_subs:
            skip(_("A sub-meter of this parent meter has not been read (or is held)."))
            continue
        last = todo[-1]
        start = todo[0]["previous_on"] or first["meter__installed_on"]
        end = last["read_on"]
        read_volume = sum((r["volume"] for r in todo), ZERO)
        if subs.get(meter_id):
            sub_volume = [v for s in subs[meter_id] for _st, v in sub_reads.get(s, ()) if v]
            read_volume = net_parent_volume(read_volume, sub_volume)
        months = months_of(start, end)
        minimum = tariffs.minimum(first["customer__category_id"], first["meter__caliber"])
        volume = read_volume
        if minimum and not last["minimum_exempt"]:
            volume = max(volume, minimum * months)
        if len(todo) == 1 and splits.get(last["id"]):
            parts = [(part, v, first["customer_id"]) for part, v in splits[last["id"]]]
        elif shares.get(meter_id):
            share_rows = shares[meter_id]
            volumes = split_by_ratios(volume, [ratio for _c, ratio in share_rows])
            parts = [
                (n, v, customer_id)
                for n, ((customer_id, _r), v) in enumerate(
                    zip(share_rows, volumes, strict=True), start=1
                )
            ]
        else:
            parts = [(0, volume, first["customer_id"])]
        for part, part_volume, customer_id in parts:
            household, low_income, zone_id, book_id, _account = people[customer_id]
            facts_start = start
            cycle = None
            spec_list = specs[tariff_id]
            last_spec = spec_list[-1]
            if last_spec.tier_mode == calculator.CYCLIC:
                cycle = calculator.cycle_start(
                    start + datetime.timedelta(days=1), last_spec.cycle_start_month
                )
            known = positions.get(customer_id)
            position = known[1] if known and cycle and known[0] == cycle else ZERO
            try:
                priced = calculator.price_bill(
                    spec_list,
                    calculator.BillFacts(
                        period_start=facts_start,
                        period_end=end,
                        volume=part_volume,
                        cycle_to_date=position,
                        household_size=household,
                        no_tiers=low_income,
                        extra_fees=fees.get(customer_id, ()),
                    ),
                )
            except calculator.TariffError as error:
                skip(str(error))
                break
            if priced.cycle_start is not None:
                positions[customer_id] = (priced.cycle_start, priced.cycle_to_date)
            share_of_read = read_volume if part == 0 or len(parts) == 1 else part_volume
            result.drafts.append(
                Draft(
                    customer_id=customer_id,
                    zone_id=zone_id,
                    book_id=book_id,
                    meter_id=meter_id,
                    reading_id=last["id"],
                    part=part,
                    month=period.month,
                    period_start=start,
                    period_end=end,
                    previous=todo[0]["previous"],
                    current=last["current"],
                    read_volume=share_of_read,
                    volume=from_centi(priced.billed_centi),
                    tariff_id=tariff_id,
                    household_size=household,
                    cycle_start=priced.cycle_start,
                    cycle_to_date=priced.cycle_to_date if priced.cycle_start else ZERO,
                    amount=priced.total,
                    lines=priced.lines,
                    reading_ids=tuple(r["id"] for r in todo),
                )
            )
    return result


def totals(priced, tariffs):
    """What a priced book adds up to: bills, volume, amount, by price item; reads left out."""
    items = {}  # code: [name, volume in 0.01 m³, amount in fen]
    amount = volume = ZERO
    for draft in priced.drafts:
        amount += draft.amount
        volume += draft.volume
        for line in draft.lines:
            entry = items.setdefault(line.item_code, [line.item_name, 0, 0])
            if line.kind == calculator.WATER:
                entry[1] += line.volume_centi
            entry[2] += line.amount_fen
    reasons = defaultdict(int)
    for skip in priced.skipped:
        reasons[skip.reason] += 1
    return {
        "bills": len(priced.drafts),
        "amount": str(amount),
        "volume": str(volume),
        "items": {
            code: [name, str(from_centi(v)), str(from_fen(a))]
            for code, (name, v, a) in sorted(items.items())
        },
        "waiting": priced.waiting,
        "skipped": dict(reasons),
        "skipped_reads": [
            [s.reading_id, s.meter, s.account, s.reason] for s in priced.skipped[:200]
        ],
    }
