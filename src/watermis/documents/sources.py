"""The data of each document, as plain values shaped like the kind's field catalogue.

A source reads the owning apps' tables and returns dicts of str, Decimal,
date and lists: never model instances, so a layout sees only what is
printed. Sources of many documents are generators that read in chunks
(three or four queries per :data:`CHUNK` documents), so a book of thousands
of accounts prints in bounded memory.

Sources here: meter cards (F6.6) from customers, meters, books and readings;
payment and arrears notices from a customer's open bills and late fees as of
a date (:func:`watermis.billing.latefees.arrears_for`). Invoices, receipts,
bank slips and deposit vouchers get their data from the modules that issue
them; their fields are in the catalogue already.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from watermis.billing.latefees import arrears_for
from watermis.billing.models import BillLine
from watermis.customers.models import (
    Book,
    Customer,
    CustomerStatus,
    Meter,
    MeterKind,
    MeterStatus,
)
from watermis.org.models import Company
from watermis.readings.models import Reading, ReadingState

CHUNK = 500
HISTORY = 6  # readings on a meter card
ZERO = Decimal("0.00")
TIER_NAMES = "一二三四五六七八九"


def company_data():
    """The company's fields (empty texts before the company is set up)."""
    company = Company.objects.first()
    names = (
        "name",
        "short_name",
        "address",
        "postal_code",
        "phone",
        "service_hotline",
        "credit_code",
        "bank_name",
        "bank_account",
        "website",
    )
    return {name: getattr(company, name, "") or "" for name in names}


def common_data(printed_by="", on=None, company=None):
    return {
        "company": company if company is not None else company_data(),
        "printed_on": on or datetime.date.today(),
        "printed_by": printed_by,
    }


def operator_name(user):
    return (getattr(user, "name", "") or getattr(user, "username", "") or "") if user else ""


def customer_data(customer):
    """A customer's fields (``customer`` with ``category``, ``zone`` and ``book`` loaded)."""
    return {
        "account_no": customer.account_no,
        "name": customer.name,
        "address": customer.address,
        "phone": customer.phone,
        "category": str(customer.category),
        "household_size": customer.household_size,
        "payment_method": customer.get_payment_method_display(),
        "bank_name": customer.bank_name,
        "bank_account": customer.bank_account,
        "mandate_no": customer.mandate_no,
        "zone": str(customer.zone),
        "book_code": customer.book.code,
        "route_order": customer.route_order,
        "opened_on": customer.opened_on,
    }


def customers_in_route_order(books, queryset=None):
    """The customers of ``books`` (in the books' order), each book in walking order; closed
    accounts left out. ``queryset``: the customers the operator may see."""
    queryset = Customer.objects.all() if queryset is None else queryset
    queryset = queryset.exclude(status=CustomerStatus.CLOSED).select_related(
        "category", "zone", "book"
    )
    for book in books:
        yield from (
            queryset.filter(book=book)
            .order_by("route_order", "account_no")
            .iterator(chunk_size=CHUNK)
        )


def _chunks(items, size=CHUNK):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _months_before(day, months):
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


# ------------------------------------------------------------------------- meter cards


def book_data(book):
    reader, collector = book.reader, book.collector
    return {
        "code": book.code,
        "name": book.name,
        "area": book.area.name,
        "zone": str(book.area.zone),
        "reader": reader.name if reader else "",
        "reader_phone": reader.phone if reader else "",
        "collector": collector.name if collector else "",
        "cycle": book.get_cycle_display(),
        "reading_day": book.reading_day,
    }


def meter_data(meter):
    return {
        "number": meter.number,
        "caliber": meter.get_caliber_display(),
        "brand": meter.brand,
        "model": meter.model,
        "digits": meter.digits,
        "installed_on": meter.installed_on,
        "location": meter.location,
        "initial_reading": meter.initial_reading,
        "tariff": str(meter.tariff) if meter.tariff_id else "",
    }


