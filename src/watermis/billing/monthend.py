"""Month-end (F3.26): close a zone's billing month, carry its balances, open the next month.

:func:`month_checks` says what stands in the way (the page shows it before the
button); :func:`close_month` refuses while anything does, then closes every
reading period of the zone's month (books and master meters), records the
month's figures in :class:`MonthEnd` and opens the next month's periods.
Balances need no moving: they are the ledger's, and carry on by themselves;
the record keeps what the zone owed and was owed at the close.

A closed month accepts no reads (readings refuses them), no bill runs
(:func:`billrun.start_run` refuses) and no cancellations (a wrong bill of a
closed month is offset by a red bill in an open one).
"""

import contextlib
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.core import journal
from watermis.core.models import AuditAction
from watermis.core.scoping import ensure_zone_in_scope
from watermis.readings import services as reading_services
from watermis.readings.models import PeriodStatus, Reading, ReadingPeriod, ReadingState

from .billrun import running_runs
from .models import Account, Bill, BillState, EntryKind, LedgerEntry, MonthEnd

ZERO = Decimal("0.00")
COLLECTED_KINDS = (EntryKind.PAYMENT, EntryKind.DEPOSIT)


@dataclass
class Checks:
    """What a month-end would find: ``problems`` block it; ``notes`` are for information."""

    periods: int = 0
    open_periods: int = 0
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    closed: MonthEnd | None = None

    @property
    def ready(self):
        return not self.problems and self.closed is None and self.open_periods > 0


def next_month(month):
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def month_checks(zone, month):
    checks = Checks()
    checks.closed = MonthEnd.objects.filter(zone=zone, month=month).first()
    periods = ReadingPeriod.objects.filter(zone=zone, month=month)
    checks.periods = periods.count()
    checks.open_periods = periods.filter(status=PeriodStatus.OPEN).count()
    if checks.closed is not None:
        checks.problems.append(_("This month was closed already."))
        return checks
    if not checks.periods:
        checks.problems.append(_("The zone has no reading period in this month."))
        return checks
    earlier = (
        ReadingPeriod.objects.filter(zone=zone, month__lt=month, status=PeriodStatus.OPEN)
        .order_by("month")
        .values_list("month", flat=True)
        .first()
    )
    if earlier is not None:
        checks.problems.append(
            _("Close %(month)s first: months close in order.") % {"month": f"{earlier:%Y-%m}"}
        )
    if running_runs(zone, month).exists():
        checks.problems.append(_("A bill run of this month is still running."))
    reads = Reading.objects.filter(period__in=periods.filter(book__isnull=False))
    counts = reads.aggregate(
        unbilled=Count("pk", filter=Q(state=ReadingState.ENTERED, billed=False)),
        held=Count("pk", filter=Q(state=ReadingState.HELD)),
        unread=Count("pk", filter=Q(state=ReadingState.PENDING)),
    )
    if counts["unbilled"]:
        checks.problems.append(
            _("%(count)s entered reads are not billed yet: run the bill run.")
            % {"count": counts["unbilled"]}
        )
    if counts["held"]:
        checks.problems.append(
            _("%(count)s reads are held: confirm or correct them, then bill them.")
            % {"count": counts["held"]}
        )
    if counts["unread"]:
        checks.notes.append(
            _(
                "%(count)s meters were not read this month; their use is billed with their next read."
            )
            % {"count": counts["unread"]}
        )
    return checks


def month_figures(zone, month):
    """Bills and collections of the zone's month, and the balances at this moment."""
    end = next_month(month)
    bills = Bill.objects.filter(zone=zone, month=month, state=BillState.ISSUED).aggregate(
        n=Count("pk"), total=Sum("amount")
    )
    collected = LedgerEntry.objects.filter(
        zone=zone,
        kind__in=COLLECTED_KINDS,
        business_date__gte=month,
        business_date__lt=end,
        reversed_by__isnull=True,
    ).aggregate(total=Sum("amount"))
    balances = Account.objects.filter(zone=zone).aggregate(
        arrears=Sum("balance", filter=Q(balance__lt=0)),
        credit=Sum("balance", filter=Q(balance__gt=0)),
        deposits=Sum("deposit"),
    )
    return {
        "bills": bills["n"] or 0,
        "billed": bills["total"] or ZERO,
        "collected": collected["total"] or ZERO,
        "arrears": -(balances["arrears"] or ZERO),
        "credit": balances["credit"] or ZERO,
        "deposits": balances["deposits"] or ZERO,
    }


@transaction.atomic
def close_month(actor, zone, month, note="", today=None):
    """Close the zone's billing month and open the next; returns the :class:`MonthEnd`."""
    if actor is None or not actor.has_perm("billing.close_month"):
        raise PermissionDenied(_("You are not allowed to close a billing month."))
    ensure_zone_in_scope(actor, zone.pk)
    # One month-end of a zone at a time: the zone's periods are locked first.
    periods = list(
        ReadingPeriod.objects.select_for_update().filter(zone=zone, month=month).order_by("pk")
    )
    checks = month_checks(zone, month)
    if checks.problems:
        raise ValidationError(checks.problems)
    for period in periods:
        if period.status == PeriodStatus.OPEN:
            reading_services.close_period(actor, period, note or _("Month-end"))
    record = MonthEnd.objects.create(
        zone=zone,
        month=month,
        closed_by=actor,
        closed_at=timezone.now(),
        note=note[:200],
        **month_figures(zone, month),
    )
    journal.record(
        record,
        AuditAction.CREATE,
        None,
        journal.snapshot(record),
        note,
        verb="close_month",
        actor=actor,
    )
    following = next_month(month)
    # Too far ahead to open now? Then the clerk opens it when the month comes.
    with contextlib.suppress(ValidationError):
        reading_services.open_periods(actor, zone, following, today=today)
    return record
