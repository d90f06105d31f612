"""Bill runs (issue 6 item 2): a zone's billing month, book by book, in background tasks.

- :func:`start_run` makes the run and one :class:`BillRunBook` per open reading
  period of the zone's month, and enqueues a task per book (Django's tasks
  framework, the database backend: ``manage.py db_worker``, as many as wanted).
- :func:`bill_book` bills one book in ONE transaction: the first statement
  marks the book's entered, unbilled reads as billed (which locks them, so a
  correction waits, and a second worker on the same book finds nothing left),
  then prices them (:mod:`pricing`) and writes bills, lines, ledger entries and
  balances with set-based writes (:mod:`watermis.core.bulk`). A killed worker
  leaves the book untouched; resuming enqueues it again.
- Idempotent: a read is billed once (the ``billed`` flag and a unique
  constraint on (read, customer, part)); running a month again bills only the
  reads entered since.
- A dry run prices the same reads and stores only the totals (by book and
  price item, and the reads left out, with why).
"""

from __future__ import annotations

import datetime
import traceback
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.core import bulk, journal
from watermis.core.models import AuditAction
from watermis.core.scoping import ensure_zone_in_scope
from watermis.readings import services as reading_services
from watermis.readings.models import PeriodStatus, ReadingPeriod
from watermis.system.params import get_param

from . import hooks, ledger, pricing
from .models import (
    Account,
    Bill,
    BillKind,
    BillLine,
    BillRun,
    BillRunBook,
    BillState,
    BookStatus,
    Direction,
    EntryKind,
    LedgerEntry,
    RunStatus,
)

ZERO = Decimal("0.00")


def _require(actor, perm):
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(_("You are not allowed to do this."))


def run_status(run):
    """running while a book is queued; failed when one failed; else done."""
    states = set(run.books.values_list("status", flat=True))
    if BookStatus.QUEUED in states:
        return RunStatus.RUNNING
    if BookStatus.FAILED in states:
        return RunStatus.FAILED
    return RunStatus.DONE


def running_runs(zone, month):
    """Real (not preview) runs of the zone's month with a book still queued."""
    return BillRun.objects.filter(
        zone=zone, month=month, dry_run=False, books__status=BookStatus.QUEUED
    ).distinct()


@transaction.atomic
def start_run(actor, zone, month, *, dry_run=False, issued_on=None, books=None):
    """Start a bill run (or a preview) of the zone's month; returns the run.

    Refused while a real run of the same month is running, when the month
    has no open reading period, or when the month is closed.
    """
    _require(actor, "billing.run_billing")
    ensure_zone_in_scope(actor, zone.pk)
    issued_on = issued_on or timezone.localdate()
    periods = ReadingPeriod.objects.filter(zone=zone, month=month, book__isnull=False)
    if books is not None:
        periods = periods.filter(book__in=books)
    if not periods.exists():
        raise ValidationError(
            {
                "month": _("%(zone)s has no reading period in %(month)s.")
                % {"zone": zone, "month": f"{month:%Y-%m}"}
            }
        )
    periods = periods.filter(status=PeriodStatus.OPEN)
    if not periods.exists():
        raise ValidationError({"month": _("This billing month is closed.")})
    if not dry_run:
        busy = running_runs(zone, month).select_related("started_by").first()
        if busy is not None:
            raise ValidationError(
                _("A bill run of this month is running (started %(at)s by %(who)s).")
                % {
                    "at": timezone.localtime(busy.started_at).strftime("%Y-%m-%d %H:%M"),
                    "who": busy.started_by or _("the system"),
                }
            )
    due_on = issued_on + datetime.timedelta(days=get_param("billing.due_days"))
    run = BillRun.objects.create(
        zone=zone,
        month=month,
        dry_run=dry_run,
        issued_on=issued_on,
        due_on=due_on,
        started_by=journal.saved_operator(actor),
    )
    run_books = BillRunBook.objects.bulk_create(
        [BillRunBook(run=run, period=p, book_id=p.book_id) for p in periods.order_by("book__code")]
    )
    journal.record(
        run,
        AuditAction.CREATE,
        None,
        {"zone": zone.pk, "month": str(month), "dry_run": dry_run, "books": len(run_books)},
        verb="preview_bills" if dry_run else "start_bill_run",
        actor=actor,
    )
    if not dry_run:
        hooks.run_started(run)
    enqueue_books([b.pk for b in run_books])
    return run


