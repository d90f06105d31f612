import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import BillRun, MonthEnd

NUMBER = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


class BillRunTable(tables.Table):
    month = tables.DateColumn("Y-m", linkify=True)
    dry_run = tables.BooleanColumn()
    books_done = tables.Column(_("Books done"), empty_values=(), orderable=False, attrs=NUMBER)
    bills = tables.Column(_("Bills"), attrs=NUMBER)
    total = tables.Column(_("Amount"), attrs=NUMBER)
    started_at = tables.DateTimeColumn("Y-m-d H:i")
    finished_at = tables.DateTimeColumn("Y-m-d H:i")

    class Meta:
        model = BillRun
        fields = (
            "month",
            "zone",
            "dry_run",
            "issued_on",
            "due_on",
            "books_done",
            "bills",
            "total",
            "started_by",
            "started_at",
            "finished_at",
        )

    def render_books_done(self, record):
        return f"{record.done}/{record.book_total}"


class MonthEndTable(tables.Table):
    month = tables.DateColumn("Y-m")
    closed_at = tables.DateTimeColumn("Y-m-d H:i")

    class Meta:
        model = MonthEnd
        fields = (
            "month",
            "zone",
            "bills",
            "billed",
            "collected",
            "arrears",
            "credit",
            "deposits",
            "closed_by",
            "closed_at",
            "note",
        )
        attrs = {"td": {"class": "text-nowrap"}}
