"""The invoice list's order (newest business day, highest number first) read off an index
instead of sorting every invoice (two million at a million accounts)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0002_append_only"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["business_date", "number"], name="invoices_day_number_idx"),
        ),
    ]
