"""Meter reading entry pages (M2, F2.1–F2.6): reading periods, batch entry by book,
single-account entry, a read's detail with its corrections, estimates and splits.

Entering goes through one row endpoint shared by both entry screens: it answers
with the row re-rendered (saved, refused with the service's message, or asking
for a reason) and the book's progress, so the page never reloads per row.
Data changes only through ``services``.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from watermis.core.views import ObjectDetailView, ObjectListView, PermissionMixin
from watermis.customers.models import Customer, Meter, MeterKind, MeterStatus

from . import queries, services
from .consumption import rollover_guess
from .filtersets import ReadingPeriodFilterSet
from .forms import (
    ClosePeriodForm,
    ConfirmForm,
    EntryForm,
    EstimateForm,
    InterimForm,
    OpenPeriodsForm,
    SplitForm,
)
from .models import (
    Anomaly,
    PeriodStatus,
    Reading,
    ReadingPeriod,
    ReadingSplit,
    ReadingState,
    StatusCode,
)
from .services import Entry, NeedsConfirmation
from .tables import ReadingPeriodTable

ROW_RELATED = ("period", "meter", "customer", "replaced_meter")
HISTORY_LENGTH = 6


def error_messages(exc):
    """The messages of a ValidationError (or PermissionDenied), flat."""
    if isinstance(exc, PermissionDenied):
        return [str(exc) or _("You do not have permission to do this.")]
    return list(exc.messages)


def default_read_on(reading, today):
    """The date a typed read gets unless the clerk changes it: the planned day, never ahead."""
    day = min(reading.period.planned_on, today)
    if reading.previous_on and reading.previous_on > day and reading.previous_on <= today:
        day = reading.previous_on
    return day


@dataclass
class Row:
    """One read on an entry screen, with what the last attempt to save it answered."""

    reading: Reading
    editable: bool = True
    outcome: str = ""  # saved, error, confirm
    errors: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    volume: object = None
    ask_reason: str = ""  # "confirm" (findings) or "correct" (an entered read changes)
    rollover_volume: object = None
    posted: dict | None = None
    loss: dict | None = None
    read_on: datetime.date | None = None

    @property
    def value(self):
        if self.posted is not None:
            return self.posted.get("current")
        return self.reading.current

    @property
    def status_code(self):
        if self.posted is not None:
            return self.posted.get("status_code") or StatusCode.NORMAL
        return self.reading.status_code

    @property
    def rolled_over(self):
        if self.posted is not None:
            return bool(self.posted.get("rolled_over"))
        return self.reading.rolled_over

    @property
    def reason(self):
        if self.posted is not None:
            return self.posted.get("reason") or ""
        return ""

    @property
    def status_options(self):
        return status_options(self.status_code)

    @property
    def anomaly_label(self):
        return Anomaly(self.reading.anomaly).label if self.reading.anomaly else ""


_OPTIONS = {}


def status_options(selected):
    """The status ``<option>``s with one selected, built once per language (500-row pages)."""
    key = (get_language(), selected)
    if key not in _OPTIONS:
        _OPTIONS[key] = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (value, mark_safe(" selected") if value == selected else "", label)
                for value, label in StatusCode.choices
            ),
        )
    return _OPTIONS[key]


def make_row(reading, today, editable=True, **kwargs):
    row = Row(reading, editable=editable, **kwargs)
    if row.posted is not None and row.posted.get("read_on"):
        row.read_on = row.posted["read_on"]
    else:
        row.read_on = reading.read_on or default_read_on(reading, today)
    return row


def loss_by_master(period, meter_ids):
    """{master meter id: loss-rate dict} of a master-meter period's meters (F2.1)."""
    if not period.is_master or not meter_ids:
        return {}
    masters = Meter.objects.filter(pk__in=meter_ids)
    rows = queries.loss_rates([period.zone_id], period.month, masters=masters)
    return {row["master"].pk: row for row in rows}


def safe_next(request, fallback):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def row_permissions(user):
    return {
        "can_enter": user.has_perm("readings.change_reading"),
        "can_approve": user.has_perm("readings.approve_reading"),
        "status_choices": StatusCode.choices,
    }


