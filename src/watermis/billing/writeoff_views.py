"""Write-off and bill-correction pages (F3.21, F3.22).

From a bill: ask for a write-off, cancel it (open month, unpaid) or ask for a
red bill. Lists of write-offs and red bill requests (combinable filters,
sorting, Excel export); a manager decides each request on its page. Every
change goes through :mod:`.writeoffs` and :mod:`.corrections`, which check the
permission, the zone and the rules again inside their transaction.
"""

import django_tables2 as tables
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from watermis.core.journal import history
from watermis.core.scoping import visible_zone_ids
from watermis.core.views import ObjectListView, PermissionMixin, add_service_errors
from watermis.readings.query_tables import (
    NOWRAP,
    NUMBER,
    MonthColumn,
    label,
    link,
    url_or_none,
)

from . import corrections, writeoffs
from .bills import status_label, with_status
from .models import Bill, BillKind, RedBillRequest, WriteOff, WriteOffState
from .writeoff_forms import (
    CancelBillForm,
    DecisionForm,
    RedBillRequestFilterSet,
    RedBillRequestForm,
    WriteOffApprovalFilterSet,
    WriteOffFilterSet,
    WriteOffRequestForm,
)

STATE_CSS = {
    WriteOffState.REQUESTED: "text-bg-warning",
    WriteOffState.APPROVED: "text-bg-success",
    WriteOffState.REJECTED: "text-bg-secondary",
}


def bill_href(bill_id):
    return url_or_none("billing:bill_detail", bill_id)


def bill_label(bill):
    if bill.kind == BillKind.RED:
        return f"#{bill.pk} {bill.get_kind_display()}"
    return f"#{bill.pk}"


def money(value):
    return localize(value) if value is not None else "—"


def bill_summary(bill):
    """(label, value) rows describing a bill annotated by ``with_status``."""
    customer = bill.customer
    return [
        (_("Bill"), link(bill_href(bill.pk), bill_label(bill))),
        (
            _("Customer"),
            link(customer.get_absolute_url(), f"{customer.account_no} {customer.name}"),
        ),
        (_("Zone"), bill.zone),
        (_("Billing month"), f"{bill.month:%Y-%m}"),
        (_("Billed volume"), f"{localize(bill.volume)} m³"),
        (_("Amount"), money(bill.amount)),
        (_("Paid or credited"), money(bill.settled)),
        (_("Written off"), money(bill.written_off)),
        (_("Open amount"), money(bill.open_amount)),
        (_("Status"), status_label(bill.status)),
        (_("Due on"), bill.due_on),
    ]


def scoped_bill(request, pk):
    """The bill with its status, if the operator may see it (else 404)."""
    bills = Bill.objects.restrict(request.user, "view").filter(pk=pk)
    bill = with_status(bills).select_related("customer", "zone").first()
    if bill is None:
        raise Http404
    return corrections.to_fen(bill)


def bill_actions(user, bill):
    """Correction actions the bill page can offer this operator: [(label, url)].

    ``bill`` is annotated by ``with_status``; an action shows only when the
    rules allow it now (the services check again when it is done).
    """
    actions = []
    if user.has_perm("billing.add_writeoff") and writeoffs.write_off_problem(bill) is None:
        actions.append((_("Write off"), reverse("billing:bill_writeoff", args=[bill.pk])))
    if user.has_perm("billing.correct_bill"):
        if corrections.cancel_problem(bill) is None:
            actions.append((_("Cancel the bill"), reverse("billing:bill_cancel", args=[bill.pk])))
        if corrections.red_bill_problem(bill) is None:
            actions.append((_("Red bill"), reverse("billing:bill_redbill", args=[bill.pk])))
    return actions