def enqueue_books(run_book_ids):
    from .tasks import bill_book_task

    for pk in run_book_ids:
        bill_book_task.enqueue(pk)


@transaction.atomic
def resume_run(actor, run):
    """Queue again the books of a run that are not done (after a worker died or a book failed)."""
    _require(actor, "billing.run_billing")
    ensure_zone_in_scope(actor, run.zone_id)
    pending = list(run.books.exclude(status=BookStatus.DONE).values_list("pk", flat=True))
    if not pending:
        raise ValidationError(_("Every book of this run is done."))
    BillRunBook.objects.filter(pk__in=pending).update(status=BookStatus.QUEUED, error="")
    BillRun.objects.filter(pk=run.pk).update(finished_at=None)
    journal.record(
        run, AuditAction.UPDATE, None, {"books": len(pending)}, verb="resume_bill_run", actor=actor
    )
    enqueue_books(pending)
    return len(pending)


def bill_book(run_book_id):
    """The task body: bill (or preview) one book of a run. Safe to run twice or concurrently."""
    bulk.refresh_statistics(Bill)  # pricing looks up each customer's last bill
    with transaction.atomic():
        BillRunBook.objects.filter(pk=run_book_id, status=BookStatus.QUEUED).update(
            started_at=timezone.now(), attempts=F("attempts") + 1
        )
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # A book's commit need not wait for its WAL to reach the disk: after a
                # crash a lost commit is lost whole (the book shows queued and resuming
                # bills it again); nothing is ever half-written.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            _bill_book(run_book_id)
    except Exception:
        with transaction.atomic():
            BillRunBook.objects.filter(pk=run_book_id).exclude(status=BookStatus.DONE).update(
                status=BookStatus.FAILED,
                error=traceback.format_exc(limit=8)[-4000:],
                finished_at=timezone.now(),
            )
            _finish_run(BillRunBook.objects.get(pk=run_book_id).run_id)
        raise


def _bill_book(run_book_id):
    # The first write takes the book's row lock (PostgreSQL) / the write lock (SQLite):
    # a second worker on the same book waits here, then finds it done.
    claimed = BillRunBook.objects.filter(pk=run_book_id, status=BookStatus.QUEUED).update(
        status=BookStatus.QUEUED
    )
    if not claimed:
        return
    run_book = BillRunBook.objects.select_related("run", "period", "run__started_by").get(
        pk=run_book_id
    )
    run, period = run_book.run, run_book.period
    tariffs = _tariffs_of_run(run_book)
    if period.status != PeriodStatus.OPEN:
        raise ValidationError(_("The reading period %(period)s is closed.") % {"period": period})
    if run.dry_run:
        priced = pricing.price_period(period, tariffs)
    else:
        priced = bill_period(
            run.started_by,
            period,
            issued_on=run.issued_on,
            due_on=run.due_on,
            run_book=run_book,
            tariffs=tariffs,
        )
    totals = pricing.totals(priced, tariffs)
    BillRunBook.objects.filter(pk=run_book_id).update(
        status=BookStatus.DONE,
        finished_at=timezone.now(),
        bill_count=totals["bills"],
        amount=Decimal(totals["amount"]),
        volume=Decimal(totals["volume"]),
        totals=totals,
        error="",
    )
    _finish_run(run.pk)


_run_tariffs = {}