# --- reading periods (F2.1, F2.3) -------------------------------------------------------


class ReadingPeriodListView(ObjectListView):
    """Reading periods with their progress, and the progress of each meter reader."""

    model = ReadingPeriod
    table_class = ReadingPeriodTable
    filterset_class = ReadingPeriodFilterSet
    template_name = "readings/period_list.html"
    title = gettext_lazy("Reading periods")
    create_url = "readings:period_open"
    export_name = "reading-periods"

    def get_queryset(self):
        return super().get_queryset().select_related("zone", "book__reader")

    def filtered_queryset(self):
        self.periods = super().filtered_queryset()
        return self.periods

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["readers"] = queries.progress_by_reader(
            self.periods.filter(status=PeriodStatus.OPEN)
        )
        context["can_open"] = self.request.user.has_perm("readings.add_readingperiod")
        return context


class OpenPeriodsView(PermissionMixin, TemplateView):
    """Open a zone's reading periods of a month (books due by their cycle, and master meters)."""

    permission_required = "readings.add_readingperiod"
    template_name = "readings/period_open.html"

    def render(self, form, opened=None):
        progress = queries.progress_by_period([p.pk for p in opened]) if opened else {}
        return self.render_to_response(
            self.get_context_data(
                form=form,
                opened=[(p, progress.get(p.pk, {})) for p in opened or []],
                submitted=opened is not None,
                title=_("Open reading periods"),
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render(OpenPeriodsForm(user=request.user))

    def post(self, request, *args, **kwargs):
        form = OpenPeriodsForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                opened = services.open_periods(request.user, data["zone"], data["month"])
            except ValidationError as exc:
                for name, errors in getattr(exc, "error_dict", {None: exc.error_list}).items():
                    form.add_error(name if name in form.fields else None, errors)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                return self.render(form, opened)
        return self.render(form)


class ClosePeriodView(PermissionMixin, TemplateView):
    permission_required = "readings.change_readingperiod"

    def get(self, request, pk):
        return redirect(reverse("readings:period_detail", args=[pk]))

    def post(self, request, pk):
        period = get_object_or_404(ReadingPeriod.objects.restrict(request.user, "change"), pk=pk)
        form = ClosePeriodForm(request.POST)
        form.is_valid()
        try:
            services.close_period(request.user, period, form.cleaned_data.get("reason", ""))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(error_messages(exc)))
        else:
            messages.success(request, _("Reading period %(period)s closed.") % {"period": period})
        return redirect(period.get_absolute_url())


class PeriodEntryView(PermissionMixin, TemplateView):
    """Batch entry by book (F2.3): every row of the period in route order, keyboard only.

    One query for the rows, one for the progress (and, for master meters, the
    loss rates), however many meters the book has.
    """

    permission_required = "readings.view_readingperiod"
    template_name = "readings/period_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        period = get_object_or_404(
            ReadingPeriod.objects.restrict(user).select_related("zone", "book__reader"),
            pk=self.kwargs["pk"],
        )
        readings = list(
            Reading.objects.restrict(user)
            .filter(period=period)
            .select_related("meter", "customer")
            .order_by("route_order", "meter__number", "sequence")
        )
        today = timezone.localdate()
        perms = row_permissions(user)
        editable = perms["can_enter"] and period.status == PeriodStatus.OPEN
        losses = loss_by_master(period, [r.meter_id for r in readings])
        rows = []
        for reading in readings:
            reading.period = period
            rows.append(
                make_row(reading, today, editable=editable, loss=losses.get(reading.meter_id))
            )
        context.update(
            perms,
            period=period,
            object=period,
            rows=rows,
            editable=editable,
            progress=queries.progress_by_period([period.pk]).get(period.pk),
            show_loss=period.is_master,
            compact=period.is_master,
            can_close=user.has_perm("readings.change_readingperiod")
            and period.status == PeriodStatus.OPEN,
            close_form=ClosePeriodForm(),
            title=str(period),
        )
        return context


# --- the row endpoint -----------------------------------------------------------------


def _reload(pk):
    return Reading.objects.select_related(*ROW_RELATED).get(pk=pk)


