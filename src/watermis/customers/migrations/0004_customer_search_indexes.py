"""Indexes for the customer search box on PostgreSQL (a million accounts).

The search (``filtersets.search_customers``) is one OR of: account number
(``istartswith``), name and address (``icontains``), telephones and pinyin
initials (``startswith``). Django writes ``icontains`` as
``UPPER(col::text) LIKE UPPER('%x%')``: trigram GIN indexes on exactly that
expression serve name and address, so "contains" no longer reads the whole
table (from 3 characters on; pg_trgm cannot narrow a 1- or 2-character
"contains"). With every arm of the OR indexed, PostgreSQL combines them in one
bitmap scan. SQLite keeps its plain indexes: this migration does nothing there.
"""

from django.db import migrations

INDEXES = [
    # (name, definition) on customers_customer
    ("customers_customer_address_trgm", "USING gin (UPPER(address::text) gin_trgm_ops)"),
    ("customers_customer_name_trgm", "USING gin (UPPER(name::text) gin_trgm_ops)"),
    ("customers_customer_account_upper", "(UPPER(account_no::text) text_pattern_ops)"),
    ("customers_customer_phone2_like", "(phone2 varchar_pattern_ops)"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    for name, definition in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer {definition}", params=None
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}", params=None)


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_customer_surcharges")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
