"""Prepaid-deposit pages (issue 9; F4.1–F4.6): the keyboard-first deposit screen, a deposit
with its voucher and correction, the deposit list, the balances (F4.5), the deposit pot's
transactions (F4.6), transfer runs (start, progress, result report) and undoing transfers.

Every page needs a named permission and reads through the restricted querysets, so a
deposit, a run or a transfer of another zone answers 404. Money moves only through
:mod:`.deposits`, which checks the permission and the zone again inside its transaction.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Sum
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from watermis.billing.bill_tables import money
from watermis.billing.bill_views import TotalsListView
from watermis.billing.bills import open_bills
from watermis.billing.ledger import balance_of, deposit_of
from watermis.billing.models import Account, LedgerEntry
from watermis.core.export import xlsx_response
from watermis.core.journal import history
from watermis.core.views import PermissionMixin, add_service_errors
from watermis.documents.models import DocumentKind
from watermis.documents.services import render_pdf
from watermis.documents.sources import operator_name
from watermis.documents.views import pdf_response

from . import counter, deposit_queries, deposits
from .deposit_filtersets import (
    DepositBalanceFilterSet,
    DepositEntryFilterSet,
    DepositFilterSet,
    DepositTransferFilterSet,
    TransferRunFilterSet,
)
from .deposit_forms import DepositForm, ReasonForm, TransferStartForm
from .deposit_tables import (
    DepositBalanceTable,
    DepositEntryTable,
    DepositTable,
    DepositTransferTable,
    TransferRunTable,
)
from .models import CounterMethod, Deposit, DepositTransfer, TransferRun
from .views import KEYS as COUNTER_KEYS
from .views import PRINT_ERRORS, CustomerScreen, is_htmx

KEYS = [
    COUNTER_KEYS[0],  # F2 account / search
    ("F6", gettext_lazy("amount to deposit")),
    ("F8", gettext_lazy("amount tendered")),
    ("Enter, F9", gettext_lazy("take the deposit")),
    ("Esc", gettext_lazy("next customer")),
]


# ------------------------------------------------------------------------- the deposit screen


class DepositView(CustomerScreen):
    """Take a prepaid deposit (F4.1): account → the deposit, the arrears and the open bills →
    amount, method, tendered → Enter posts and opens the deposit with its voucher."""

    permission_required = "payments.take_deposit"
    serve_permission = "payments.take_deposit"
    template_name = "payments/deposit.html"
    panel_template = "payments/deposit_panel.html"
    title = gettext_lazy("Prepaid deposit")
    keys = KEYS

    def panel_context(self, customer, form=None):
        if form is None:
            form = DepositForm(initial={"customer": customer.pk, "method": CounterMethod.CASH})
        bills = list(open_bills(customer.pk).select_related("meter"))
        for bill in bills:
            bill.open_amount = money(bill.open_amount)  # SQLite sums as floats
        return {
            "customer": customer,
            "deposit_balance": deposit_of(customer.pk),
            "balance": balance_of(customer.pk),
            "open_bills": bills,
            "open_total": sum((bill.open_amount for bill in bills), deposit_queries.ZERO),
            "recent": Deposit.objects.filter(customer=customer).select_related("operator")[:5],
            "cross_zone": counter.is_cross_zone(self.request.user, customer),
            "form": form,
        }

    def post(self, request, *args, **kwargs):
        customer = get_object_or_404(self.customers(), pk=request.POST.get("customer") or 0)
        form = DepositForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                deposit = deposits.take_deposit(
                    request.user,
                    customer,
                    data["amount"],
                    method=data["method"],
                    tendered=data["tendered"],
                    note=data["note"],
                    pay_bills=data["pay_bills"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, taken_words(deposit, data["pay_bills"]))
                url = deposit.get_absolute_url()
                return HttpResponseClientRedirect(url) if is_htmx(request) else redirect(url)
        return self.render_panel(self.panel_context(customer, form))


def taken_words(deposit, pay_bills=False):
    words = _(
        "Deposit #%(pk)s: %(amount)s taken for %(account)s %(name)s; the deposit is now "
        "%(balance)s."
    ) % {
        "pk": deposit.pk,
        "amount": deposit.amount,
        "account": deposit.customer.account_no,
        "name": deposit.customer.name,
        "balance": deposit.balance_after,
    }
    if deposit.change:
        words += " " + _("Change to give: %(change)s.") % {"change": deposit.change}
    moved = deposit.transfer
    if moved is not None:
        words += " " + _(
            "%(bills)s bills paid from the deposit (%(amount)s); %(left)s is left."
        ) % {"bills": moved.bills, "amount": moved.amount, "left": moved.deposit_after}
    elif pay_bills:
        words += " " + _("No open bill could be paid from the deposit.")
    return words


# ------------------------------------------------------------------------- one deposit


def scoped_deposit(request, pk):
    deposits_seen = Deposit.objects.restrict(request.user).select_related(
        "customer", "zone", "operator", "unit", "entry", "correction", "correction__operator"
    )
    return get_object_or_404(deposits_seen, pk=pk)


class DepositDetailView(PermissionMixin, TemplateView):
    """A deposit: every field, its correction; buttons to print the voucher and correct."""

    permission_required = "payments.view_deposit"
    template_name = "payments/deposit_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        deposit, user = scoped_deposit(self.request, self.kwargs["pk"]), self.request.user
        problem = deposits.correction_problem(user, deposit, timezone.localdate())
        context.update(
            deposit=deposit,
            object=deposit,
            title=_("Prepaid deposit #%(pk)s") % {"pk": deposit.pk},
            voucher=deposits.voucher_number(deposit),
            method=deposit_queries.method_label(deposit),
            correction=getattr(deposit, "correction", None),
            can_correct=problem is None,
            correct_problem=problem,
            deposit_now=deposit_of(deposit.customer_id),
            history=history(deposit)[:50] if user.has_perm("core.view_auditentry") else None,
        )
        return context


class DepositVoucherView(PermissionMixin, View):
    """The deposit's voucher as a PDF, from the document engine's active layout."""

    permission_required = "payments.view_deposit"

    def get(self, request, pk):
        deposit = scoped_deposit(request, pk)
        context = deposit_queries.voucher_context(deposit, printed_by=operator_name(request.user))
        try:
            data = render_pdf(DocumentKind.DEPOSIT_VOUCHER, [context])
        except PRINT_ERRORS as exc:
            messages.error(request, str(exc))
            return redirect(deposit.get_absolute_url())
        return pdf_response(data, f"deposit-{deposits.voucher_number(deposit)}.pdf", inline=True)


class DepositCorrectView(PermissionMixin, TemplateView):
    """Correct a wrong deposit with a reason (its operator on its day; a supervisor later)."""

    permission_required = "payments.view_deposit"
    template_name = "payments/deposit_correct.html"

    def render_form(self, deposit, form):
        return self.render_to_response(
            self.get_context_data(
                deposit=deposit,
                form=form,
                method=deposit_queries.method_label(deposit),
                title=_("Correct deposit #%(pk)s") % {"pk": deposit.pk},
                problem=deposits.correction_problem(
                    self.request.user, deposit, timezone.localdate()
                ),
                deposit_now=deposit_of(deposit.customer_id),
            )
        )

    def reason_form(self, data=None):
        return ReasonForm(
            data,
            help_text=_("What went wrong: wrong account, wrong amount, typed twice."),
        )

    def get(self, request, pk):
        return self.render_form(scoped_deposit(request, pk), self.reason_form())

    def post(self, request, pk):
        deposit = scoped_deposit(request, pk)
        form = self.reason_form(request.POST)
        if form.is_valid():
            try:
                correction = deposits.correct_deposit(
                    request.user, deposit, form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Deposit #%(pk)s is corrected: %(amount)s off; the deposit is now %(after)s.")
                    % {
                        "pk": deposit.pk,
                        "amount": deposit.amount,
                        "after": correction.balance_after,
                    },
                )
                return redirect(deposit.get_absolute_url())
        return self.render_form(deposit, form)


# ------------------------------------------------------------------------- lists


class DepositListView(TotalsListView):
    """Prepaid deposits: every filter combines; totals over the filtered set; Excel."""

    model = Deposit
    table_class = DepositTable
    filterset_class = DepositFilterSet
    title = gettext_lazy("Prepaid deposits")
    export_name = "deposits"
    template_name = "payments/deposit_query.html"

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "zone", "operator", "correction")

    def get_totals(self, queryset):
        totals = deposit_queries.deposit_totals(queryset)
        return totals["count"], [
            ("deposit-count", _("Deposits"), totals["count"]),
            ("deposit-taken", _("Taken"), totals["taken"]),
            ("deposit-corrected", _("Corrected"), totals["corrected"]),
            ("deposit-net", _("Net"), totals["net"]),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.has_perm("payments.take_deposit"):
            context["actions"] = [(_("Take a deposit"), reverse("payments:deposit"))]
        return context


class DepositBalanceListView(TotalsListView):
    """Deposit balances (F4.5): accounts holding a deposit, zone totals and the company's."""

    model = Account
    permission_required = "payments.view_deposit"
    table_class = DepositBalanceTable
    filterset_class = DepositBalanceFilterSet
    title = gettext_lazy("Deposit balances")
    export_name = "deposit-balances"
    template_name = "payments/deposit_balances.html"

    def get_queryset(self):
        return deposit_queries.deposit_accounts(self.request.user)

    def get_totals(self, queryset):
        totals = deposit_queries.balance_totals(queryset)
        return totals["count"], [
            ("balance-count", _("Accounts"), totals["count"]),
            ("balance-total", _("Deposits held"), totals["total"]),
            ("balance-negative-count", _("Below zero"), totals["negative_count"]),
            ("balance-negative", _("Amount below zero"), totals["negative"]),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scope = deposit_queries.deposit_accounts(self.request.user)
        context.update(
            zones=deposit_queries.zone_balances(self.filtered_queryset()),
            company=deposit_queries.balance_totals(scope),
        )
        return context


class DepositEntryListView(TotalsListView):
    """The deposit pot's transactions (F4.6): deposits, corrections, transfers to bills and
    their undoing, with money in and out; every filter combines; Excel."""

    model = LedgerEntry
    permission_required = "payments.view_deposit"
    table_class = DepositEntryTable
    filterset_class = DepositEntryFilterSet
    title = gettext_lazy("Deposit transactions")
    export_name = "deposit-transactions"
    template_name = "payments/deposit_query.html"

    def get_queryset(self):
        return deposit_queries.pot_entries(self.request.user)

    def get_totals(self, queryset):
        totals = deposit_queries.entry_totals(queryset)
        return totals["count"], [
            ("entry-count", _("Transactions"), totals["count"]),
            ("entry-in", _("Into deposits"), totals["in"]),
            ("entry-out", _("Out of deposits"), totals["out"]),
            ("entry-net", _("Net"), totals["net"]),
        ]


# ------------------------------------------------------------------------- transfer runs


class TransferRunListView(TotalsListView):
    """Deposit transfer runs, and the form that starts one (F4.3)."""

    model = TransferRun
    permission_required = "payments.view_transferrun"
    table_class = TransferRunTable
    filterset_class = TransferRunFilterSet
    title = gettext_lazy("Deposit transfers")
    export_name = "deposit-transfer-runs"
    template_name = "payments/transfer_list.html"
    start_form = None

    def get_queryset(self):
        return super().get_queryset().select_related("zone", "started_by")

    def get_totals(self, queryset):
        totals = queryset.order_by().aggregate(
            n=Count("pk"),
            amount=Sum("amount"),
            bills=Sum("bills"),
        )
        return totals["n"], [
            ("run-count", _("Runs"), totals["n"]),
            ("run-bills", _("Bills paid"), totals["bills"] or 0),
            ("run-amount", _("Amount"), money(totals["amount"] or 0)),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if user.has_perm("payments.run_transfer"):
            context["start_form"] = self.start_form or TransferStartForm(user=user)
        return context

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("payments.run_transfer"):
            raise PermissionDenied(_("You do not have permission to do this."))
        form = TransferStartForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                run = deposits.start_transfer(request.user, form.cleaned_data["zone"])
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Deposit transfer #%(pk)s started.") % {"pk": run.pk})
                return redirect(run.get_absolute_url())
        self.start_form = form
        return self.get(request, *args, **kwargs)


def scoped_run(request, pk):
    runs = TransferRun.objects.restrict(request.user).select_related(
        "zone", "started_by", "bill_run"
    )
    return get_object_or_404(runs, pk=pk)


def run_context(run):
    running = run.finished_at is None
    if not running:
        percent = 100
    else:
        percent = round(100 * run.looked_at / run.candidates) if run.candidates else 0
    return {"run": run, "running": running, "failed": bool(run.error), "percent": percent}


class TransferRunDetailView(TotalsListView):
    """A transfer run: progress (refreshing itself while it runs), totals, parameters used,
    totals by zone, and its transfers (filters, Excel); undo one or all."""

    model = DepositTransfer
    permission_required = "payments.view_transferrun"
    table_class = DepositTransferTable
    filterset_class = DepositTransferFilterSet
    template_name = "payments/transfer_detail.html"

    def get_queryset(self):
        self.run = scoped_run(self.request, self.kwargs["pk"])
        self.export_name = f"deposit-transfer-{self.run.pk}"
        return (
            DepositTransfer.objects.restrict(self.request.user)
            .filter(run=self.run)
            .select_related("customer", "zone")
            .annotate(undo_pk=F("undo__id"))
        )

    def get_title(self):
        return _("Deposit transfer #%(pk)s") % {"pk": self.run.pk}

    def get(self, request, *args, **kwargs):
        if is_htmx(request):  # the progress polling
            run = scoped_run(request, kwargs["pk"])
            if run.finished_at is not None:  # done: the whole page once, with its transfers
                return HttpResponseClientRefresh()
            return self.response_class(
                request=request,
                template=["payments/transfer_progress.html"],
                context={**run_context(run), "request": request},
                using=self.template_engine,
            )
        return super().get(request, *args, **kwargs)

    def get_totals(self, queryset):
        totals = queryset.order_by().aggregate(
            n=Count("pk"),
            amount=Sum("amount"),
            bills=Sum("bills"),
        )
        return totals["n"], [
            ("transfer-count", _("Transfers"), totals["n"]),
            ("transfer-bills", _("Bills"), totals["bills"] or 0),
            ("transfer-amount", _("Amount"), money(totals["amount"] or 0)),
        ]

    def get_context_data(self, **kwargs):
        can_undo = self.request.user.has_perm("payments.undo_transfer")
        if kwargs.get("table") is not None:
            kwargs["table"].can_undo = can_undo
        context = super().get_context_data(**kwargs)
        transfers = DepositTransfer.objects.restrict(self.request.user).filter(run=self.run)
        context.update(
            run_context(self.run),
            zones=deposit_queries.run_zone_totals(transfers),
            can_undo=can_undo and transfers.filter(undo__isnull=True).exists(),
            history=history(self.run)[:50]
            if self.request.user.has_perm("core.view_auditentry")
            else None,
        )
        return context


class TransferReportView(PermissionMixin, View):
    """The run's result report (Excel): one row per bill a transfer paid."""

    permission_required = "payments.view_transferrun"

    def get(self, request, pk):
        run = scoped_run(request, pk)
        transfers = DepositTransfer.objects.restrict(request.user).filter(run=run)
        return xlsx_response(
            f"deposit-transfer-{run.pk}-bills",
            str(_("Bills paid")),
            deposit_queries.report_header(),
            deposit_queries.transfer_report_rows(transfers),
        )


class TransferUndoView(PermissionMixin, TemplateView):
    """Undo one transfer with a reason: its bills open again, the money back in the deposit;
    refused (and why) while an invoice covers one of its bills."""

    permission_required = "payments.undo_transfer"
    template_name = "payments/transfer_undo.html"

    def get_transfer(self):
        transfers = DepositTransfer.objects.restrict(self.request.user).select_related(
            "customer", "run", "zone"
        )
        return get_object_or_404(transfers, pk=self.kwargs["pk"])

    def render_form(self, transfer, form):
        return self.render_to_response(
            self.get_context_data(
                transfer=transfer,
                form=form,
                bills=deposits.transfer_bills(transfer),
                problem=deposits.undo_problem(transfer),
                title=_("Undo the transfer of %(account)s (run #%(run)s)")
                % {"account": transfer.customer.account_no, "run": transfer.run_id},
            )
        )

    def reason_form(self, data=None):
        return ReasonForm(data, help_text=_("Why the bills go back to unpaid."))

    def get(self, request, pk):
        return self.render_form(self.get_transfer(), self.reason_form())

    def post(self, request, pk):
        transfer = self.get_transfer()
        form = self.reason_form(request.POST)
        if form.is_valid():
            try:
                deposits.undo_transfer(request.user, transfer, form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("The transfer of %(account)s is undone: %(amount)s is back in the deposit.")
                    % {"account": transfer.customer.account_no, "amount": transfer.amount},
                )
                return redirect(transfer.run.get_absolute_url())
        return self.render_form(transfer, form)


class TransferRunUndoView(PermissionMixin, TemplateView):
    """Undo every transfer of a run that can be; the answer lists those kept, and why."""

    permission_required = "payments.undo_transfer"
    template_name = "payments/transfer_run_undo.html"

    def render_form(self, run, form, **extra):
        pending = DepositTransfer.objects.restrict(self.request.user).filter(
            run=run, undo__isnull=True
        )
        return self.render_to_response(
            self.get_context_data(
                run=run,
                form=form,
                pending=pending.count(),
                pending_amount=money(pending.aggregate(t=Sum("amount"))["t"] or 0),
                title=_("Undo deposit transfer #%(pk)s") % {"pk": run.pk},
                **extra,
            )
        )

    def get(self, request, pk):
        return self.render_form(scoped_run(request, pk), ReasonForm())

    def post(self, request, pk):
        run = scoped_run(request, pk)
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                undone, kept = deposits.undo_run(request.user, run, form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                return self.render_form(run, form, done=True, undone=undone, kept=kept)
        return self.render_form(run, form)
