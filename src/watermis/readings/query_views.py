"""Meter-reading queries (M2, M6, M7): abnormal volumes (F6.8), the history of every read,
monitored meters and their reads (F2.5, F7.5), master-meter loss rates and their history
(F2.1, F6.1, F7.1), reading progress per book and per reader (F2.3).

Every page needs a named permission and reads through the restricted querysets;
starting and stopping a watch go through ``services``.
"""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, DecimalField, ExpressionWrapper, F, Q, When
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from watermis.core.charts import LINE, TABLE, Axis, Series, chart_spec, export_rows, month_text
from watermis.core.export import export_table, xlsx_response
from watermis.core.views import (
    ObjectListView,
    PermissionMixin,
    ScopedViewMixin,
    add_service_errors,
    page_table,
)
from watermis.customers.models import Meter, MeterKind

from . import queries, services
from .models import MonitoredMeter, Reading, ReadingPeriod, ReadingState
from .query_filtersets import (
    AbnormalReadingFilterSet,
    MonitoredMeterFilterSet,
    MonitoredReadingFilterSet,
    ReadingFilterSet,
)
from .query_forms import (
    LossRateForm,
    LossTrendForm,
    MasterHistoryForm,
    MonthRangeForm,
    MonthZoneForm,
    StartMonitoringForm,
    StopMonitoringForm,
)
from .query_tables import (
    LOSS_RATE_LIMIT,
    AbnormalReadingTable,
    LossRateTable,
    MonitoredMeterTable,
    ProgressTable,
    ReaderProgressTable,
    ReadingTable,
    loss_css,
    url_or_none,
)

HISTORY_MONTHS = 24


def configure(request, table, per_page=None):
    """Sort and page a table built from computed rows, as ObjectListView does."""
    return page_table(request, table, per_page)


def latest_month(user, masters=False):
    """The newest billing month the operator has a reading period of (else this month);
    for master meters, the newest month with a master meter read."""
    month = None
    if masters:
        month = (
            Reading.objects.restrict(user, "view")
            .filter(period__book__isnull=True, state__in=queries.READ_STATES)
            .order_by("-period__month")
            .values_list("period__month", flat=True)
            .first()
        )
    if month is None:
        periods = ReadingPeriod.objects.restrict(user, "view").filter(book__isnull=masters)
        month = periods.order_by("-month").values_list("month", flat=True).first()
    return month or timezone.localdate().replace(day=1)


def month_zone_form(request, masters=False):
    """The month/zone form bound to the query string, the month defaulting to the newest one."""
    data = request.GET.copy()
    if not data.get("month"):
        data["month"] = f"{latest_month(request.user, masters):%Y-%m}"
    form = MonthZoneForm(data, user=request.user)
    form.is_valid()
    return form


# --- reads ------------------------------------------------------------------------------------


def _reads(queryset):
    return queryset.select_related("period", "customer", "meter", "book", "reader", "entered_by")


class ReadingListView(ObjectListView):
    """Every read, any account, meter or month range (the reading history)."""

    model = Reading
    table_class = ReadingTable
    filterset_class = ReadingFilterSet
    title = gettext_lazy("Reading history")
    export_name = "readings"

    def get_queryset(self):
        return _reads(super().get_queryset())


class AbnormalReadingListView(ObjectListView):
    """Abnormal-volume query (F6.8): reads with a finding of the checks, or held."""

    model = Reading
    table_class = AbnormalReadingTable
    filterset_class = AbnormalReadingFilterSet
    title = gettext_lazy("Abnormal volumes")
    export_name = "abnormal-volumes"

    def get_queryset(self):
        decimal = DecimalField(max_digits=14, decimal_places=2)
        deviation = Case(
            When(
                average__gt=0,
                then=ExpressionWrapper(
                    (F("volume") - F("average")) * 100 / F("average"), output_field=decimal
                ),
            ),
            default=None,
            output_field=decimal,
        )
        return (
            _reads(super().get_queryset())
            .filter(~Q(anomaly="") | Q(state=ReadingState.HELD))
            .annotate(deviation=deviation)
        )


# --- monitored meters (F2.5, F7.5) ------------------------------------------------------------


