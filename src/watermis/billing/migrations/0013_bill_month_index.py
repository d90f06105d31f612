"""The bill lists' order, newest month and newest bill first, read off one index
(``billing_bill_month_idx`` on month, id) instead of sorting a month of bills: the
month-only index it replaces is its prefix."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0012_entry_ids_in_order"),
    ]

    operations = [
        migrations.AlterField(
            model_name="bill",
            name="month",
            field=models.DateField(verbose_name="billing month"),
        ),
        migrations.AddIndex(
            model_name="bill",
            index=models.Index(fields=["month", "id"], name="billing_bill_month_idx"),
        ),
    ]