class RowMixin(PermissionMixin):
    """Answers a row fragment to the entry screens' script, a redirect to a plain form."""

    permission_required = "readings.change_reading"
    template_name = "readings/row_response.html"

    def get(self, request, pk):
        return redirect(reverse("readings:reading_detail", args=[pk]))

    def get_reading(self):
        return get_object_or_404(
            Reading.objects.restrict(self.request.user, "change").select_related(*ROW_RELATED),
            pk=self.kwargs["pk"],
        )

    def answer(self, row):
        request = self.request
        if request.headers.get("X-Row") != "1":
            if row.outcome == "saved":
                messages.success(request, _("Saved: %(name)s") % {"name": row.reading})
            else:
                text = " ".join(str(e) for e in row.errors)
                if row.findings:
                    text = _(
                        "%(volume)s m³: %(findings)s. Confirm with a reason, or correct it."
                    ) % {
                        "volume": row.volume,
                        "findings": "; ".join(str(f) for f in row.findings),
                    }
                messages.error(request, text)
            return redirect(safe_next(request, row.reading.get_absolute_url()))
        period = row.reading.period
        row.loss = loss_by_master(period, [row.reading.meter_id]).get(row.reading.meter_id)
        context = self.get_context_data(
            row=row,
            progress=queries.progress_by_period([period.pk]).get(period.pk),
            period=period,
            show_loss=period.is_master,
            compact=period.is_master or self.request.headers.get("X-Row-Compact") == "1",
            **row_permissions(self.request.user),
        )
        return self.render_to_response(context)


class ReadingEnterView(RowMixin, TemplateView):
    """Enter or correct one read (F2.2, F2.3, F2.6) with the same checks everywhere."""

    def post(self, request, *args, **kwargs):
        reading = self.get_reading()
        today = timezone.localdate()
        form = EntryForm(request.POST)
        if not form.is_valid():
            errors = [e for errs in form.errors.values() for e in errs]
            return self.answer(make_row(reading, today, outcome="error", errors=errors))
        data = form.cleaned_data
        reason = data["reason"].strip()
        entry = Entry(
            current=data["current"],
            read_on=data["read_on"],
            status_code=data["status_code"],
            rolled_over=data["rolled_over"],
            reason=reason,
            confirm=data["confirm"] and bool(reason),
        )
        try:
            saved = services.enter_reading(request.user, reading, entry)
        except NeedsConfirmation as exc:
            row = make_row(
                reading,
                today,
                outcome="confirm",
                findings=[Anomaly(f.code).label for f in exc.findings],
                volume=exc.volume,
                ask_reason="confirm",
                posted=data,
            )
            return self.answer(row)
        except (ValidationError, PermissionDenied) as exc:
            row = make_row(reading, today, outcome="error", errors=error_messages(exc), posted=data)
            if "reason" in getattr(exc, "error_dict", {}):
                row.ask_reason = "correct"
            current = data["current"]
            if (
                current is not None
                and current < reading.previous
                and not data["rolled_over"]
                and data["status_code"] != StatusCode.REVERSE
                and current < reading.meter.rollover
            ):
                row.rollover_volume = rollover_guess(
                    reading.previous, current, reading.meter.digits
                )
            return self.answer(row)
        return self.answer(make_row(_reload(saved.pk), today, outcome="saved"))


class ReadingConfirmView(RowMixin, TemplateView):
    """Confirm a held read: a clerk for usual findings, a supervisor far above average."""

    def post(self, request, *args, **kwargs):
        reading = self.get_reading()
        today = timezone.localdate()
        form = ConfirmForm(request.POST)
        if not form.is_valid():
            return self.answer(
                make_row(
                    reading,
                    today,
                    outcome="error",
                    errors=[_("Give the reason for confirming.")],
                )
            )
        try:
            services.confirm_reading(request.user, reading, form.cleaned_data["reason"])
        except (ValidationError, PermissionDenied) as exc:
            return self.answer(
                make_row(reading, today, outcome="error", errors=error_messages(exc))
            )
        return self.answer(make_row(_reload(reading.pk), today, outcome="saved"))


