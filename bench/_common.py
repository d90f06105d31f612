"""Shared set-up for benchmarks: Django against a throw-away test database on the configured server.

``DATABASE_URL`` chooses the server (default SQLite). Each benchmark runs in
a database of its own (``bench_<script>``, e.g. ``bench_customers``; SQLite: in memory),
created before and destroyed after, so it never touches real data nor another benchmark
running at the same time.
"""

import argparse
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "watermis.test_settings")


def arguments(default_size, description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--size", type=int, default=default_size, help=f"rows (default {default_size})"
    )
    return parser.parse_args()


@contextmanager
def bench_database():
    """Set up Django and a fresh migrated database; yields the connection's vendor."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":  # never the test suite's, nor another benchmark's
        script = Path(sys.argv[0]).stem.lstrip("_") or "run"
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{script}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection.vendor
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def settle(connection):
    """After a benchmark's set-up, on PostgreSQL: VACUUM ANALYZE (fresh statistics, no
    autovacuum of the new rows during the timing) and CHECKPOINT (the set-up's writes on
    disk, not flushed in the middle of the timed part), as a database in steady use has."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


@contextmanager
def timer():
    result = {}
    start = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - start


def machine():
    import platform

    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"


def copy_rows(model, columns, rows, chunk=50_000):
    """COPY ``rows`` into ``model``'s table (``columns`` given, every other column its
    field's default; ``auto_now`` and ``auto_now_add`` fields now), ``chunk`` rows at a time
    (bounded memory)."""
    from django.utils import timezone

    from watermis.core import bulk

    rest = [f for f in model._meta.concrete_fields if f.column not in columns]
    now = timezone.now()
    defaults = []
    for f in rest:
        stamped = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        value = now if stamped else f.get_default()
        defaults.append(getattr(value, "value", value))
    names = [*columns, *(f.column for f in rest)]
    batch = []
    for row in rows:
        batch.append((*row, *defaults))
        if len(batch) >= chunk:
            bulk.write_rows(model._meta.db_table, names, batch)
            batch = []
    bulk.write_rows(model._meta.db_table, names, batch)


def bench_zone(code, username="clerk"):
    """A zone with a business unit, the standard roles, and a clerk of the unit (password
    Water2026): (zone, clerk)."""
    from watermis.org.models import BusinessUnit, Operator, Zone
    from watermis.org.roles import CLERK, ensure_standard_roles

    zone = Zone.objects.create(code=code, name="测试区", kind="urban")
    unit = BusinessUnit.objects.create(code=f"{code}01", name="测试营业厅", zone=zone)
    roles = ensure_standard_roles()
    clerk = Operator(username=username, name=username, unit=unit)
    clerk.set_password("Water2026")
    clerk.save()
    clerk.groups.add(roles[CLERK])
    return zone, clerk
