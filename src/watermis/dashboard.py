"""The home page's dashboard: what a manager looks at first, for the operator's zones.

- **today's takings**: payments (by counter method or channel) and prepaid deposits
  posted today, less the reversals of such posted today (``payments.queries.takings_on``);
- **the billing months still open**, per zone: reads entered of those expected
  (``readings.queries``), what the month's bill runs billed (``billing.queries``);
- **arrears**: what the accounts in debt owe, per zone;
- **waiting**: held reads, entered reads not billed yet, write-offs and red bills to
  decide, failed bill-run books, bank batches waiting for the bank's answer.

A panel shows only to an operator allowed to see its data (the permission of the model
it reads; the zones are restricted as everywhere). A figure links to the page that
lists it only when the operator may open that page. Each figure is one grouped query of
the owning app's, so the page costs the same number of queries whatever the amount of
data (tests/test_home.py counts them).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from watermis.billing import queries as billing_queries
from watermis.billing.models import (
    Account,
    BillRun,
    BillRunBook,
    LedgerEntry,
    RedBillRequest,
    WriteOff,
)
from watermis.core.scoping import visible_zone_ids
from watermis.payments import bank_queries
from watermis.payments import queries as payment_queries
from watermis.payments.models import BankBatch
from watermis.readings import queries as reading_queries
from watermis.readings.models import PeriodStatus, ReadingPeriod

ZERO = Decimal("0.00")


def link(user, perm, name, *args, **params):
    """The address of page ``name`` (with the query ``params`` that are set) when ``user``
    holds ``perm``, else None: a figure links only to a page its reader may open."""
    if perm and not user.has_perm(perm):
        return None
    url = reverse(name, args=args or None)
    params = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


@dataclass
class Waiting:
    """Something that waits for staff: how many, and the page where they deal with it."""

    key: str
    label: str
    icon: str
    count: int
    href: str | None = None
    detail: str = ""


@dataclass
class ZoneRow:
    """One zone's line of the by-zone table."""

    zone: object
    payments: payment_queries.Takings = field(default_factory=payment_queries.Takings)
    deposits: payment_queries.Takings = field(default_factory=payment_queries.Takings)
    arrears_count: int = 0
    arrears: Decimal = ZERO
    arrears_href: str | None = None
    payments_href: str | None = None


@dataclass
class Dashboard:
    today: object
    zones: list = field(default_factory=list)  # the zones in scope (Zone objects)
    no_zones: bool = False
    takings: payment_queries.DayTakings | None = None  # None: not for this operator
    takings_links: dict = field(default_factory=dict)
    ways: list = field(default_factory=list)  # [(Way, href)]
    months: list | None = None  # rows of the open billing months; None: not for this operator
    show_runs: bool = False
    arrears: dict | None = None  # {"count", "amount", "href"}; None: not for this operator
    by_zone: list = field(default_factory=list)  # [ZoneRow]
    waiting: list = field(default_factory=list)  # [Waiting]

    @property
    def waiting_total(self):
        return sum(item.count for item in self.waiting)

    @property
    def empty(self):
        """Nothing at all this operator may see."""
        return (
            self.takings is None
            and self.months is None
            and self.arrears is None
            and not self.waiting
        )


def build(user, zones, today):
    """The dashboard of ``user`` on business day ``today``; ``zones``: the Zone objects
    the operator sees (the caller has them already)."""
    board = Dashboard(today=today, zones=list(zones))
    if visible_zone_ids(user) == set():
        board.no_zones = True
        return board
    one_zone = len(board.zones) == 1  # a list of one zone needs no zone filter
    names = {zone.pk: zone for zone in board.zones}
    by_zone = {}

    def zone_row(zone_id):
        if zone_id not in by_zone:
            by_zone[zone_id] = ZoneRow(zone=names.get(zone_id, zone_id))
        return by_zone[zone_id]

    def zone_param(zone_id):
        return None if one_zone else zone_id

    _takings(board, user, zone_row, zone_param)
    _months(board, user, names, zone_param)
    _arrears(board, user, zone_row, zone_param)
    _waiting(board, user)
    if board.takings is not None or board.arrears is not None:
        for zone in board.zones:  # every zone in service has its line, figures or not
            if zone.active:
                zone_row(zone.pk)
    order = {zone.pk: n for n, zone in enumerate(board.zones)}
    board.by_zone = sorted(by_zone.values(), key=lambda row: order.get(row.zone.pk, len(order)))
    return board


