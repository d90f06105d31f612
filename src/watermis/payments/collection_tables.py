import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from watermis.readings.query_tables import NOWRAP, NUMBER

from .models import Remittance


class RemittanceTable(tables.Table):
    registered_at = tables.DateTimeColumn(linkify=True, format="Y-m-d H:i", attrs=NOWRAP)
    business_date = tables.DateColumn(format="Y-m-d", attrs=NOWRAP)
    collector = tables.Column(accessor="collector__name", verbose_name=_("Collector"))
    zone = tables.Column(accessor="zone__name")
    count = tables.Column(attrs=NUMBER)
    amount = tables.Column(attrs=NUMBER)
    registered_by = tables.Column(accessor="registered_by__name", verbose_name=_("Registered by"))
    note = tables.Column()

    class Meta:
        model = Remittance
        fields = ()
        sequence = (
            "registered_at",
            "business_date",
            "collector",
            "zone",
            "count",
            "amount",
            "registered_by",
            "note",
        )
        order_by = "-registered_at"
