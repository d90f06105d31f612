"""Bank collection pages (F3.23): banks and their layouts; batches (list, generate with a
preview, detail with its lines, the bank's file, the result upload, the report, cancel).

Every page needs a named permission and reads batches through the restricted queryset, so
a batch of another zone answers 404. Every change goes through :mod:`.bank`, which checks
the permission, the zone and the rules again inside its transaction.
"""

import tempfile
import time

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View

from watermis.billing.bill_tables import money
from watermis.billing.bill_views import TotalsListView
from watermis.core import reports
from watermis.core.export import write_xlsx
from watermis.core.journal import history
from watermis.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    PermissionMixin,
    add_service_errors,
)
from watermis.documents.fonts import FontMissing
from watermis.documents.models import DocumentKind
from watermis.documents.pdf import DocumentRenderError, NothingToPrint
from watermis.documents.services import render_pdf
from watermis.documents.sources import operator_name
from watermis.documents.views import pdf_response

from . import bank
from .bank_filtersets import BankBatchFilterSet, BankBatchLineFilterSet, BankFilterSet
from .bank_formats import Layout, describe_fields
from .bank_forms import BankForm, CancelBatchForm, GenerateForm, ResultUploadForm
from .bank_queries import bank_slip_contexts, batch_summary, write_batch_report
from .bank_tables import BATCH_CSS, BankBatchLineTable, BankBatchTable, BankTable, badge
from .models import Bank, BankBatch, BankBatchLine, BatchState

SESSION_KEY = "bank_result_reports"
MAX_SHOWN_ERRORS = 200
XLSX = reports.XLSX


# ------------------------------------------------------------------------- banks


class BankListView(ObjectListView):
    model = Bank
    table_class = BankTable
    filterset_class = BankFilterSet
    create_url = "payments:bank_add"
    export_name = "banks"


class BankDetailView(ObjectDetailView):
    model = Bank
    edit_url = "payments:bank_edit"
    template_name = "payments/bank_detail.html"

    def get_fields(self, obj):
        rows = []
        for field in obj._meta.concrete_fields:
            if field.name in ("id", "detail_fields", "summary_fields", "result_fields"):
                continue
            if field.choices:
                value = getattr(obj, f"get_{field.name}_display")()
            else:
                value = getattr(obj, field.name)
            rows.append((field.verbose_name, value))
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        layout = Layout(context["object"])
        context["layouts"] = [
            (_("Deduction record"), layout.detail, layout.record_width(layout.detail)),
            (_("Totals record"), layout.summary, layout.record_width(layout.summary)),
            (_("Result record"), layout.result, layout.record_width(layout.result)),
        ]
        return context


class BankEditView(ObjectEditView):
    model = Bank
    form_class = BankForm
    template_name = "payments/bank_form.html"
    create_service = bank.create_bank
    update_service = bank.update_bank

    def get_context_data(self, **kwargs):
        return super().get_context_data(catalogue=describe_fields(), **kwargs)


# ------------------------------------------------------------------------- batches


