"""Pages of the handheld reading files (F2.3): download a period's book, upload the reads."""

import tempfile
import time

from django import forms
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from watermis.core import reports
from watermis.core.forms import ScopedFormMixin
from watermis.core.views import PermissionMixin
from watermis.customers.models import Book
from watermis.org.models import Employee

from . import handheld
from .models import PeriodStatus, ReadingPeriod

SESSION_KEY = "reading_file_reports"
MAX_SHOWN_ERRORS = 500
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
FORMATS = [("xlsx", "Excel (.xlsx)"), ("csv", "CSV (UTF-8)")]


class DownloadForm(ScopedFormMixin, forms.Form):
    period = forms.ModelChoiceField(
        label=gettext_lazy("reading period"),
        queryset=ReadingPeriod.objects.filter(
            status=PeriodStatus.OPEN, book__isnull=False
        ).select_related("book"),
        required=False,
        help_text=gettext_lazy("One period; or leave it empty and choose a book or a reader."),
    )
    book = forms.ModelChoiceField(
        label=gettext_lazy("reading book"),
        queryset=Book.objects.filter(active=True),
        required=False,
        help_text=gettext_lazy("All open periods of the book."),
    )
    reader = forms.ModelChoiceField(
        label=gettext_lazy("meter reader"),
        queryset=Employee.objects.filter(is_reader=True, active=True),
        required=False,
        help_text=gettext_lazy("All open periods of the reader's books."),
    )
    format = forms.ChoiceField(label=gettext_lazy("format"), choices=FORMATS, initial="xlsx")

    def clean(self):
        data = super().clean()
        if not (data.get("period") or data.get("book") or data.get("reader")):
            raise forms.ValidationError(_("Choose a period, a book or a reader."))
        return data

    def periods(self):
        """The open periods chosen (scoped), by month and book."""
        data = self.cleaned_data
        periods = (
            ReadingPeriod.objects.restrict(self.user, "view")
            .filter(status=PeriodStatus.OPEN, book__isnull=False)
            .select_related("book")
        )
        if data.get("period"):
            periods = periods.filter(pk=data["period"].pk)
        if data.get("book"):
            periods = periods.filter(book=data["book"])
        if data.get("reader"):
            periods = periods.filter(book__reader=data["reader"])
        return periods.order_by("month", "book__code")


class UploadForm(ScopedFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Handheld file (.csv or .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Choose a .csv or .xlsx file."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 100 MB."))
        return upload


class FileDownloadView(PermissionMixin, TemplateView):
    """Choose the periods; the answer is the file in the documented layout."""

    permission_required = "readings.view_reading"
    template_name = "readings/file_download.html"

    def get(self, request, *args, **kwargs):
        form = DownloadForm(request.GET or None, user=request.user)
        if request.GET and form.is_valid():
            periods = list(form.periods())
            if periods:
                fmt = form.cleaned_data["format"]
                spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
                if fmt == "csv":
                    handheld.write_csv(spool, periods)
                    content_type = handheld.CSV_CONTENT_TYPE
                else:
                    handheld.write_excel(spool, periods)
                    content_type = handheld.XLSX_CONTENT_TYPE
                spool.seek(0)
                return FileResponse(
                    spool,
                    as_attachment=True,
                    filename=handheld.file_name(periods, fmt),
                    content_type=content_type,
                )
            form.add_error(None, _("No open reading period matches."))
        return self.render_to_response(
            self.get_context_data(
                title=_("Download handheld files"),
                form=form,
                columns=handheld.COLUMNS,
                statuses=handheld.status_labels().items(),
            )
        )


class FileUploadView(PermissionMixin, TemplateView):
    """Upload a filled file; the answer is the result page (counts, or every error)."""

    permission_required = "readings.change_reading"
    template_name = "readings/file_upload.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("title", _("Upload handheld files"))
        return super().get_context_data(**kwargs)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=UploadForm(user=request.user)))

    def post(self, request, *args, **kwargs):
        form = UploadForm(request.POST, request.FILES, user=request.user)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        upload = form.cleaned_data["file"]
        started = time.perf_counter()
        try:
            result = handheld.import_file(
                request.user, upload, upload.name, today=timezone.localdate()
            )
        except handheld.HandheldFileError as exc:
            form.add_error("file", str(exc))
            return self.render_to_response(self.get_context_data(form=form))
        seconds = time.perf_counter() - started
        token = None
        if result.errors:
            upload.seek(0)
            token = reports.save_error_report(
                request,
                SESSION_KEY,
                lambda out: handheld.error_report(upload, upload.name, result.errors, out),
            )
        self.template_name = "readings/file_result.html"
        return self.render_to_response(
            self.get_context_data(
                title=_("Upload result"),
                result=result,
                file_name=upload.name,
                seconds=round(seconds, 1),
                errors=result.errors[:MAX_SHOWN_ERRORS],
                more_errors=max(0, len(result.errors) - MAX_SHOWN_ERRORS),
                error_rows=len({e.row for e in result.errors}),
                token=token,
            )
        )


class FileErrorReportView(PermissionMixin, TemplateView):
    """The error report of one of this session's uploads."""

    permission_required = "readings.change_reading"

    def get(self, request, token, *args, **kwargs):
        return reports.error_report_response(
            request, SESSION_KEY, token, "reading-file-errors.xlsx"
        )