def _takings(board, user, zone_row, zone_param):
    if not user.has_perm("billing.view_ledgerentry"):
        return
    day = board.today.isoformat()
    takings = payment_queries.takings_on(LedgerEntry.objects.restrict(user), board.today)
    board.takings = takings
    entries = "billing:entry_list"
    board.takings_links = {
        "payments": link(
            user, "billing.view_ledgerentry", entries, kind="payment", date_from=day, date_to=day
        ),
        "reversals": link(
            user, "billing.view_ledgerentry", entries, kind="reversal", date_from=day, date_to=day
        ),
        "deposits": link(
            user, "payments.view_deposit", "payments:deposit_list", date_from=day, date_to=day
        )
        or link(
            user, "billing.view_ledgerentry", entries, kind="deposit", date_from=day, date_to=day
        ),
    }
    for way in takings.ways:
        if way.method is None:  # by its ledger channel (the counter's without its record)
            href = link(
                user,
                "billing.view_ledgerentry",
                entries,
                kind="payment",
                channel=way.channel,
                date_from=day,
                date_to=day,
            )
        else:
            href = link(
                user,
                "payments.view_counterpayment",
                "payments:payment_list",
                date_from=day,
                date_to=day,
                method=way.method,
            )
        board.ways.append((way, href))
    for zone_id, figures in takings.zones.items():
        row = zone_row(zone_id)
        row.payments, row.deposits = figures["payments"], figures["deposits"]
        row.payments_href = link(
            user,
            "billing.view_ledgerentry",
            entries,
            kind="payment",
            zone=zone_param(zone_id),
            date_from=day,
            date_to=day,
        )


def _months(board, user, names, zone_param):
    if not user.has_perm("readings.view_readingperiod"):
        return
    periods = ReadingPeriod.objects.restrict(user)
    opened = reading_queries.open_months(periods)
    board.months = []
    if not opened:
        return
    progress = reading_queries.progress_by_zone_month(
        periods.filter(status=PeriodStatus.OPEN, book__isnull=False)
    )
    board.show_runs = user.has_perm("billing.view_billrun")
    runs = {}
    if board.show_runs:
        real_runs = BillRun.objects.restrict(user).filter(
            dry_run=False, month__in={row["month"] for row in opened}
        )
        runs = billing_queries.runs_by_zone_month(BillRunBook.objects.filter(run__in=real_runs))
    order = {zone_id: n for n, zone_id in enumerate(names)}
    opened.sort(key=lambda row: (order.get(row["zone_id"], len(order)), row["month"]))
    for row in opened:
        zone_id, month = row["zone_id"], row["month"]
        reads = progress.get((zone_id, month), {})
        billed = runs.get((zone_id, month), {})
        month_param = f"{month:%Y-%m}"
        board.months.append(
            {
                "zone": names.get(zone_id, zone_id),
                "month": month,
                "books": row["books"],
                "total": reads.get("total", 0),
                "read": reads.get("read", 0),
                "percent": reads.get("percent", 0.0),
                "held": reads.get("held", 0),
                "unbilled": reads.get("unbilled", 0),
                "runs": billed.get("runs", 0),
                "books_billed": billed.get("billed", 0),
                "books_queued": billed.get("queued", 0),
                "books_failed": billed.get("failed", 0),
                "failed_run": billed.get("failed_run"),
                "bills": billed.get("bills", 0),
                "amount": billed.get("amount", ZERO),
                "progress_href": link(
                    user,
                    "readings.view_readingperiod",
                    "readings:progress",
                    month=month_param,
                    zone=zone_param(zone_id),
                ),
                "held_href": link(
                    user,
                    "readings.view_reading",
                    "readings:abnormal",
                    state="held",
                    zone=zone_param(zone_id),
                    month_from=month_param,
                    month_to=month_param,
                ),
                "bills_href": link(
                    user,
                    "billing.view_bill",
                    "billing:bill_list",
                    zone=zone_param(zone_id),
                    month_from=month_param,
                    month_to=month_param,
                ),
                "runs_href": link(user, "billing.view_billrun", "billing:run_list"),
            }
        )


