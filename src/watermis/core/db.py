"""Database rules that live in the database itself.

:func:`append_only` gives the migration operation that makes a table
append-only: the database refuses UPDATE and DELETE of its rows (a trigger
on PostgreSQL and on SQLite). Maintenance that must empty such a table
(restoring a backup, the test runner's flush on PostgreSQL) uses TRUNCATE,
which is a deliberate, privileged operation and not a row change.
"""

from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION watermis_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _forward(table):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(PG_FUNCTION, params=None)
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION watermis_refuse_change();"
            )
        elif vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: {op} refused'); END;"
                )

    return run


def _backward(table):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        elif vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")

    return run


def append_only(table):
    """A migration operation making ``table`` append-only on PostgreSQL and SQLite."""
    return migrations.RunPython(_forward(table), _backward(table), elidable=False)


def append_only_again(table):
    """Re-make ``table``'s append-only triggers after a migration that rebuilt the table
    (SQLite copies a table to alter a column, and its triggers go with the old copy)."""

    def run(apps, schema_editor):
        _backward(table)(apps, schema_editor)
        _forward(table)(apps, schema_editor)

    return migrations.RunPython(run, migrations.RunPython.noop, elidable=False)