class BillActionView(PermissionMixin, TemplateView):
    """A form about one bill: shows the bill, why the action is not possible, or the form."""

    template_name = "billing/writeoff_form.html"
    form_class = None
    title = None
    submit_label = None

    def problem(self, bill):
        return None

    def initial(self, bill):
        return {}

    def extra_summary(self, bill):
        return []

    def pending_url(self, bill):
        """The request of this kind already waiting for a decision on the bill, if any."""
        return None

    def perform(self, bill, data):
        """Do the action through a service; returns the URL to go to."""
        raise NotImplementedError

    def render(self, bill, form):
        return self.render_to_response(
            self.get_context_data(
                bill=bill,
                form=form,
                problem=self.problem(bill),
                pending_url=self.pending_url(bill),
                summary=bill_summary(bill) + self.extra_summary(bill),
                title=self.title % {"bill": bill.pk},
                submit_label=self.submit_label,
                cancel_url=bill_href(bill.pk) or bill.customer.get_absolute_url(),
                actions=bill_actions(self.request.user, bill),
            )
        )

    def get(self, request, *args, **kwargs):
        bill = scoped_bill(request, kwargs["pk"])
        return self.render(bill, self.form_class(initial=self.initial(bill)))

    def post(self, request, *args, **kwargs):
        bill = scoped_bill(request, kwargs["pk"])
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                url = self.perform(bill, form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect(url)
            bill = scoped_bill(request, kwargs["pk"])
        return self.render(bill, form)


class BillWriteOffView(BillActionView):
    """Ask for a bad-debt write-off of a bill (F3.21)."""

    permission_required = "billing.add_writeoff"
    form_class = WriteOffRequestForm
    title = gettext_lazy("Write off bill #%(bill)s")
    submit_label = gettext_lazy("Ask for approval")

    def problem(self, bill):
        problem = writeoffs.write_off_problem(bill)
        if problem is None and bill.write_offs.filter(state=WriteOffState.REQUESTED).exists():
            return _("A write-off of this bill is already awaiting approval.")
        return problem

    def pending_url(self, bill):
        pending = bill.write_offs.filter(state=WriteOffState.REQUESTED).first()
        return reverse("billing:writeoff_detail", args=[pending.pk]) if pending else None

    def initial(self, bill):
        return {"amount": bill.open_amount if bill.open_amount > 0 else None}

    def perform(self, bill, data):
        write_off = writeoffs.request_write_off(
            self.request.user, bill, data["amount"], data["reason"]
        )
        messages.success(
            self.request,
            _("The write-off of %(amount)s awaits a manager's approval.")
            % {"amount": write_off.amount},
        )
        return reverse("billing:writeoff_detail", args=[write_off.pk])


class BillCancelView(BillActionView):
    """Cancel an unpaid bill of an open month (F3.22): its read can be billed again."""

    permission_required = "billing.correct_bill"
    form_class = CancelBillForm
    title = gettext_lazy("Cancel bill #%(bill)s")
    submit_label = gettext_lazy("Cancel the bill")

    def problem(self, bill):
        return corrections.cancel_problem(bill)

    def perform(self, bill, data):
        corrections.cancel_bill(self.request.user, bill, data["reason"])
        messages.success(
            self.request,
            _("Bill #%(bill)s is cancelled; its reading can be billed again.") % {"bill": bill.pk},
        )
        return bill_href(bill.pk) or reverse("billing:bill_cancel", args=[bill.pk])


class BillRedBillView(BillActionView):
    """Ask for a red (negative) bill against a wrong bill (F3.22)."""

    permission_required = "billing.correct_bill"
    form_class = RedBillRequestForm
    title = gettext_lazy("Red bill against bill #%(bill)s")
    submit_label = gettext_lazy("Ask for approval")

    def problem(self, bill):
        problem = corrections.red_bill_problem(bill)
        if (
            problem is None
            and bill.red_bill_requests.filter(state=WriteOffState.REQUESTED).exists()
        ):
            return _("A red bill for this bill is already awaiting approval.")
        return problem

    def extra_summary(self, bill):
        room, reds = corrections.red_bill_room(bill)
        return [
            (_("Earlier red bills"), money(reds)),
            (_("Red bills can still take off"), money(room)),
            (
                _("Open billing month"),
                f"{corrections.open_billing_month(bill.zone_id):%Y-%m}",
            ),
        ]

    def pending_url(self, bill):
        pending = bill.red_bill_requests.filter(state=WriteOffState.REQUESTED).first()
        return reverse("billing:redbill_detail", args=[pending.pk]) if pending else None

    def initial(self, bill):
        return {"amount": corrections.red_bill_room(bill)[0] or None}

    def perform(self, bill, data):
        red_request = corrections.request_red_bill(
            self.request.user, bill, data["reason"], data["amount"], data["month"]
        )
        messages.success(
            self.request,
            _("The red bill of %(amount)s awaits a manager's approval.")
            % {"amount": red_request.amount},
        )
        return reverse("billing:redbill_detail", args=[red_request.pk])


# --- lists ------------------------------------------------------------------------------------


class RequestTable(tables.Table):
    """Columns shared by write-offs and red bill requests."""

    requested_at = tables.DateTimeColumn(format="Y-m-d", attrs=NOWRAP)
    account = tables.Column(
        gettext_lazy("Account"), accessor="bill__customer__account_no", attrs=NOWRAP
    )
    name = tables.Column(
        gettext_lazy("Account name"),
        accessor="bill__customer__name",
        attrs={"td": {"style": "min-width: 4rem"}},
    )
    bill_month = MonthColumn(gettext_lazy("Bill month"), accessor="bill__month", attrs=NOWRAP)
    bill_amount = tables.Column(gettext_lazy("Bill amount"), accessor="bill__amount", attrs=NUMBER)
    amount = tables.Column(attrs=NUMBER)
    requested_by = tables.Column(
        label(WriteOff, "requested_by"), accessor="requested_by__username", attrs=NOWRAP
    )
    decided_by = tables.Column(
        label(WriteOff, "decided_by"), accessor="decided_by__username", attrs=NOWRAP
    )
    decided_at = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP, visible=False)
    reason = tables.Column(attrs={"td": {"style": "min-width: 8rem"}})
    decision_note = tables.Column(visible=False)
    zone = tables.Column(label(WriteOff, "zone"), accessor="zone__name", attrs=NOWRAP)
    actions = tables.Column(
        "", empty_values=(), orderable=False, exclude_from_export=True, attrs=NOWRAP
    )

    detail_url = None
    approve_perm = None

    def render_account(self, record, value):
        return link(record.bill.customer.get_absolute_url(), value)

    def value_account(self, value):
        return value

    def render_state(self, record, value):
        return format_html('<span class="badge {}">{}</span>', STATE_CSS.get(record.state), value)

    def value_state(self, value):
        return value

    def render_actions(self, record):
        user = getattr(self.request, "user", None)
        href = reverse(self.detail_url, args=[record.pk])
        if (
            record.state == WriteOffState.REQUESTED
            and user is not None
            and user.has_perm(self.approve_perm)
            and record.requested_by_id != user.pk
        ):
            return format_html(
                '<a class="btn btn-sm btn-primary py-0" href="{}">{}</a>', href, _("Decide")
            )
        return format_html(
            '<a class="btn btn-sm btn-outline-primary py-0" href="{}">{}</a>', href, _("Open")
        )