def _tariffs_of_run(run_book):
    """The tariff book a worker keeps for the run it is billing, so that its books load the
    tariffs once, not once a book. A version in force never changes (tariffs.services);
    a tariff first met later, or still without a version, is loaded when met. A book
    tried again (a resumed run: tariffs may have been mended meanwhile) starts afresh."""
    key = (run_book.run_id, run_book.run.started_at)  # ids alone repeat after a rollback
    if run_book.attempts > 1 or key not in _run_tariffs:
        _run_tariffs.clear()
        _run_tariffs[key] = pricing.TariffBook()
    return _run_tariffs[key]


def bill_period(actor, period, *, issued_on, due_on, run_book=None, reading_ids=None, tariffs=None):
    """Bill the period's billable reads (or only ``reading_ids``) inside the caller's
    transaction: claim them, price them, give back those left out, write the bills.
    Returns the :class:`pricing.Priced` result (drafts written, reads left out)."""
    tariffs = tariffs or pricing.TariffBook()
    claimed = reading_services.claim_for_billing(period, reading_ids)
    priced = pricing.price_period(period, tariffs, reading_ids=claimed, include_billed=True)
    billed = {i for d in priced.drafts for i in d.reading_ids}
    release = [i for i in claimed if i not in billed]
    reading_services.release_from_billing(release)
    write_bills(
        actor, priced.drafts, issued_on=issued_on, due_on=due_on, run_book=run_book, tariffs=tariffs
    )
    if run_book is not None and priced.drafts:
        hooks.bills_written(actor, sorted({d.customer_id for d in priced.drafts}), run_book)
    return priced


def _finish_run(run_id):
    if BillRunBook.objects.filter(run_id=run_id, status=BookStatus.QUEUED).exists():
        return
    if BillRun.objects.filter(pk=run_id, finished_at=None).update(finished_at=timezone.now()):
        hooks.run_finished(run_id)


# ------------------------------------------------------------------ writing


BILL_COLUMNS = (
    "id",
    "kind",
    "customer_id",
    "zone_id",
    "book_id",
    "meter_id",
    "reading_id",
    "part",
    "month",
    "period_start",
    "period_end",
    "previous",
    "current",
    "read_volume",
    "volume",
    "tariff_id",
    "household_size",
    "cycle_start",
    "cycle_to_date",
    "amount",
    "issued_on",
    "due_on",
    "entry_id",
    "run_book_id",
    "state",
    "corrects_id",
    "inspection",
    "late_fee_exempt",
    "reason",
    "approved_by_id",
    "cancel_entry_id",
)
LINE_COLUMNS = (
    "id",
    "bill_id",
    "item_id",
    "kind",
    "tier",
    "volume",
    "unit_price",
    "amount",
    "price_from",
)


