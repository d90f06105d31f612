"""Keeping the facts (:mod:`watermis.reports.models`) equal to the ledger.

:func:`refresh` adds every ledger entry and allocation not summed yet to its
fact, once. Ledger rows are never edited nor deleted, so a fact stays right
once a row is in it; the only difficulty is knowing which rows are in:

- ids come from a sequence, but transactions commit in any order: when the
  facts read up to id 1000, the row 998 of a transaction still running is not
  visible yet. So :class:`~watermis.reports.models.FactSource` keeps, besides the
  last id read, the *gaps*: ids below it that were not visible. The next
  refresh reads the gaps again; a gap still empty after ``GAP_HOURS`` was a
  rolled-back transaction and is dropped. (That is why ledger ids are drawn one at a
  time, not in cached blocks per session: billing migration 0012.) Gaps are kept only
  when another writing transaction was running at the refresh's snapshot (no other can
  ever commit an id below the ids it saw), and at most ``MAX_GAPS``, the newest.
- a refresh reads from one snapshot (PostgreSQL: repeatable read; SQLite: the
  write lock taken first), so what it sums and the gaps it notes agree; one
  refresh runs at a time (an advisory lock; SQLite's single writer).

Everything is set-based SQL (``INSERT … SELECT … GROUP BY … ON CONFLICT DO
UPDATE``), the same on both databases: a refresh after a bill run of a million
bills is one statement per fact table.
"""

import contextlib
import datetime
import logging

from django.db import connection, transaction
from django.utils import timezone

from .models import Dimensions, EntryFact, FactSource, LineFact, SettlementFact

GAP_HOURS = 24
MAX_GAPS = 5_000
LOCK_KEY = 7_318_204  # pg_advisory_lock key of the facts' refresh
log = logging.getLogger(__name__)

ENTRY = "entry"
ALLOCATION = "allocation"
SOURCES = {ENTRY: "billing_ledgerentry", ALLOCATION: "billing_allocation"}


def _month(column):
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"strftime('%Y-%m-01', {column})"


def _key(model):
    """The unique key's columns of a fact table."""
    for constraint in model._meta.constraints:
        if getattr(constraint, "fields", None):
            return [model._meta.get_field(name).column for name in constraint.fields]
    raise LookupError(model)


def _upsert(model, columns, sums, select):
    """``INSERT INTO fact (columns + sums) <select> ON CONFLICT (key) DO UPDATE`` adding sums."""
    table = model._meta.db_table
    key = ", ".join(_key(model))
    add = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in sums)
    return (
        f"INSERT INTO {table} ({', '.join([*columns, *sums])}) {select} "
        f"ON CONFLICT ({key}) DO UPDATE SET {add}"
    )


DIMENSIONS = Dimensions.KEY


def _dimension_sql(row, customer, bill, book, month_of):
    """The SELECT expressions of the dimensions of ledger row ``row`` (its customer, its
    bill if any, and that bill's book, else the customer's)."""
    return [
        _month(f"{month_of}.business_date"),
        f"COALESCE({row}.period, '1900-01-01')",
        f"{row}.zone_id",
        f"COALESCE({book}.area_id, 0)",
        f"COALESCE({book}.id, 0)",
        f"COALESCE({book}.reader_id, 0)",
        f"COALESCE({book}.collector_id, 0)",
        f"COALESCE({customer}.category_id, 0)",
        f"COALESCE({bill}.tariff_id, 0)",
    ]


def _entry_statements(where):
    dims = _dimension_sql("e", "c", "bill", "bk", "e")
    joins = (
        "FROM billing_ledgerentry e "
        "JOIN customers_customer c ON c.id = e.customer_id "
        "LEFT JOIN billing_ledgerentry r ON r.id = e.reverses_id "
        "LEFT JOIN billing_bill bill ON bill.entry_id = COALESCE(e.reverses_id, e.id) "
        "LEFT JOIN customers_book bk ON bk.id = COALESCE(bill.book_id, c.book_id) "
    )
    group = ", ".join(str(n) for n in range(1, len(dims) + 4))
    entries = _upsert(
        EntryFact,
        [*DIMENSIONS, "kind", "reversal", "channel"],
        ["entries", "amount", "bills", "volume"],
        f"SELECT {', '.join(dims)}, COALESCE(r.kind, e.kind), "
        "CASE WHEN e.reverses_id IS NULL THEN false ELSE true END, e.channel, "
        "COUNT(*), SUM(e.amount), "
        "SUM(CASE WHEN bill.kind = 'regular' THEN 1 ELSE 0 END), "
        f"SUM(COALESCE(bill.volume, 0)) {joins} WHERE {where} GROUP BY {group}",
    )
    lines = _upsert(
        LineFact,
        [*DIMENSIONS, "item_id", "line_kind", "reversal"],
        ["volume", "amount"],
        f"SELECT {', '.join(dims)}, l.item_id, l.kind, "
        "CASE WHEN e.reverses_id IS NULL THEN false ELSE true END, "
        f"SUM(l.volume), SUM(l.amount) {joins}"
        "JOIN billing_billline l ON l.bill_id = bill.id "
        f"WHERE ({where}) GROUP BY {group}",
    )
    return [entries, lines]


