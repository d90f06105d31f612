"""Batch printing (issue 7): meter cards of whole books into one PDF, pages per second.

Set-up (not timed): one zone, books of 500 accounts, each account with a meter and six
months of readings, the built-in meter card layout (148 × 105 mm, a table of readings,
some 50 texts a card). Timed: ``meter_card_contexts`` for all the books (the readings
read in chunks) printed by ``render_pdf`` into one PDF, end to end. Reported: pages/s,
the PDF's size, the peak memory (max RSS); and, for comparison, the same number of
payment notices (A4, three tables) printed from sample data without the database.
"""

import datetime
import resource
import sys
from decimal import Decimal

from _common import arguments, bench_database, machine, timer

args = arguments(5000, __doc__)
sys.argv = sys.argv[:1]
PER_BOOK = 500
MONTHS = [datetime.date(2026, m, 1) for m in range(5, 11)]


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


with bench_database() as vendor:
    from django.db import transaction
    from django.utils import timezone

    from watermis.customers.models import Area, Book, Customer, Meter
    from watermis.documents.models import DocumentKind
    from watermis.documents.samples import sample_context
    from watermis.documents.services import render_pdf
    from watermis.documents.sources import meter_card_contexts
    from watermis.org.models import BusinessUnit, Company, Employee, Zone
    from watermis.readings.models import Reading, ReadingPeriod, ReadingState
    from watermis.tariffs.models import CategoryKind, WaterCategory

    n = args.size
    with timer() as setup, transaction.atomic():
        Company.objects.create(name="滨江市自来水有限公司", short_name="滨江水务")
        zone = Zone.objects.create(code="B", name="测试区", kind="urban")
        category = WaterCategory.objects.create(
            code="RES", name="居民生活用水", kind=CategoryKind.RESIDENTIAL
        )
        area = Area.objects.create(code="B01", name="人民路片区", zone=zone)
        unit = BusinessUnit.objects.create(code="B01", name="测试营业厅", zone=zone)
        reader = Employee.objects.create(code="R1", name="张伟", unit=unit, is_reader=True)
        books = Book.objects.bulk_create(
            [
                Book(code=f"B{b:04d}", name=f"人民路{b}册", area=area, reader=reader)
                for b in range(-(-n // PER_BOOK))
            ]
        )
        customers = [
            Customer(
                id=i + 1,
                account_no=f"B{i:08d}",
                name=f"用户{i}",
                name_initials="YH",
                address=f"东城区人民路{i}号{i % 7 + 1}幢{i % 5 + 1}单元{i % 30 + 101}室",
                phone="13800000000",
                zone=zone,
                book=books[i // PER_BOOK],
                route_order=i % PER_BOOK,
                category=category,
                household_size=3,
                opened_on=datetime.date(2020, 1, 1),
            )
            for i in range(n)
        ]
        Customer.objects.bulk_create(customers, batch_size=2000)
        Meter.objects.bulk_create(
            [
                Meter(
                    id=i + 1,
                    number=f"M{i:09d}",
                    customer_id=i + 1,
                    zone=zone,
                    installed_on=datetime.date(2020, 1, 1),
                    location="楼道水表箱",
                )
                for i in range(n)
            ],
            batch_size=2000,
        )
        now = timezone.now()
        for month in MONTHS:
            periods = ReadingPeriod.objects.bulk_create(
                [
                    ReadingPeriod(zone=zone, book=b, month=month, planned_on=month.replace(day=20))
                    for b in books
                ]
            )
            base = (month.month - 5) * 15
            Reading.objects.bulk_create(
                [
                    Reading(
                        period=periods[i // PER_BOOK],
                        meter_id=i + 1,
                        customer_id=i + 1,
                        zone=zone,
                        book_id=periods[i // PER_BOOK].book_id,
                        route_order=i % PER_BOOK,
                        previous=Decimal(base),
                        current=Decimal(base + 15),
                        volume=Decimal(15),
                        closing=Decimal(base + 15),
                        read_on=month.replace(day=20),
                        state=ReadingState.ENTERED,
                        entered_at=now,
                    )
                    for i in range(n)
                ],
                batch_size=2000,
            )
    print(f"set-up: {n} accounts with meters and 6 months of readings in {setup['seconds']:.1f} s")

    # warm the font (parsed once per process, as in a running server)
    render_pdf(DocumentKind.METER_CARD, [sample_context(DocumentKind.METER_CARD)])

    with timer() as notices:
        pdf = render_pdf(
            DocumentKind.PAYMENT_NOTICE,
            (sample_context(DocumentKind.PAYMENT_NOTICE) for _ in range(n)),
        )
    print(
        f"payment notices (sample data, no database): {n} pages in {notices['seconds']:.1f} s, "
        f"{n / notices['seconds']:.0f} pages/s, {len(pdf) / 1e6:.1f} MB"
    )
    del pdf

    with timer() as reading:
        count = sum(1 for _card in meter_card_contexts(books))
    print(
        f"the cards' data alone (customers, meters, readings): {count} in {reading['seconds']:.1f} s"
    )

    with timer() as cards:
        pdf = render_pdf(DocumentKind.METER_CARD, meter_card_contexts(books))
    pages = n
    print(
        f"meter cards of {len(books)} books ({vendor}): {pages} pages in {cards['seconds']:.1f} s, "
        f"{len(pdf) / 1e6:.1f} MB, peak {peak_mib():.0f} MiB, {machine()}"
    )
    print(f"documents: {pages / cards['seconds']:.0f} pages/s")