def write_bills(actor, drafts, *, issued_on, due_on, run_book=None, tariffs=None):
    """Write bills, lines and ledger entries for ``drafts`` and move the balances.

    Runs inside the caller's transaction. Accounts are locked in primary-key
    order first (as every posting does), so a cashier paying one of these
    customers waits for the book, never the other way round mid-book.
    """
    if not drafts:
        return []
    tariffs = tariffs or pricing.TariffBook()
    customer_ids = sorted({d.customer_id for d in drafts})
    balances = ledger.lock_balances(customer_ids, {d.customer_id: d.zone_id for d in drafts})
    posting = [d for d in drafts if d.amount > 0]
    entry_ids = iter(bulk.reserve_ids(LedgerEntry, len(posting)))
    bill_ids = bulk.reserve_ids(Bill, len(drafts))
    line_ids = iter(bulk.reserve_ids(BillLine, sum(len(d.lines) for d in drafts)))
    now = timezone.now()
    operator = journal.saved_operator(actor)
    operator_id = operator.pk if operator else None
    unit_id = getattr(actor, "unit_id", None) if operator else None
    reason = _("Water bill %(month)s") % {"month": f"{drafts[0].month:%Y-%m}"}
    entries, bills, lines = [], [], []
    delta = {}
    run_book_id = run_book.pk if run_book else None
    for bill_id, draft in zip(bill_ids, drafts, strict=True):
        entry_id = None
        if draft.amount > 0:
            entry_id = next(entry_ids)
            entries.append(
                (
                    entry_id,
                    draft.customer_id,
                    draft.zone_id,
                    EntryKind.BILL.value,
                    Direction.DEBIT.value,
                    draft.amount,
                    now,
                    issued_on,
                    draft.month,
                    operator_id,
                    unit_id,
                    reason,
                    None,
                    "",
                    "",
                )
            )
            delta[draft.customer_id] = delta.get(draft.customer_id, ZERO) - draft.amount
        bills.append(
            (
                bill_id,
                BillKind.REGULAR.value,
                draft.customer_id,
                draft.zone_id,
                draft.book_id,
                draft.meter_id,
                draft.reading_id,
                draft.part,
                draft.month,
                draft.period_start,
                draft.period_end,
                draft.previous,
                draft.current,
                draft.read_volume,
                draft.volume,
                draft.tariff_id,
                draft.household_size,
                draft.cycle_start,
                draft.cycle_to_date,
                draft.amount,
                issued_on,
                due_on,
                entry_id,
                run_book_id,
                BillState.ISSUED.value,
                None,
                False,
                False,
                "",
                None,
                None,
            )
        )
        for line in draft.lines:
            lines.append(
                (
                    next(line_ids),
                    bill_id,
                    tariffs.item_id(line.item_code),
                    line.kind,
                    line.tier,
                    line.volume,
                    line.unit_price,
                    line.amount,
                    line.effective_from,
                )
            )
    bulk.write_rows(LedgerEntry._meta.db_table, ledger.ENTRY_COLUMNS, entries)
    bulk.write_rows(Bill._meta.db_table, BILL_COLUMNS, bills)
    bulk.write_rows(BillLine._meta.db_table, LINE_COLUMNS, lines)
    bulk.update_column(
        Account,
        "balance",
        [(c, balances[c] + d) for c, d in delta.items()],
        key="customer_id",
    )
    # Customers with prepaid credit: their new bills are paid from it at once, as any
    # posted debit is (ledger.post_entry); the rest have no open credit to apply.
    prepaid = [c for c in delta if balances[c] > 0]
    if prepaid:
        mine = bulk.filter_ids(LedgerEntry.objects.all(), "id", [e[0] for e in entries])
        ledger.apply_open_credit(bulk.filter_ids(mine, "customer_id", prepaid))
    return bill_ids


# ------------------------------------------------------------------ queries


def run_summary(run):
    """Totals of a run: books by status, bills, volume, amount, and by price item."""
    books = list(run.books.select_related("book").order_by("book__code"))
    items = {}
    skipped = {}
    waiting = 0
    for book in books:
        for code, (name, volume, amount) in (book.totals.get("items") or {}).items():
            entry = items.setdefault(code, [name, ZERO, ZERO])
            entry[1] += Decimal(volume)
            entry[2] += Decimal(amount)
        for reason, count in (book.totals.get("skipped") or {}).items():
            skipped[reason] = skipped.get(reason, 0) + count
        waiting += book.totals.get("waiting", 0)
    counts = run.books.aggregate(
        done=Count("pk", filter=Q(status=BookStatus.DONE)),
        failed=Count("pk", filter=Q(status=BookStatus.FAILED)),
        total=Count("pk"),
        bills=Sum("bill_count"),
        amount=Sum("amount"),
        volume=Sum("volume"),
    )
    return {
        "books": books,
        "counts": counts,
        "status": run_status(run),
        "items": sorted(items.items()),
        "skipped": sorted(skipped.items()),
        "waiting": waiting,
    }
