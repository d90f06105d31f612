from django.db import migrations

from watermis.core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]

    operations = [append_only("org_loginevent")]
