"""Years of a water company's history, generated fast, for the query and report benchmarks
(issue 10 item 5: 1,000,000 accounts × 24 months on PostgreSQL).

What is built (deterministic for a size, a month count and the day it runs):

- the demo organisation, price list and ``--size`` customers with their meters, shares,
  events and journal (``watermis.*.demo``, as ``manage.py demo`` builds them); a cashier
  and a clerk in every zone; invoice kinds and tax codes;
- ``--months`` billing months ending with last month: per book and month a reading
  period (closed but the last) and its bill-run book, one bill run a zone and month; per
  meter in service and month a read (a steady use per meter with noise; zero now and
  then), district and plant master meters read too (their volume = what is behind them
  plus 5–20 % loss); about a hundred monitored meters read three times a month;
- per read one bill (per share for shared meters) priced with the tariff's real items,
  tiers (monthly, or cumulative over the calendar year), quota surcharge and fixed fees:
  2–5 lines a bill, each line rounded to the fen and the bill their sum; its ledger debit
  (none for a bill of zero);
- money, as the services would have posted it: customers pay 3–40 days after the bill
  (late payers 20–100, bad payers often never), by counter, walking collector, bank
  deduction, WeChat or Alipay; 2 % pay half; a payment settles its bill (allocations);
  paid after the due date plus grace, a late fee (3 ‰ a day, capped), one in ten waived
  at the counter (``LateFeeWaiver``, authorised above the limit); overdue unpaid bills
  carry a late fee charged at the start of last month; prepaid customers deposit every
  half year and each bill is paid by a deposit transfer on its day (``Deposit``,
  ``TransferRun``, ``DepositTransfer``); 0.2 % of bills were cancelled and issued again
  (the first bill's debit reversed); 0.1 % have a red bill a month later with its
  approved request; very bad payers' oldest open bills are written off (approved); one
  customer in ten takes an e-invoice for every payment (``Invoice``, its bill, one tax
  line; 1 % voided); the change journal has ~1 % of the customers changed each month
  besides the demo's rows; month-end records for every closed month;
- ``Account`` rows whose balance and deposit are the sums of the entries, so ``verify``
  finds the books right (``--verify`` runs it).

How it is fast: dimensions go through the ORM and the demo generators; the fact tables
(reads, bills, lines, entries, allocations, ...) are written by ``INSERT … SELECT`` on the
server from staging tables (meters, bill parts, and one row per bill with its amounts and
what happens to it, a month a partition), a month at a time on two connections (one a
core). Every index, primary key, unique and foreign key of those tables is dropped first
and re-created afterwards from the definitions the migrations made (read from the
catalogue, so exactly Django's; the foreign keys added NOT VALID, then validated, so
every row is checked), then VACUUM ANALYZE. Nothing production has is missing when the
benchmarks time.

The database is ``bench_history`` (``--database`` names another) on the ``DATABASE_URL``
server. It is created and destroyed per run unless kept:

- ``--keep``: leave the database in place after the run, with a note (table
  ``bench_history_info``) of its size, months and the facts the benchmarks need;
- ``--reuse``: use the kept database as it is (no generation; fails if there is none, or
  if it was built for another ``--size``/``--months``); it stays.

``--verify`` runs ``verify_books`` on the result (minutes at a million accounts).
``BENCH_KEEP_STAGING=1`` keeps the staging schema ``bench_gen`` for looking into.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/watermis_hist \\
        .venv/bin/python bench/queries.py --size 1000000 --months 24 --keep
    DATABASE_URL=... .venv/bin/python bench/queries.py --size 1000000 --months 24 --reuse
"""

# ruff: noqa: S608 - every statement is built from this module's constants and ids it read
# from the database; outside values (names) go in through lit().

import argparse
import datetime
import json
import os
import random
import sys
import threading
import time
from contextlib import contextmanager
from decimal import Decimal

from _common import ROOT  # noqa: F401 - puts src on the path, sets the settings module

DB_NAME = "bench_history"
INFO_TABLE = "bench_history_info"
SCHEMA = "bench_gen"  # staging tables, dropped at the end

# Tables the facts go into: their indexes and constraints are dropped while they fill.
FACT_TABLES = [
    "readings_readingperiod",
    "readings_reading",
    "billing_billrun",
    "billing_billrunbook",
    "billing_bill",
    "billing_billline",
    "billing_ledgerentry",
    "billing_allocation",
    "billing_latefeecharge",
    "billing_writeoff",
    "billing_redbillrequest",
    "billing_account",
    "billing_monthend",
    "payments_latefeewaiver",
    "payments_deposit",
    "payments_transferrun",
    "payments_deposittransfer",
    "invoices_invoice",
    "invoices_invoicebill",
    "invoices_invoiceline",
]

LATE_FEE_RATE = Decimal("0.003")
GRACE_DAYS = 15
DUE_DAYS = 30
ISSUE_DAY = 28  # bills are issued on the 28th of their month
QUOTA = 30  # m³ a month before the quota surcharge (non-residential)
WORKERS = 2  # months written at once (a connection, so a core, each)


def arguments(description, default_size=20_000):
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=default_size, help="customers")
    parser.add_argument("--months", type=int, default=24, help="billing months of history")
    parser.add_argument("--keep", action="store_true", help=f"keep {DB_NAME} after the run")
    parser.add_argument(
        "--reuse", action="store_true", help=f"use the kept {DB_NAME}, generate nothing"
    )
    parser.add_argument(
        "--verify", action="store_true", help="run verify_books on the generated ledger"
    )
    parser.add_argument(
        "--database", default=DB_NAME, help=f"the database's name (default {DB_NAME})"
    )
    return parser