REQUEST_FIELDS = (
    "requested_at",
    "account",
    "name",
    "bill_month",
    "bill_amount",
    "amount",
    "reason",
    "state",
    "requested_by",
    "decided_by",
    "decided_at",
    "decision_note",
    "zone",
)


class WriteOffTable(RequestTable):
    detail_url = "billing:writeoff_detail"
    approve_perm = "billing.approve_writeoff"

    class Meta:
        model = WriteOff
        fields = REQUEST_FIELDS
        sequence = (*REQUEST_FIELDS, "actions")
        order_by = ("-requested_at",)


class WriteOffApprovalTable(WriteOffTable):
    class Meta(WriteOffTable.Meta):
        exclude = ("state", "decided_by", "decided_at", "decision_note")


class RedBillRequestTable(RequestTable):
    month = MonthColumn(gettext_lazy("Red bill month"), attrs=NOWRAP, empty_values=())
    decided_by = tables.Column(
        label(WriteOff, "decided_by"),
        accessor="decided_by__username",
        attrs=NOWRAP,
        visible=False,
    )
    red_bill = tables.Column(gettext_lazy("Red bill"), accessor="red_bill_id", attrs=NOWRAP)
    detail_url = "billing:redbill_detail"
    approve_perm = "billing.approve_correction"

    class Meta:
        model = RedBillRequest
        fields = (*REQUEST_FIELDS, "month", "red_bill")
        sequence = (*REQUEST_FIELDS, "month", "red_bill", "actions")
        order_by = ("-requested_at",)

    def render_red_bill(self, value):
        return link(bill_href(value), f"#{value}")

    def value_red_bill(self, value):
        return value

    def render_month(self, record, value):
        # Chosen at approval when the request left it open: the red bill's own month.
        month = record.red_bill.month if record.red_bill_id else value
        return f"{month:%Y-%m}" if month else _("Open month")

    def value_month(self, record, value):
        month = record.red_bill.month if record.red_bill_id else value
        return f"{month:%Y-%m}" if month else ""