class BatchListView(TotalsListView):
    """Bank batches: combinable filters, totals of the filtered batches, Excel."""

    model = BankBatch
    title = gettext_lazy("Bank batches")
    table_class = BankBatchTable
    filterset_class = BankBatchFilterSet
    export_name = "bank-batches"
    template_name = "payments/bank_query.html"

    def get_queryset(self):
        return super().get_queryset().select_related("bank", "zone", "created_by")

    def get_totals(self, queryset):
        sums = queryset.order_by().aggregate(
            n=Count("pk"),
            amount=Sum("amount"),
            paid=Sum("paid_amount"),
            failed=Sum("failed_amount"),
        )
        return sums["n"], [
            ("batch-count", _("Batches"), sums["n"]),
            ("batch-amount", _("Amount sent"), money(sums["amount"])),
            ("batch-paid", _("Amount paid"), money(sums["paid"])),
            ("batch-failed", _("Amount failed"), money(sums["failed"])),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.has_perm("payments.add_bankbatch"):
            context["actions"] = [(_("Generate a batch"), reverse("payments:batch_generate"))]
        return context


class BatchGenerateView(PermissionMixin, TemplateView):
    """Choose the zone (bank, books, months), see what would go, then generate."""

    permission_required = "payments.add_bankbatch"
    template_name = "payments/bank_generate.html"

    def render(self, form, previews=None):
        return self.render_to_response(
            self.get_context_data(form=form, previews=previews, title=_("Generate a bank batch"))
        )

    def get(self, request, *args, **kwargs):
        return self.render(GenerateForm(user=request.user))

    def post(self, request, *args, **kwargs):
        form = GenerateForm(request.POST, user=request.user)
        if not form.is_valid():
            return self.render(form)
        data = form.cleaned_data
        options = {
            "bank": data["bank"],
            "books": list(data["books"]),
            "month_from": data["month_from"],
            "month_to": data["month_to"],
        }
        try:
            if request.POST.get("action") != "generate":
                previews = bank.preview_batches(request.user, data["zone"], **options)
                return self.render(form, previews)
            batches = bank.generate_batches(request.user, data["zone"], **options)
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
            return self.render(form)
        for batch in batches:
            messages.success(
                request,
                _("Batch %(number)s: %(n)s bills, %(amount)s.")
                % {"number": batch.number, "n": batch.line_count, "amount": batch.amount},
            )
        if len(batches) == 1:
            return redirect(batches[0].get_absolute_url())
        return redirect(reverse("payments:batch_list") + "?state=open")


def scoped_batch(request, pk, action="view"):
    """The batch if the operator may ``action`` it (else 404)."""
    batches = BankBatch.objects.restrict(request.user, action).select_related(
        "bank", "zone", "created_by", "cancelled_by", "exported_by"
    )
    return get_object_or_404(batches, pk=pk)


class BatchDetailView(TotalsListView):
    """A batch: its figures, its result files, its lines (filters, Excel), its actions."""

    model = BankBatchLine
    table_class = BankBatchLineTable
    filterset_class = BankBatchLineFilterSet
    template_name = "payments/bank_batch_detail.html"
    permission_required = "payments.view_bankbatch"

    def get_permission_required(self):
        return self.permission_required

    def get_queryset(self):
        self.batch = scoped_batch(self.request, self.kwargs["pk"])
        self.export_name = f"bank-batch-{self.batch.number}"
        return self.batch.lines.select_related("customer")

    def get_title(self):
        return _("Bank batch %(number)s") % {"number": self.batch.number}

    def get_totals(self, queryset):
        sums = queryset.order_by().aggregate(n=Count("pk"), amount=Sum("amount"))
        return sums["n"], [
            ("line-count", _("Lines"), sums["n"]),
            ("line-amount", _("Amount"), money(sums["amount"])),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        batch, user = self.batch, self.request.user
        is_open = batch.state != BatchState.CANCELLED and batch.open_count > 0
        context.update(
            batch=batch,
            state_badge=badge(BATCH_CSS, batch.state, batch.get_state_display()),
            summary=batch_summary(batch),
            results=batch.results.select_related("imported_by").order_by("imported_at", "id"),
            can_download=is_open and user.has_perm("payments.add_bankbatch"),
            can_import=is_open and user.has_perm("payments.import_bankbatch"),
            can_cancel=bank.cancel_problem(batch) is None
            and user.has_perm("payments.cancel_bankbatch"),
            history=history(batch)[:50] if user.has_perm("core.view_auditentry") else None,
        )
        return context


class BatchFileView(PermissionMixin, View):
    """The bank's deduction file of a batch (the lines still at the bank)."""

    permission_required = "payments.add_bankbatch"

    def get(self, request, pk):
        batch = scoped_batch(request, pk)
        try:
            name, data = bank.export_file(request.user, batch)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(batch.get_absolute_url())
        response = HttpResponse(data, content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response


class BatchSlipsView(PermissionMixin, View):
    """The batch's bank collection slips (托收单), one per customer, as one PDF."""

    permission_required = "payments.view_bankbatch"

    def get(self, request, pk):
        batch = scoped_batch(request, pk)
        contexts = bank_slip_contexts(batch, printed_by=operator_name(request.user))
        try:
            data = render_pdf(DocumentKind.BANK_SLIP, contexts)
        except (DocumentRenderError, FontMissing) as exc:
            messages.error(
                request,
                str(exc)
                if not isinstance(exc, NothingToPrint)
                else _(
                    "No line of this batch is at the bank or deducted: there is no slip to print."
                ),
            )
            return redirect(batch.get_absolute_url())
        return pdf_response(data, f"bank-slips-{batch.number}.pdf")


class BatchReportView(PermissionMixin, View):
    """The batch's report: counts and sums, the result files, every line (Excel)."""

    permission_required = "payments.view_bankbatch"

    def get(self, request, pk):
        batch = scoped_batch(request, pk)
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        write_batch_report(batch, spool)
        spool.seek(0)
        return FileResponse(
            spool,
            as_attachment=True,
            filename=f"bank-batch-{batch.number}.xlsx",
            content_type=XLSX,
        )


def write_error_report(data, encoding, errors, out):
    """The refused file's problems as .xlsx: line, field, problem, and the line itself."""
    lines = data.split(b"\n")

    def text(number):
        if 1 <= number <= len(lines):
            return lines[number - 1].rstrip(b"\r").decode(encoding, "replace")
        return ""

    write_xlsx(
        out,
        _("Errors"),
        [_("Line"), _("Field"), _("Problem"), _("Record")],
        ([e.line, e.field, e.message, text(e.line)] for e in errors),
    )


class BatchResultView(PermissionMixin, TemplateView):
    """Upload the bank's result file; the answer is what it did, or every problem found."""

    permission_required = "payments.import_bankbatch"
    template_name = "payments/bank_result_form.html"

    def render(self, batch, form, **extra):
        return self.render_to_response(
            self.get_context_data(
                batch=batch,
                form=form,
                title=_("Import the result of batch %(number)s") % {"number": batch.number},
                **extra,
            )
        )

    def get(self, request, pk):
        return self.render(scoped_batch(request, pk, "import"), ResultUploadForm())

    def post(self, request, pk):
        batch = scoped_batch(request, pk, "import")
        form = ResultUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render(batch, form)
        upload = form.cleaned_data["file"]
        data = upload.read()
        started = time.perf_counter()
        try:
            outcome = bank.import_result(
                request.user,
                batch,
                data,
                upload.name,
                business_date=form.cleaned_data["business_date"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.render(batch, form)
        except bank.BankFileRefused as exc:
            errors = exc.errors
            token = reports.save_error_report(
                request,
                SESSION_KEY,
                lambda out: write_error_report(data, batch.bank.encoding, errors, out),
            )
            self.template_name = "payments/bank_result.html"
            return self.render(
                batch,
                form,
                refused=True,
                file_name=upload.name,
                errors=errors[:MAX_SHOWN_ERRORS],
                error_count=len(errors),
                more_errors=max(0, len(errors) - MAX_SHOWN_ERRORS),
                token=token,
            )
        seconds = time.perf_counter() - started
        batch.refresh_from_db()
        self.template_name = "payments/bank_result.html"
        return self.render(
            batch,
            form,
            refused=False,
            file_name=upload.name,
            result=outcome.result,
            outcome=outcome,
            seconds=round(seconds, 1),
        )


class BatchErrorReportView(PermissionMixin, View):
    """The error report of one of this session's refused result files."""

    permission_required = "payments.import_bankbatch"

    def get(self, request, token):
        return reports.error_report_response(request, SESSION_KEY, token, "bank-result-errors.xlsx")


class BatchCancelView(PermissionMixin, TemplateView):
    """Cancel a batch before any result: its bills leave the bank."""

    permission_required = "payments.cancel_bankbatch"
    template_name = "payments/bank_cancel.html"

    def render(self, batch, form):
        return self.render_to_response(
            self.get_context_data(
                batch=batch,
                form=form,
                problem=bank.cancel_problem(batch),
                summary=batch_summary(batch),
                title=_("Cancel batch %(number)s") % {"number": batch.number},
            )
        )

    def get(self, request, pk):
        return self.render(scoped_batch(request, pk, "cancel"), CancelBatchForm())

    def post(self, request, pk):
        batch = scoped_batch(request, pk, "cancel")
        form = CancelBatchForm(request.POST)
        if form.is_valid():
            try:
                released = bank.cancel_batch(request.user, batch, form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Batch %(number)s is cancelled: %(n)s bills are released.")
                    % {"number": batch.number, "n": released},
                )
                return redirect(batch.get_absolute_url())
        return self.render(batch, form)
