from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # A read is updated several times (entered, corrected, billed): room on each page
        # lets PostgreSQL update in place (HOT) without touching the indexes.
        schema_editor.execute("ALTER TABLE readings_reading SET (fillfactor = 80)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE readings_reading RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("readings", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
