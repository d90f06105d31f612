"""Error reports of uploaded files (customer imports, handheld reading files).

A report is an .xlsx written under ``DATA_DIR/import_reports`` with the
operator's id in its name, remembered in the uploader's session, and served
only to that operator. Reports older than ``REPORT_DAYS`` days are deleted
whenever a new one is written.
"""

import datetime
import re
import secrets

from django.conf import settings
from django.http import FileResponse, Http404
from django.utils import timezone

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_DAYS = 7
TOKEN = re.compile(r"[0-9a-f]{32}")
KEPT_PER_SESSION = 10


def reports_dir():
    path = settings.DATA_DIR / "import_reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def report_path(user, token):
    """Where ``user``'s report ``token`` is kept: found only for the operator who made it."""
    return reports_dir() / f"{user.pk}-{token}.xlsx"


def delete_old_reports(now=None):
    """Delete error reports older than ``REPORT_DAYS`` days; returns how many."""
    now = now or timezone.now()
    cutoff = (now - datetime.timedelta(days=REPORT_DAYS)).timestamp()
    deleted = 0
    for path in reports_dir().glob("*.xlsx"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # another request deleted it first
            continue
    return deleted


def save_error_report(request, session_key, write, now=None):
    """Write a report with ``write(binary file)`` for the request's operator; returns its token."""
    delete_old_reports(now)
    token = secrets.token_hex(16)
    with open(report_path(request.user, token), "wb") as out:
        write(out)
    kept = request.session.get(session_key, [])[-(KEPT_PER_SESSION - 1) :]
    request.session[session_key] = [*kept, token]
    return token


def error_report_response(request, session_key, token, filename):
    """The report as a download, or 404 unless this session and operator made it."""
    if not TOKEN.fullmatch(token) or token not in request.session.get(session_key, []):
        raise Http404
    path = report_path(request.user, token)
    if not path.exists():
        raise Http404
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=filename,
        content_type=XLSX,
    )
