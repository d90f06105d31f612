"""Handheld file import (F2.3): readings imported per second through the bulk path.

Set-up (not timed): one zone, books of 500 customers each with one meter, the
month's reading periods and their pending reading rows, written with bulk SQL
(COPY on PostgreSQL); then a handheld CSV file with every meter's reading (2 %
zero reads, which are held). Timed: ``handheld.import_file`` on that file —
parse, resolve periods and meters, lock the rows in primary-key order, check
each entry with ``services.apply_entry``, ``bulk_update`` and one journal
entry per reading. ``--page`` posts the file to the upload page instead (a
signed-in clerk, the whole request). A second upload of the same file (nothing
changes) is timed too.
"""

import argparse
import csv
import datetime
import io
import sys
from decimal import Decimal

from _common import bench_database, machine, timer

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--size", type=int, default=100_000, help="readings (default 100000)")
parser.add_argument("--page", action="store_true", help="upload through the page")
args = parser.parse_args()
sys.argv = sys.argv[:1]

PER_BOOK = 500
MONTH = datetime.date(2026, 10, 1)
READ_ON = datetime.date(2026, 10, 20)
TODAY = datetime.date(2026, 11, 24)


def insert(connection, model, records):
    """Insert dicts (attname -> value) with the model's defaults: COPY or executemany."""
    from django.db.models import DateTimeField
    from django.utils import timezone

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    defaults = {}
    for f in fields:
        if isinstance(f, DateTimeField) and (f.auto_now or f.auto_now_add):
            defaults[f.attname] = now
        else:
            value = f.get_default()
            defaults[f.attname] = getattr(value, "value", value)
    columns = [f.column for f in fields]
    names = [f.attname for f in fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    cols = ", ".join(quote(c) for c in columns)
    rows = ([r.get(n, defaults[n]) for n in names] for r in records)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            batch = []
            for row in rows:
                batch.append(
                    [
                        v.isoformat()
                        if isinstance(v, datetime.date) and not isinstance(v, datetime.datetime)
                        else (str(v) if isinstance(v, Decimal) else v)
                        for v in row
                    ]
                )
                if len(batch) >= 10_000:
                    cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)  # noqa: S608
                    batch = []
            if batch:
                cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)  # noqa: S608


def reset_sequences(connection, models):
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


with bench_database() as vendor:
    import random

    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from watermis.core.journal import audit_context
    from watermis.customers.models import Area, Book, Customer, Meter
    from watermis.org.models import BusinessUnit, Operator, Zone
    from watermis.org.roles import CLERK, ensure_standard_roles
    from watermis.readings import handheld
    from watermis.readings.models import Reading, ReadingPeriod
    from watermis.tariffs.models import CategoryKind, WaterCategory

    rng = random.Random(2026)
    n = args.size
    zone = Zone.objects.create(code="B", name="测试区", kind="urban")
    unit = BusinessUnit.objects.create(code="B01", name="测试营业厅", zone=zone)
    roles = ensure_standard_roles()
    clerk = Operator(username="clerk", name="clerk", unit=unit)
    clerk.set_password("Water2026")
    clerk.save()
    clerk.groups.add(roles[CLERK])
    category = WaterCategory.objects.create(code="RES", name="居民", kind=CategoryKind.RESIDENTIAL)
    area = Area.objects.create(code="B01", name="测试片区", zone=zone)
    books = Book.objects.bulk_create(
        [Book(code=f"B{b:05d}", name=f"册{b}", area=area) for b in range(-(-n // PER_BOOK))]
    )
    periods = ReadingPeriod.objects.bulk_create(
        [ReadingPeriod(zone=zone, book=b, month=MONTH, planned_on=READ_ON) for b in books]
    )
    with timer() as setup:
        insert(
            connection,
            Customer,
            (
                {
                    "id": i + 1,
                    "account_no": f"B{i:08d}",
                    "name": "用户",
                    "address": f"测试路{i}号",
                    "zone_id": zone.pk,
                    "book_id": books[i // PER_BOOK].pk,
                    "route_order": i % PER_BOOK,
                    "category_id": category.pk,
                    "opened_on": datetime.date(2020, 1, 1),
                }
                for i in range(n)
            ),
        )
        insert(
            connection,
            Meter,
            (
                {
                    "id": i + 1,
                    "number": f"M{i:09d}",
                    "customer_id": i + 1,
                    "zone_id": zone.pk,
                    "installed_on": datetime.date(2020, 1, 1),
                }
                for i in range(n)
            ),
        )
        insert(
            connection,
            Reading,
            (
                {
                    "id": i + 1,
                    "period_id": periods[i // PER_BOOK].pk,
                    "meter_id": i + 1,
                    "customer_id": i + 1,
                    "zone_id": zone.pk,
                    "book_id": books[i // PER_BOOK].pk,
                    "route_order": i % PER_BOOK,
                    "previous": Decimal(1000 + i % 500),
                    "previous_on": datetime.date(2026, 9, 20),
                    "average": Decimal(15),
                }
                for i in range(n)
            ),
        )
        reset_sequences(connection, [Customer, Meter, Reading])
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(handheld.HEADERS)
        col = {key: handheld.HEADERS.index(h) for key, h in handheld.HEADER_OF.items()}
        for i in range(n):
            row = [""] * len(handheld.HEADERS)
            row[col["month"]], row[col["book"]] = "2026-10", books[i // PER_BOOK].code
            row[col["meter"]] = f"M{i:09d}"
            use = 0 if rng.random() < 0.02 else rng.randint(10, 20)
            row[col["current"]] = str(1000 + i % 500 + use)
            row[col["read_on"]] = READ_ON.isoformat()
            writer.writerow(row)
        data = text.getvalue().encode("utf-8-sig")
    print(
        f"set-up: {n} customers, meters and pending readings, file {len(data) / 1e6:.1f} MB "
        f"in {setup['seconds']:.1f} s"
    )

    def run():
        if args.page:
            from django.core.files.uploadedfile import SimpleUploadedFile

            client = Client()
            client.force_login(clerk)
            with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=None):
                response = client.post(
                    "/readings/files/upload/",
                    {"file": SimpleUploadedFile("bench.csv", data, content_type="text/csv")},
                )
            assert response.status_code == 200, response.status_code
            return response.context["result"]
        with audit_context(actor=clerk, source="bench"):
            return handheld.import_file(clerk, io.BytesIO(data), "bench.csv", today=TODAY)

    with timer() as t:
        result = run()
    assert result.ok, result.errors[:5]
    assert result.saved + result.held == n, (result.saved, result.held)
    with timer() as again:
        second = run()
    assert second.unchanged == n and second.saved == 0
    rate = n / t["seconds"]
    how = "the upload page" if args.page else "handheld.import_file"
    print(
        f"{n} readings ({result.saved} saved, {result.held} held) through {how} in "
        f"{t['seconds']:.1f} s on {vendor}, {machine()}; the same file again (unchanged) "
        f"in {again['seconds']:.1f} s"
    )
    print(f"readings: {rate:.0f} readings/s")
