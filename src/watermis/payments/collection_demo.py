"""The demo's walking collection: the collector's walking-collection invoices (printed by the
invoices demo) partly come back paid, one unpaid and one handed to inspection-collection,
registered by the manager through the services."""

import datetime

from django.utils import timezone

from watermis.org.models import Operator

from . import collection


def build(today=None):
    """Register what the demo collector brought back; returns counts."""
    today = today or timezone.localdate()
    manager = Operator.objects.get(username="manager")
    collector = Operator.objects.filter(username="collector").first()
    if collector is None:
        return {}
    rows = collection.outstanding(collector)
    if len(rows) < 4:
        return {"outstanding": len(rows)}
    now = timezone.make_aware(datetime.datetime.combine(today, datetime.time(17)))
    paid = [invoice.pk for invoice, _amount in rows[:-4]]
    counts = {}
    if paid:
        remittance = collection.register_remittance(
            manager, collector, invoice_ids=paid, business_date=today, note="当日回款", now=now
        )
        counts["remitted"] = remittance.count
    returned, inspection = rows[-4][0], rows[-3][0]
    collection.register_returned(manager, collector, [returned.pk], "用户外出未缴", now=now)
    collection.register_inspection(
        manager, collector, [inspection.pk], "多次上门未缴，转稽查催缴", now=now
    )
    counts["outstanding"] = len(collection.outstanding(collector))
    return counts
