"""Excel export of any table: streamed row by row, so a large query stays in little memory."""

import datetime
import decimal
import tempfile

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font


def _cell_value(value):
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal | int | float | datetime.date):
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return timezone.localtime(value).replace(tzinfo=None)
        return value
    return str(value)


def write_xlsx(fileobj, title, header, rows):
    """Write one sheet (header row in bold, then rows) to ``fileobj``."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "Sheet1")
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(ws, value=str(name))
        cell.font = bold
        cells.append(cell)
    ws.append(cells)
    for row in rows:
        ws.append([_cell_value(v) for v in row])
    wb.save(fileobj)


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
