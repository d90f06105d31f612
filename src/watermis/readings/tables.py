import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import queries
from .models import ReadingPeriod

NUMBER = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


class ReadingPeriodTable(tables.Table):
    """Periods with their progress; the figures come in one query for the rows shown."""

    month = tables.DateColumn("Y-m", linkify=True)
    book = tables.Column(
        linkify=lambda record: record.get_absolute_url(),
        default=_("Master meters"),
        attrs={"a": {"class": "wm-period-book"}},
    )
    book__reader = tables.Column(_("Meter reader"))
    read = tables.Column(_("Read"), empty_values=(), orderable=False, attrs=NUMBER)
    total = tables.Column(_("Meters"), empty_values=(), orderable=False, attrs=NUMBER)
    held = tables.Column(_("Held"), empty_values=(), orderable=False, attrs=NUMBER)
    abnormal = tables.Column(_("Abnormal"), empty_values=(), orderable=False, attrs=NUMBER)
    percent = tables.Column(
        _("Done"),
        empty_values=(),
        orderable=False,
        attrs={"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}},
    )

    class Meta:
        model = ReadingPeriod
        fields = (
            "month",
            "zone",
            "book",
            "book__reader",
            "planned_on",
            "status",
            "read",
            "total",
            "held",
            "abnormal",
            "percent",
            "opened_at",
            "closed_at",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._progress = None

    def progress(self, record):
        if self._progress is None:
            page = getattr(self, "page", None)
            rows = page.object_list if page is not None else self.data
            ids = [getattr(row, "record", row).pk for row in rows]
            self._progress = queries.progress_by_period(ids)
        return self._progress.get(record.pk, {})

    def render_read(self, record):
        return self.progress(record).get("read", 0)

    def render_total(self, record):
        return self.progress(record).get("total", 0)

    def render_held(self, record):
        return self.progress(record).get("held", 0)

    def render_abnormal(self, record):
        return self.progress(record).get("abnormal", 0)

    def render_percent(self, record):
        return format_html("{} %", self.progress(record).get("percent", 0))

    def value_percent(self, record):
        return self.progress(record).get("percent", 0)
