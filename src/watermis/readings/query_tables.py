import django_tables2 as tables
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import MonitoredMeter, Reading


def label(model, name):
    return capfirst(model._meta.get_field(name).verbose_name)


NUMBER = {"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}}
NOWRAP = {"td": {"class": "text-nowrap"}}
# CJJ 92-2016 (revised 2019): grade 2 loss rate. Above it a master meter's row is marked.
LOSS_RATE_LIMIT = 12


def url_or_none(name, *args):
    """The URL of a page another part of the app may not have yet (then no link)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def link(href, text):
    return format_html('<a href="{}">{}</a>', href, text) if href else text


def month_text(value):
    return f"{value:%Y-%m}" if value else ""


class MonthColumn(tables.Column):
    def render(self, value):
        return month_text(value)

    def value(self, value):
        return month_text(value)


class ReadingTable(tables.Table):
    month = MonthColumn(_("Month"), accessor="period__month", attrs=NOWRAP)
    account = tables.Column(_("Account"), accessor="customer__account_no", attrs=NOWRAP)
    name = tables.Column(
        _("Account name"), accessor="customer__name", attrs={"td": {"style": "min-width: 4rem"}}
    )
    meter = tables.Column(_("Meter"), accessor="meter__number", attrs=NOWRAP)
    sequence = tables.Column(attrs=NUMBER, visible=False)
    previous = tables.Column(attrs=NUMBER)
    current = tables.Column(attrs=NUMBER)
    volume = tables.Column(attrs=NUMBER)
    average = tables.Column(attrs=NUMBER, visible=False)
    estimated = tables.BooleanColumn(visible=False)
    read_on = tables.DateColumn(format="Y-m-d", attrs=NOWRAP)
    book = tables.Column(_("Book"), accessor="book__code", attrs=NOWRAP)
    reason = tables.Column(attrs={"td": {"style": "min-width: 9rem"}})
    reader = tables.Column(label(Reading, "reader"), accessor="reader__name", visible=False)
    entered_by = tables.Column(
        label(Reading, "entered_by"), accessor="entered_by__name", attrs=NOWRAP, visible=False
    )
    source = tables.Column(visible=False)

    class Meta:
        model = Reading
        fields = (
            "month",
            "account",
            "name",
            "meter",
            "sequence",
            "previous",
            "current",
            "volume",
            "average",
            "read_on",
            "status_code",
            "estimated",
            "anomaly",
            "state",
            "source",
            "reason",
            "book",
            "reader",
            "entered_by",
        )
        sequence = fields
        order_by = ("-month", "book", "account")

    def render_account(self, record, value):
        return link(record.customer.get_absolute_url() if record.customer_id else None, value)

    def render_meter(self, record, value):
        return link(url_or_none("readings:reading_detail", record.pk), value)

    def render_current(self, record, value):
        if record.estimated:
            return format_html(
                '{} <span class="badge text-bg-info">{}</span>', value, _("Estimated")
            )
        return value

    def value_current(self, value):
        return value

    def render_anomaly(self, record, value):
        return format_html('<span class="badge text-bg-warning">{}</span>', value)

    def value_account(self, value):
        return value

    def value_meter(self, value):
        return value

    def value_anomaly(self, value):
        return value

    def value_state(self, value):
        return value

    def render_state(self, record, value):
        css = "text-bg-danger" if record.state == "held" else "text-bg-light border"
        return format_html('<span class="badge {}">{}</span>', css, value)


class AbnormalReadingTable(ReadingTable):
    average = tables.Column(attrs=NUMBER)
    deviation = tables.Column(_("Deviation %"), attrs=NUMBER)
    entered_by = tables.Column(
        label(Reading, "entered_by"), accessor="entered_by__name", attrs=NOWRAP
    )
    book = tables.Column(_("Book"), accessor="book__code", visible=False)
    read_on = tables.DateColumn(format="Y-m-d", visible=False)

    class Meta(ReadingTable.Meta):
        fields = (
            "month",
            "account",
            "name",
            "meter",
            "previous",
            "current",
            "volume",
            "average",
            "deviation",
            "anomaly",
            "state",
            "reason",
            "entered_by",
            "book",
            "reader",
            "estimated",
            "source",
            "read_on",
        )
        sequence = fields
        exclude = ("sequence", "status_code")

    def render_deviation(self, value):
        return f"{value:+.1f}"

    def value_deviation(self, value):
        return round(value, 1) if value is not None else None


class MonitoredMeterTable(tables.Table):
    meter = tables.Column(accessor="meter__number", attrs=NOWRAP)
    account = tables.Column(_("Account"), accessor="meter__customer__account_no", attrs=NOWRAP)
    name = tables.Column(_("Account name"), accessor="meter__customer__name")
    since = tables.DateColumn(format="Y-m-d", attrs=NOWRAP)
    until = tables.DateColumn(format="Y-m-d", attrs=NOWRAP)
    added_by = tables.Column(label(MonitoredMeter, "added_by"), accessor="added_by__name")
    actions = tables.Column("", empty_values=(), orderable=False, exclude_from_export=True)

    class Meta:
        model = MonitoredMeter
        fields = ("meter", "account", "name", "zone", "since", "until", "reason", "added_by")
        sequence = (*fields, "actions")

    def render_meter(self, record, value):
        return link(reverse("readings:monitored_history", args=[record.pk]), value)

    def render_account(self, record, value):
        return link(record.meter.customer.get_absolute_url(), value)

    def value_meter(self, value):
        return value

    def value_account(self, value):
        return value

    def render_actions(self, record):
        history = format_html(
            '<a class="btn btn-sm btn-outline-primary py-0" href="{}">{}</a>',
            reverse("readings:monitored_history", args=[record.pk]),
            _("Reads"),
        )
        user = getattr(self.request, "user", None)
        if record.until is None and user and user.has_perm("readings.change_monitoredmeter"):
            stop = format_html(
                ' <a class="btn btn-sm btn-outline-danger py-0" href="{}">{}</a>',
                reverse("readings:monitored_stop", args=[record.pk]),
                _("Stop watching"),
            )
            return history + stop
        return history


class LossRateTable(tables.Table):
    """Rows of :func:`watermis.readings.queries.loss_rates` (dicts)."""

    master = tables.Column(_("Master meter"), accessor="master__number", attrs=NOWRAP)
    kind = tables.Column(_("Kind"), accessor="kind_label", attrs=NOWRAP)
    zone = tables.Column(_("Zone"), accessor="zone_name", attrs=NOWRAP)
    location = tables.Column(_("Location"), accessor="master__location")
    master_volume = tables.Column(_("Supplied (m³)"), attrs=NUMBER)
    customer_volume = tables.Column(_("Volume behind (m³)"), attrs=NUMBER)
    customer_meters = tables.Column(_("Meters behind read"), attrs=NUMBER)
    loss = tables.Column(_("Loss (m³)"), attrs=NUMBER)
    rate = tables.Column(_("Loss rate %"), attrs=NUMBER)
    history = tables.Column("", empty_values=(), orderable=False, exclude_from_export=True)

    class Meta:
        order_by = ("master",)
        row_attrs = {"class": lambda record: loss_css(record["rate"])}

    def render_master(self, record, value):
        return link(reverse("readings:loss_history", args=[record["master"].pk]), value)

    def render_rate(self, value):
        return format_html("<strong>{}</strong>", value)

    def value_master(self, value):
        return value

    def value_rate(self, value):
        return value

    def render_history(self, record):
        return format_html(
            '<a class="btn btn-sm btn-outline-primary py-0" href="{}">{}</a>',
            reverse("readings:loss_history", args=[record["master"].pk]),
            _("24 months"),
        )


def loss_css(rate):
    if rate is None:
        return ""
    if rate < 0:
        return "table-warning wm-loss-negative"
    if rate > LOSS_RATE_LIMIT:
        return "table-danger wm-loss-high"
    return ""


class ProgressTable(tables.Table):
    """Progress per book (F2.3): dicts of :func:`watermis.readings.queries.progress_by_period`."""

    book = tables.Column(_("Book"), accessor="book_code", attrs=NOWRAP)
    book_name = tables.Column(_("Book name"))
    zone = tables.Column(_("Zone"), attrs=NOWRAP)
    reader = tables.Column(_("Meter reader"), attrs=NOWRAP)
    planned_on = tables.DateColumn(
        format="Y-m-d", verbose_name=_("Planned reading date"), attrs=NOWRAP
    )
    status = tables.Column(_("Period"), attrs=NOWRAP)
    total = tables.Column(_("Meters"), attrs=NUMBER)
    read = tables.Column(_("Read"), attrs=NUMBER)
    pending = tables.Column(_("Not read"), attrs=NUMBER)
    held = tables.Column(_("Held"), attrs=NUMBER)
    abnormal = tables.Column(_("Abnormal"), attrs=NUMBER)
    estimated = tables.Column(_("Estimated"), attrs=NUMBER)
    volume = tables.Column(_("Volume (m³)"), attrs=NUMBER)
    percent = tables.Column(_("Done %"), attrs=NUMBER)

    class Meta:
        order_by = ("book",)

    def render_book(self, record, value):
        return link(record.get("href"), value)

    def value_book(self, value):
        return value

    def render_percent(self, value):
        return progress_bar(value)

    def value_percent(self, value):
        return value


class ReaderProgressTable(tables.Table):
    reader = tables.Column(_("Meter reader"), accessor="reader_label", attrs=NOWRAP)
    total = tables.Column(_("Meters"), attrs=NUMBER)
    read = tables.Column(_("Read"), attrs=NUMBER)
    pending = tables.Column(_("Not read"), attrs=NUMBER)
    held = tables.Column(_("Held"), attrs=NUMBER)
    abnormal = tables.Column(_("Abnormal"), attrs=NUMBER)
    estimated = tables.Column(_("Estimated"), attrs=NUMBER)
    volume = tables.Column(_("Volume (m³)"), attrs=NUMBER)
    percent = tables.Column(_("Done %"), attrs=NUMBER)

    class Meta:
        order_by = ("reader",)

    def render_percent(self, value):
        return progress_bar(value)

    def value_percent(self, value):
        return value


def progress_bar(percent):
    return format_html(
        '<div class="d-flex align-items-center gap-2 justify-content-end">'
        '<div class="progress flex-grow-1" style="height: .5rem; min-width: 4rem" role="progressbar"'
        ' aria-valuenow="{}" aria-valuemin="0" aria-valuemax="100">'
        '<div class="progress-bar{}" style="width: {}%"></div></div><span>{}</span></div>',
        percent,
        " bg-success" if percent >= 100 else "",
        percent,
        percent,
    )
