"""The demo company's bills and payments: the reads of its closed months billed.

Works from the reads in the database (``readings.demo``). Month by month, each
closed book period's reads are priced and written by the bill run's own code
(:func:`billrun.bill_period`, dated the 25th of the month, due by the
``billing.due_days`` parameter). Last month (read, still open) is left for a
clerk to bill with the bill run. Most customers pay: 96 % of the bills, but
only 60 % of the latest billed month's, at the counter or by bank deduction,
on a day before the due date (a few late). Payments go through
:func:`ledger.pay_in_bulk`: a PAYMENT credit and its allocation to the bill,
balances moved under the accounts' locks. Closed months get their month-end
record.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.readings.models import PeriodStatus, ReadingPeriod
from watermis.system.params import get_param

from . import billrun, ledger, monthend, pricing
from .models import (
    Account,
    Bill,
    MonthEnd,
)

ISSUE_DAY = 25


def _bill_months(today):
    periods = (
        ReadingPeriod.objects.filter(book__isnull=False, status=PeriodStatus.CLOSED)
        .select_related("book")
        .order_by("month", "book__code")
    )
    tariffs = pricing.TariffBook()
    due_days = datetime.timedelta(days=get_param("billing.due_days"))
    bills = 0
    for period in periods:
        issued_on = min(period.month.replace(day=ISSUE_DAY), today)
        priced = billrun.bill_period(
            None, period, issued_on=issued_on, due_on=issued_on + due_days, tariffs=tariffs
        )
        bills += len(priced.drafts)
    return bills


def _payments(rng, today):
    last = Bill.objects.order_by("-month").values_list("month", flat=True).first()
    rows = Bill.objects.filter(entry__isnull=False).values_list(
        "entry_id",
        "customer_id",
        "zone_id",
        "month",
        "amount",
        "due_on",
        "customer__payment_method",
    )
    paying = []
    for entry_id, customer_id, zone_id, month, amount, due_on, method in rows.iterator(5000):
        share = 0.60 if month == last else 0.96
        if rng.random() >= share:
            continue
        late = rng.random() < 0.08
        day = due_on + datetime.timedelta(days=rng.randint(1, 40)) if late else None
        day = day or due_on - datetime.timedelta(days=rng.randint(0, 25))
        day = min(day, today)
        channel = "bank" if method == "bank" else ""
        posted_at = timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(9 + rng.randint(0, 8), rng.randint(0, 59)))
        )
        paying.append((entry_id, customer_id, zone_id, amount, day, posted_at, month, channel))
    return len(ledger.pay_in_bulk(paying, _("Payment")))


def _month_ends():
    closed = defaultdict(list)
    rows = (
        ReadingPeriod.objects.values("zone_id", "month")
        .annotate(n=Count("pk"), open=Count("pk", filter=~Q(status=PeriodStatus.CLOSED)))
        .order_by("month")
    )
    for row in rows:
        if row["open"] == 0:
            closed[row["month"]].append(row["zone_id"])
    records = []
    for month, zones in sorted(closed.items()):
        for zone_id in zones:
            figures = monthend.month_figures(zone_id, month)
            at = timezone.make_aware(
                datetime.datetime.combine(monthend.next_month(month), datetime.time(18))
            )
            records.append(MonthEnd(zone_id=zone_id, month=month, closed_at=at, **figures))
    return records


def build(rng, closed_by, today=None):
    """Bill the demo reads, pay most bills, record closed months; returns counts."""
    today = today or timezone.localdate()
    bills = _bill_months(today)
    payments = _payments(rng, today)
    records = _month_ends()
    for record in records:
        record.closed_by = closed_by
    MonthEnd.objects.bulk_create(records)
    totals = Account.objects.aggregate(balance=Sum("balance"))
    return {
        "bills": bills,
        "payments": payments,
        "month_ends": len(records),
        "balance": totals["balance"] or Decimal(0),
    }
