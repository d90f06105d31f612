"""Pages of the customer import and export (.xlsx in the import layout)."""

from django import forms
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from watermis.core import reports
from watermis.core.export import xlsx_response
from watermis.core.forms import ScopedFormMixin
from watermis.core.reports import XLSX, delete_old_reports  # noqa: F401 - part of this module
from watermis.core.views import PermissionMixin
from watermis.org.models import Zone

from . import importer
from .models import Book, Customer

SESSION_KEY = "customer_import_reports"
MAX_SHOWN_ERRORS = 500
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class ImportForm(ScopedFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Choose an Excel (.xlsx) file."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB."))
        return upload


class ExportForm(ScopedFormMixin, forms.Form):
    zone = forms.ModelChoiceField(
        label=gettext_lazy("zone"), queryset=Zone.objects.all(), required=False
    )
    book = forms.ModelChoiceField(
        label=gettext_lazy("reading book"),
        queryset=Book.objects.select_related("area"),
        required=False,
    )


class ImportView(PermissionMixin, TemplateView):
    """Upload a file; the answer is the result page (counts, or every error)."""

    permission_required = "customers.add_customer"
    template_name = "customers/import_form.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("title", _("Import customers and meters"))
        return super().get_context_data(columns=importer.COLUMNS, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=ImportForm(user=request.user)))

    def post(self, request, *args, **kwargs):
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            result = importer.import_file(request.user, form.cleaned_data["file"])
        except importer.ImportFileError as exc:
            form.add_error("file", str(exc))
            return self.render_to_response(self.get_context_data(form=form))
        token = None
        if result.errors:
            token = reports.save_error_report(
                request, SESSION_KEY, lambda out: importer.error_report(result, out)
            )
        self.template_name = "customers/import_result.html"
        return self.render_to_response(
            self.get_context_data(
                title=_("Import result"),
                result=result,
                errors=result.errors[:MAX_SHOWN_ERRORS],
                more_errors=max(0, len(result.errors) - MAX_SHOWN_ERRORS),
                error_rows=len({e.row for e in result.errors}),
                token=token,
            )
        )


class ErrorReportView(PermissionMixin, TemplateView):
    """The error report of one of this session's imports, to the operator who made it."""

    permission_required = "customers.add_customer"

    def get(self, request, token, *args, **kwargs):
        return reports.error_report_response(request, SESSION_KEY, token, "import-errors.xlsx")


class TemplateFileView(PermissionMixin, TemplateView):
    permission_required = "customers.add_customer"

    def get(self, request, *args, **kwargs):
        response = HttpResponse(importer.template_file(), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="customer-import-template.xlsx"'
        return response


class ExportView(PermissionMixin, TemplateView):
    """Customers of a zone or book in the import layout (re-imports cleanly)."""

    permission_required = "customers.view_customer"
    template_name = "customers/import_export.html"

    def get(self, request, *args, **kwargs):
        form = ExportForm(request.GET or None, user=request.user)
        if request.GET.get("export") == "xlsx" and form.is_valid():
            customers = Customer.objects.restrict(request.user, "view")
            if form.cleaned_data["zone"]:
                customers = customers.filter(zone=form.cleaned_data["zone"])
            if form.cleaned_data["book"]:
                customers = customers.filter(book=form.cleaned_data["book"])
            return xlsx_response(
                "customers", "customers", importer.HEADERS, importer.export_rows(customers)
            )
        return self.render_to_response(
            self.get_context_data(
                title=_("Export customers and meters"),
                form=form,
                today=timezone.localdate(),
            )
        )