def meter_card_contexts(books, *, customers=None, on=None, printed_by="", history=HISTORY):
    """One meter card per meter in service of the books' open accounts (F6.6): books in the
    given order, accounts in walking order, an account's meters by number.

    ``customers``: the customers the operator may see (a restricted queryset); ``on``:
    the printing date (readings of the 12 months before it); ``history``: readings per card.
    """
    on = on or datetime.date.today()
    common = common_data(printed_by, on)
    ids = [getattr(book, "pk", book) for book in books]
    found = Book.objects.select_related("area__zone", "reader", "collector").in_bulk(ids)
    books = [found[pk] for pk in ids if pk in found]
    book_info = {book.pk: book_data(book) for book in books}
    since = _months_before(on, 12)
    for chunk in _chunks(customers_in_route_order(books, customers)):
        ids = [c.pk for c in chunk]
        meters = defaultdict(list)
        for meter in (
            Meter.objects.filter(
                customer_id__in=ids, kind=MeterKind.CUSTOMER, status=MeterStatus.ACTIVE
            )
            .select_related("tariff")
            .order_by("number")
        ):
            meters[meter.customer_id].append(meter)
        reads = defaultdict(list)
        meter_ids = [m.pk for group in meters.values() for m in group]
        for row in (
            Reading.objects.filter(
                meter_id__in=meter_ids,
                sequence=1,
                state__in=(ReadingState.ENTERED, ReadingState.HELD),
                period__month__gte=since,
                period__month__lte=on,
            )
            .order_by("period__month", "id")
            .values(
                "meter_id",
                "period__month",
                "read_on",
                "previous",
                "current",
                "volume",
                "status_code",
            )
        ):
            reads[row["meter_id"]].append(row)
        status_names = dict(Reading._meta.get_field("status_code").flatchoices)
        for customer in chunk:
            customer_info = customer_data(customer)
            for meter in meters.get(customer.pk, ()):
                rows = reads.get(meter.pk, [])[-history:]
                readings = [
                    {
                        "month": r["period__month"],
                        "read_on": r["read_on"],
                        "previous": r["previous"],
                        "current": r["current"],
                        "volume": r["volume"],
                        "status": str(status_names.get(r["status_code"], r["status_code"])),
                    }
                    for r in rows
                ]
                volumes = [r["volume"] for r in readings if r["volume"] is not None]
                last = readings[-1] if readings else {}
                yield {
                    **common,
                    "book": book_info[customer.book_id],
                    "customer": customer_info,
                    "meter": meter_data(meter),
                    "readings": readings,
                    "last": {
                        "month": last.get("month"),
                        "read_on": last.get("read_on"),
                        "current": last.get("current"),
                        "volume": last.get("volume"),
                    },
                    "average_volume": (
                        (sum(volumes) / len(volumes)).quantize(Decimal("0.1")) if volumes else None
                    ),
                }


# ------------------------------------------------------------------------- notices


def _tier_name(tier):
    if not tier:
        return ""
    return f"第{TIER_NAMES[tier - 1]}阶梯" if tier <= len(TIER_NAMES) else f"第{tier}阶梯"


def meter_numbers(bills):
    ids = {bill.meter_id for bill in bills if bill.meter_id}
    return dict(Meter.objects.filter(pk__in=ids).values_list("pk", "number"))


def notice_books(books=(), areas=()):
    """The books a notice run walks: the chosen books in their order, then every active
    book of the chosen areas (area by area, book codes in order), each book once."""
    chosen = list(books)
    seen = {book.pk for book in chosen}
    if areas:
        for book in (
            Book.objects.filter(area__in=list(areas), active=True)
            .select_related("area")
            .order_by("area__code", "code")
        ):
            if book.pk not in seen:
                seen.add(book.pk)
                chosen.append(book)
    return chosen


def notice_customers(*, books=(), customer=None, queryset=None, categories=()):
    """The customers a notice run prints for: one customer, or the books' in walking order
    (only those of ``categories`` when given)."""
    base = Customer.objects.all() if queryset is None else queryset
    if customer is not None:
        return base.filter(pk=customer.pk).select_related("category", "zone", "book")
    if categories:
        base = base.filter(category__in=list(categories))
    return customers_in_route_order(books, base)


def months_owed(context):
    """The number of billing months a notice's customer owes for (current and earlier)."""
    rows = [*context.get("bills", ()), *context.get("arrears", ())]
    return len({row["month"] for row in rows})


def select_notices(contexts, *, min_total=None, min_months=None):
    """Only the notices of customers owing at least ``min_total`` (late fees included) and
    for at least ``min_months`` months; the rest are skipped."""
    for context in contexts:
        if min_total is not None and context["totals"]["total"] < min_total:
            continue
        if min_months is not None and months_owed(context) < min_months:
            continue
        yield context