def _allocation_statements(where):
    dims = _dimension_sql("d", "c", "bill", "bk", "m")
    group = ", ".join(str(n) for n in range(1, len(dims) + 3))
    return [
        _upsert(
            SettlementFact,
            [*DIMENSIONS, "debit_kind", "credit_kind"],
            ["amount"],
            f"SELECT {', '.join(dims)}, d.kind, cr.kind, SUM(a.amount) "  # noqa: S608 - no input
            "FROM billing_allocation a "
            "JOIN billing_ledgerentry d ON d.id = a.debit_id "
            "JOIN billing_ledgerentry cr ON cr.id = a.credit_id "
            "JOIN billing_ledgerentry m ON m.id = a.made_by_id "
            "JOIN customers_customer c ON c.id = d.customer_id "
            "LEFT JOIN billing_bill bill ON bill.entry_id = d.id "
            "LEFT JOIN customers_book bk ON bk.id = COALESCE(bill.book_id, c.book_id) "
            f"WHERE {where} GROUP BY {group}",
        )
    ]


STATEMENTS = {ENTRY: _entry_statements, ALLOCATION: _allocation_statements}
ALIAS = {ENTRY: "e", ALLOCATION: "a"}


def _ranges_sql(alias, last_id, new_last, gaps):
    parts = [f"({alias}.id > {int(last_id)} AND {alias}.id <= {int(new_last)})"]
    parts += [f"({alias}.id BETWEEN {int(lo)} AND {int(hi)})" for lo, hi, _seen in gaps]
    return " OR ".join(parts)


def _new_gaps(cursor, table, last_id, new_last, seen):
    """Id ranges in (last_id, new_last] not visible now."""
    cursor.execute(
        f"SELECT prev + 1, id - 1 FROM (SELECT id, LAG(id, 1, {int(last_id)}) OVER (ORDER BY id) "  # noqa: S608
        f"AS prev FROM {table} WHERE id > %s AND id <= %s) s WHERE id > prev + 1",
        [last_id, new_last],
    )
    return [[lo, hi, seen] for lo, hi in cursor.fetchall()]


def _ids_in_gaps(cursor, table, gaps):
    """The ids of the old gaps that are visible now."""
    if not gaps:
        return []
    where = " OR ".join(f"(id BETWEEN {int(lo)} AND {int(hi)})" for lo, hi, _seen in gaps)
    cursor.execute(f"SELECT id FROM {table} WHERE {where} ORDER BY id")  # noqa: S608 - ids
    return [row[0] for row in cursor.fetchall()]


def _left_in_gaps(gaps, found):
    """What is still missing of the old gaps, now that the ids ``found`` are visible."""
    left = []
    for lo, hi, seen in gaps:
        start = lo
        for value in (v for v in found if lo <= v <= hi):
            if value > start:
                left.append([start, value - 1, seen])
            start = value + 1
        if start <= hi:
            left.append([start, hi, seen])
    return left


def _refresh_source(cursor, source, now):
    """Sum the source's rows not summed yet; True when there were any."""
    table = SOURCES[source.name]
    cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608 - a table name
    new_last = max(cursor.fetchone()[0] or 0, source.last_id)
    if new_last == source.last_id and not source.gaps:
        return False
    found = _ids_in_gaps(cursor, table, source.gaps)
    if new_last > source.last_id or found:
        where = _ranges_sql(ALIAS[source.name], source.last_id, new_last, source.gaps)
        for sql in STATEMENTS[source.name](where):
            cursor.execute(sql)
    kept = []
    if _writers_in_flight(cursor):
        seen = now.isoformat()
        gaps = _left_in_gaps(source.gaps, found)
        gaps += _new_gaps(cursor, table, source.last_id, new_last, seen)
        cutoff = now - datetime.timedelta(hours=GAP_HOURS)
        kept = [g for g in gaps if datetime.datetime.fromisoformat(g[2]) >= cutoff]
        if len(kept) > MAX_GAPS:  # the newest ids are the ones a running transaction may hold
            log.warning("facts: %s gaps in %s ids, the oldest dropped", len(kept), table)
            kept = kept[-MAX_GAPS:]
    summed = new_last > source.last_id or bool(found)
    source.last_id, source.gaps, source.refreshed_at = new_last, kept, now
    source.save()
    return summed


def _writers_in_flight(cursor):
    """Whether any other transaction that writes was running when this refresh's snapshot
    was taken: only such a transaction can still commit an id the refresh did not see.
    (SQLite: none; this refresh holds the write lock.)"""
    if connection.vendor != "postgresql":
        return False
    cursor.execute("SELECT cardinality(ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot())))")
    return cursor.fetchone()[0] > 0


@contextlib.contextmanager
def _one_at_a_time():
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def refresh(now=None):
    """Sum every ledger entry and allocation not in the facts yet; returns True when
    anything was added. Safe to call at any time, from any number of processes."""
    now = now or timezone.now()
    outer = connection.in_atomic_block
    with _one_at_a_time(), transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not outer:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        elif connection.vendor == "sqlite":  # the write lock first: nothing commits meanwhile
            cursor.execute("UPDATE reports_factsource SET last_id = last_id WHERE 1 = 0")
        sources = {s.name: s for s in FactSource.objects.all()}
        changed = False
        for name in SOURCES:
            source = sources.get(name) or FactSource(name=name)
            changed |= _refresh_source(cursor, source, now)
        return changed


def rebuild():
    """Empty the facts and sum the whole ledger again (after restoring a backup, or to
    check them: :func:`watermis.reports.checks.compare`)."""
    with transaction.atomic():
        for model in (EntryFact, LineFact, SettlementFact, FactSource):
            model.objects.all().delete()
    refresh()


def as_of():
    """When the facts were last brought up to date (None: never)."""
    return FactSource.objects.filter(name=ENTRY).values_list("refreshed_at", flat=True).first()
