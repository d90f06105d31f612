"""Bill run (issue 6): bills per second for a month of a whole company, and peak memory.

Set-up (not timed): one zone, books of 2,000 customers each with one meter and a
ledger account, a 3-tier residential tariff with water, resource and sewage
items, and the month's reads entered (10–20 m³, 2 % zero so the minimum applies).
Timed: ``billrun.start_run`` for the zone's month until the run is finished (its
last book done), its book tasks run by ``--workers`` ``manage.py db_worker``
processes started and connected beforehand (PostgreSQL), or in this process
(SQLite, which has one writer anyway; ``--workers 0`` or ``--profile`` on
PostgreSQL). The tasks a finished run leaves (the reports' facts refresh) are
timed apart. Reported: bills/s, bills,
lines and ledger entries written, the peak memory (max RSS) of any process, and
that ``verify`` finds the books right.
"""

import argparse
import datetime
import os
import resource
import signal
import subprocess
import sys
import time
from decimal import Decimal

from _common import ROOT, bench_database, bench_zone, copy_rows, machine, timer

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--size", type=int, default=100_000, help="accounts (default 100000)")
parser.add_argument(
    "--workers", type=int, default=2, help="worker processes (PostgreSQL; 0: in this process)"
)
parser.add_argument("--profile", help="in this process: write cProfile statistics to this file")
args = parser.parse_args()
sys.argv = sys.argv[:1]

PER_BOOK = 2000
MONTH = datetime.date(2026, 10, 1)
READ_ON = datetime.date(2026, 10, 20)


def reset_sequences(connection, models):
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


