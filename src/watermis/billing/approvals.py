"""The four-eyes steps shared by write-offs and red bills (:class:`models.ApprovalRequest`).

A request is decided once, by someone other than the person who asked, under
the lock of its customer's account (accounts first, as every posting locks).
"""

from django.core.exceptions import ValidationError

from watermis.core import journal

from . import ledger
from .models import Bill, WriteOffState


def locked(request):
    """``request`` re-read under its account's lock, then its own row lock."""
    customer_id = Bill.objects.filter(pk=request.bill_id).values_list("customer_id", flat=True)
    ledger.lock_accounts([customer_id.get()])
    return type(request).objects.select_for_update().get(pk=request.pk)


def check_undecided(request, message):
    """Refuse a request decided already; ``message`` has a ``%(state)s`` placeholder."""
    if request.state != WriteOffState.REQUESTED:
        raise ValidationError(message % {"state": request.get_state_display()})


def check_other_person(actor, request, message):
    if actor is not None and request.requested_by_id == actor.pk:
        raise ValidationError(message)


def record_decision(actor, request, state, note, at, verb, **changes):
    """Store and journal the decision (who, when, the note, what it produced)."""
    journal.update_object(
        request,
        {
            "state": state,
            "decided_by": journal.saved_operator(actor),
            "decided_at": at,
            "decision_note": (note or "").strip()[:200],
            **changes,
        },
        note,
        verb=verb,
        actor=actor,
    )
    return request