def payment_notice_contexts(customers, on, pay_by, *, printed_by="", rules=None):
    """A payment notice (缴费通知单) for each customer with a bill to pay as of ``on``:
    the latest month's bills with their priced lines and reading, the earlier unpaid bills
    with their late fees, the totals. Customers with nothing to pay are skipped."""
    common = common_data(printed_by, on)
    for chunk in _chunks(customers):
        due = arrears_for([c.pk for c in chunk], on, rules)
        open_lines = [line for a in due.values() for line in a.lines]
        numbers = meter_numbers([line.bill for line in open_lines])
        latest = {}
        for arrears in due.values():
            months = [line.bill.month for line in arrears.lines if line.principal > 0]
            if months:
                latest[arrears.customer_id] = max(months)
        current_ids = [
            line.bill.pk
            for line in open_lines
            if latest.get(line.bill.customer_id) == line.bill.month and line.principal > 0
        ]
        priced = defaultdict(list)
        for bill_line in (
            BillLine.objects.filter(bill_id__in=current_ids)
            .select_related("item")
            .order_by("bill_id", "item__sort_order", "id")
        ):
            priced[bill_line.bill_id].append(bill_line)
        for customer in chunk:
            arrears = due[customer.pk]
            month = latest.get(customer.pk)
            if month is None:
                continue
            current = [ln for ln in arrears.lines if ln.bill.month == month and ln.principal > 0]
            current_ids_of = {ln.bill.pk for ln in current}
            earlier = [ln for ln in arrears.lines if ln.bill.pk not in current_ids_of]
            first = current[0].bill
            bills = [
                {
                    "month": ln.bill.month,
                    "meter_number": numbers.get(ln.bill.meter_id, ""),
                    "period_start": ln.bill.period_start,
                    "period_end": ln.bill.period_end,
                    "previous": ln.bill.previous,
                    "current": ln.bill.current,
                    "volume": ln.bill.volume,
                    "amount": ln.bill.amount,
                    "open": ln.principal,
                    "due_on": ln.bill.due_on,
                }
                for ln in current
            ]
            lines = [
                {
                    "meter_number": numbers.get(ln.bill.meter_id, ""),
                    "item": bl.item.name,
                    "tier": _tier_name(bl.tier),
                    "volume": bl.volume,
                    "unit_price": bl.unit_price,
                    "amount": bl.amount,
                }
                for ln in current
                for bl in priced.get(ln.bill.pk, ())
            ]
            older = [
                {
                    "month": ln.bill.month,
                    "meter_number": numbers.get(ln.bill.meter_id, ""),
                    "amount": ln.bill.amount,
                    "open": ln.principal,
                    "late_fee": ln.fee_open + ln.fee.amount,
                    "due_on": ln.bill.due_on,
                }
                for ln in earlier
            ]
            current_total = sum((ln.principal for ln in current), ZERO)
            earlier_total = sum((ln.principal for ln in earlier), ZERO)
            yield {
                **common,
                "as_of": on,
                "pay_by": pay_by,
                "month": month,
                "customer": customer_data(customer),
                "reading": {
                    "meter_number": numbers.get(first.meter_id, ""),
                    "period_start": first.period_start,
                    "period_end": first.period_end,
                    "previous": first.previous,
                    "current": first.current,
                    "volume": first.volume,
                },
                "bills": bills,
                "lines": lines,
                "arrears": older,
                "totals": {
                    "current": current_total,
                    "arrears": earlier_total,
                    "late_fee": arrears.late_fee,
                    "total": current_total + earlier_total + arrears.late_fee,
                },
            }


def arrears_notice_contexts(customers, on, pay_by, *, printed_by="", rules=None):
    """An arrears notice (欠费催缴通知书) for each customer with bills past their due date as
    of ``on``: the overdue bills (oldest first) with the late fees owed on each, the totals.
    Customers with nothing overdue are skipped."""
    common = common_data(printed_by, on)
    for chunk in _chunks(customers):
        due = arrears_for([c.pk for c in chunk], on, rules)
        numbers = meter_numbers([line.bill for a in due.values() for line in a.lines])
        for customer in chunk:
            overdue = [
                ln
                for ln in due[customer.pk].lines
                if ln.bill.due_on < on and (ln.principal > 0 or ln.fee_open > 0)
            ]
            if not overdue:
                continue
            rows = []
            for ln in overdue:
                fee = ln.fee_open + ln.fee.amount
                rows.append(
                    {
                        "month": ln.bill.month,
                        "meter_number": numbers.get(ln.bill.meter_id, ""),
                        "volume": ln.bill.volume,
                        "amount": ln.bill.amount,
                        "open": ln.principal,
                        "late_fee": fee,
                        "total": ln.principal + fee,
                        "due_on": ln.bill.due_on,
                        "days_overdue": (on - ln.bill.due_on).days,
                    }
                )
            principal = sum((r["open"] for r in rows), ZERO)
            fees = sum((r["late_fee"] for r in rows), ZERO)
            yield {
                **common,
                "as_of": on,
                "pay_by": pay_by,
                "customer": customer_data(customer),
                "bills": rows,
                "totals": {
                    "principal": principal,
                    "late_fee": fees,
                    "total": principal + fees,
                    "months": len({r["month"] for r in rows}),
                    "oldest_month": min(r["month"] for r in rows),
                },
            }