# --- estimate, another read, split (F2.2, F2.4, F2.5) -------------------------------------


class ReadingActionView(PermissionMixin, TemplateView):
    """A form posted from the account or detail page: a service call, then back there."""

    permission_required = "readings.change_reading"
    form_class = None

    def get(self, request, pk):
        return redirect(reverse("readings:reading_detail", args=[pk]))

    def post(self, request, pk):
        reading = get_object_or_404(
            Reading.objects.restrict(request.user, "change").select_related(*ROW_RELATED), pk=pk
        )
        form = self.form_class(request.POST, prefix=request.POST.get("prefix") or None)
        back = safe_next(request, reading.get_absolute_url())
        if not form.is_valid():
            for name, errors in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                messages.error(
                    request, f"{label}: {' '.join(errors)}" if label else " ".join(errors)
                )
            return redirect(back)
        try:
            text = self.perform(reading, form)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(error_messages(exc)))
        else:
            messages.success(request, text)
        return redirect(back)


class ReadingEstimateView(ReadingActionView):
    form_class = EstimateForm

    def perform(self, reading, form):
        data = form.cleaned_data
        saved = services.estimate_reading(
            self.request.user,
            reading,
            data["method"],
            data["read_on"],
            data["status_code"],
            data["reason"],
            volume=data["volume"],
        )
        return _("Estimated: %(read)s, %(volume)s m³.") % {"read": saved, "volume": saved.volume}


class ReadingInterimView(ReadingActionView):
    form_class = InterimForm

    def perform(self, reading, form):
        data = form.cleaned_data
        reason = data["reason"].strip()
        entry = Entry(
            data["current"],
            data["read_on"],
            data["status_code"],
            reason=reason,
            confirm=bool(reason),
        )
        saved = services.add_interim_reading(
            self.request.user, reading.period, reading.meter, entry
        )
        return _("Read %(n)s of the month saved: %(volume)s m³.") % {
            "n": saved.sequence,
            "volume": saved.volume,
        }


class ReadingSplitView(ReadingActionView):
    permission_required = "readings.add_readingsplit"
    form_class = SplitForm

    def perform(self, reading, form):
        parts = services.split_reading(
            self.request.user, reading, form.parts(), form.cleaned_data["reason"]
        )
        return _("Volume split into %(n)s bills: %(parts)s m³.") % {
            "n": len(parts),
            "parts": " + ".join(str(p.volume) for p in parts),
        }


# --- one read -------------------------------------------------------------------------


def recent_reads(user, meter_ids, limit=HISTORY_LENGTH):
    """{meter id: its last ``limit`` reads, newest first}: one query for all meters."""
    reads = (
        Reading.objects.restrict(user)
        .filter(meter_id__in=meter_ids, state__in=queries.READ_STATES)
        .select_related("period")
        .order_by("meter_id", "-period__month", "-sequence")
    )
    found = {}
    for read in reads[: limit * max(len(meter_ids), 1) * 3]:
        bucket = found.setdefault(read.meter_id, [])
        if len(bucket) < limit:
            bucket.append(read)
    return found


READING_FIELDS = [
    "period",
    "meter",
    "customer",
    "sequence",
    "previous",
    "previous_on",
    "average",
    "current",
    "read_on",
    "volume",
    "closing",
    "status_code",
    "rolled_over",
    "estimated",
    "replaced_meter",
    "old_previous",
    "old_final",
    "state",
    "anomaly",
    "reason",
    "note",
    "source",
    "reader",
    "entered_by",
    "entered_at",
    "approved_by",
    "billed",
]


