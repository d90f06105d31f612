"""Summary tables of the reports (M8, M9): exact sums of the ledger, kept up to date.

The ledger's entries and allocations are never edited nor deleted (DESIGN.md
"Money and the ledger"), so their sums can be kept as *facts*: each fact row is
the sum of the entries (or allocations, or bill lines) that share its
dimensions. :mod:`watermis.reports.facts` adds every new ledger row to its fact
exactly once, and reports read facts instead of 24 million bills.

Dimensions are plain ids, not foreign keys: the fact keeps the book, reader,
category... the row had when it was summed, whatever changes later. A missing
dimension is 0, a missing billing month ``NO_MONTH``, so that each fact's
dimensions are one unique key.
"""

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

NO_MONTH = datetime.date(1900, 1, 1)  # "no billing month" in a key (NULLs are never equal)


class Dimensions(models.Model):
    """Where a fact's rows belong: business month, billing month, place, people, category."""

    month = models.DateField(_("business month"))
    period = models.DateField(_("billing month"), default=NO_MONTH)
    zone_id = models.IntegerField(_("zone"))
    area_id = models.IntegerField(_("reading area"), default=0)
    book_id = models.IntegerField(_("reading book"), default=0)
    reader_id = models.IntegerField(_("meter reader"), default=0)
    collector_id = models.IntegerField(_("collector"), default=0)
    category_id = models.IntegerField(_("water-use category"), default=0)
    tariff_id = models.IntegerField(_("tariff"), default=0)

    KEY = (
        "month",
        "period",
        "zone_id",
        "area_id",
        "book_id",
        "reader_id",
        "collector_id",
        "category_id",
        "tariff_id",
    )

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.month:%Y-%m} {self.period:%Y-%m} zone {self.zone_id} book {self.book_id}"


class EntryFact(Dimensions):
    """Ledger entries summed by dimensions, kind and channel.

    ``kind`` is the entry's kind, or for a reversal the kind it reverses with
    ``reversal`` set (its amount then counts against that kind). ``amount`` is
    always the entries' own amount (positive); ``bills`` and ``volume`` count the
    bills behind bill and red-bill entries (a cancellation: −1 bill).
    """

    kind = models.CharField(_("kind"), max_length=14)
    reversal = models.BooleanField(_("reversal"), default=False)
    channel = models.CharField(_("channel"), max_length=20, default="")
    entries = models.IntegerField(_("entries"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=0)
    bills = models.IntegerField(_("bills"), default=0)
    volume = models.DecimalField(_("billed volume"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("ledger fact")
        verbose_name_plural = _("ledger facts")
        constraints = [
            models.UniqueConstraint(
                fields=[*Dimensions.KEY, "kind", "reversal", "channel"], name="reports_entry_key"
            )
        ]
        indexes = [models.Index(fields=["period", "zone_id"], name="reports_entry_period_idx")]
        permissions = [("view_reports", _("View statistical reports and analysis charts"))]


class LineFact(Dimensions):
    """Bill lines summed by dimensions and price item (F8.2, F8.4): the lines of bills and
    red bills (``reversal``: of cancelled bills, counting against them)."""

    item_id = models.IntegerField(_("price item"))
    line_kind = models.CharField(_("line kind"), max_length=5)
    reversal = models.BooleanField(_("reversal"), default=False)
    volume = models.DecimalField(_("volume"), max_digits=16, decimal_places=2, default=0)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("bill line fact")
        verbose_name_plural = _("bill line facts")
        constraints = [
            models.UniqueConstraint(
                fields=[*Dimensions.KEY, "item_id", "line_kind", "reversal"],
                name="reports_line_key",
            )
        ]
        indexes = [models.Index(fields=["period", "zone_id"], name="reports_line_period_idx")]


class SettlementFact(Dimensions):
    """Allocations summed by dimensions: how much of the debits of billing month ``period``
    each kind of credit settled in business month ``month`` (negative: undone).

    The dimensions are the debit's (its bill's tariff); ``month`` is the business month of
    the entry whose posting made the allocation.
    """

    debit_kind = models.CharField(_("debit kind"), max_length=14)
    credit_kind = models.CharField(_("credit kind"), max_length=14)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("settlement fact")
        verbose_name_plural = _("settlement facts")
        constraints = [
            models.UniqueConstraint(
                fields=[*Dimensions.KEY, "debit_kind", "credit_kind"],
                name="reports_settlement_key",
            )
        ]
        indexes = [
            models.Index(fields=["period", "zone_id"], name="reports_settle_period_idx"),
            models.Index(fields=["month", "zone_id"], name="reports_settle_month_idx"),
        ]


class FactSource(models.Model):
    """How far the facts have read one ledger table (``entry`` or ``allocation``): every
    row up to ``last_id`` except the ids in ``gaps`` [[from, to, first seen], ...] —
    ids not visible when last read (a transaction still running, or rolled back)."""

    name = models.CharField(_("source"), max_length=20, primary_key=True)
    last_id = models.BigIntegerField(_("read up to id"), default=0)
    gaps = models.JSONField(_("ids not seen yet"), default=list)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fact source")
        verbose_name_plural = _("fact sources")

    def __str__(self):
        return f"{self.name} ≤ {self.last_id}"
