"""Billing figures other pages read (the home page's dashboard): arrears per zone, what the
bill runs of some months billed, requests waiting for a decision.

Each function sums in SQL, in one query whatever the number of rows, from the queryset
the caller passes (restricted to the operator's permission and zones).
"""

from decimal import Decimal

from django.db.models import Count, Max, Q, Sum

from watermis.core.money import FEN

from .models import BookStatus, WriteOffState

ZERO = Decimal("0.00")


def _fen(value):
    return Decimal(value or 0).quantize(FEN)  # SQLite sums decimals as floats


def arrears_by_zone(accounts):
    """Accounts in arrears (bill-account balance below zero) per zone:
    {zone id: {"count": accounts, "amount": owed, positive}}."""
    rows = (
        accounts.filter(balance__lt=0)
        .order_by()
        .values("zone_id")
        .annotate(n=Count("pk"), owed=Sum("balance"))
    )
    return {row["zone_id"]: {"count": row["n"], "amount": -_fen(row["owed"])} for row in rows}


def runs_by_zone_month(run_books):
    """What the bill runs of ``run_books`` (the books of real runs) did, per zone and month:
    {(zone id, month): {runs, billed (books done), queued, failed, bills, amount,
    failed_run (the newest run with a failed book, or None)}}."""
    rows = (
        run_books.order_by()
        .values("run__zone_id", "run__month")
        .annotate(
            runs=Count("run_id", distinct=True),
            billed=Count("book_id", distinct=True, filter=Q(status=BookStatus.DONE)),
            queued=Count("id", filter=Q(status=BookStatus.QUEUED)),
            failed=Count("id", filter=Q(status=BookStatus.FAILED)),
            bills=Sum("bill_count"),
            total=Sum("amount"),
            failed_run=Max("run_id", filter=Q(status=BookStatus.FAILED)),
        )
    )
    return {
        (row["run__zone_id"], row["run__month"]): {
            "runs": row["runs"],
            "billed": row["billed"],
            "queued": row["queued"],
            "failed": row["failed"],
            "bills": row["bills"] or 0,
            "amount": _fen(row["total"]),
            "failed_run": row["failed_run"],
        }
        for row in rows
    }


def waiting_requests(requests):
    """How many of ``requests`` (write-offs or red bill requests) await a decision."""
    return requests.filter(state=WriteOffState.REQUESTED).count()