def _requests(queryset):
    return queryset.select_related("bill__customer", "zone", "requested_by", "decided_by").order_by(
        "-requested_at", "-id"
    )


def _red_requests(queryset):
    return _requests(queryset).select_related("red_bill")


class WriteOffListView(ObjectListView):
    """Write-offs (F3.21): by zone, state, requester, bill month and amount; Excel export."""

    model = WriteOff
    table_class = WriteOffTable
    filterset_class = WriteOffFilterSet
    title = gettext_lazy("Write-offs")
    export_name = "write-offs"

    def get_queryset(self):
        return _requests(super().get_queryset())


class WriteOffApprovalListView(WriteOffListView):
    """Write-offs awaiting a manager's approval."""

    permission_required = "billing.approve_writeoff"
    table_class = WriteOffApprovalTable
    filterset_class = WriteOffApprovalFilterSet
    title = gettext_lazy("Write-offs awaiting approval")
    export_name = "write-offs-awaiting-approval"

    def get_queryset(self):
        return super().get_queryset().filter(state=WriteOffState.REQUESTED)


class RedBillRequestListView(ObjectListView):
    """Red bill requests (F3.22), with their decisions; managers decide from here."""

    model = RedBillRequest
    permission_required = "billing.view_bill"
    table_class = RedBillRequestTable
    filterset_class = RedBillRequestFilterSet
    title = gettext_lazy("Red bill requests")
    export_name = "red-bill-requests"

    def get_queryset(self):
        zones = visible_zone_ids(self.request.user)
        return _red_requests(RedBillRequest.objects.in_zones(zones))


# --- deciding ---------------------------------------------------------------------------------


