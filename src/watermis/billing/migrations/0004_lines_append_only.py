from django.db import migrations

from watermis.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_bills")]

    operations = [append_only("billing_billline"), append_only("billing_latefeecharge")]