class ReadingDetailView(ObjectDetailView):
    """One read: its figures, its journal, and the actions (correct, confirm, estimate, split)."""

    model = Reading
    template_name = "readings/reading_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "period__zone",
                "period__book",
                "meter",
                "customer",
                "replaced_meter",
                "reader",
                "entered_by",
                "approved_by",
            )
        )

    def get_fields(self, obj):
        rows = []
        for name in READING_FIELDS:
            model_field = obj._meta.get_field(name)
            if model_field.choices:
                value = getattr(obj, f"get_{name}_display")()
            else:
                value = getattr(obj, name)
            rows.append((model_field.verbose_name, value))
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        reading, user = context["object"], self.request.user
        today = timezone.localdate()
        perms = row_permissions(user)
        context.update(perms)
        context.update(
            detail_actions=account_context(user, reading, today),
            row=make_row(reading, today, editable=perms["can_enter"]),
            period=reading.period,
            history_reads=recent_reads(user, [reading.meter_id]).get(reading.meter_id, []),
            splits=ReadingSplit.objects.restrict(user).filter(reading=reading, active=True),
        )
        return context


def account_context(user, reading, today):
    """The action forms of one read (for the detail page and the account page)."""
    can_enter = user.has_perm("readings.change_reading")
    is_open = reading.period.status == PeriodStatus.OPEN
    return {
        "estimate_form": EstimateForm(
            prefix=f"e{reading.pk}", initial={"read_on": default_read_on(reading, today)}
        )
        if can_enter and is_open and not reading.billed
        else None,
        "interim_form": InterimForm(prefix=f"i{reading.pk}", initial={"read_on": today})
        if can_enter
        and is_open
        and reading.state != ReadingState.PENDING
        and services.is_monitored(reading.meter, today)
        else None,
        "split_form": SplitForm(prefix=f"s{reading.pk}")
        if user.has_perm("readings.add_readingsplit")
        and reading.state == ReadingState.ENTERED
        and not reading.billed
        else None,
        "can_replace": user.has_perm("customers.change_meter")
        and reading.meter.kind == MeterKind.CUSTOMER
        and reading.meter.status == MeterStatus.ACTIVE,
    }


# --- single-account entry (F2.2, F2.6) ---------------------------------------------------


@dataclass
class MeterBlock:
    meter: Meter
    row: Row | None = None
    previous_row: Row | None = None
    reads: list = field(default_factory=list)
    error: str = ""
    actions: dict = field(default_factory=dict)


class AccountEntryView(PermissionMixin, TemplateView):
    """Type an account number: its meters, each with its read of the open period (F2.2)."""

    permission_required = "readings.view_reading"
    template_name = "readings/account_entry.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        account = (self.request.GET.get("account") or "").strip()
        perms = row_permissions(user)
        context.update(perms, account=account, title=_("Enter by account"))
        if not account:
            return context
        customer = (
            Customer.objects.restrict(user)
            .filter(account_no=account)
            .select_related("book", "zone", "category")
            .first()
        )
        context["customer"] = customer
        if customer is None:
            context["not_found"] = True
            return context
        period = (
            ReadingPeriod.objects.restrict(user)
            .filter(book=customer.book_id, status=PeriodStatus.OPEN)
            .order_by("-month")
            .first()
        )
        context["period"] = period
        context["can_open"] = user.has_perm("readings.add_readingperiod")
        meters = list(
            Meter.objects.restrict(user)
            .filter(customer=customer, status=MeterStatus.ACTIVE)
            .order_by("number")
        )
        today = timezone.localdate()
        history = recent_reads(user, [m.pk for m in meters])
        blocks = []
        for meter in meters:
            block = MeterBlock(meter, reads=history.get(meter.pk, []))
            if period is not None:
                try:
                    reading = services.reading_for(user, period, meter)
                except (ValidationError, PermissionDenied) as exc:
                    block.error = " ".join(error_messages(exc))
                else:
                    reading = _reload(reading.pk)
                    block.row = make_row(reading, today, editable=perms["can_enter"])
                    block.actions = account_context(user, reading, today)
            before = (
                Reading.objects.restrict(user)
                .filter(meter=meter, state__in=queries.READ_STATES)
                .exclude(period=period)
                .filter(Q(period__month__lt=period.month) if period else Q())
                .select_related(*ROW_RELATED)
                .order_by("-period__month", "-sequence")
                .first()
            )
            if before is not None:
                block.previous_row = make_row(before, today, editable=perms["can_enter"])
            blocks.append(block)
        context["blocks"] = blocks
        context["title"] = _("Enter by account") + f" · {customer.account_no} {customer.name}"
        return context