class DecisionView(PermissionMixin, TemplateView):
    """One request, its bill, and (for a manager who did not ask) approve / reject."""

    template_name = "billing/writeoff_detail.html"
    model = None
    approve_perm = None
    list_url = None  # where a decision leads
    back_url = None  # every request

    def get_queryset(self):
        raise NotImplementedError

    def approve(self, obj, note):
        raise NotImplementedError

    def reject(self, obj, note):
        raise NotImplementedError

    def extra_rows(self, obj):
        return []

    def get_object(self):
        return get_object_or_404(
            self.get_queryset().select_related("bill", "requested_by", "decided_by"),
            pk=self.kwargs["pk"],
        )

    def render(self, obj, form):
        user = self.request.user
        bill = corrections.bill_with_status(obj.bill)
        undecided = obj.state == WriteOffState.REQUESTED
        own = obj.requested_by_id == user.pk
        rows = [
            (_("Amount"), money(obj.amount)),
            (_("Reason"), obj.reason),
            (_("State"), obj.get_state_display()),
            (_("Requested by"), obj.requested_by),
            (_("Requested at"), obj.requested_at),
            *self.extra_rows(obj),
        ]
        if not undecided:
            rows += [
                (_("Decided by"), obj.decided_by or "—"),
                (_("Decided at"), obj.decided_at),
                (_("Decision note"), obj.decision_note or "—"),
            ]
        return self.render_to_response(
            self.get_context_data(
                object=obj,
                title=self.title % {"bill": bill.pk},
                model_name=self.model._meta.verbose_name,
                rows=rows,
                summary=bill_summary(bill),
                form=form,
                can_decide=undecided and user.has_perm(self.approve_perm) and not own,
                own=undecided and own,
                list_url=reverse(self.list_url),
                back_url=reverse(self.back_url),
                history=history(obj)[:50] if user.has_perm("core.view_auditentry") else None,
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render(self.get_object(), DecisionForm())

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm(self.approve_perm):
            raise PermissionDenied(_("You do not have permission to do this."))
        obj = self.get_object()
        form = DecisionForm(request.POST)
        decision = request.POST.get("decision")
        if form.is_valid() and decision in ("approve", "reject"):
            note = form.cleaned_data["note"]
            try:
                if decision == "approve":
                    self.approve(obj, note)
                else:
                    self.reject(obj, note)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect(self.list_url)
            obj = self.get_object()
        elif form.is_valid():
            form.add_error(None, _("Choose approve or reject."))
        return self.render(obj, form)


class WriteOffDecisionView(DecisionView):
    model = WriteOff
    permission_required = "billing.view_writeoff"
    approve_perm = "billing.approve_writeoff"
    list_url = "billing:writeoff_approvals"
    back_url = "billing:writeoff_list"
    title = gettext_lazy("Write-off of bill #%(bill)s")

    def get_queryset(self):
        return WriteOff.objects.restrict(self.request.user, "view")

    def extra_rows(self, obj):
        if obj.entry_id:
            return [(_("Ledger entry"), f"#{obj.entry_id}")]
        return []

    def approve(self, obj, note):
        writeoffs.approve_write_off(self.request.user, obj, note)
        messages.success(
            self.request,
            _("Write-off of %(amount)s approved and posted.") % {"amount": obj.amount},
        )

    def reject(self, obj, note):
        writeoffs.reject_write_off(self.request.user, obj, note)
        messages.success(self.request, _("Write-off rejected."))


class RedBillDecisionView(DecisionView):
    model = RedBillRequest
    template_name = "billing/correction_detail.html"
    permission_required = "billing.view_bill"
    approve_perm = "billing.approve_correction"
    list_url = "billing:redbill_list"
    back_url = "billing:redbill_list"
    title = gettext_lazy("Red bill against bill #%(bill)s")

    def get_queryset(self):
        return RedBillRequest.objects.in_zones(visible_zone_ids(self.request.user))

    def extra_rows(self, obj):
        month = obj.month or corrections.open_billing_month(obj.zone_id)
        rows = [(_("Billing month of the red bill"), f"{month:%Y-%m}")]
        if obj.red_bill_id:
            rows.append((_("Red bill"), link(bill_href(obj.red_bill_id), f"#{obj.red_bill_id}")))
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = kwargs.get("object")
        if obj is not None and obj.red_bill_id:
            context["lines"] = obj.red_bill.lines.select_related("item")
            context["lines_title"] = _("Lines of the red bill")
        elif obj is not None:
            context["lines"] = obj.bill.lines.select_related("item")
            context["lines_title"] = _("Lines of the bill corrected")
        return context

    def approve(self, obj, note):
        red = corrections.approve_red_bill(self.request.user, obj, note)
        messages.success(
            self.request,
            _("Red bill #%(bill)s of %(amount)s issued.") % {"bill": red.pk, "amount": red.amount},
        )

    def reject(self, obj, note):
        corrections.reject_red_bill(self.request.user, obj, note)
        messages.success(self.request, _("Red bill request rejected."))
