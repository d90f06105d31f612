"""Set-based writes for the paths that move millions of rows (bill runs, generators).

- :func:`reserve_ids` hands out primary keys before the rows exist, so rows
  that point at each other (a bill, its lines, its ledger entry) can be built
  in memory and written together. PostgreSQL draws them from the table's
  sequence (safe with concurrent writers); SQLite takes the next ones after the
  largest id, which is safe because a write transaction there holds the
  database's write lock from its start (``transaction_mode = IMMEDIATE``).
- :func:`write_rows` inserts rows of database-ready values: COPY on
  PostgreSQL, one ``executemany`` on SQLite, in the current transaction.
- :func:`update_column` sets one column for many rows by primary key.
- :func:`refresh_statistics` re-analyzes a table that has outgrown what
  PostgreSQL's planner believes of it.
"""

import json

from django.db import connection


def _quote(name):
    return connection.ops.quote_name(name)


def reserve_ids(model, count):
    """``count`` fresh primary keys of ``model``'s table, ascending."""
    if count <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The ids come back as runs of consecutive numbers (one per block the sequence's
            # cache hands out), not one row each: a hundred thousand ids cost one short answer.
            cursor.execute(
                "SELECT min(v), max(v) FROM (SELECT v, v - row_number() OVER (ORDER BY v) AS run "
                "FROM (SELECT nextval((SELECT pg_get_serial_sequence(%s, %s))::regclass) AS v "
                "FROM generate_series(1, %s)) AS ids) AS numbered GROUP BY run ORDER BY 1",
                [table, pk, count],
            )
            return [i for first, last in cursor.fetchall() for i in range(first, last + 1)]
        if not connection.in_atomic_block:
            raise RuntimeError("reserve_ids needs a transaction on SQLite")
        cursor.execute(f"SELECT COALESCE(MAX({_quote(pk)}), 0) FROM {_quote(table)}")  # noqa: S608
        largest = cursor.fetchone()[0]
        # SQLite's own sequence remembers the block, so a second reservation in the same
        # transaction (before the rows are written) cannot hand it out again.
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(largest, row[0] if row else 0) + 1
        if row:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [start + count - 1, table]
            )
        else:
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                [table, start + count - 1],
            )
        return list(range(start, start + count))


def array_literal(values):
    """``values`` (numbers, dates; None for NULL) as PostgreSQL's array text, to send with a
    cast (``%s::bigint[]``): for thousands of values the text is built many times faster
    than the driver adapts a list element by element."""
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def filter_ids(queryset, column, ids):
    """``queryset`` limited to rows whose ``column`` is one of ``ids``, sent as ONE parameter
    (an array on PostgreSQL, a JSON list on SQLite): thousands of ``IN`` placeholders cost
    more to build and parse than the query itself."""
    ids = [int(i) for i in ids]
    column = f"{_quote(queryset.model._meta.db_table)}.{_quote(column)}"
    if connection.vendor == "postgresql":
        where = f"{column} = ANY(%s::bigint[])"
        return queryset.extra(where=[where], params=[array_literal(ids)])  # noqa: S610
    where = f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - quoted names
    return queryset.extra(where=[where], params=[json.dumps(ids)])  # noqa: S610


def write_rows(table, columns, rows):
    """Insert ``rows`` (sequences of database-ready values, in ``columns`` order) into ``table``."""
    if not rows:
        return
    connection.ensure_connection()
    names = ", ".join(_quote(c) for c in columns)
    with connection.wrap_database_errors:
        raw = connection.connection
        if connection.vendor == "postgresql":
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {_quote(table)} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["?"] * len(columns))
            sql = f"INSERT INTO {_quote(table)} ({names}) VALUES ({marks})"  # noqa: S608 - model names
            raw.executemany(sql, rows)


def update_column(model, column, pairs, key="id"):
    """Set ``column`` (a number or date field of ``model``) = value for each (key, value) in
    ``pairs``, ``key`` an integer column, in one statement per database."""
    pairs = list(pairs)
    if not pairs:
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            kind = model._meta.get_field(column).db_type(connection)
            cursor.execute(
                f"UPDATE {_quote(table)} AS t SET {_quote(column)} = v.value "  # noqa: S608
                f"FROM unnest(%s::bigint[], %s::{kind}[]) AS v(key, value) "
                f"WHERE t.{_quote(key)} = v.key",
                [array_literal(k for k, _v in pairs), array_literal(v for _k, v in pairs)],
            )
        else:
            cursor.executemany(
                f"UPDATE {_quote(table)} SET {_quote(column)} = %s WHERE {_quote(key)} = %s",  # noqa: S608
                [(v, k) for k, v in pairs],
            )


def refresh_statistics(model, slack=1000):
    """``ANALYZE`` ``model``'s table (PostgreSQL) when it holds more than twice the rows the
    planner believes plus ``slack``; returns whether it did. Autovacuum does this within a
    minute or so; a bill run writing a million bills into a table analyzed empty (a new
    system's first month) cannot wait that long: its per-customer lookups would scan the
    whole table each. Call it outside a transaction: the table lock is then held only while
    the sample is read, and a worker finding another one analyzing skips it."""
    if connection.vendor != "postgresql":
        return False
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples, s.n_live_tup FROM pg_class AS c "
            "JOIN pg_stat_user_tables AS s ON s.relid = c.oid WHERE c.oid = %s::regclass",
            [table],
        )
        row = cursor.fetchone()
        if row is None or row[1] <= 2 * max(row[0], 0) + slack:
            return False
        cursor.execute(f"ANALYZE (SKIP_LOCKED) {_quote(table)}")
    return True