def start_workers(connection, count):
    """``count`` ``manage.py db_worker`` processes on the bench database, started and connected
    before the run is timed (a company's workers run all along; their start is not the run's)."""
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@"
        f"{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "watermis.settings"}
    command = [sys.executable, str(ROOT / "manage.py"), "db_worker", "--no-startup-delay"]
    command += ["--no-reload", "--skip-checks", "--interval", "0.05", "--queue-name", "*"]
    workers = [
        subprocess.Popen([*command, "--verbosity", "0"], env=env, cwd=ROOT)  # noqa: S603
        for _ in range(count)
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return workers
        time.sleep(0.1)
    raise SystemExit("the workers did not connect within 60 s")


def peak_mib():
    """Peak memory (max RSS, MiB) of this process (set-up, in-process runs, verify) and of
    the largest worker."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if not children:
        return f"{own / 1024:.0f} MiB"
    return f"{own / 1024:.0f} MiB here, {children / 1024:.0f} MiB the largest worker"


with bench_database() as vendor:
    import random

    from django.db import connection, transaction
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from watermis.billing import billrun
    from watermis.billing.models import Account, Bill, BillLine, BillRun, LedgerEntry
    from watermis.billing.verify import verify_books
    from watermis.customers.models import Area, Book, Customer, Meter
    from watermis.readings.models import Reading, ReadingPeriod, ReadingState
    from watermis.tariffs.models import (
        CategoryKind,
        MinimumVolume,
        PriceItem,
        Tariff,
        TariffPrice,
        TariffTier,
        TariffVersion,
        TierMode,
        WaterCategory,
    )

    rng = random.Random(2026)
    n = args.size
    with timer() as setup, transaction.atomic():
        zone, clerk = bench_zone("B")
        category = WaterCategory.objects.create(
            code="RES", name="居民", kind=CategoryKind.RESIDENTIAL
        )
        tariff = Tariff.objects.create(code="RES", name="居民阶梯水价", category=category)
        version = TariffVersion.objects.create(
            tariff=tariff, effective_from=datetime.date(2024, 1, 1), tier_mode=TierMode.CYCLIC
        )
        TariffTier.objects.bulk_create(
            [
                TariffTier(version=version, number=1, upper=Decimal(180)),
                TariffTier(version=version, number=2, upper=Decimal(260)),
                TariffTier(version=version, number=3, upper=None),
            ]
        )
        water = PriceItem.objects.create(code="W", name="水费", sort_order=1)
        resource_fee = PriceItem.objects.create(code="R", name="水资源费", sort_order=2)
        sewage = PriceItem.objects.create(code="S", name="污水处理费", sort_order=3)
        TariffPrice.objects.bulk_create(
            [
                TariffPrice(version=version, item=water, tier=1, unit_price=Decimal("2.07")),
                TariffPrice(version=version, item=water, tier=2, unit_price=Decimal("4.07")),
                TariffPrice(version=version, item=water, tier=3, unit_price=Decimal("6.07")),
                TariffPrice(version=version, item=resource_fee, unit_price=Decimal("1.57")),
                TariffPrice(version=version, item=sewage, unit_price=Decimal("1.36")),
            ]
        )
        MinimumVolume.objects.create(category=category, caliber="DN15", monthly_volume=Decimal(2))
        area = Area.objects.create(code="B01", name="测试片区", zone=zone)
        books = Book.objects.bulk_create(
            [Book(code=f"B{b:05d}", name=f"册{b}", area=area) for b in range(-(-n // PER_BOOK))]
        )
        periods = ReadingPeriod.objects.bulk_create(
            [ReadingPeriod(zone=zone, book=b, month=MONTH, planned_on=READ_ON) for b in books]
        )
        now = timezone.now()
        copy_rows(
            Customer,
            [
                "id",
                "account_no",
                "name",
                "name_initials",
                "address",
                "zone_id",
                "book_id",
                "route_order",
                "category_id",
                "household_size",
                "opened_on",
            ],
            (
                (
                    i + 1,
                    f"B{i:08d}",
                    "用户",
                    "YH",
                    f"测试路{i}号",
                    zone.pk,
                    books[i // PER_BOOK].pk,
                    i % PER_BOOK,
                    category.pk,
                    3 + i % 3,
                    datetime.date(2020, 1, 1),
                )
                for i in range(n)
            ),
        )
        copy_rows(
            Meter,
            ["id", "number", "customer_id", "zone_id", "installed_on", "tariff_id"],
            (
                (i + 1, f"M{i:09d}", i + 1, zone.pk, datetime.date(2020, 1, 1), tariff.pk)
                for i in range(n)
            ),
        )
        copy_rows(
            Account,
            ["customer_id", "zone_id", "balance", "updated_at"],
            ((i + 1, zone.pk, Decimal("0.00"), now) for i in range(n)),
        )

        def reading(i):
            use = 0 if rng.random() < 0.02 else rng.randint(10, 20)
            previous = Decimal(1000 + i % 500)
            return (
                i + 1,
                periods[i // PER_BOOK].pk,
                i + 1,
                i + 1,
                zone.pk,
                books[i // PER_BOOK].pk,
                i % PER_BOOK,
                previous,
                datetime.date(2026, 9, 20),
                previous + use,
                READ_ON,
                Decimal(use),
                previous + use,
                ReadingState.ENTERED.value,
                now,
            )

        copy_rows(
            Reading,
            [
                "id",
                "period_id",
                "meter_id",
                "customer_id",
                "zone_id",
                "book_id",
                "route_order",
                "previous",
                "previous_on",
                "current",
                "read_on",
                "volume",
                "closing",
                "state",
                "entered_at",
            ],
            (reading(i) for i in range(n)),
        )
        reset_sequences(connection, [Customer, Meter, Reading])
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"set-up: {n} accounts, meters and entered reads in {setup['seconds']:.1f} s")

    in_workers = vendor == "postgresql" and args.workers and not args.profile
    if in_workers:
        workers = start_workers(connection, args.workers)
    with timer() as took:
        with transaction.atomic():
            run = billrun.start_run(clerk, zone, MONTH, issued_on=datetime.date(2026, 10, 25))
        if in_workers:
            while not BillRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists():
                time.sleep(0.05)
        else:
            from watermis.billing.tasks import run_queued_tasks

            if args.profile:
                import cProfile

                cProfile.run("run_queued_tasks()", args.profile)
            else:
                run_queued_tasks()
    if in_workers:
        # What a finished run leaves for the workers (the reports' facts refresh) is not
        # part of the run; it is timed on its own.
        with timer() as after:
            while DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
                time.sleep(0.05)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [w.wait() for w in workers]
        assert codes == [0] * len(workers), codes
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"follow-up tasks after the run (facts refresh): {after['seconds']:.1f} s")
        print(
            f"CPU of the workers (Python, run and follow-up tasks): {used.ru_utime + used.ru_stime:.1f} s"
        )
    run.refresh_from_db()
    summary = billrun.run_summary(run)
    bills = Bill.objects.count()
    lines = BillLine.objects.count()
    entries = LedgerEntry.objects.count()
    assert summary["status"] == "done", [b.error for b in summary["books"] if b.error][:1]
    assert bills == n, (bills, n)
    problems = verify_books(limit=5)
    rate = bills / took["seconds"]
    print(
        f"machine: {machine()}, database: {vendor}, "
        f"workers: {args.workers if in_workers else 'in-process'}"
    )
    print(
        f"billed {bills} bills, {lines} lines, {entries} ledger entries "
        f"in {took['seconds']:.1f} s; peak memory {peak_mib()}; verify: "
        f"{problems or 'clean'}"
    )
    print(f"billrun: {rate:.0f} bills/s")
