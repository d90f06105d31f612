"""Bills for tests that need some without a bill run (write-offs, late fees, shutoff lists)."""

import datetime
from decimal import Decimal

from watermis.billing import ledger
from watermis.billing.models import Bill, BillLine, EntryKind
from watermis.tariffs.models import PriceItem


def make_bill(customer, amount, month, *, due_on=None, issued_on=None, actor=None, meter=None):
    """An issued bill of ``amount`` for ``month`` (first day), posted to the ledger, one line."""
    amount = Decimal(amount)
    issued_on = issued_on or month + datetime.timedelta(days=27)
    due_on = due_on or issued_on + datetime.timedelta(days=30)
    entry = ledger.post_entry(
        actor, customer, EntryKind.BILL, amount, business_date=issued_on, period=month
    ).entry
    meter = meter or customer.meters.first()
    bill = Bill.objects.create(
        customer=customer,
        zone_id=customer.zone_id,
        book_id=customer.book_id,
        meter=meter,
        month=month,
        period_start=month - datetime.timedelta(days=30),
        period_end=month,
        read_volume=Decimal("10.00"),
        volume=Decimal("10.00"),
        tariff=meter.tariff if meter else None,
        amount=amount,
        issued_on=issued_on,
        due_on=due_on,
        entry=entry,
    )
    item = PriceItem.objects.order_by("pk").first() or PriceItem.objects.create(
        code="WATER", name="水费"
    )
    BillLine.objects.create(
        bill=bill,
        item=item,
        volume=Decimal("10.00"),
        unit_price=(amount / 10).quantize(Decimal("0.0001")),
        amount=amount,
        price_from=month,
    )
    return bill