class MonitoredMeterListView(ObjectListView):
    model = MonitoredMeter
    table_class = MonitoredMeterTable
    filterset_class = MonitoredMeterFilterSet
    title = gettext_lazy("Monitored meters")
    create_url = "readings:monitored_add"
    export_name = "monitored-meters"

    def get_queryset(self):
        return super().get_queryset().select_related("meter__customer", "zone", "added_by")


class MonitoredReadingListView(ReadingListView):
    """Monitored-reading history (F7.5) across meters: every read of the meters under watch
    (or watched before), with every read filter and the watch's state."""

    filterset_class = MonitoredReadingFilterSet
    title = gettext_lazy("Monitored reads")
    export_name = "monitored-reads"

    def get_queryset(self):
        watches = MonitoredMeter.objects.restrict(self.request.user, "view")
        return super().get_queryset().filter(meter_id__in=watches.values("meter_id"))


class MonitoredMeterAddView(PermissionMixin, TemplateView):
    """Start watching a meter: up to three reads a month from ``since``."""

    permission_required = "readings.add_monitoredmeter"
    template_name = "readings/query_form.html"

    def render(self, form):
        return self.render_to_response(
            self.get_context_data(
                form=form,
                title=_("Watch a meter"),
                submit_label=_("Start watching"),
                cancel_url=reverse("readings:monitored_list"),
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render(
            StartMonitoringForm(user=request.user, initial={"meter": request.GET.get("meter", "")})
        )

    def post(self, request, *args, **kwargs):
        form = StartMonitoringForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                watch = services.start_monitoring(
                    request.user, data["meter"], data["since"], data["reason"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Meter %(meter)s is now monitored.") % {"meter": watch.meter}
                )
                return redirect("readings:monitored_history", watch.pk)
        return self.render(form)


def watch_summary(watch):
    customer = watch.meter.customer
    return [
        (_("Meter number"), watch.meter.number),
        (_("Customer"), f"{customer.account_no} {customer.name}" if customer else "—"),
        (_("Watched from"), watch.since),
        (_("Watched until"), watch.until or "—"),
        (_("Reason"), watch.reason),
    ]


class MonitoredMeterStopView(ScopedViewMixin, TemplateView):
    """Stop watching a meter from a date (the watch is kept, with its end)."""

    model = MonitoredMeter
    action = "change"
    template_name = "readings/query_form.html"

    def get_object(self):
        return get_object_or_404(
            self.get_queryset().select_related("meter__customer"), pk=self.kwargs["pk"]
        )

    def render(self, watch, form):
        return self.render_to_response(
            self.get_context_data(
                form=form,
                object=watch,
                summary=watch_summary(watch),
                title=_("Stop watching %(meter)s") % {"meter": watch.meter.number},
                submit_label=_("Stop watching"),
                cancel_url=reverse("readings:monitored_history", args=[watch.pk]),
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render(self.get_object(), StopMonitoringForm())

    def post(self, request, *args, **kwargs):
        watch = self.get_object()
        form = StopMonitoringForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.stop_monitoring(request.user, watch, data["until"], data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Meter %(meter)s is no longer monitored.") % {"meter": watch.meter}
                )
                return redirect("readings:monitored_list")
        return self.render(watch, form)


class MonitoredHistoryView(ScopedViewMixin, TemplateView):
    """Monitored-reading history (F7.5): every read of the watched meter, totals per month."""

    model = MonitoredMeter
    template_name = "readings/query_monitored_history.html"

    def get(self, request, *args, **kwargs):
        watch = get_object_or_404(
            self.get_queryset().select_related("meter__customer", "added_by"),
            pk=self.kwargs["pk"],
        )
        form = MonthRangeForm(request.GET or None)
        reads = (
            Reading.objects.restrict(request.user, "view")
            .filter(meter=watch.meter)
            .select_related("period", "entered_by")
            .order_by("-period__month", "sequence")
        )
        if form.is_valid():
            if form.cleaned_data["month_from"]:
                reads = reads.filter(period__month__gte=form.cleaned_data["month_from"])
            if form.cleaned_data["month_to"]:
                reads = reads.filter(period__month__lte=form.cleaned_data["month_to"])
        months = []
        for read in reads:
            if not months or months[-1]["month"] != read.period.month:
                months.append({"month": read.period.month, "reads": [], "total": Decimal(0)})
            months[-1]["reads"].append(read)
            if read.state != ReadingState.PENDING and read.volume is not None:
                months[-1]["total"] += read.volume
        for month in months:
            month["watched"] = watch.since.replace(day=1) <= month["month"] and (
                watch.until is None or month["month"] <= watch.until
            )
        if request.GET.get("export") == "xlsx":
            return self.export(watch, months)
        return self.render_to_response(
            self.get_context_data(
                watch=watch,
                summary=watch_summary(watch),
                form=form,
                months=months,
                title=_("Monitored reads of %(meter)s") % {"meter": watch.meter.number},
                can_stop=watch.until is None
                and request.user.has_perm("readings.change_monitoredmeter"),
            )
        )

    def export(self, watch, months):
        header = [
            _("Month"),
            _("Read of the month"),
            _("Read on"),
            _("Previous reading"),
            _("Current reading"),
            _("Consumption"),
            _("State"),
            _("Estimated"),
            _("Anomaly"),
            _("Month total"),
        ]
        rows = []
        for month in months:
            for read in month["reads"]:
                rows.append(
                    [
                        f"{month['month']:%Y-%m}",
                        read.sequence,
                        read.read_on,
                        read.previous,
                        read.current,
                        read.volume,
                        read.get_state_display(),
                        _("Yes") if read.estimated else _("No"),
                        read.get_anomaly_display(),
                        month["total"],
                    ]
                )
        return xlsx_response(
            f"monitored-{watch.meter.number}",
            _("Monitored reads of %(meter)s") % {"meter": watch.meter.number},
            header,
            rows,
        )


# --- master meters: loss rates (F2.1, F6.1, F7.1) ----------------------------------------------


def master_meters(user):
    return Meter.objects.restrict(user, "view").filter(kind__in=services.MASTER_KINDS)


def in_band(row, band, limit=LOSS_RATE_LIMIT):
    """Whether a loss-rate row is in ``band`` (a :attr:`LossRateForm.BANDS` key, or "")."""
    rate = row["rate"]
    if band == "unread":
        return row["master_volume"] is None
    if band == "high":
        return rate is not None and rate > limit
    if band == "negative":
        return rate is not None and rate < 0
    if band == "normal":
        return rate is not None and 0 <= rate <= limit
    return True


class LossRateView(PermissionMixin, TemplateView):
    """Each master meter's loss rate for a month (F7.1), by zone, kind, rate band and meter
    number or location, all combined; above 12 % (CJJ 92 grade 2) marked."""

    permission_required = "readings.view_reading"
    template_name = "readings/query_loss_rates.html"

    def get(self, request, *args, **kwargs):
        data = request.GET.copy()
        if not data.get("month"):
            data["month"] = f"{latest_month(request.user, masters=True):%Y-%m}"
        form = LossRateForm(data, user=request.user)
        rows = []
        if form.is_valid():
            zone = form.cleaned_data["zone"]
            masters = master_meters(request.user).select_related("zone")
            if form.cleaned_data["kind"]:
                masters = masters.filter(kind=form.cleaned_data["kind"])
            text = form.cleaned_data["q"].strip()
            if text:
                masters = masters.filter(Q(number__istartswith=text) | Q(location__icontains=text))
            rows = queries.loss_rates(
                [zone.pk] if zone else None, form.cleaned_data["month"], masters=masters
            )
            rows = [row for row in rows if in_band(row, form.cleaned_data["band"])]
        for row in rows:
            row["kind_label"] = row["master"].get_kind_display()
            row["zone_name"] = row["master"].zone.name
        title = _("Loss rates of master meters")
        table = LossRateTable(rows, request=request)
        if request.GET.get("export") == "xlsx":
            return export_table(request, table, "loss-rates", title)
        configure(request, table)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                table=table,
                title=title,
                limit=LOSS_RATE_LIMIT,
                totals=loss_totals(rows),
                high=sum(1 for r in rows if r["rate"] is not None and r["rate"] > LOSS_RATE_LIMIT),
                negative=sum(1 for r in rows if r["rate"] is not None and r["rate"] < 0),
            )
        )


def loss_totals(rows):
    """Σ per meter kind (district, plant outlet) of the master meters read: a plant outlet's
    volume behind is its district meters', so kinds are never added together."""
    totals = {}
    for row in rows:
        if row["master_volume"] is None:
            continue
        kind = totals.setdefault(
            row["master"].kind,
            {"label": row["kind_label"], "supplied": Decimal(0), "used": Decimal(0), "meters": 0},
        )
        kind["supplied"] += row["master_volume"]
        kind["used"] += row["customer_volume"]
        kind["meters"] += 1
    for kind in totals.values():
        kind["loss"] = kind["supplied"] - kind["used"]
        kind["rate"] = (
            (kind["loss"] * 100 / kind["supplied"]).quantize(Decimal("0.01"))
            if kind["supplied"] > 0
            else None
        )
    return list(totals.values())


def loss_chart(rows, title, masters_read=False):
    """The chart spec of monthly loss figures (:func:`queries.loss_rate_trend` rows): supplied
    and the volume behind as bars (m³, 2 places as stored), the loss rate as a line (%) with
    the grade-2 limit; the loss, the meters behind read (and master meters read) in the
    table only."""
    series = [
        Series("master_volume", _("Supplied"), "m³", places=2),
        Series("customer_volume", _("Volume behind"), "m³", places=2),
        Series("loss", _("Loss"), "m³", type=TABLE, places=2),
        Series(
            "rate",
            _("Loss rate"),
            "%",
            type=LINE,
            axis=1,
            limit=LOSS_RATE_LIMIT,
            limit_label=f"{LOSS_RATE_LIMIT} %",
        ),
        Series("customer_meters", _("Meters behind read"), type=TABLE),
    ]
    if masters_read:
        series.insert(0, Series("masters", _("Master meters read"), type=TABLE))
    return chart_spec(
        rows,
        title=title,
        category="month",
        category_label=_("Month"),
        category_text=month_text,
        series=series,
        axes=[Axis("m³"), Axis("%")],
        row_class=lambda row: loss_css(row["rate"]),
    )


def months_caption(months):
    return f"{month_text(months[0])} – {month_text(months[-1])}"


def last_month(form):
    return form.cleaned_data["month"] if form.is_valid() else timezone.localdate().replace(day=1)


class LossHistoryView(PermissionMixin, TemplateView):
    """One master meter over the last 24 months (F7.1): a chart of the monthly figures
    with the same figures in a table beside it; Excel export of the table."""

    permission_required = "readings.view_reading"
    template_name = "readings/query_loss_history.html"

    def get(self, request, *args, **kwargs):
        master = get_object_or_404(
            master_meters(request.user).select_related("zone"), pk=self.kwargs["pk"]
        )
        data = request.GET.copy()
        if not data.get("month"):
            newest = (
                Reading.objects.restrict(request.user, "view")
                .filter(meter=master, state__in=queries.READ_STATES)
                .order_by("-period__month")
                .values_list("period__month", flat=True)
                .first()
            )
            data["month"] = f"{newest or timezone.localdate():%Y-%m}"
        form = MasterHistoryForm(data)
        last, count = timezone.localdate().replace(day=1), HISTORY_MONTHS
        if form.is_valid():
            last, first = form.cleaned_data["month"], form.cleaned_data["month_from"]
            if first:
                count = (last.year - first.year) * 12 + last.month - first.month + 1
        months = queries.months_ending(last, count)
        rows = queries.loss_rate_history(master, months)
        title = _("Loss history of %(meter)s") % {"meter": master.number}
        chart = loss_chart(
            rows,
            _("Master meter %(meter)s, %(months)s")
            % {"meter": master.number, "months": months_caption(months)},
        )
        if request.GET.get("export") == "xlsx":
            return xlsx_response(f"loss-history-{master.number}", title, *export_rows(chart))
        return self.render_to_response(
            self.get_context_data(
                master=master,
                form=form,
                chart=chart,
                title=title,
                limit=LOSS_RATE_LIMIT,
                months=len(rows),
            )
        )


class LossTrendView(PermissionMixin, TemplateView):
    """Loss rate over time of the company or a zone (F6.1, F9.2): the master meters of one
    kind added up month by month over the last 24 months, as a chart with the same figures
    in a table beside it; Excel export of the table."""

    permission_required = "readings.view_reading"
    template_name = "readings/query_loss_trend.html"

    def get(self, request, *args, **kwargs):
        data = request.GET.copy()
        if not data.get("month"):
            data["month"] = f"{latest_month(request.user, masters=True):%Y-%m}"
        chosen = data.get("kind")
        if not chosen:
            data["kind"] = MeterKind.DISTRICT
        form = LossTrendForm(data, user=request.user)
        months = queries.months_ending(last_month(form), HISTORY_MONTHS)
        masters, kind, zone = master_meters(request.user).none(), "", None
        if form.is_valid():
            zone = form.cleaned_data["zone"]
            masters = master_meters(request.user)
            masters = masters.filter(zone=zone) if zone else masters
            if not chosen and not masters.filter(kind=MeterKind.DISTRICT).exists():
                data["kind"] = MeterKind.PLANT  # no district meters here: the plant outlets
                form = LossTrendForm(data, user=request.user)
                form.is_valid()
            masters = masters.filter(kind=form.cleaned_data["kind"])
            kind = dict(LossTrendForm.KINDS)[form.cleaned_data["kind"]]
        rows = queries.loss_rate_trend(masters, months)
        title = _("Loss rate over time")
        caption = _("%(kind)s of %(zone)s, %(months)s") % {
            "kind": kind,
            "zone": zone.name if zone else _("all zones"),
            "months": months_caption(months),
        }
        chart = loss_chart(rows, caption, masters_read=True)
        if request.GET.get("export") == "xlsx":
            return xlsx_response("loss-trend", title, *export_rows(chart))
        return self.render_to_response(
            self.get_context_data(form=form, chart=chart, title=title, limit=LOSS_RATE_LIMIT)
        )


# --- progress (F2.3) ------------------------------------------------------------------------


class ProgressView(PermissionMixin, TemplateView):
    """Reading progress of a month per book and per meter reader (F2.3)."""

    permission_required = "readings.view_readingperiod"
    template_name = "readings/query_progress.html"

    def get(self, request, *args, **kwargs):
        form = month_zone_form(request)
        periods = ReadingPeriod.objects.none()
        if form.is_valid():
            periods = ReadingPeriod.objects.restrict(request.user, "view").filter(
                month=form.cleaned_data["month"], book__isnull=False
            )
            if form.cleaned_data["zone"]:
                periods = periods.filter(zone=form.cleaned_data["zone"])
        periods = periods.select_related("book__reader", "zone")
        figures = queries.progress_by_period(periods)
        empty = {
            "total": 0,
            "read": 0,
            "pending": 0,
            "held": 0,
            "abnormal": 0,
            "estimated": 0,
            "volume": None,
            "percent": 0.0,
        }
        book_rows = []
        for period in periods:
            row = {**empty, **figures.get(period.pk, {})}
            row.update(
                book_code=period.book.code,
                book_name=period.book.name,
                zone=period.zone.name,
                reader=period.book.reader.name if period.book.reader else "",
                planned_on=period.planned_on,
                status=period.get_status_display(),
                href=url_or_none("readings:period_detail", period.pk),
            )
            book_rows.append(row)
        reader_rows = queries.progress_by_reader(periods)
        for row in reader_rows:
            row["reader_label"] = row["reader__name"] or _("(no reader)")
        books = ProgressTable(book_rows, request=request)
        readers = ReaderProgressTable(reader_rows, request=request, prefix="r-")
        title = _("Reading progress")
        if request.GET.get("export") == "xlsx":
            if request.GET.get("by") == "reader":
                return export_table(request, readers, "reading-progress-readers", title)
            return export_table(request, books, "reading-progress-books", title)
        configure(request, books)
        configure(request, readers)
        total = sum(r["total"] for r in book_rows)
        done = sum(r["read"] for r in book_rows)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                books=books,
                readers=readers,
                title=title,
                totals={
                    "total": total,
                    "read": done,
                    "pending": total - done,
                    "percent": round(100 * done / total, 1) if total else 0.0,
                },
            )
        )
