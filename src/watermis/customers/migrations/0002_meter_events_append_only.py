from django.db import migrations

from watermis.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [append_only("customers_meterevent")]
