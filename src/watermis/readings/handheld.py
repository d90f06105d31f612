"""Handheld reading files (F2.3): a book's period out to the reader's device, the reads back in.

The layout is documented in ``docs/handheld-file.md``. One row per meter of a
period (the first read of the month), in the period's route order. The file
comes as CSV (UTF-8 with a byte-order mark, so Excel shows Chinese correctly;
on the way back a CSV saved by Excel in GB18030/GBK is read too) or as Excel
(.xlsx). Headers are fixed Chinese names (a data format, not a translated
page); columns may come in any order, unknown columns are ignored.

Uploading: every row with a current reading is checked as a typed entry is
(:func:`watermis.readings.services.import_entries`); rows with a blank current
reading are skipped. One error anywhere refuses the whole file: nothing is
written and every error is listed with its row, column and rule (and an error
report: the file's rows with an error column). Findings that need a person
(zero, outside the band, rollover, far above average) hold the read unless the
row gives a reason. The same file uploaded twice changes nothing.
"""

import csv
import datetime
import decimal
import io
from dataclasses import dataclass, field

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from watermis.core.export import write_xlsx

from . import services
from .models import ReadingPeriod, ReadingSource, StatusCode

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    fill: bool  # filled in by the reader (the others are for reference)
    description: object


COLUMNS = [
    Column(
        "抄表月份", "month", False, gettext_lazy("Billing month, YYYY-MM (identifies the period)")
    ),
    Column("抄表册编号", "book", False, gettext_lazy("Reading book code (identifies the period)")),
    Column("抄表顺序", "route_order", False, gettext_lazy("Route order")),
    Column("户号", "account_no", False, gettext_lazy("Account number")),
    Column("用户名称", "name", False, gettext_lazy("Customer name")),
    Column("地址", "address", False, gettext_lazy("Customer's address")),
    Column("表号", "meter", False, gettext_lazy("Meter number (identifies the read)")),
    Column("上次读数", "previous", False, gettext_lazy("Previous reading")),
    Column("上次抄表日期", "previous_on", False, gettext_lazy("Previous reading date")),
    Column("月均用量", "average", False, gettext_lazy("Recent average, m³")),
    Column("本次读数", "current", True, gettext_lazy("Current reading; blank: not read")),
    Column("抄表日期", "read_on", True, gettext_lazy("Date read, YYYY-MM-DD")),
    Column("抄见状态", "status_code", True, gettext_lazy("Status code, blank: normal")),
    Column("估抄", "estimated", True, gettext_lazy("1 if estimated, else 0")),
    Column("走穿", "rolled_over", True, gettext_lazy("1 if the dial rolled over, else 0")),
    Column(
        "原因", "reason", True, gettext_lazy("Reason: confirms an unusual read or a correction")
    ),
    Column("备注", "note", True, gettext_lazy("Note")),
]
HEADERS = [c.header for c in COLUMNS]
HEADER_OF = {c.key: c.header for c in COLUMNS}
REQUIRED_KEYS = ("month", "book", "meter", "current")
TRUE_VALUES = {"1", "是", "y", "yes", "true", "t"}
FALSE_VALUES = {"", "0", "否", "n", "no", "false", "f"}


class HandheldFileError(Exception):
    """The upload cannot be read as a handheld file at all."""


@dataclass
class RowError:
    row: int  # the row number in the file (the header is row 1)
    column: str  # the header, or "" for the whole row
    message: str


@dataclass
class HandheldResult:
    rows: int = 0  # rows in the file (below the header, not empty)
    saved: int = 0
    held: int = 0
    unchanged: int = 0
    skipped: int = 0  # no current reading
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


def status_labels():
    """{code: Chinese label} of the meter status codes (the file's legend)."""
    with translation.override("zh-hans"):
        return {code: str(label) for code, label in StatusCode.choices}


# --- writing ------------------------------------------------------------------------------


def _flag(value):
    return 1 if value else 0