def _arrears(board, user, zone_row, zone_param):
    if not user.has_perm("billing.view_account"):
        return
    owed = billing_queries.arrears_by_zone(Account.objects.restrict(user))
    board.arrears = {
        "count": sum(row["count"] for row in owed.values()),
        "amount": sum((row["amount"] for row in owed.values()), ZERO),
        "href": link(user, "billing.view_bill", "billing:bill_list", status="unpaid"),
    }
    for zone_id, figures in owed.items():
        row = zone_row(zone_id)
        row.arrears_count, row.arrears = figures["count"], figures["amount"]
        row.arrears_href = link(
            user,
            "billing.view_bill",
            "billing:bill_list",
            status="unpaid",
            zone=zone_param(zone_id),
        )


def _waiting(board, user):
    items = board.waiting
    if board.months is not None:
        items.append(
            Waiting(
                "held",
                _("Reads held for confirmation"),
                "bi-exclamation-triangle",
                sum(row["held"] for row in board.months),
                link(user, "readings.view_reading", "readings:abnormal", state="held"),
            )
        )
        if user.has_perm("billing.run_billing"):  # waiting for a bill run: its starters'
            items.append(
                Waiting(
                    "unbilled",
                    _("Entered reads not billed yet"),
                    "bi-hourglass-split",
                    sum(row["unbilled"] for row in board.months),
                    link(user, "billing.run_billing", "billing:run_start"),
                )
            )
        if board.show_runs:
            failed = [row for row in board.months if row["books_failed"]]
            href = link(user, "billing.view_billrun", "billing:run_list")
            if len(failed) == 1:
                href = link(
                    user, "billing.view_billrun", "billing:run_detail", failed[0]["failed_run"]
                )
            items.append(
                Waiting(
                    "failed_books",
                    _("Bill-run books that failed"),
                    "bi-x-octagon",
                    sum(row["books_failed"] for row in failed),
                    href,
                )
            )
    if user.has_perm("billing.view_writeoff"):
        items.append(
            Waiting(
                "writeoffs",
                _("Write-offs awaiting approval"),
                "bi-journal-x",
                billing_queries.waiting_requests(WriteOff.objects.restrict(user)),
                link(user, "billing.approve_writeoff", "billing:writeoff_approvals")
                or link(user, "billing.view_writeoff", "billing:writeoff_list", state="requested"),
            )
        )
    if user.has_perm("billing.view_bill"):  # red bill requests follow the bill permissions
        items.append(
            Waiting(
                "redbills",
                _("Red bills awaiting approval"),
                "bi-receipt",
                billing_queries.waiting_requests(
                    RedBillRequest.objects.in_zones(visible_zone_ids(user))
                ),
                link(user, "billing.view_bill", "billing:redbill_list", state="requested"),
            )
        )
    if user.has_perm("payments.view_bankbatch"):
        at_bank = bank_queries.batches_at_bank(BankBatch.objects.restrict(user))
        items.append(
            Waiting(
                "bank",
                _("Bank batches waiting for the bank's answer"),
                "bi-bank",
                at_bank["count"],
                link(user, "payments.view_bankbatch", "payments:batch_list"),
                _("%(lines)s bills at the bank") % {"lines": at_bank["lines"]}
                if at_bank["count"]
                else "",
            )
        )
