"""Numbers used and invoice tax lines are history: the database refuses UPDATE and DELETE."""

from django.db import migrations

from watermis.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("invoices", "0001_initial")]

    operations = [append_only("invoices_numberuse"), append_only("invoices_invoiceline")]
