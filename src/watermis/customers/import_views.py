"""Pages of the customer import and export (.xlsx in the import layout)."""

import datetime
import re
import secrets

from django import forms
from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from watermis.core.export import xlsx_response
from watermis.core.forms import ScopedFormMixin
from watermis.core.views import PermissionMixin
from watermis.org.models import Zone

from . import importer
from .models import Book, Customer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_KEY = "customer_import_reports"
MAX_SHOWN_ERRORS = 500
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


REPORT_DAYS = 7  # error reports are kept this long
TOKEN = re.compile(r"[0-9a-f]{32}")


def _reports_dir():
    path = settings.DATA_DIR / "import_reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _report_path(user, token):
    """Where the report ``token`` of ``user`` is kept: the operator's id is in the name,
    so a report is only ever found for the operator who made it."""
    return _reports_dir() / f"{user.pk}-{token}.xlsx"


def delete_old_reports(now=None):
    """Delete error reports older than ``REPORT_DAYS`` days; returns how many."""
    now = now or timezone.now()
    cutoff = (now - datetime.timedelta(days=REPORT_DAYS)).timestamp()
    deleted = 0
    for path in _reports_dir().glob("*.xlsx"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # another request deleted it first
            continue
    return deleted


def save_error_report(user, result, now=None):
    """Write the error report of ``user``'s import; returns its token. Old reports go first."""
    delete_old_reports(now)
    token = secrets.token_hex(16)
    with open(_report_path(user, token), "wb") as out:
        importer.error_report(result, out)
    return token


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
            token = save_error_report(request.user, result)
            request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, [])[-9:], token]
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
        if not TOKEN.fullmatch(token) or token not in request.session.get(SESSION_KEY, []):
            raise Http404
        path = _report_path(request.user, token)
        if not path.exists():
            raise Http404
        return FileResponse(
            open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
            as_attachment=True,
            filename="import-errors.xlsx",
            content_type=XLSX,
        )


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
