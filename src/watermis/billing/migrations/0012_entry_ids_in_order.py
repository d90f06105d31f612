"""Ledger entries and allocations draw their ids one at a time again (no session cache).

The reports' facts (``watermis.reports.facts``) read new ledger rows by id and wait
for ids not visible yet (a transaction still running). With a cached block per
session, a quiet process could hold unused ids for days and then commit one of them;
drawn one at a time, an id not committed within a day was rolled back. Bills and
bill lines keep their cache: the facts do not read them by id.
"""

from django.db import migrations

SEQUENCES = ("billing_ledgerentry", "billing_allocation")


def _cache(size):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in SEQUENCES:
            schema_editor.execute(f"ALTER SEQUENCE {table}_id_seq CACHE {size}", params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0011_monthend_deposits")]

    operations = [migrations.RunPython(_cache(1), _cache(1000), elidable=False)]