def period_rows(periods):
    """The rows of these periods' files (first reads), ordered by month, book and route."""
    from .models import Reading

    readings = (
        Reading.objects.filter(period__in=periods, sequence=1)
        .select_related("period__book", "meter", "customer")
        .order_by("period__month", "period__book__code", "route_order", "meter__number")
    )
    for r in readings.iterator(chunk_size=2000):
        customer = r.customer
        read = r.state != "pending"
        yield [
            f"{r.period.month:%Y-%m}",
            r.period.book.code if r.period.book_id else "",
            r.route_order,
            customer.account_no if customer else "",
            customer.name if customer else "",
            customer.address if customer else "",
            r.meter.number,
            r.previous,
            r.previous_on,
            r.average,
            r.current if read else None,
            r.read_on if read else None,
            r.status_code if read else "",
            _flag(r.estimated) if read else "",
            _flag(r.rolled_over) if read else "",
            r.reason if read else "",
            r.note if read else "",
        ]


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def write_csv(out, periods):
    """The periods' file as CSV (UTF-8 with BOM) into the binary stream ``out``."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(HEADERS)
    for row in period_rows(periods):
        writer.writerow([_csv_value(v) for v in row])
    text.flush()
    text.detach()


def write_excel(out, periods):
    write_xlsx(out, _("Readings"), HEADERS, period_rows(periods))


def file_name(periods, extension):
    periods = list(periods)
    if len(periods) == 1 and periods[0].book_id:
        stem = f"{periods[0].month:%Y%m}-{periods[0].book.code}"
    else:
        stem = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"readings-{stem}.{extension}"


# --- reading ------------------------------------------------------------------------------


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _decode(data):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise HandheldFileError(_("The CSV file is neither UTF-8 nor GB18030 text."))


def read_table(fileobj, name):
    """(header, iterator of (row number, raw values)) of a .csv or .xlsx file."""
    name = (name or "").lower()
    if name.endswith(".csv"):
        text = _decode(fileobj.read())
        reader = csv.reader(io.StringIO(text))
        header = [_text(v) for v in next(reader, [])]
        rows = ((n, values) for n, values in enumerate(reader, start=2))
    elif name.endswith(".xlsx"):
        try:
            wb = load_workbook(fileobj, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
            raise HandheldFileError(_("The file is not an Excel (.xlsx) workbook.")) from exc
        sheet = wb.worksheets[0].iter_rows(values_only=True)
        header = [_text(v) for v in next(sheet, ())]
        rows = ((n, list(values)) for n, values in enumerate(sheet, start=2))
    else:
        raise HandheldFileError(_("Choose a .csv or .xlsx file."))
    missing = [HEADER_OF[k] for k in REQUIRED_KEYS if HEADER_OF[k] not in header]
    if missing:
        raise HandheldFileError(
            _("The header row lacks these columns: %(cols)s") % {"cols": "、".join(missing)}
        )
    return header, ((n, values) for n, values in rows if any(v not in (None, "") for v in values))


class _Parser:
    """Turns raw rows into :class:`services.BulkRow` items, collecting errors."""

    def __init__(self, header, errors):
        self.index = {c.key: header.index(c.header) for c in COLUMNS if c.header in header}
        self.errors = errors
        labels = status_labels()
        self.status = {**{code: code for code in labels}, **{v: k for k, v in labels.items()}}

    def value(self, values, key):
        i = self.index.get(key)
        return _text(values[i]) if i is not None and i < len(values) else ""

    def raw(self, values, key):
        i = self.index.get(key)
        return values[i] if i is not None and i < len(values) else None

    def error(self, number, key, message):
        self.errors.append(RowError(number, HEADER_OF.get(key, ""), str(message)))

    def decimal(self, number, values, key):
        raw = self.raw(values, key)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return decimal.Decimal(str(raw))
        text = self.value(values, key).replace(",", "")
        try:
            value = decimal.Decimal(text)
        except decimal.InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.error(number, key, _("Not a number: %(value)s") % {"value": text})
            return None
        return value

    def date(self, number, values, key):
        raw = self.raw(values, key)
        if isinstance(raw, datetime.datetime):
            return raw.date()
        if isinstance(raw, datetime.date):
            return raw
        text = self.value(values, key)
        if not text:
            self.error(number, key, _("Enter the date of the reading."))
            return None
        for form in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"):
            try:
                return datetime.datetime.strptime(text, form).date()
            except ValueError:
                continue
        self.error(number, key, _("Not a date (YYYY-MM-DD): %(value)s") % {"value": text})
        return None

    def flag(self, number, values, key):
        text = self.value(values, key).lower()
        if text in TRUE_VALUES:
            return True
        if text not in FALSE_VALUES:
            self.error(number, key, _("Write 1 or 0."))
        return False

    def month(self, number, values):
        raw = self.raw(values, "month")
        if isinstance(raw, datetime.datetime):
            return raw.date().replace(day=1)
        if isinstance(raw, datetime.date):
            return raw.replace(day=1)
        text = self.value(values, "month")
        for form in ("%Y-%m", "%Y/%m", "%Y%m", "%Y-%m-%d"):
            try:
                return datetime.datetime.strptime(text, form).date().replace(day=1)
            except ValueError:
                continue
        self.error(number, "month", _("Not a month (YYYY-MM): %(value)s") % {"value": text})
        return None

    def entry(self, number, values):
        """An Entry for the row, or None when it has errors (they are collected)."""
        before = len(self.errors)
        current = self.decimal(number, values, "current")
        read_on = self.date(number, values, "read_on")
        status_text = self.value(values, "status_code")
        status = self.status.get(status_text) if status_text else StatusCode.NORMAL
        if status is None:
            self.error(
                number,
                "status_code",
                _("Unknown status code %(value)s; use one of %(codes)s.")
                % {"value": status_text, "codes": ", ".join(StatusCode.values)},
            )
        estimated = self.flag(number, values, "estimated")
        rolled_over = self.flag(number, values, "rolled_over")
        reason = self.value(values, "reason")
        note = self.value(values, "note")
        for key, text in (("reason", reason), ("note", note)):
            if len(text) > 200:
                self.error(number, key, _("At most 200 characters."))
        if len(self.errors) > before:
            return None
        return services.Entry(
            current,
            read_on,
            status,
            rolled_over=rolled_over,
            estimated=estimated,
            reason=reason,
            note=note,
            source=ReadingSource.HANDHELD,
            confirm=bool(reason),
        )


def _reading_ids(actor, keys):
    """{(month, book code): (period, {meter number: reading id})} for the periods in the file."""
    from .models import Reading

    periods = {}
    books = {book for _month, book in keys}
    months = {month for month, _book in keys}
    found = ReadingPeriod.objects.restrict(actor, "view").filter(
        book__code__in=books, month__in=months
    )
    for period in found.select_related("book"):
        if (period.month, period.book.code) in keys:
            periods[period.pk] = (period.month, period.book.code)
    result = {key: {} for key in periods.values()}
    rows = Reading.objects.filter(period_id__in=list(periods), sequence=1).values_list(
        "period_id", "meter__number", "pk"
    )
    for period_id, number, pk in rows.iterator(chunk_size=5000):
        result[periods[period_id]][number] = pk
    return result


def import_file(actor, fileobj, name, today=None):
    """Check and import a handheld file; returns a :class:`HandheldResult`."""
    header, rows = read_table(fileobj, name)
    result = HandheldResult()
    parser = _Parser(header, result.errors)
    parsed = []  # (row number, (month, book), meter number, entry)
    for number, values in rows:
        result.rows += 1
        if not parser.value(values, "current"):
            result.skipped += 1
            continue
        month = parser.month(number, values)
        book = parser.value(values, "book")
        meter = parser.value(values, "meter")
        if not book:
            parser.error(number, "book", _("Required."))
        if not meter:
            parser.error(number, "meter", _("Required."))
        entry = parser.entry(number, values)
        if month and book and meter and entry:
            parsed.append((number, (month, book), meter, entry))
    known = _reading_ids(actor, {key for _n, key, _m, _e in parsed})
    bulk = []
    for number, key, meter, entry in parsed:
        readings = known.get(key)
        if readings is None:
            parser.error(
                number,
                "book",
                _("No reading period %(month)s for book %(book)s in your zones.")
                % {"month": f"{key[0]:%Y-%m}", "book": key[1]},
            )
            continue
        reading_id = readings.get(meter)
        if reading_id is None:
            parser.error(
                number,
                "meter",
                _("Meter %(meter)s is not read in %(month)s book %(book)s.")
                % {"meter": meter, "month": f"{key[0]:%Y-%m}", "book": key[1]},
            )
            continue
        bulk.append(services.BulkRow(number, reading_id, entry))
    if result.errors:
        result.errors.sort(key=lambda e: e.row)
        return result
    outcome = services.import_entries(actor, bulk, today=today)
    for error in outcome.errors:
        result.errors.append(RowError(error.key, HEADER_OF.get(error.field, ""), error.message))
    result.errors.sort(key=lambda e: e.row)
    if not result.errors:
        result.saved, result.held, result.unchanged = outcome.saved, outcome.held, outcome.unchanged
    return result


def error_report(fileobj, name, errors, out):
    """The file's rows with an error column (every error of the row), as .xlsx into ``out``."""
    header, rows = read_table(fileobj, name)
    by_row = {}
    for error in errors:
        text = f"{error.column}: {error.message}" if error.column else error.message
        by_row.setdefault(error.row, []).append(text)
    width = len(header)
    write_xlsx(
        out,
        _("Errors"),
        [_("Row"), *header, _("Errors")],
        (
            [number, *(list(values) + [None] * width)[:width], "；".join(by_row.get(number, []))]
            for number, values in rows
        ),
    )