_quiet = threading.local()  # the month writers log a line a month, not a line a statement
_spent = {}  # label → seconds, of the quiet statements


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextmanager
def history_database(args):
    """Django set up on ``bench_history``, generated (or reused): yields the facts dict."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    if connection.vendor != "postgresql":
        raise SystemExit("The history benchmarks need PostgreSQL (DATABASE_URL=postgres://...).")
    old_name = connection.settings_dict["NAME"]
    if args.reuse:
        from django.conf import settings

        connection.close()
        connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = args.database
        try:
            connection.ensure_connection()
        except Exception as exc:  # noqa: BLE001 - explain, whatever the driver raises
            raise SystemExit(
                f"No kept {args.database} to reuse ({exc}); run once with --keep."
            ) from exc
        facts = read_info()
        if (facts["size"], facts["months"]) != (args.size, args.months):
            raise SystemExit(
                f"{args.database} holds --size {facts['size']} --months {facts['months']}, "
                f"not --size {args.size} --months {args.months}."
            )
        log(f"reusing {args.database} ({facts['size']} customers × {facts['months']} months)")
        yield facts
        return
    connection.settings_dict.setdefault("TEST", {})["NAME"] = args.database
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    keep = False
    try:
        facts = build(args.size, args.months)
        if args.verify:
            from watermis.billing.verify import verify_books

            started = time.perf_counter()
            problems = verify_books(limit=5)
            facts["verify"] = problems or "clean"
            log(f"verify in {time.perf_counter() - started:.0f} s: {facts['verify']}")
        keep = args.keep
        if keep:
            write_info(facts)
        yield facts
    finally:
        if keep:
            log(
                f"kept {args.database}: reuse it with --reuse --size {args.size} "
                f"--months {args.months}"
                + ("" if args.database == DB_NAME else f" --database {args.database}")
            )
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def read_info():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT facts FROM {INFO_TABLE}")
        row = cursor.fetchone()
    return json.loads(row[0])


def write_info(facts):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {INFO_TABLE}")
        cursor.execute(f"CREATE TABLE {INFO_TABLE} (facts text NOT NULL)")
        cursor.execute(
            f"INSERT INTO {INFO_TABLE} VALUES (%s)",
            [json.dumps(facts, default=str)],
        )


# --- SQL helpers ------------------------------------------------------------------------------


def hx(expr, salt, modulus):
    """A well-mixed hash of an integer expression, 0 ≤ h < ``modulus`` (deterministic)."""
    return f"mod(hashint8extended(({expr})::bigint, {salt}) & 9223372036854775807, {modulus})::int"


def execute(sql, params=None, label=None):
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count = cursor.rowcount
    if label and getattr(_quiet, "on", False):
        _spent[label] = _spent.get(label, 0) + time.perf_counter() - started
    elif label:
        log(f"  {label}: {count} rows in {time.perf_counter() - started:.1f} s")
    return count


def scalar(sql, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def lit(value):
    """``value`` as an SQL literal (strings quoted by the driver)."""
    from django.db import connection
    from psycopg import sql

    connection.ensure_connection()
    return sql.Literal(value).as_string(connection.connection)


def insert_select(model, exprs, source, label=None):
    """``INSERT INTO model's table SELECT …``: ``exprs`` maps columns to SQL expressions over
    ``source`` (a FROM … clause); the primary key, when not given, takes the table's
    sequence; every other column its field's default (a new NOT NULL field without one
    fails loudly here, as it should). Values from outside go in through :func:`lit`."""
    from django.db import connection
    from django.utils import timezone

    fields = {f.column: f for f in model._meta.concrete_fields}
    unknown = set(exprs) - set(fields)
    if unknown:
        raise ValueError(f"{model.__name__}: no columns {sorted(unknown)}")
    now = timezone.now()
    columns, values = [], []
    for column, field in fields.items():
        if column in exprs:
            value = f"({exprs[column]})"
        elif field.primary_key:
            continue
        else:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                default = now
            else:
                default = field.get_default()
            default = field.get_db_prep_save(getattr(default, "value", default), connection)
            value = lit(default)
        columns.append(connection.ops.quote_name(column))
        values.append(value)
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} {source}"
    )
    return execute(sql, None, label)


def reset_sequences(models):
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


class Indexes:
    """Every index, primary key, unique and foreign key of ``tables`` (and the foreign keys
    pointing at them), as the migrations made them: dropped while the tables fill, then
    re-created from the same definitions."""

    def __init__(self, tables):
        self.tables = tables
        self.constraints = []  # (table, name, definition, type)
        self.indexes = []  # (name, definition)

    def drop(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
                "FROM pg_constraint WHERE contype IN ('p', 'u', 'f', 'x') "
                "AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[]))",
                [self.tables, self.tables],
            )
            self.constraints = sorted(set(cursor.fetchall()))
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
                "AND c.contype IN ('p', 'u', 'x'))",
                [self.tables],
            )
            self.indexes = cursor.fetchall()
            for table, name, _definition, kind in self.constraints:
                if kind == "f":
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for table, name, _definition, kind in self.constraints:
                if kind != "f":
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in self.indexes:
                cursor.execute(f"DROP INDEX {name}")
        log(f"dropped {len(self.constraints)} constraints and {len(self.indexes)} indexes")

    def restore(self):
        """Primary keys, uniques and indexes first, two at a time (biggest tables first); then
        the foreign keys, added NOT VALID (at once) and validated two at a time: exactly the
        constraints the migrations made, each checked against every row."""
        started = time.perf_counter()
        sizes = dict(
            fetch(
                "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname = ANY(%s)",
                [self.tables],
            )
        )
        index_table = {
            name: definition.split(" ON ")[1].split()[0] for name, definition in self.indexes
        }
        builds = [
            (table, name, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for table, name, definition, kind in self.constraints
            if kind != "f"
        ]
        builds += [
            (index_table[name].split(".")[-1], name, definition)
            for name, definition in self.indexes
        ]
        builds.sort(key=lambda b: (not b[2].startswith("ALTER"), -sizes.get(b[0], 0)))
        in_parallel([(name, sql) for _table, name, sql in builds])
        keys = [c for c in self.constraints if c[3] == "f"]
        for table, name, definition, _kind in keys:
            execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID')
        keys.sort(key=lambda c: -sizes.get(c[0], 0))
        in_parallel(
            [
                (name, f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"')
                for table, name, _d, _k in keys
            ]
        )
        invalid = scalar("SELECT count(*) FROM pg_constraint WHERE NOT convalidated")
        if invalid:
            raise RuntimeError(f"{invalid} constraints are not validated")
        log(f"indexes and constraints re-created in {time.perf_counter() - started:.0f} s")


def fetch(sql, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def in_parallel(statements):
    """Run (name, sql) statements on ``WORKERS`` connections of their own, in order."""
    from concurrent.futures import ThreadPoolExecutor
    from queue import Empty, SimpleQueue

    work = SimpleQueue()
    for item in statements:
        work.put(item)

    def worker():
        from django.db import connection

        try:
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '1GB'")
            while True:
                try:
                    name, sql = work.get_nowait()
                except Empty:
                    return
                mark = time.perf_counter()
                execute(sql)
                if time.perf_counter() - mark > 10:
                    log(f"  {name} in {time.perf_counter() - mark:.0f} s")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for future in [pool.submit(worker) for _ in range(WORKERS)]:
            future.result()


# --- the generator ----------------------------------------------------------------------------


def month_add(month, n):
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


def build(size, months, today=None):
    """Generate the history (see the module's docstring); returns the facts the benchmarks
    need (dates, zone ids, the manager's login, sample ids, row counts, timings)."""
    from django.db import connection

    today = today or datetime.date.today()
    last = month_add(today.replace(day=1), -1)
    first = month_add(last, -(months - 1))
    started = time.perf_counter()
    timings = {}
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = '512MB'")
        cursor.execute("SET maintenance_work_mem = '2GB'")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET jit = off")
    log(f"generating {size} customers × {months} months ({first:%Y-%m} to {last:%Y-%m})")

    mark = time.perf_counter()
    dims = build_dimensions(size, first, last, today)
    timings["customers"] = time.perf_counter() - mark
    log(f"organisation, price list, customers and meters in {timings['customers']:.0f} s")

    indexes = Indexes(FACT_TABLES)
    indexes.drop()
    mark = time.perf_counter()
    gen = Generator(dims, first, months, today)
    gen.run()
    timings["facts"] = time.perf_counter() - mark
    log(f"facts written in {timings['facts']:.0f} s")

    mark = time.perf_counter()
    indexes.restore()
    timings["indexes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    gen.finish()
    if not os.environ.get("BENCH_KEEP_STAGING"):  # kept for looking into the generator
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    in_parallel(
        [
            (table, f"VACUUM (ANALYZE) {table}")
            for table in [*FACT_TABLES, "customers_customer", "customers_meter", "core_auditentry"]
        ]
    )
    execute("ANALYZE")
    timings["vacuum"] = time.perf_counter() - mark
    log(f"vacuum and analyze in {timings['vacuum']:.0f} s")
    facts = gen.facts()
    facts.update(
        size=size,
        months=months,
        first_month=first.isoformat(),
        last_month=last.isoformat(),
        today=today.isoformat(),
        generated_at=datetime.datetime.now().isoformat(timespec="seconds"),
        seconds=round(time.perf_counter() - started),
        timings={k: round(v) for k, v in timings.items()},
        database_bytes=scalar("SELECT pg_database_size(current_database())"),
    )
    log(
        f"generated in {facts['seconds']} s; database {facts['database_bytes'] / 2**30:.1f} GiB; "
        + ", ".join(f"{k} {v}" for k, v in facts["rows"].items())
    )
    return facts


def build_dimensions(size, first, last, today):
    """Organisation, price list, invoice kinds, customers and meters (the demo's own
    generators), staff for every zone, a manager who sees every zone."""
    from django.db import transaction
    from django.utils import timezone

    from watermis.core.journal import audit_context
    from watermis.customers import demo as customers_demo
    from watermis.invoices import demo as invoices_demo
    from watermis.org import demo as org_demo
    from watermis.org import roles
    from watermis.org.models import Operator
    from watermis.tariffs import demo as tariffs_demo

    rng = random.Random(2026)
    now = timezone.now()
    with audit_context(source="bench"), transaction.atomic():
        built = org_demo.build(rng)
        built.update(tariffs_demo.build(rng, today=first))
        groups = roles.ensure_standard_roles()
        staff = {}
        for zone in built["zones"]:
            unit = next(u for u in built["units"] if u.zone_id == zone.pk)
            for role, prefix in ((roles.CLERK, "clerk"), (roles.CASHIER, "cashier")):
                operator = Operator(
                    username=f"{prefix}_{zone.code.lower()}",
                    name=org_demo.person_name(rng),
                    unit=unit,
                    password_changed_at=now,
                )
                operator.set_password(org_demo.DEMO_PASSWORD)
                operator.save()
                operator.groups.add(groups[role])
                staff[(zone.pk, prefix)] = operator
        invoice_kinds = invoices_demo._kinds()
        invoices_demo._tax_codes()
    with audit_context(source="bench"), transaction.atomic():
        customers_demo.build(rng, built, built, customers=size)
    return {"built": built, "staff": staff, "invoice_kinds": invoice_kinds}


class Generator:
    """Writes the facts from staging tables in ``SCHEMA`` (see the module's docstring)."""

    def __init__(self, dims, first, months, today):
        self.dims = dims
        self.first = first
        self.months = months
        self.today = today
        self.last = month_add(first, months - 1)
        self.rows = {}
        self.samples = {}

    # --- helpers ------------------------------------------------------------------------

    def month_index(self, column):
        """SQL: the month index (0 = first month) of a date column."""
        base = self.first.year * 12 + self.first.month - 1
        return f"((extract(year from {column})::int * 12 + extract(month from {column})::int - 1) - {base})"

    def count(self, table):
        self.rows[table] = scalar(f"SELECT count(*) FROM {table}")
        return self.rows[table]

    def run(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        self.stage_months()
        self.stage_prices()
        self.stage_zones()
        self.stage_meters()
        self.stage_periods()
        self.stage_watches()
        self.bill_staging()
        self.write_months()
        self.write_deposits()
        self.write_run_records()
        self.write_master_reads()
        self.write_journal()
        self.write_accounts()
        self.write_month_ends()
        for table in [*FACT_TABLES, "core_auditentry"]:
            self.count(table)

    # --- staging ------------------------------------------------------------------------

    def stage_months(self):
        """One row a month: its index, first day, issue and due dates, tier-year start."""
        rows = []
        for m in range(self.months):
            month = month_add(self.first, m)
            issued = month.replace(day=ISSUE_DAY)
            rows.append(
                (
                    m,
                    month,
                    issued,
                    issued + datetime.timedelta(days=DUE_DAYS),
                    m - (month.month - 1),  # index of the tier year's January
                    month.replace(month=1),
                )
            )
        execute(
            f"CREATE TABLE {SCHEMA}.month (m int PRIMARY KEY, month date, issued date, "
            "due date, jan int, cycle_start date)"
        )
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {SCHEMA}.month VALUES (%s, %s, %s, %s, %s, %s)", rows)

    def stage_prices(self):
        """Each tariff's priced lines per version: item, basis, tier bounds, unit price."""
        from watermis.tariffs.models import (
            RevenueKind,
            SurchargeKind,
            Tariff,
            TierMode,
        )

        rows = []
        for tariff in Tariff.objects.all():
            versions = list(tariff.versions.order_by("effective_from"))
            for n, version in enumerate(versions):
                start = version.effective_from
                m_from = (start.year - self.first.year) * 12 + start.month - self.first.month
                if start.day > 1:
                    m_from += 1
                m_to = self.months - 1
                if n + 1 < len(versions):
                    nxt = versions[n + 1].effective_from
                    m_to = (nxt.year - self.first.year) * 12 + nxt.month - self.first.month - 1
                    if nxt.day > 1:
                        m_to += 1
                m_from = max(m_from, 0)
                if m_to < m_from:
                    continue
                uppers = {t.number: t.upper for t in version.tiers.all()}
                basis = "cycle" if version.tier_mode == TierMode.CYCLIC else "month"
                ordinal = 0
                flat_prices = {}
                for price in version.prices.select_related("item").order_by(
                    "item__sort_order", "tier"
                ):
                    own = price.item.revenue_kind == RevenueKind.OWN
                    if price.tier is None:
                        flat_prices[price.item_id] = price.unit_price
                        line = ("flat", "water", None, 0, None)
                    else:
                        lower = uppers.get(price.tier - 1) or 0
                        line = (basis, "water", price.tier, lower, uppers.get(price.tier))
                    rows.append(
                        (tariff.pk, m_from, m_to, ordinal, price.item_id, *line)
                        + (price.unit_price, own, start)
                    )
                    ordinal += 1
                if version.quota_base_item_id and version.quota_surcharge_item_id:
                    bracket = version.quota_brackets.order_by("number").first()
                    base = flat_prices.get(version.quota_base_item_id)
                    if bracket is not None and base is not None:
                        item = version.quota_surcharge_item
                        rows.append(
                            (tariff.pk, m_from, m_to, ordinal, item.pk, "quota", "quota", 1)
                            + (QUOTA, None, base * bracket.multiple)
                            + (item.revenue_kind == RevenueKind.OWN, start)
                        )
                        ordinal += 1
                for surcharge in version.surcharges.select_related("item"):
                    fixed = surcharge.kind == SurchargeKind.FIXED
                    rows.append(
                        (tariff.pk, m_from, m_to, ordinal, surcharge.item_id)
                        + ("fixed" if fixed else "flat", "fee", None, 0, None, surcharge.amount)
                        + (surcharge.item.revenue_kind == RevenueKind.OWN, start)
                    )
                    ordinal += 1
                if ordinal > 8:
                    raise ValueError(f"{tariff}: more than 8 priced lines")
        execute(
            f"CREATE TABLE {SCHEMA}.price (tariff_id bigint, m_from int, m_to int, "
            "ordinal int, item_id bigint, basis text, kind text, tier int, lower numeric, "
            "upper numeric, unit_price numeric, own boolean, price_from date)"
        )
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {SCHEMA}.price VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )

    def stage_zones(self):
        """Per zone its hall, cashier and clerk, and an index; per book an index."""
        # zone → (hall unit, cashier, clerk)
        staff = self.dims["staff"]
        units = {}
        for unit in self.dims["built"]["units"]:
            units.setdefault(unit.zone_id, unit.pk)
        rows = [
            (zone.pk, units[zone.pk], staff[(zone.pk, "cashier")].pk, staff[(zone.pk, "clerk")].pk)
            for zone in self.dims["built"]["zones"]
        ]
        execute(
            f"CREATE TABLE {SCHEMA}.zone (zone_id bigint PRIMARY KEY, unit_id bigint, "
            "cashier_id bigint, clerk_id bigint)"
        )
        with self._cursor() as cursor:
            cursor.executemany(f"INSERT INTO {SCHEMA}.zone VALUES (%s, %s, %s, %s)", rows)

        nbooks = scalar("SELECT count(*) FROM customers_book")
        execute(
            f"CREATE TABLE {SCHEMA}.book AS SELECT row_number() OVER (ORDER BY b.id)::bigint "
            "AS bi, b.id AS book_id, a.zone_id, b.reading_day, b.reader_id "
            "FROM customers_book b JOIN customers_area a ON a.id = b.area_id"
        )
        self.NB = nbooks
        zones = [z.pk for z in self.dims["built"]["zones"]]
        self.Z = len(zones)
        execute(
            f"CREATE TABLE {SCHEMA}.zidx AS SELECT row_number() OVER (ORDER BY id)::bigint AS zi, "
            "id AS zone_id FROM org_zone"
        )

    def stage_meters(self):
        """Customer meters in service in the window, and the bill parts of each (one, or one
        per share of a shared meter), with the customer's facts."""
        M = self.months
        start = self.month_index("mt.installed_on")
        end = self.month_index("mt.removed_on")
        scale = (
            "CASE t.code WHEN 'SHARED' THEN 3 WHEN 'NONRES' THEN 4 WHEN 'SPECIAL' THEN 6 ELSE 1 END"
        )
        execute(
            f"CREATE TABLE {SCHEMA}.meter AS SELECT "
            "row_number() OVER (ORDER BY mt.id)::bigint AS mi, mt.id AS meter_id, "
            "mt.customer_id, mt.tariff_id, t.code AS tcode, "
            f"(6 + {hx('mt.id', 1, 15)}) * {scale} AS a, "
            f"mt.initial_reading + (6 + {hx('mt.id', 1, 15)}) * {scale} * {hx('mt.id', 2, 60)} "
            "AS c0, "
            f"greatest(0, {start} + CASE WHEN extract(day from mt.installed_on) > 1 "
            "THEN 1 ELSE 0 END) AS m_first, "
            f"CASE WHEN mt.removed_on IS NULL THEN {M - 1} ELSE {end} - 1 END AS m_last, "
            "b.reading_day, mt.master_id "
            "FROM customers_meter mt JOIN customers_customer c ON c.id = mt.customer_id "
            "JOIN customers_book b ON b.id = c.book_id "
            "JOIN tariffs_tariff t ON t.id = mt.tariff_id "
            "WHERE mt.kind = 'customer'",
            label="staging meters",
        )
        execute(f"DELETE FROM {SCHEMA}.meter WHERE m_last < m_first OR m_first > {M - 1}")
        execute(f"CREATE UNIQUE INDEX ON {SCHEMA}.meter (meter_id)")
        execute(
            f"CREATE TABLE {SCHEMA}.part AS SELECT "
            "row_number() OVER (ORDER BY p.meter_id, p.part)::bigint AS pi, p.meter_id, p.part, "
            "p.ratio, c.id AS customer_id, c.zone_id, c.book_id, bk.bi, c.route_order, "
            "c.household_size, c.payment_method, c.low_income, "
            # payer type: 0 pays on time, 1 late, 2 bad, 3 very bad
            f"CASE WHEN {hx('c.id', 3, 100)} < 80 THEN 0 WHEN {hx('c.id', 3, 100)} < 92 THEN 1 "
            f"WHEN {hx('c.id', 3, 100)} < 97 THEN 2 ELSE 3 END AS ptype, "
            f"{hx('c.id', 4, 100)} < 10 AS invoiced, "
            f"{hx('c.id', 5, 100)} AS online "
            "FROM ("
            f"  SELECT mt.meter_id, 0 AS part, 1.0::numeric AS ratio, mt.customer_id "
            f"  FROM {SCHEMA}.meter mt WHERE NOT EXISTS "
            "   (SELECT 1 FROM customers_metershare s WHERE s.meter_id = mt.meter_id) "
            "  UNION ALL "
            "  SELECT s.meter_id, row_number() OVER (PARTITION BY s.meter_id ORDER BY s.id), "
            "   s.ratio, s.customer_id FROM customers_metershare s "
            f"  JOIN {SCHEMA}.meter mt ON mt.meter_id = s.meter_id"
            ") p JOIN customers_customer c ON c.id = p.customer_id "
            f"JOIN {SCHEMA}.book bk ON bk.book_id = c.book_id",
            label="staging bill parts",
        )
        self.K = scalar(f"SELECT coalesce(max(mi), 0) FROM {SCHEMA}.meter")
        self.P = scalar(f"SELECT coalesce(max(pi), 0) FROM {SCHEMA}.part")
        self.B = self.P * self.months  # bill ids of the regular bills: 1..B

    def stage_periods(self):
        """Reading periods (per book and month; per zone and month for master meters), bill
        runs (zone and month) and their books, written at once (thousands of rows)."""
        from watermis.billing.models import BillRun, BillRunBook
        from watermis.readings.models import ReadingPeriod

        M = self.months
        nbooks = self.NB
        closed = f"CASE WHEN mo.m < {M - 1} THEN 'closed' ELSE 'open' END"
        insert_select(
            ReadingPeriod,
            {
                "id": f"mo.m * {nbooks} + bk.bi",
                "zone_id": "bk.zone_id",
                "book_id": "bk.book_id",
                "month": "mo.month",
                "planned_on": "mo.month + bk.reading_day - 1",
                "status": closed,
                "opened_at": "(mo.month - 5)::timestamp AT TIME ZONE 'Asia/Shanghai'",
                "closed_at": f"CASE WHEN mo.m < {M - 1} THEN (mo.month + 35)::timestamp "
                "AT TIME ZONE 'Asia/Shanghai' END",
            },
            f"FROM {SCHEMA}.month mo CROSS JOIN {SCHEMA}.book bk",
            label="reading periods",
        )
        self.master_period_base = M * nbooks
        insert_select(
            ReadingPeriod,
            {
                "id": f"{self.master_period_base} + mo.m * {self.Z} + z.zi",
                "zone_id": "z.zone_id",
                "month": "mo.month",
                "planned_on": "mo.month + 27",
                "status": closed,
                "opened_at": "(mo.month - 5)::timestamp AT TIME ZONE 'Asia/Shanghai'",
                "closed_at": f"CASE WHEN mo.m < {M - 1} THEN (mo.month + 35)::timestamp "
                "AT TIME ZONE 'Asia/Shanghai' END",
            },
            f"FROM {SCHEMA}.month mo CROSS JOIN {SCHEMA}.zidx z",
            label="master reading periods",
        )
        insert_select(
            BillRun,
            {
                "id": f"mo.m * {self.Z} + z.zi",
                "zone_id": "z.zone_id",
                "month": "mo.month",
                "dry_run": "false",
                "issued_on": "mo.issued",
                "due_on": "mo.due",
                "started_by_id": "sz.clerk_id",
                "started_at": "mo.issued::timestamp AT TIME ZONE 'Asia/Shanghai'",
                "finished_at": "mo.issued::timestamp AT TIME ZONE 'Asia/Shanghai' "
                "+ interval '40 minutes'",
            },
            f"FROM {SCHEMA}.month mo CROSS JOIN {SCHEMA}.zidx z "
            f"JOIN {SCHEMA}.zone sz ON sz.zone_id = z.zone_id",
            label="bill runs",
        )
        self._run_book_model = BillRunBook

    def bill_select(self):
        """One row per bill: the read (closed-form meter index: steady use a month plus
        noise), the billed volume, the amount and its own-revenue part, and what happens to
        it (paid when and how, partly, late fee, waiver, cancellation, red bill, write-off)."""
        M, K, P = self.months, self.K, self.P
        today = self.today.isoformat()
        fee_day = self.last.isoformat()  # the late-fee run of the start of last month

        def s(j):
            return hx(f"mt.mi * 64 + ({j}) + 16", 6, 7)

        def closing(j):
            return f"(mt.c0 + mt.a * (({j}) + 1) + {s(j)})"

        lv = (
            "CASE pr.basis WHEN 'flat' THEN x.v "
            "WHEN 'month' THEN greatest(0, least(x.v, coalesce(pr.upper, x.v)) - pr.lower) "
            "WHEN 'cycle' THEN greatest(0, least(x.ctd, coalesce(pr.upper, x.ctd)) "
            "  - greatest(x.ctd - x.v, pr.lower)) "
            "WHEN 'quota' THEN greatest(0, x.v - pr.lower) ELSE 0 END"
        )
        self.line_volume = lv
        select = f"""
        WITH base AS MATERIALIZED (
              SELECT w.*, w.c_cur - w.c_prev AS v_read,
                round((w.c_cur - w.c_prev) * w.ratio, 2) AS v,
                CASE WHEN w.part = 0 THEN w.c_cur - w.c_jan
                     ELSE round((w.c_cur - w.c_prev) * w.ratio, 2) END AS ctd
              FROM (
                SELECT mo.m * {P} + p.pi AS bid, mo.m * {K} + mt.mi AS rid, mo.m, p.pi, mt.mi,
                  p.part, p.customer_id, p.zone_id, p.book_id, p.bi, p.route_order, mt.meter_id,
                  mt.tariff_id, mt.tcode, p.household_size AS household,
                  p.payment_method AS method, p.low_income, p.ptype, p.invoiced, p.online,
                  mo.month, mo.issued, mo.due, mo.cycle_start,
                  mo.month + mt.reading_day - 1 AS read_on,
                  (mo.month - interval '1 month')::date + mt.reading_day - 1 AS prev_on,
                  {closing("mo.m - 1")} AS c_prev, {closing("mo.m")} AS c_cur,
                  {closing("mo.jan - 1")} AS c_jan, p.ratio
                FROM {SCHEMA}.month mo
                JOIN {SCHEMA}.meter mt ON mo.m BETWEEN mt.m_first AND mt.m_last
                JOIN {SCHEMA}.part p ON p.meter_id = mt.meter_id
                WHERE mo.m = %s
                OFFSET 0  -- computed once a row, not once a price line
              ) w
        )
        SELECT y.*,
          -- late fee: paid after due + grace, or open at the late-fee run of last month
          CASE WHEN y.method IN ('counter', 'collector') AND NOT y.low_income
                    AND y.amount - y.red > 0 AND y.written_off IS NULL
                    AND coalesce(y.paid_on, DATE '{fee_day}') > y.due + {GRACE_DAYS}
               THEN least(y.amount - y.red, trunc((y.amount - y.red) * {LATE_FEE_RATE}
                    * (coalesce(y.paid_on, DATE '{fee_day}') - (y.due + {GRACE_DAYS})), 2))
               ELSE 0 END AS fee,
          y.due + {GRACE_DAYS} + 1 AS fee_from,
          coalesce(y.paid_on, DATE '{fee_day}') AS fee_through,
          y.paid_on IS NOT NULL AND {hx("y.bid", 16, 100)} < 10 AS waived,
          CASE WHEN y.paid_on IS NULL THEN 0
               WHEN y.partial THEN round((y.amount - y.red) / 2, 2)
               ELSE y.amount - y.red END AS settled
        FROM (
          SELECT z.bid, z.rid, z.m, z.pi, z.mi, z.part, z.customer_id, z.zone_id, z.book_id,
            z.bi, z.route_order, z.meter_id, z.tariff_id, z.tcode, z.household, z.method,
            z.low_income, z.ptype, z.invoiced, z.online, z.month, z.issued, z.due,
            z.cycle_start, z.read_on, z.prev_on, z.c_prev, z.c_cur, z.v_read, z.v, z.ctd,
            z.amount, z.own,
            CASE WHEN z.amount > 0 AND z.issued + z.delay <= DATE '{today}'
                 AND NOT (z.ptype = 3 AND z.due + 180 <= DATE '{today}' AND {hx("z.bid", 15, 100)} < 30)
                 THEN z.issued + z.delay END AS paid_on,
            z.method IN ('counter', 'collector') AND {hx("z.bid", 13, 100)} < 2
              AND z.amount >= 1 AS partial,
            z.m <= {M - 3} AND z.amount > 0 AND {hx("z.bid", 14, 1000)} < 2 AS cancelled,
            CASE WHEN z.m <= {M - 3} AND z.amount >= 1 AND {hx("z.bid", 14, 1000)} = 2
                 THEN round(z.amount / 5, 2) ELSE 0 END AS red,
            CASE WHEN z.ptype = 3 AND z.due + 180 <= DATE '{today}' AND z.amount > 0
                 AND {hx("z.bid", 15, 100)} < 30 THEN z.due + 180 END AS written_off
          FROM (
            SELECT x.bid, x.rid, x.m, x.pi, x.mi, x.part, x.customer_id, x.zone_id,
              x.book_id, x.bi, x.route_order, x.meter_id, x.tariff_id, x.tcode, x.household,
              x.method, x.low_income, x.ptype, x.invoiced, x.online, x.month, x.issued, x.due,
              x.cycle_start, x.read_on, x.prev_on, x.c_prev, x.c_cur, x.v_read, x.v, x.ctd,
              coalesce(pr.amount, 0) AS amount, coalesce(pr.own, 0) AS own,
              CASE WHEN x.method = 'prepaid' THEN 0
                   WHEN x.method = 'bank' THEN 10
                   WHEN x.ptype = 0 THEN 3 + {hx("x.bid", 12, 38)}
                   WHEN x.ptype = 1 THEN 20 + {hx("x.bid", 12, 80)}
                   WHEN x.ptype = 2 AND {hx("x.bid", 11, 10)} >= 4
                     THEN 30 + {hx("x.bid", 12, 200)}
                   WHEN x.ptype = 3 AND {hx("x.bid", 11, 10)} >= 8
                     THEN 60 + {hx("x.bid", 12, 300)}
              END AS delay
            FROM (
              SELECT * FROM base
            ) x
            LEFT JOIN (
              SELECT q.bid, sum(q.amount) AS amount, sum(q.amount) FILTER (WHERE q.own) AS own
              FROM (
                SELECT q.bid, q.own, CASE WHEN q.basis = 'fixed' THEN round(q.unit_price, 2)
                  ELSE round(q.lv * q.unit_price, 2) END AS amount
                FROM (
                  SELECT x.bid, pr.own, pr.basis, pr.unit_price, {lv} AS lv
                  FROM base x JOIN {SCHEMA}.price pr ON pr.tariff_id = x.tariff_id
                    AND x.m BETWEEN pr.m_from AND pr.m_to
                  OFFSET 0
                ) q
                WHERE q.basis = 'fixed' OR q.lv > 0
              ) q
              GROUP BY q.bid
            ) pr ON pr.bid = x.bid
            OFFSET 0
          ) z
          OFFSET 0
        ) y
        """
        return select

    def bill_staging(self):
        """The bills' staging table, one partition (unlogged) a month."""
        execute(
            f"CREATE TABLE {SCHEMA}.bill ("
            "bid bigint, rid bigint, m int, pi bigint, mi bigint, part int, customer_id bigint, "
            "zone_id bigint, book_id bigint, bi bigint, route_order int, meter_id bigint, "
            "tariff_id bigint, "
            "tcode text, household int, method text, low_income boolean, ptype int, "
            "invoiced boolean, online int, month date, issued date, due date, cycle_start date, "
            "read_on date, prev_on date, c_prev numeric, c_cur numeric, v_read numeric, "
            "v numeric, ctd numeric, amount numeric, own numeric, "
            "paid_on date, partial boolean, cancelled boolean, red numeric, written_off date, "
            "fee numeric, fee_from date, fee_through date, waived boolean, settled numeric) "
            "PARTITION BY LIST (m)"
        )

    def write_months(self):
        """Every month's bills and what follows from them, two months at a time (one a core:
        each month in a connection of its own)."""
        from concurrent.futures import ThreadPoolExecutor

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for future in [pool.submit(self.write_month, m) for m in range(self.months)]:
                future.result()
        log(f"  {self.months} months of facts in {time.perf_counter() - started:.0f} s")
        spent = sorted(_spent.items(), key=lambda item: -item[1])
        log("  statements: " + ", ".join(f"{label} {seconds:.0f} s" for label, seconds in spent))

    def write_month(self, m):
        from django.db import connection

        started = time.perf_counter()
        _quiet.on = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET work_mem = '256MB'")
                cursor.execute("SET synchronous_commit = off")
                cursor.execute("SET jit = off")
            t = f"{SCHEMA}.bill_{m}"
            execute(f"CREATE UNLOGGED TABLE {t} PARTITION OF {SCHEMA}.bill FOR VALUES IN ({m})")
            bills = execute(f"INSERT INTO {t} {self.bill_select()}", [m], "staging bills")
            execute(f"ANALYZE {t}")
            self.write_reads(t)
            self.write_bills(t)
            self.write_lines(t)
            self.write_entries(t)
            self.write_allocations(t)
            self.write_money_records(t)
            self.write_invoices(t)
            self.write_watched_reads(t)
        finally:
            connection.close()
        log(f"  month {m}: {bills} bills and what follows in {time.perf_counter() - started:.0f} s")

    # --- facts --------------------------------------------------------------------------

    def write_reads(self, t):
        """One read per meter and month (the first part's row carries it)."""
        from watermis.readings.models import Reading

        nbooks = self.NB
        insert_select(
            Reading,
            {
                "id": "b.rid",
                "period_id": f"b.m * {nbooks} + b.bi",
                "meter_id": "b.meter_id",
                "customer_id": "mt.customer_id",
                "zone_id": "b.zone_id",
                "book_id": "b.book_id",
                "route_order": "b.route_order",
                "sequence": "1",
                "previous": "b.c_prev",
                "previous_on": "b.prev_on",
                "average": "b.v_read",
                "current": "b.c_cur",
                "read_on": "b.read_on",
                "volume": "b.v_read",
                "closing": "b.c_cur",
                "status_code": "CASE WHEN b.v_read = 0 THEN 'same' ELSE 'normal' END",
                "source": f"CASE WHEN {hx('b.mi', 21, 10)} < 3 THEN 'handheld' ELSE 'manual' END",
                "state": "'entered'",
                "anomaly": f"CASE WHEN b.v_read = 0 THEN 'zero' WHEN {hx('b.rid', 22, 1000)} < 5 "
                "THEN 'high' ELSE '' END",
                "reader_id": "bk.reader_id",
                "entered_by_id": "sz.clerk_id",
                "entered_at": "(b.read_on + time '16:30') AT TIME ZONE 'Asia/Shanghai'",
                "billed": "true",
            },
            f"FROM {t} b JOIN {SCHEMA}.meter mt ON mt.mi = b.mi "
            f"JOIN {SCHEMA}.book bk ON bk.book_id = b.book_id "
            f"JOIN {SCHEMA}.zone sz ON sz.zone_id = b.zone_id WHERE b.part <= 1",
            label="reads",
        )

    def write_bills(self, t):
        from watermis.billing.models import Bill

        B = self.B
        common = {
            "customer_id": "b.customer_id",
            "zone_id": "b.zone_id",
            "book_id": "b.book_id",
            "meter_id": "b.meter_id",
            "reading_id": "b.rid",
            "part": "b.part",
            "month": "b.month",
            "period_start": "b.prev_on",
            "period_end": "b.read_on",
            "previous": "b.c_prev",
            "current": "b.c_cur",
            "read_volume": "b.v_read",
            "volume": "b.v",
            "tariff_id": "b.tariff_id",
            "household_size": "b.household",
            "cycle_start": "CASE WHEN b.tcode = 'RES' THEN b.cycle_start END",
            "cycle_to_date": "CASE WHEN b.tcode = 'RES' THEN b.ctd ELSE 0 END",
            "amount": "b.amount",
            "issued_on": "b.issued",
            "due_on": "b.due",
            "run_book_id": f"b.m * {self.NB} + b.bi",
        }
        # The bills as they stand (a cancelled one's re-issue included) ...
        insert_select(
            Bill,
            {
                **common,
                "id": "b.bid",
                "kind": "'regular'",
                "entry_id": "CASE WHEN b.amount > 0 THEN b.bid END",
                "state": "'issued'",
                "reason": "CASE WHEN b.cancelled THEN '重开：抄表数据更正' ELSE '' END",
            },
            f"FROM {t} b",
            label="bills",
        )
        # ... the cancelled first issues (their debit reversed the same week) ...
        insert_select(
            Bill,
            {
                **common,
                "id": f"{B} + b.bid",
                "kind": "'regular'",
                "entry_id": f"{5 * B} + b.bid",
                "state": "'cancelled'",
                "cancel_entry_id": f"{6 * B} + b.bid",
                "reason": "'抄表错误，作废重开'",
                "approved_by_id": "sz.clerk_id",
            },
            f"FROM {t} b JOIN {SCHEMA}.zone sz ON sz.zone_id = b.zone_id WHERE b.cancelled",
            label="cancelled bills",
        )
        # ... and red bills, a month after the bill they correct.
        insert_select(
            Bill,
            {
                **common,
                "id": f"{2 * B} + b.bid",
                "kind": "'red'",
                "month": "(b.month + interval '1 month')::date",
                "amount": "-b.red",
                "issued_on": "b.issued + 20",
                "due_on": "b.issued + 20",
                "entry_id": f"{7 * B} + b.bid",
                "state": "'issued'",
                "corrects_id": "b.bid",
                "reason": "'水量核减'",
                "approved_by_id": "sz.clerk_id",
                "run_book_id": "NULL",
            },
            f"FROM {t} b JOIN {SCHEMA}.zone sz ON sz.zone_id = b.zone_id WHERE b.red > 0",
            label="red bills",
        )

    def write_lines(self, t):
        from watermis.billing.models import BillLine

        B = self.B
        for label, bill, condition in (
            ("bill lines", "x.bid", "true"),
            ("lines of cancelled bills", f"{B} + x.bid", "x.cancelled"),
        ):
            insert_select(
                BillLine,
                {
                    "id": "q.bill_id * 8 + q.ordinal",
                    "bill_id": "q.bill_id",
                    "item_id": "q.item_id",
                    "kind": "q.kind",
                    "tier": "q.tier",
                    "volume": "q.lv",
                    "unit_price": "q.unit_price",
                    "amount": "CASE WHEN q.basis = 'fixed' THEN round(q.unit_price, 2) "
                    "ELSE round(q.lv * q.unit_price, 2) END",
                    "price_from": "q.price_from",
                },
                f"FROM (SELECT {bill} AS bill_id, pr.*, {self.line_volume} AS lv "
                f"FROM {t} x JOIN {SCHEMA}.price pr ON pr.tariff_id = x.tariff_id "
                f"AND x.m BETWEEN pr.m_from AND pr.m_to WHERE {condition} OFFSET 0) q "
                "WHERE q.basis = 'fixed' OR q.lv > 0",
                label=label,
            )
        # A red bill has one line: the water item, what it takes off.
        insert_select(
            BillLine,
            {
                "id": f"({2 * B} + x.bid) * 8",
                "bill_id": f"{2 * B} + x.bid",
                "item_id": "pr.item_id",
                "kind": "'water'",
                "volume": "0",
                "unit_price": "0",
                "amount": "-x.red",
                "price_from": "pr.price_from",
            },
            f"FROM {t} x JOIN {SCHEMA}.price pr ON pr.tariff_id = x.tariff_id "
            "AND x.m BETWEEN pr.m_from AND pr.m_to AND pr.ordinal = 0 WHERE x.red > 0",
            label="red bill lines",
        )

    def at(self, day, salt, start_hour=8, hours=10):
        """SQL: a time of day on ``day`` (local), spread by a hash."""
        minutes = hx(f"b.bid * 7 + {salt}", salt, hours * 60)
        return (
            f"(({day})::timestamp + interval '{start_hour} hours' + {minutes} * interval '1 minute')"
            " AT TIME ZONE 'Asia/Shanghai'"
        )

    def write_entries(self, t):
        """The ledger: bill debits, payments (or deposit transfers), late fees, waivers,
        write-offs, cancelled bills and their reversals, red bills, deposits."""
        from watermis.billing.models import LedgerEntry

        B = self.B
        src = f"FROM {t} b JOIN {SCHEMA}.zone sz ON sz.zone_id = b.zone_id"
        night = "(b.issued::timestamp + interval '2 hours') AT TIME ZONE 'Asia/Shanghai'"
        base = {
            "customer_id": "b.customer_id",
            "zone_id": "b.zone_id",
            "period": "b.month",
        }
        # bill debits
        insert_select(
            LedgerEntry,
            {
                **base,
                "id": "b.bid",
                "kind": "'bill'",
                "direction": "'debit'",
                "amount": "b.amount",
                "posted_at": night,
                "business_date": "b.issued",
                "posted_by_id": "sz.clerk_id",
            },
            f"{src} WHERE b.amount > 0",
            label="entries: bills",
        )
        # cancelled first issues: the debit, then its reversal a week later
        insert_select(
            LedgerEntry,
            {
                **base,
                "id": f"{5 * B} + b.bid",
                "kind": "'bill'",
                "direction": "'debit'",
                "amount": "b.amount",
                "posted_at": night + " - interval '1 minute'",
                "business_date": "b.issued",
                "posted_by_id": "sz.clerk_id",
            },
            f"{src} WHERE b.cancelled",
            label="entries: cancelled bills",
        )
        insert_select(
            LedgerEntry,
            {
                **base,
                "id": f"{6 * B} + b.bid",
                "kind": "'reversal'",
                "direction": "'credit'",
                "amount": "b.amount",
                "posted_at": self.at("b.issued + 1", 31),
                "business_date": "b.issued + 1",
                "posted_by_id": "sz.clerk_id",
                "reason": "'作废账单'",
                "reverses_id": f"{5 * B} + b.bid",
            },
            f"{src} WHERE b.cancelled",
            label="entries: reversals",
        )
        # red bills (credits), 20 days after the bill
        insert_select(
            LedgerEntry,
            {
                **base,
                "id": f"{7 * B} + b.bid",
                "kind": "'red_bill'",
                "direction": "'credit'",
                "amount": "b.red",
                "posted_at": self.at("b.issued + 20", 32),
                "business_date": "b.issued + 20",
                "period": "(b.month + interval '1 month')::date",
                "posted_by_id": "sz.clerk_id",
                "reason": "'水量核减'",
            },
            f"{src} WHERE b.red > 0",
            label="entries: red bills",
        )
        # late fees (charged the day the bill is paid, or at the run of last month)
        insert_select(
            LedgerEntry,
            {
                **base,
                "id": f"{2 * B} + b.bid",
                "kind": "'late_fee'",
                "direction": "'debit'",
                "amount": "b.fee",
                "posted_at": self.at("b.fee_through", 33) + " - interval '2 minutes'",
                "business_date": "b.fee_through",
                "posted_by_id": "sz.cashier_id",
                "reason": "'逾期滞纳金'",
            },
            f"{src} WHERE b.fee > 0",
            label="entries: late fees",
        )
        # waivers of those fees, at the counter when paying
        insert_select(
            LedgerEntry,
            {
                **base,
                "id": f"{3 * B} + b.bid",
                "kind": "'waiver'",
                "direction": "'credit'",
                "amount": "b.fee",
                "posted_at": self.at("b.fee_through", 33) + " - interval '1 minute'",
                "business_date": "b.fee_through",
                "posted_by_id": "sz.cashier_id",
                "unit_id": "sz.unit_id",
                "reason": "'特殊困难减免滞纳金'",
                "channel": "'counter'",
            },
            f"{src} WHERE b.fee > 0 AND b.waived",
            label="entries: waivers",
        )
        # write-offs
        insert_select(
            LedgerEntry,
            {
                **base,
                "id": f"{4 * B} + b.bid",
                "kind": "'write_off'",
                "direction": "'credit'",
                "amount": "b.amount - b.red",
                "posted_at": self.at("b.written_off", 34),
                "business_date": "b.written_off",
                "posted_by_id": "sz.clerk_id",
                "reason": "'用户失联，坏账核销'",
            },
            f"{src} WHERE b.written_off IS NOT NULL",
            label="entries: write-offs",
        )
        # payments: the bill's settled part, and its late fee unless waived
        channel = (
            "CASE b.method WHEN 'bank' THEN 'bank' WHEN 'collector' THEN 'collector' "
            "ELSE CASE WHEN b.online < 15 THEN 'wechat' WHEN b.online < 25 THEN 'alipay' "
            "ELSE 'counter' END END"
        )
        self.channel = channel
        insert_select(
            LedgerEntry,
            {
                **base,
                "id": f"{B} + b.bid",
                "kind": "'payment'",
                "direction": "'credit'",
                "amount": "b.settled + CASE WHEN b.waived THEN 0 ELSE b.fee END",
                "posted_at": self.at("b.paid_on", 35),
                "business_date": "b.paid_on",
                "period": "NULL",
                "posted_by_id": f"CASE {channel} WHEN 'counter' THEN sz.cashier_id "
                "WHEN 'wechat' THEN NULL WHEN 'alipay' THEN NULL ELSE sz.clerk_id END",
                "unit_id": f"CASE {channel} WHEN 'counter' THEN sz.unit_id END",
                "channel": channel,
                "external_key": f"CASE WHEN {channel} IN ('wechat', 'alipay') "
                "THEN 'P' || lpad(b.bid::text, 12, '0') ELSE '' END",
            },
            f"{src} WHERE b.paid_on IS NOT NULL AND b.method <> 'prepaid'",
            label="entries: payments",
        )
        # prepaid customers: each bill paid from the deposit on its day (out of the
        # deposit, into the bill account) ...
        for kind, direction, offset in (("transfer_out", "debit", 8), ("transfer_in", "credit", 1)):
            insert_select(
                LedgerEntry,
                {
                    **base,
                    "id": f"{offset * B} + b.bid",
                    "kind": f"'{kind}'",
                    "direction": f"'{direction}'",
                    "amount": "b.settled",
                    "posted_at": night + " + interval '30 minutes'",
                    "business_date": "b.paid_on",
                    "posted_by_id": "sz.clerk_id",
                    "reason": "'预存转账'",
                },
                f"{src} WHERE b.paid_on IS NOT NULL AND b.method = 'prepaid'",
                label=f"entries: {kind}",
            )

    def write_allocations(self, t):
        """Which credit settled which debit: payments → bills and fees, waivers → fees, red
        bills and write-offs → bills, transfers in → bills."""
        from watermis.billing.models import Allocation

        B = self.B
        src = f"FROM {t} b"
        for label, n, credit, debit, amount, condition in (
            ("payments", 0, f"{B} + b.bid", "b.bid", "b.settled", "b.paid_on IS NOT NULL"),
            (
                "payments of late fees",
                1,
                f"{B} + b.bid",
                f"{2 * B} + b.bid",
                "b.fee",
                "b.paid_on IS NOT NULL AND b.fee > 0 AND NOT b.waived AND b.method <> 'prepaid'",
            ),
            (
                "waivers",
                2,
                f"{3 * B} + b.bid",
                f"{2 * B} + b.bid",
                "b.fee",
                "b.fee > 0 AND b.waived",
            ),
            ("red bills", 3, f"{7 * B} + b.bid", "b.bid", "b.red", "b.red > 0"),
            (
                "write-offs",
                4,
                f"{4 * B} + b.bid",
                "b.bid",
                "b.amount - b.red",
                "b.written_off IS NOT NULL",
            ),
        ):
            insert_select(
                Allocation,
                {
                    "id": f"{n * B} + b.bid",
                    "credit_id": credit,
                    "debit_id": debit,
                    "amount": amount,
                    "made_by_id": credit,
                },
                f"{src} WHERE {condition} AND ({amount}) > 0",
                label=f"allocations: {label}",
            )

    def write_money_records(self, t):
        """The records beside the entries: late-fee charges, waivers, write-offs, red-bill
        requests."""
        from watermis.billing.models import LateFeeCharge, RedBillRequest, WriteOff
        from watermis.payments.models import LateFeeWaiver

        B = self.B
        src = f"FROM {t} b JOIN {SCHEMA}.zone sz ON sz.zone_id = b.zone_id"
        insert_select(
            LateFeeCharge,
            {
                "id": "b.bid",
                "bill_id": "b.bid",
                "entry_id": f"{2 * B} + b.bid",
                "accrues_from": "b.fee_from",
                "through": "b.fee_through",
                "days": "b.fee_through - b.fee_from + 1",
                "principal": "b.amount - b.red",
                "daily_rate": str(LATE_FEE_RATE),
                "amount": "b.fee",
            },
            f"{src} WHERE b.fee > 0",
            label="late-fee charges",
        )
        manager = self.dims["built"]["operators"]["manager"].pk
        insert_select(
            LateFeeWaiver,
            {
                "id": "b.bid",
                "bill_id": "b.bid",
                "customer_id": "b.customer_id",
                "zone_id": "b.zone_id",
                "amount": "b.fee",
                "entry_id": f"{3 * B} + b.bid",
                "operator_id": "sz.cashier_id",
                "authoriser_id": f"CASE WHEN b.fee > 50 THEN {manager} END",
                "limit": "50",
                "reason": f"CASE WHEN {hx('b.bid', 41, 3)} = 0 THEN '低保户' "
                f"WHEN {hx('b.bid', 41, 3)} = 1 THEN '特殊困难' ELSE '系统原因未收到通知' END",
                "at": self.at("b.fee_through", 33) + " - interval '1 minute'",
                "business_date": "b.fee_through",
            },
            f"{src} WHERE b.fee > 0 AND b.waived",
            label="late-fee waivers",
        )
        insert_select(
            WriteOff,
            {
                "id": "b.bid",
                "zone_id": "b.zone_id",
                "amount": "b.amount - b.red",
                "reason": "'用户失联，坏账核销'",
                "state": "'approved'",
                "requested_by_id": "sz.clerk_id",
                "requested_at": self.at("b.written_off - 7", 42),
                "decided_by_id": str(manager),
                "decided_at": self.at("b.written_off", 34),
                "bill_id": "b.bid",
                "entry_id": f"{4 * B} + b.bid",
            },
            f"{src} WHERE b.written_off IS NOT NULL",
            label="write-offs",
        )
        insert_select(
            RedBillRequest,
            {
                "id": "b.bid",
                "zone_id": "b.zone_id",
                "amount": "b.red",
                "reason": "'水量核减'",
                "state": "'approved'",
                "requested_by_id": "sz.clerk_id",
                "requested_at": self.at("b.issued + 18", 43),
                "decided_by_id": str(manager),
                "decided_at": self.at("b.issued + 20", 32),
                "bill_id": "b.bid",
                "month": "(b.month + interval '1 month')::date",
                "red_bill_id": f"{2 * B} + b.bid",
            },
            f"{src} WHERE b.red > 0",
            label="red-bill requests",
        )

    def write_invoices(self, t):
        """E-invoices of the water items for every payment of the customers who want one."""
        from watermis.invoices.models import Invoice, InvoiceBill, InvoiceLine, ItemTaxCode
        from watermis.org.models import Company

        B = self.B
        kind = self.dims["invoice_kinds"]["EWATER"]
        company = Company.objects.first()
        water = self.dims["built"]["price_items"]["WATER"]
        tax = ItemTaxCode.objects.filter(item=water).first()
        src = (
            f"FROM {t} b JOIN {SCHEMA}.zone sz ON sz.zone_id = b.zone_id "
            "JOIN customers_customer c ON c.id = b.customer_id "
            "WHERE b.invoiced AND b.paid_on IS NOT NULL AND b.method <> 'prepaid' "
            "AND b.own > 0 AND NOT b.partial"
        )
        void = f"{hx('b.bid', 51, 100)} = 0"
        net = "round(b.own / 1.03, 2)"
        insert_select(
            Invoice,
            {
                "id": "b.bid",
                "kind_id": str(kind.pk),
                "medium": "'electronic'",
                "code": "''",
                "number": "'26' || lpad(b.bid::text, 18, '0')",
                "state": f"CASE WHEN {void} THEN 'void' ELSE 'issued' END",
                "origin": "'payment'",
                "operator_id": "sz.cashier_id",
                "unit_id": "sz.unit_id",
                "zone_id": "b.zone_id",
                "customer_id": "b.customer_id",
                "combined": "false",
                "issued_at": self.at("b.paid_on", 35) + " + interval '1 minute'",
                "business_date": "b.paid_on",
                "buyer_name": "c.name",
                "buyer_type": "'individual'",
                "seller_name": lit(company.name),
                "seller_tax_id": lit(company.credit_code),
                "amount": "b.own",
                "net_amount": net,
                "tax_amount": f"b.own - {net}",
                "tax_inclusive": "true",
                "payment_id": f"{B} + b.bid",
                "payment_method": self.channel,
                "voided_by_id": f"CASE WHEN {void} THEN sz.cashier_id END",
                "voided_at": f"CASE WHEN {void} THEN {self.at('b.paid_on', 35)} "
                "+ interval '10 minutes' END",
                "void_reason": f"CASE WHEN {void} THEN '开票信息有误' ELSE '' END",
                "provider": "'demo'",
                "provider_status": "'issued'",
            },
            src,
            label="invoices",
        )
        insert_select(
            InvoiceBill,
            {
                "id": "b.bid",
                "invoice_id": "b.bid",
                "bill_id": "b.bid",
                "part": "'own'",
                "amount": "b.own",
                "live": f"NOT ({void})",
            },
            src,
            label="invoiced bills",
        )
        insert_select(
            InvoiceLine,
            {
                "id": "b.bid",
                "invoice_id": "b.bid",
                "position": "1",
                "item_id": str(water.pk),
                "name": lit(tax.goods_name if tax else water.name),
                "tax_code": lit(tax.tax_code if tax else ""),
                "unit": lit(tax.unit if tax else "吨"),
                "quantity": "b.v",
                "amount": "b.own",
                "tax_treatment": "'vat_simple'",
                "tax_rate": "0.03",
                "net": net,
                "tax": f"b.own - {net}",
            },
            src,
            label="invoice lines",
        )

    def write_deposits(self):
        """Prepaid customers: deposits made every half year, rounded up to 100 yuan above
        the half year's bills, and the transfers that paid each bill on its day."""
        from watermis.billing.models import LedgerEntry
        from watermis.payments.models import Deposit, DepositTransfer

        B = self.B
        cmax = scalar("SELECT coalesce(max(id), 0) FROM customers_customer") + 1
        self.deposit_base = 9 * B
        execute(
            f"CREATE TABLE {SCHEMA}.deposit AS SELECT d.*, "
            "sum(d.amount) OVER w AS deposited, "
            "coalesce(sum(d.amount - d.spent) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING "
            "AND 1 PRECEDING), 0) AS before "
            "FROM (SELECT customer_id, min(zone_id) AS zone_id, m / 6 AS h, "
            f"{9 * B} + (m / 6) * {cmax} + customer_id AS entry_id, sum(settled) AS spent, "
            "(ceil(sum(settled) / 100) + 1) * 100 AS amount, min(issued) - 5 AS day "
            f"FROM {SCHEMA}.bill WHERE method = 'prepaid' AND paid_on IS NOT NULL "
            "GROUP BY customer_id, m / 6) d WINDOW w AS (PARTITION BY d.customer_id ORDER BY d.h)",
            label="staging deposits",
        )
        insert_select(
            LedgerEntry,
            {
                "id": "d.entry_id",
                "customer_id": "d.customer_id",
                "zone_id": "d.zone_id",
                "kind": "'deposit'",
                "direction": "'credit'",
                "amount": "d.amount",
                "posted_at": "(d.day::timestamp + interval '10 hours') AT TIME ZONE 'Asia/Shanghai'",
                "business_date": "d.day",
                "posted_by_id": "sz.cashier_id",
                "unit_id": "sz.unit_id",
                "reason": "'预存水费'",
                "channel": "'counter'",
            },
            f"FROM {SCHEMA}.deposit d JOIN {SCHEMA}.zone sz ON sz.zone_id = d.zone_id",
            label="entries: deposits",
        )

        insert_select(
            Deposit,
            {
                "id": "d.entry_id",
                "entry_id": "d.entry_id",
                "customer_id": "d.customer_id",
                "zone_id": "d.zone_id",
                "operator_id": "sz.cashier_id",
                "unit_id": "sz.unit_id",
                "channel": "'counter'",
                "method": "'cash'",
                "amount": "d.amount",
                "tendered": "d.amount",
                "balance_before": "d.before",
                "balance_after": "d.before + d.amount",
                "at": "(d.day::timestamp + interval '10 hours') AT TIME ZONE 'Asia/Shanghai'",
                "business_date": "d.day",
            },
            f"FROM {SCHEMA}.deposit d JOIN {SCHEMA}.zone sz ON sz.zone_id = d.zone_id",
            label="deposits",
        )
        insert_select(
            DepositTransfer,
            {
                "id": "y.bid",
                "run_id": f"y.m * {self.Z} + z.zi",
                "customer_id": "y.customer_id",
                "zone_id": "y.zone_id",
                "out_entry_id": f"{8 * B} + y.bid",
                "in_entry_id": f"{B} + y.bid",
                "amount": "y.settled",
                "bills": "1",
                "deposit_before": "y.deposited - y.spent + y.settled",
                "deposit_after": "y.deposited - y.spent",
            },
            "FROM (SELECT b.bid, b.m, b.customer_id, b.zone_id, b.settled, d.deposited, "
            "sum(b.settled) OVER (PARTITION BY b.customer_id ORDER BY b.m, b.bid) AS spent "
            f"FROM {SCHEMA}.bill b JOIN {SCHEMA}.deposit d ON d.customer_id = b.customer_id "
            "AND d.h = b.m / 6 WHERE b.method = 'prepaid' AND b.paid_on IS NOT NULL) y "
            f"JOIN {SCHEMA}.zidx z ON z.zone_id = y.zone_id",
            label="deposit transfers",
        )

    def write_run_records(self):
        """Deposit-transfer runs after every bill run, and the bill runs' books."""
        from watermis.payments.models import TransferRun

        insert_select(
            TransferRun,
            {
                "id": "r.id",
                "zone_id": "r.zone_id",
                "trigger": "'bill_run'",
                "bill_run_id": "r.id",
                "business_date": "r.issued_on",
                "started_by_id": "r.started_by_id",
                "started_at": "r.finished_at",
                "finished_at": "r.finished_at + interval '5 minutes'",
                "candidates": "coalesce(t.n, 0)",
                "looked_at": "coalesce(t.n, 0)",
                "customers": "coalesce(t.n, 0)",
                "bills": "coalesce(t.n, 0)",
                "amount": "coalesce(t.amount, 0)",
            },
            "FROM billing_billrun r LEFT JOIN (SELECT zone_id, month, count(*) AS n, "
            f"sum(settled) AS amount FROM {SCHEMA}.bill WHERE method = 'prepaid' "
            "AND paid_on IS NOT NULL GROUP BY 1, 2) t "
            "ON t.zone_id = r.zone_id AND t.month = r.month",
            label="transfer runs",
        )
        insert_select(
            self._run_book_model,
            {
                "id": "p.id",
                "run_id": f"mo.m * {self.Z} + z.zi",
                "period_id": "p.id",
                "book_id": "p.book_id",
                "status": "'done'",
                "attempts": "1",
                "started_at": "(mo.issued::timestamp + interval '2 hours') AT TIME ZONE 'Asia/Shanghai'",
                "finished_at": "(mo.issued::timestamp + interval '2 hours 1 minute') "
                "AT TIME ZONE 'Asia/Shanghai'",
                "bill_count": "coalesce(t.n, 0)",
                "amount": "coalesce(t.amount, 0)",
                "volume": "coalesce(t.volume, 0)",
            },
            f"FROM readings_readingperiod p JOIN {SCHEMA}.month mo ON mo.month = p.month "
            f"JOIN {SCHEMA}.zidx z ON z.zone_id = p.zone_id "
            "LEFT JOIN (SELECT book_id, m, count(*) AS n, sum(amount) AS amount, "
            f"sum(v) AS volume FROM {SCHEMA}.bill GROUP BY book_id, m) t "
            "ON t.book_id = p.book_id AND t.m = mo.m WHERE p.book_id IS NOT NULL",
            label="bill-run books",
        )

    def write_master_reads(self):
        """District and plant meters read every month: what is behind them, plus loss."""
        from watermis.customers.models import Meter, MeterKind
        from watermis.readings.models import Reading

        masters = list(
            Meter.objects.filter(kind__in=(MeterKind.DISTRICT, MeterKind.PLANT)).order_by("id")
        )
        if not masters:
            return
        behind = {}
        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT mt.master_id, b.m, sum(b.v_read) FROM {SCHEMA}.bill b "
                f"JOIN {SCHEMA}.meter mt ON mt.mi = b.mi WHERE b.part <= 1 "
                "AND mt.master_id IS NOT NULL GROUP BY 1, 2"
            )
            for master_id, m, volume in cursor.fetchall():
                behind[(master_id, m)] = volume
        rng = random.Random(7)
        volumes = {}
        # districts first: a plant's volume holds its districts'
        for master in sorted(masters, key=lambda x: x.kind != MeterKind.DISTRICT):
            for m in range(self.months):
                used = behind.get((master.pk, m), Decimal(0))
                used += sum(
                    (
                        volumes.get((d.pk, m), Decimal(0))
                        for d in masters
                        if d.master_id == master.pk
                    ),
                    Decimal(0),
                )
                loss = Decimal(rng.randint(500, 2000)) / 10000
                volumes[(master.pk, m)] = (used * (1 + loss)).quantize(Decimal(1))
        zone_index = dict(self._fetch(f"SELECT zone_id, zi FROM {SCHEMA}.zidx"))
        base = self.months * self.K
        rows = []
        reading_id = base
        for master in masters:
            closing = Decimal(100000)
            for m in range(self.months):
                month = month_add(self.first, m)
                volume = volumes[(master.pk, m)]
                reading_id += 1
                period = self.master_period_base + m * self.Z + zone_index[master.zone_id]
                rows.append((reading_id, period, master.pk, master.zone_id, closing, volume, month))
                closing += volume
        execute(
            f"CREATE TABLE {SCHEMA}.master_read (id bigint, period_id bigint, meter_id bigint, "
            "zone_id bigint, previous numeric, volume numeric, month date)"
        )
        with self._cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {SCHEMA}.master_read VALUES (%s, %s, %s, %s, %s, %s, %s)", rows
            )
        insert_select(
            Reading,
            {
                "id": "r.id",
                "period_id": "r.period_id",
                "meter_id": "r.meter_id",
                "zone_id": "r.zone_id",
                "sequence": "1",
                "previous": "r.previous",
                "previous_on": "(r.month - interval '1 month')::date + 27",
                "current": "r.previous + r.volume",
                "read_on": "r.month + 27",
                "volume": "r.volume",
                "closing": "r.previous + r.volume",
                "source": "'remote'",
                "state": "'entered'",
                "entered_at": "(r.month + 27)::timestamp AT TIME ZONE 'Asia/Shanghai'",
            },
            f"FROM {SCHEMA}.master_read r",
            label="master reads",
        )
        self.samples["district"] = next(
            (m.pk for m in masters if m.kind == MeterKind.DISTRICT), masters[0].pk
        )
        self.samples["plant"] = next(
            (m.pk for m in masters if m.kind == MeterKind.PLANT), masters[0].pk
        )

    def stage_watches(self):
        """About a hundred watched meters (some watches ended); their extra reads are written
        with each month (:meth:`write_watched_reads`)."""
        from watermis.readings.models import MonitoredMeter

        manager = self.dims["built"]["operators"]["manager"].pk
        watched = list(
            self._fetch(
                f"SELECT meter_id, mi FROM {SCHEMA}.meter WHERE {hx('mi', 61, 10000)} < 1 "
                "ORDER BY mi LIMIT 500"
            )
        )
        if not watched:
            watched = list(self._fetch(f"SELECT meter_id, mi FROM {SCHEMA}.meter LIMIT 3"))
        rows = []
        for n, (meter_id, mi) in enumerate(watched):
            since_m = (mi * 7) % max(self.months - 2, 1)
            until_m = since_m + 6 if n % 4 == 0 else None
            rows.append((meter_id, since_m, until_m))
        execute(
            f"CREATE TABLE {SCHEMA}.watch (meter_id bigint, since_m int, until_m int, n serial)"
        )
        with self._cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {SCHEMA}.watch (meter_id, since_m, until_m) VALUES (%s, %s, %s)",
                rows,
            )
        insert_select(
            MonitoredMeter,
            {
                "meter_id": "w.meter_id",
                "zone_id": "m.zone_id",
                "since": f"(DATE '{self.first}' + w.since_m * interval '1 month')::date + 4",
                "until": f"CASE WHEN w.until_m IS NOT NULL THEN (DATE '{self.first}' "
                "+ w.until_m * interval '1 month')::date + 20 END",
                "reason": "'用水量异常，加密抄表'",
                "added_by_id": str(manager),
            },
            f"FROM {SCHEMA}.watch w JOIN customers_meter m ON m.id = w.meter_id",
            label="monitored meters",
        )
        self.samples["watch"] = scalar("SELECT min(id) FROM readings_monitoredmeter")

    def write_watched_reads(self, t):
        """Watched meters are read twice more a month while watched: reads 2 and 3 on the 10th
        and 20th (small volumes, kept out of the month's bill: a watch is for looking)."""
        from watermis.readings.models import Reading

        base = self.months * self.K + 10**6  # past the customer and master meters' reads
        for sequence, day in ((2, 10), (3, 20)):
            insert_select(
                Reading,
                {
                    "id": f"{base} + (b.m * 1000 + w.n) * 2 + {sequence - 2}",
                    "period_id": f"b.m * {self.NB} + b.bi",
                    "meter_id": "b.meter_id",
                    "customer_id": "mt.customer_id",
                    "zone_id": "b.zone_id",
                    "book_id": "b.book_id",
                    "route_order": "b.route_order",
                    "sequence": str(sequence),
                    "previous": "b.c_prev",
                    "previous_on": "b.prev_on",
                    "current": f"b.c_prev + {sequence - 1}",
                    "read_on": f"b.month + {day - 1}",
                    "volume": f"{sequence - 1}",
                    "closing": f"b.c_prev + {sequence - 1}",
                    "source": "'manual'",
                    "state": "'entered'",
                    "reader_id": "bk.reader_id",
                    "entered_by_id": "sz.clerk_id",
                    "entered_at": f"(b.month + {day - 1} + time '15:00') "
                    "AT TIME ZONE 'Asia/Shanghai'",
                },
                f"FROM {SCHEMA}.watch w JOIN {t} b ON b.meter_id = w.meter_id "
                "AND b.part <= 1 AND b.m >= w.since_m AND (w.until_m IS NULL OR b.m <= w.until_m) "
                f"JOIN {SCHEMA}.meter mt ON mt.mi = b.mi "
                f"JOIN {SCHEMA}.book bk ON bk.book_id = b.book_id "
                f"JOIN {SCHEMA}.zone sz ON sz.zone_id = b.zone_id",
                label=f"monitored reads {sequence}",
            )

    def write_journal(self):
        """Besides the demo's rows: about 1 % of the customers change their telephone each
        month (by the zone's clerk), and the bill runs and month-ends are journaled."""
        from watermis.core.models import AuditEntry

        insert_select(
            AuditEntry,
            {
                "at": f"((mo.month + {hx('c.id * 31 + mo.m', 71, 27)})::timestamp "
                f"+ interval '9 hours' + {hx('c.id + mo.m', 72, 480)} * interval '1 minute') "
                "AT TIME ZONE 'Asia/Shanghai'",
                "actor_id": "sz.clerk_id",
                "actor_name": "o.username",
                "source": "'web'",
                "request_id": "md5(c.id::text || '-' || mo.m)::uuid::text",
                "ip": "('10.1.2.' || (1 + c.zone_id))::inet",
                "action": "'update'",
                "object_type": "'customers.customer'",
                "object_id": "c.id::text",
                "object_repr": "c.account_no || ' ' || c.name",
                "zone_id": "c.zone_id",
                "before": "jsonb_build_object('phone', '139' || lpad((c.id * 7 + mo.m)::text, 8, '0'))",
                "after": "jsonb_build_object('phone', '138' || lpad((c.id * 7 + mo.m)::text, 8, '0'))",
                "reason": "'用户来电更正电话'",
            },
            f"FROM {SCHEMA}.month mo CROSS JOIN customers_customer c "
            f"JOIN {SCHEMA}.zone sz ON sz.zone_id = c.zone_id "
            f"JOIN org_operator o ON o.id = sz.clerk_id WHERE {hx('c.id * 1000 + mo.m', 73, 100)} = 0",
            label="journal: customer changes",
        )
        insert_select(
            AuditEntry,
            {
                "at": "r.started_at",
                "actor_id": "r.started_by_id",
                "actor_name": "o.username",
                "source": "'web'",
                "request_id": "md5('run' || r.id)::uuid::text",
                "action": "'action'",
                "verb": "'start_run'",
                "object_type": "'billing.billrun'",
                "object_id": "r.id::text",
                "object_repr": "r.month::text",
                "zone_id": "r.zone_id",
                "after": "jsonb_build_object('zone', r.zone_id, 'month', r.month)",
            },
            "FROM billing_billrun r JOIN org_operator o ON o.id = r.started_by_id",
            label="journal: bill runs",
        )
        self.count("core_auditentry")

    def write_accounts(self):
        """Every customer's account: balance and deposit are the sums of its entries."""
        from watermis.billing.models import Account

        insert_select(
            Account,
            {
                "customer_id": "c.id",
                "zone_id": "c.zone_id",
                "balance": "coalesce(s.balance, 0)",
                "deposit": "coalesce(s.deposit, 0)",
                "updated_at": "now()",
            },
            "FROM customers_customer c LEFT JOIN (SELECT customer_id, "
            "sum(CASE WHEN kind IN ('deposit', 'transfer_out') THEN 0 "
            "WHEN direction = 'credit' THEN amount ELSE -amount END) AS balance, "
            "sum(CASE WHEN kind NOT IN ('deposit', 'transfer_out') THEN 0 "
            "WHEN direction = 'credit' THEN amount ELSE -amount END) AS deposit "
            "FROM billing_ledgerentry GROUP BY customer_id) s ON s.customer_id = c.id",
            label="accounts",
        )

    def write_month_ends(self):
        """Every month but the last closed per zone, with its figures: bills and billed of the
        month, collected in it (payments and deposits), arrears carried (billed to date less
        settled by the close, approximately: late fees left out)."""
        from watermis.billing.models import MonthEnd

        manager = self.dims["built"]["operators"]["manager"].pk
        insert_select(
            MonthEnd,
            {
                "zone_id": "f.zone_id",
                "month": "mo.month",
                "closed_by_id": str(manager),
                "closed_at": "(mo.month + interval '1 month' + interval '3 days 17 hours')"
                "::timestamp AT TIME ZONE 'Asia/Shanghai'",
                "bills": "f.bills",
                "billed": "f.billed",
                "collected": "coalesce(c.collected, 0)",
                "arrears": "greatest(0, sum(f.billed) OVER w - coalesce(sum(c.settled) OVER w, 0))",
                "deposits": "0",
                "note": "'月结'",
            },
            f"FROM {SCHEMA}.month mo JOIN (SELECT zone_id, m, count(*) AS bills, "
            f"sum(amount) AS billed FROM {SCHEMA}.bill GROUP BY 1, 2) f ON f.m = mo.m "
            "LEFT JOIN (SELECT zone_id, date_trunc('month', business_date)::date AS month, "
            "sum(amount) FILTER (WHERE kind IN ('payment', 'deposit')) AS collected, "
            "sum(amount) FILTER (WHERE kind IN ('payment', 'transfer_in', 'write_off', "
            "'red_bill')) AS settled "
            "FROM billing_ledgerentry WHERE kind IN ('payment', 'deposit', 'transfer_in', "
            "'write_off', 'red_bill') GROUP BY 1, 2) c "
            "ON c.zone_id = f.zone_id AND c.month = mo.month "
            f"WHERE mo.m < {self.months - 1} "
            "WINDOW w AS (PARTITION BY f.zone_id ORDER BY mo.m)",
            label="month-ends",
        )

    def finish(self):
        """Sequences past the ids given here, so the services can write after us."""
        from django.apps import apps

        models = [
            m
            for m in apps.get_models()
            if m._meta.db_table in FACT_TABLES
            or m._meta.db_table in ("core_auditentry", "readings_monitoredmeter")
        ]
        reset_sequences(models)

    def facts(self):
        from django.db.models import Count

        from watermis.billing.models import Bill
        from watermis.customers.models import Customer

        zones = [{"id": z.pk, "code": z.code, "name": z.name} for z in self.dims["built"]["zones"]]
        biggest = (
            Bill.objects.values("zone_id").annotate(n=Count("pk")).order_by("-n").first() or {}
        )
        customer = Customer.objects.order_by("id")[len(zones) * 7 : len(zones) * 7 + 1].first()
        return {
            "manager": "manager",
            "zones": zones,
            "busiest_zone": biggest.get("zone_id"),
            "sample_account": customer.account_no if customer else "",
            "sample_name": customer.name if customer else "",
            "samples": self.samples,
            "rows": self.rows,
        }

    # --- tiny cursors -------------------------------------------------------------------

    @contextmanager
    def _cursor(self):
        from django.db import connection

        with connection.cursor() as cursor:
            yield cursor

    def _fetch(self, sql):
        with self._cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()


if __name__ == "__main__":  # pragma: no cover - the module is a library of the benchmarks
    sys.exit("Run bench/queries.py (or another history benchmark), not this module.")
