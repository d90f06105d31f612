"""Billing's answer to a corrected read (F2.6, F3.22), registered with readings' hooks.

- Guard: a read whose bill has been paid, in part or whole, does not change;
  the bill is corrected with a red bill instead.
- After a correction of a billed read of an open month: its bills are
  cancelled (their ledger entries reversed) and the read is billed again at
  once, with the original bill date and due date, so the customer sees one
  bill with the right amount and the ledger shows both steps.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from watermis.core.journal import current_context

from . import billrun, corrections
from .bills import with_status
from .models import Bill, BillKind, BillState


def _bills_of(reading):
    return Bill.objects.filter(reading=reading, state=BillState.ISSUED, kind=BillKind.REGULAR)


def guard_correction(reading):
    """Refuse to change a read whose bill is paid (readings calls this before the change)."""
    if with_status(_bills_of(reading)).filter(settled__gt=0).exists():
        raise ValidationError(
            _(
                "The bill of this read has been paid (in part): the read cannot change. "
                "Correct the bill with a red bill instead."
            )
        )


def rebill_after_correction(reading):
    """Cancel the read's bills and bill it again from the corrected values."""
    actor = current_context().actor
    bills = list(_bills_of(reading).order_by("pk"))
    if not bills:
        return []
    for bill in bills:
        corrections.cancel_bill(actor, bill, _("The read was corrected; billed again."))
    priced = billrun.bill_period(
        actor,
        reading.period,
        issued_on=bills[0].issued_on,
        due_on=bills[0].due_on,
        run_book=bills[0].run_book,
        reading_ids=[reading.pk],
    )
    if priced.skipped:
        raise ValidationError(priced.skipped[0].reason)
    return priced.drafts
