"""Bill-run pages (start, preview, progress, resume) and month-end (F3.26)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from watermis.core.views import ObjectListView, PermissionMixin, add_service_errors

from . import billrun, monthend
from .models import BillRun, BookStatus, MonthEnd, RunStatus
from .run_forms import MonthEndForm, StartRunForm
from .run_tables import BillRunTable, MonthEndTable


class BillRunListView(ObjectListView):
    model = BillRun
    table_class = BillRunTable
    title = gettext_lazy("Bill runs")
    create_url = "billing:run_start"
    export_name = "bill-runs"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("zone", "started_by")
            .annotate(
                book_total=Count("books"),
                done=Count("books", filter=Q(books__status=BookStatus.DONE)),
                bills=Sum("books__bill_count"),
                total=Sum("books__amount"),
            )
        )


class StartRunView(PermissionMixin, TemplateView):
    """Start a bill run or its preview for a zone's month."""

    permission_required = "billing.run_billing"
    template_name = "billing/run_start.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(
            self.get_context_data(form=StartRunForm(user=request.user), title=_("Bill run"))
        )

    def post(self, request, *args, **kwargs):
        form = StartRunForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = billrun.start_run(
                    request.user,
                    data["zone"],
                    data["month"],
                    dry_run=data["dry_run"],
                    issued_on=data["issued_on"],
                )
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(form, exc)
            else:
                return redirect(run.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form, title=_("Bill run")))


class BillRunDetailView(PermissionMixin, TemplateView):
    """A run's progress book by book (refreshing itself while it runs) and its totals."""

    permission_required = "billing.view_billrun"

    def get_template_names(self):
        if self.request.htmx:
            return ["billing/run_progress.html"]
        return ["billing/run_detail.html"]

    def get_context_data(self, **kwargs):
        run = get_object_or_404(
            BillRun.objects.restrict(self.request.user, "view").select_related(
                "zone", "started_by"
            ),
            pk=self.kwargs["pk"],
        )
        summary = billrun.run_summary(run)
        counts = summary["counts"]
        percent = round(100 * counts["done"] / counts["total"]) if counts["total"] else 100
        return super().get_context_data(
            run=run,
            summary=summary,
            percent=percent,
            running=summary["status"] == RunStatus.RUNNING,
            failed=summary["status"] == RunStatus.FAILED,
            can_run=self.request.user.has_perm("billing.run_billing"),
            skipped_reads=[r for b in summary["books"] for r in b.totals.get("skipped_reads", [])],
            title=_("Bill run %(zone)s %(month)s")
            % {"zone": run.zone, "month": f"{run.month:%Y-%m}"},
            **kwargs,
        )


class ResumeRunView(PermissionMixin, TemplateView):
    permission_required = "billing.run_billing"

    def get(self, request, pk):
        return redirect("billing:run_detail", pk=pk)

    def post(self, request, pk):
        run = get_object_or_404(BillRun.objects.restrict(request.user, "view"), pk=pk)
        try:
            count = billrun.resume_run(request.user, run)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("%(count)s books queued again.") % {"count": count})
        return redirect(run.get_absolute_url())


class MonthEndView(PermissionMixin, TemplateView):
    """Check a zone's month, then close it (and open the next)."""

    permission_required = "billing.close_month"
    template_name = "billing/month_end.html"

    def render(self, form, checks=None, figures=None):
        return self.render_to_response(
            self.get_context_data(form=form, checks=checks, figures=figures, title=_("Month-end"))
        )

    def get(self, request, *args, **kwargs):
        form = MonthEndForm(request.GET or None, user=request.user)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            return self.render(
                form,
                monthend.month_checks(data["zone"], data["month"]),
                monthend.month_figures(data["zone"], data["month"]),
            )
        return self.render(MonthEndForm(user=request.user))

    def post(self, request, *args, **kwargs):
        form = MonthEndForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = monthend.close_month(
                    request.user, data["zone"], data["month"], data["note"]
                )
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(zone)s %(month)s is closed.")
                    % {"zone": record.zone, "month": f"{record.month:%Y-%m}"},
                )
                return redirect("billing:monthend_list")
            return self.render(
                form,
                monthend.month_checks(data["zone"], data["month"]),
                monthend.month_figures(data["zone"], data["month"]),
            )
        return self.render(form)


class MonthEndListView(ObjectListView):
    model = MonthEnd
    table_class = MonthEndTable
    title = gettext_lazy("Closed months")
    create_url = "billing:month_end"
    export_name = "month-ends"

    def get_queryset(self):
        return super().get_queryset().select_related("zone", "closed_by")
