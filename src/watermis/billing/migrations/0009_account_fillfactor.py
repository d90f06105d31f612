from django.db import migrations


def _fillfactor(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE billing_account SET (fillfactor = {value})")

    return run


class Migration(migrations.Migration):
    """A bill run moves the cached balance of every account of a book at once, payments move
    them all day: half-filled pages let every such update be made in place (HOT) without
    touching the account's indexes."""

    dependencies = [("billing", "0008_bulk_references_unchecked")]

    operations = [migrations.RunPython(_fillfactor(50), _fillfactor(100), elidable=False)]
