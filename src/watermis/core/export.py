"""Excel export of any table: streamed row by row, so a large query stays in little memory.

A sheet holds at most Excel's 1,048,576 rows: a longer export goes on in a second sheet
(and more), each with the header. A list export is refused past ``WATERMIS_EXPORT_CAP``
rows (default 1,000,000): writing millions of rows in one request takes longer than
anyone waits, and the statistical reports sum a selection of any size.
"""

import datetime
import decimal
import tempfile

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tables2 import RequestConfig
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .paging import capped_count, queryset_of

SHEET_ROWS = 1_048_576  # Excel's rows a sheet, the header included
EXPORT_CAP = getattr(settings, "WATERMIS_EXPORT_CAP", 1_000_000)


def _cell_value(value):
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal | int | float | datetime.date):
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return timezone.localtime(value).replace(tzinfo=None)
        return value
    return str(value)


def write_xlsx(fileobj, title, header, rows):
    """Write the header row in bold, then ``rows``, to ``fileobj``: one sheet, or as many as
    Excel's row limit needs (the second titled "<title> (2)", each with the header)."""
    wb = Workbook(write_only=True)
    title = title or "Sheet1"
    bold = Font(bold=True)
    sheets = 0
    room = 0
    for row in rows:
        if room == 0:
            sheets += 1
            name = title[:31] if sheets == 1 else f"{title[:25]} ({sheets})"
            ws = _new_sheet(wb, name, header, bold)
            room = SHEET_ROWS - 1
        ws.append([_cell_value(v) for v in row])
        room -= 1
    if sheets == 0:
        _new_sheet(wb, title[:31], header, bold)
    wb.save(fileobj)


def _new_sheet(wb, title, header, bold):
    ws = wb.create_sheet(title=title)
    cells = []
    for name in header:
        cell = WriteOnlyCell(ws, value=str(name))
        cell.font = bold
        cells.append(cell)
    ws.append(cells)
    return ws


def xlsx_response(filename, title, header, rows):
    """An attachment response with the workbook, spooled to disk past 8 MB."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_xlsx(spool, title, header, rows)
    spool.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{filename}-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def table_rows(table):
    """Header and rows of a django-tables2 table as plain values (export columns only)."""
    values = iter(table.as_values())
    header = next(values)
    return header, values


def export_table(request, table, name, title):
    """A list page's export: every row of ``table`` (the page's filters and sort, not its
    paging) as a workbook. Past ``EXPORT_CAP`` rows, back to the page saying so."""
    RequestConfig(request, paginate=False).configure(table)
    queryset = queryset_of(table.data)
    if queryset is not None and capped_count(queryset, cap=EXPORT_CAP) > EXPORT_CAP:
        messages.error(
            request,
            _(
                "More than %(cap)s rows are chosen, too many for one export: narrow the "
                "filters. The statistical reports sum a selection of any size."
            )
            % {"cap": f"{EXPORT_CAP:,}"},
        )
        query = request.GET.copy()
        query.pop("export", None)
        return redirect(f"{request.path}?{query.urlencode()}")
    header, rows = table_rows(table)
    return xlsx_response(name, str(title), header, rows)
