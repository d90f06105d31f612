"""Bank file layouts: writing deduction files and reading result files (docs/bank-collection.md).

A bank's file is one record per line in the bank's encoding (GBK or UTF-8), either
fixed-width (each field a number of **bytes** in that encoding: a Chinese character is two
bytes in GBK, three in UTF-8) or delimited (CSV with the bank's delimiter). A totals record
(count and amount) may come first (header) or last (trailer).

Each record is a list of fields, ``{"name", "width", "align", "pad", "value"}``:

- ``name``: what the field holds, from :data:`DETAIL_FIELDS` (deduction records),
  :data:`RESULT_FIELDS` (result records) or :data:`SUMMARY_FIELDS` (totals records);
- ``width``: bytes (fixed-width, required; delimited, optional: the most it may hold);
- ``align``: ``left`` or ``right`` (default: right for numbers and amounts, else left);
- ``pad``: one ASCII character filling the rest of the width (default ``0`` for a
  right-aligned number or amount, else a space);
- ``value``: the text of a ``constant`` field.

Text fields (names) are cut to their width on a whole character and characters the
encoding lacks become ``?``; any other value that does not fit is an error naming the
field, never cut. Nothing here reads the database: the services give the values.
"""

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

NUMBER, AMOUNT, CODE, TEXT, CONSTANT, SKIP = "number", "amount", "code", "text", "constant", "skip"
MAX_WIDTH = 200
FEN = Decimal("0.01")

DETAIL_FIELDS = {
    "seq": (NUMBER, gettext_lazy("the line's sequence number in the batch: 1, 2, 3…")),
    "batch": (CODE, gettext_lazy("the batch number")),
    "date": (CODE, gettext_lazy("the batch date, YYYYMMDD")),
    "merchant": (CODE, gettext_lazy("the water company's merchant number at the bank")),
    "customer": (CODE, gettext_lazy("the customer's account number")),
    "customer_name": (TEXT, gettext_lazy("the customer's name")),
    "bank_account": (CODE, gettext_lazy("the bank account to deduct from")),
    "account_name": (TEXT, gettext_lazy("the bank account's holder")),
    "mandate": (CODE, gettext_lazy("the deduction mandate number")),
    "month": (CODE, gettext_lazy("the bill's billing month, YYYYMM")),
    "bill": (NUMBER, gettext_lazy("the bill's number")),
    "amount": (AMOUNT, gettext_lazy("the amount in yuan with two decimals: 123.45")),
    "amount_fen": (NUMBER, gettext_lazy("the amount in fen: 12345")),
    "constant": (CONSTANT, gettext_lazy("the text given as value")),
}
RESULT_FIELDS = {
    **DETAIL_FIELDS,
    "result": (CODE, gettext_lazy("the bank's result code (success codes: see the bank)")),
    "message": (TEXT, gettext_lazy("the bank's message (why a deduction failed)")),
    "skip": (SKIP, gettext_lazy("anything the bank writes that is not read")),
}
SUMMARY_FIELDS = {
    "merchant": DETAIL_FIELDS["merchant"],
    "batch": DETAIL_FIELDS["batch"],
    "date": DETAIL_FIELDS["date"],
    "count": (NUMBER, gettext_lazy("the number of records")),
    "amount": (AMOUNT, gettext_lazy("the records' total in yuan: 123.45")),
    "amount_fen": (NUMBER, gettext_lazy("the records' total in fen: 12345")),
    "constant": DETAIL_FIELDS["constant"],
    "skip": RESULT_FIELDS["skip"],
}

# What a new bank starts with (docs/bank-collection.md shows the files they make).
FIXED_DETAIL = [
    {"name": "seq", "width": 8},
    {"name": "customer", "width": 20},
    {"name": "account_name", "width": 30},
    {"name": "bank_account", "width": 30},
    {"name": "mandate", "width": 20},
    {"name": "month", "width": 6},
    {"name": "amount_fen", "width": 12},
]
FIXED_SUMMARY = [
    {"name": "constant", "width": 1, "value": "H"},
    {"name": "merchant", "width": 15},
    {"name": "batch", "width": 30},
    {"name": "date", "width": 8},
    {"name": "count", "width": 8},
    {"name": "amount_fen", "width": 15},
]
FIXED_RESULT = [
    *FIXED_DETAIL,
    {"name": "result", "width": 4},
    {"name": "message", "width": 40},
]
CSV_DETAIL = [
    {"name": "seq"},
    {"name": "customer"},
    {"name": "account_name"},
    {"name": "bank_account"},
    {"name": "mandate"},
    {"name": "month"},
    {"name": "amount"},
]
CSV_SUMMARY = [
    {"name": "merchant"},
    {"name": "batch"},
    {"name": "date"},
    {"name": "count"},
    {"name": "amount"},
]
CSV_RESULT = [*CSV_DETAIL, {"name": "result"}, {"name": "message"}]
PRESETS = {
    "fixed": {"detail_fields": FIXED_DETAIL, "summary_fields": FIXED_SUMMARY,
              "result_fields": FIXED_RESULT},
    "csv": {"detail_fields": CSV_DETAIL, "summary_fields": CSV_SUMMARY,
            "result_fields": CSV_RESULT},
}  # fmt: skip

AMOUNT_TEXT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
DIGITS = re.compile(r"^\d+$")
SPEC_KEYS = {"name", "width", "align", "pad", "value"}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    width: int | None
    align: str
    pad: str
    value: str = ""


@dataclass(frozen=True)
class FileError:
    """One problem of a result file: the line (1 = the file's first), the field, the rule."""

    line: int
    field: str
    message: str


class FieldTooLong(ValueError):
    def __init__(self, field, text):
        super().__init__(field.name)
        self.field, self.text = field, text


# ------------------------------------------------------------------------- layouts


def _spec_errors(raw, catalogue, fixed):
    """(fields, errors) of one field list as stored on the bank."""
    if not isinstance(raw, list) or not raw:
        return [], [_("List the fields: at least one.")]
    fields, errors = [], []
    for number, spec in enumerate(raw, start=1):
        where = _("Field %(n)s") % {"n": number}
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            errors.append(_('%(where)s: write {"name": …, "width": …}.') % {"where": where})
            continue
        name = spec["name"]
        where = f"{where} ({name})"
        if name not in catalogue:
            errors.append(
                _("%(where)s: unknown field; use one of %(names)s.")
                % {"where": where, "names": ", ".join(catalogue)}
            )
            continue
        unknown = set(spec) - SPEC_KEYS
        if unknown:
            errors.append(
                _("%(where)s: unknown key %(keys)s.")
                % {"where": where, "keys": ", ".join(sorted(unknown))}
            )
        kind = catalogue[name][0]
        width = spec.get("width")
        if width is None and not fixed:
            pass
        elif isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= MAX_WIDTH:
            errors.append(
                _("%(where)s: the width is a whole number of bytes from 1 to %(max)s.")
                % {"where": where, "max": MAX_WIDTH}
            )
            width = None
        default_align = "right" if kind in (NUMBER, AMOUNT) else "left"
        align = spec.get("align", default_align)
        if align not in ("left", "right"):
            errors.append(_("%(where)s: align is left or right.") % {"where": where})
        default_pad = "0" if align == "right" and kind in (NUMBER, AMOUNT) else " "
        pad = spec.get("pad", default_pad)
        if not isinstance(pad, str) or len(pad) != 1 or not pad.isascii() or not pad.isprintable():
            errors.append(_("%(where)s: the pad is one ASCII character.") % {"where": where})
            pad = " "
        value = spec.get("value", "")
        if kind == CONSTANT:
            if not isinstance(value, str) or not value:
                errors.append(_("%(where)s: a constant needs its value.") % {"where": where})
                value = ""
            elif fixed and width and len(value.encode("utf-8")) > width:
                errors.append(
                    _("%(where)s: the value is longer than the width.") % {"where": where}
                )
        elif "value" in spec:
            errors.append(_("%(where)s: only a constant has a value.") % {"where": where})
        fields.append(Field(name, kind, width, align, pad, value))
    return fields, errors


def check_bank(bank):
    """Raise ValidationError naming the bank's field, the field number and the rule, unless
    its layouts are right. Empty field lists take the preset of the bank's format first."""
    preset = PRESETS.get(bank.file_format, PRESETS["fixed"])
    for name, fields in preset.items():
        if not getattr(bank, name):
            setattr(bank, name, [dict(f) for f in fields])
    fixed = bank.file_format == "fixed"
    problems = {}
    detail, errors = _spec_errors(bank.detail_fields, DETAIL_FIELDS, fixed)
    names = {f.name for f in detail}
    if not errors and "bank_account" not in names:
        errors.append(_("The bank needs the bank_account field."))
    if not errors and not names & {"amount", "amount_fen"}:
        errors.append(_("The bank needs an amount field (amount or amount_fen)."))
    if errors:
        problems["detail_fields"] = errors
    result, errors = _spec_errors(bank.result_fields, RESULT_FIELDS, fixed)
    names = {f.name for f in result}
    if not errors and not names & {"seq", "bill"}:
        errors.append(_("A result record names its line: the seq or bill field."))
    if not errors and "result" not in names:
        errors.append(_("A result record needs the result field."))
    if errors:
        problems["result_fields"] = errors
    if bank.summary != "none" or bank.result_summary != "none":
        _summary, errors = _spec_errors(bank.summary_fields, SUMMARY_FIELDS, fixed)
        if errors:
            problems["summary_fields"] = errors
    if problems:
        raise ValidationError(problems)


class Layout:
    """A bank's layouts, checked, ready to write and read its files."""

    def __init__(self, bank):
        check_bank(bank)
        self.bank = bank
        self.fixed = bank.file_format == "fixed"
        self.encoding = bank.encoding
        self.newline = b"\r\n" if bank.line_ending == "crlf" else b"\n"
        self.delimiter = bank.delimiter or ","
        self.detail = _spec_errors(bank.detail_fields, DETAIL_FIELDS, self.fixed)[0]
        self.result = _spec_errors(bank.result_fields, RESULT_FIELDS, self.fixed)[0]
        self.summary = _spec_errors(bank.summary_fields, SUMMARY_FIELDS, self.fixed)[0]
        self.summary_place = bank.summary
        self.result_summary_place = bank.result_summary

    @property
    def extension(self):
        return "txt" if self.fixed else "csv"

    def record_width(self, fields):
        return sum(f.width for f in fields) if self.fixed else None

    # ----- writing

    def _encoded(self, field, text):
        if field.kind in (TEXT, SKIP):
            raw = text.encode(self.encoding, "replace")
            if field.width and len(raw) > field.width:
                raw = _cut(text, self.encoding, field.width)
            return raw
        try:
            raw = text.encode(self.encoding)
        except UnicodeEncodeError:
            raise FieldTooLong(field, text) from None
        if field.width and len(raw) > field.width:
            raise FieldTooLong(field, text)
        return raw

    def render(self, fields, values):
        """One record (bytes, without the line ending) of ``values`` {field name: text}."""
        if self.fixed:
            parts = []
            for field in fields:
                raw = self._encoded(field, _value(field, values))
                fill = field.pad.encode("ascii") * (field.width - len(raw))
                parts.append(raw + fill if field.align == "left" else fill + raw)
            return b"".join(parts)
        texts = []
        for field in fields:
            text = _value(field, values)
            texts.append(self._encoded(field, text).decode(self.encoding))
        out = io.StringIO()
        csv.writer(out, delimiter=self.delimiter, lineterminator="").writerow(texts)
        return out.getvalue().encode(self.encoding)

    def write(self, fields, place, summary_values, rows):
        """A whole file: the totals record at ``place`` and a record per item of ``rows``."""
        lines = [self.render(fields, values) for values in rows]
        if place != "none":
            total = self.render(self.summary, summary_values)
            lines = [total, *lines] if place == "header" else [*lines, total]
        return b"".join(line + self.newline for line in lines)

    # ----- reading

    def split(self, fields, raw, line_no, errors):
        """{field name: text} of one record, or None with the problems added to ``errors``."""
        values = {}
        if self.fixed:
            expected = self.record_width(fields)
            if len(raw) != expected:
                errors.append(
                    FileError(
                        line_no,
                        "",
                        _("The record has %(n)s bytes; the layout has %(width)s.")
                        % {"n": len(raw), "width": expected},
                    )
                )
                return None
            start = 0
            for field in fields:
                piece = raw[start : start + field.width]
                start += field.width
                try:
                    text = piece.decode(self.encoding)
                except UnicodeDecodeError:
                    errors.append(
                        FileError(
                            line_no,
                            field.name,
                            _("Not %(encoding)s text.") % {"encoding": self.encoding.upper()},
                        )
                    )
                    return None
                text = text.rstrip(field.pad) if field.align == "left" else text.lstrip(field.pad)
                values[field.name] = text.strip()
        else:
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError:
                errors.append(
                    FileError(
                        line_no,
                        "",
                        _("Not %(encoding)s text.") % {"encoding": self.encoding.upper()},
                    )
                )
                return None
            try:
                row = next(csv.reader([text], delimiter=self.delimiter, strict=True))
            except csv.Error as exc:
                errors.append(FileError(line_no, "", _("Not a delimited record: %s") % exc))
                return None
            if len(row) != len(fields):
                errors.append(
                    FileError(
                        line_no,
                        "",
                        _("The record has %(n)s fields; the layout has %(m)s.")
                        % {"n": len(row), "m": len(fields)},
                    )
                )
                return None
            for field, value in zip(fields, row, strict=True):
                values[field.name] = value.strip()
        ok = True
        for field in fields:
            value = values.get(field.name, "")
            if field.kind == NUMBER:
                if value == "":
                    values[field.name] = value = "0"
                if not DIGITS.match(value):
                    errors.append(FileError(line_no, field.name, _("Digits only.")))
                    ok = False
            elif field.kind == AMOUNT:
                if value.startswith("."):
                    values[field.name] = value = "0" + value
                if not AMOUNT_TEXT.match(value):
                    errors.append(
                        FileError(line_no, field.name, _("An amount in yuan, like 123.45."))
                    )
                    ok = False
        return values if ok else None

    def read(self, data):
        """The records of a result file: (totals or None, [(line number, values)], errors).

        ``totals`` (the totals record's values) also holds ``_line`` (its line number),
        ``_records`` (the number of record lines) and ``_all_read`` (every record was read).

        Blank lines are skipped (their numbers still count); a UTF-8 byte-order mark is
        dropped. Value checks here are the layout's (digits, amounts); the services check
        the records against the batch.
        """
        errors = []
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        lines = [
            (number, line[:-1] if line.endswith(b"\r") else line)
            for number, line in enumerate(data.split(b"\n"), start=1)
        ]
        lines = [(number, line) for number, line in lines if line.strip()]
        totals = None
        if self.result_summary_place != "none":
            if not lines:
                errors.append(FileError(1, "", _("The file is empty.")))
                return None, [], errors
            taken = lines.pop(0) if self.result_summary_place == "header" else lines.pop()
            totals = self.split(self.summary, taken[1], taken[0], errors)
        records = []
        for number, raw in lines:
            values = self.split(self.result, raw, number, errors)
            if values is not None:
                records.append((number, values))
        if totals is not None:
            totals["_line"] = taken[0]
            totals["_records"] = len(lines)
            totals["_all_read"] = len(records) == len(lines)
        if not lines and not errors:
            errors.append(FileError(1, "", _("The file has no records.")))
        return totals, records, errors


def _value(field, values):
    if field.kind == CONSTANT:
        return field.value
    if field.kind == SKIP:
        return values.get(field.name, "")
    return values[field.name]


def _cut(text, encoding, width):
    """``text`` encoded and cut to at most ``width`` bytes on a whole character."""
    out = b""
    for char in text:
        raw = char.encode(encoding, "replace")
        if len(out) + len(raw) > width:
            break
        out += raw
    return out


def amount_text(amount):
    return f"{amount.quantize(FEN)}"


def fen_text(amount):
    return str(int(amount.quantize(FEN) * 100))


def record_amount(values):
    """The amount a record states (``amount`` in yuan, else ``amount_fen``), or None."""
    if "amount" in values:
        return Decimal(values["amount"]).quantize(FEN)
    if "amount_fen" in values:
        return (Decimal(int(values["amount_fen"])) / 100).quantize(FEN)
    return None


def describe_fields():
    """(record kind, [(name, meaning)]) of every field name, for the documentation and forms."""
    return [
        (gettext_lazy("Deduction record"), [(n, m) for n, (_k, m) in DETAIL_FIELDS.items()]),
        (
            gettext_lazy("Result record, also"),
            [(n, RESULT_FIELDS[n][1]) for n in RESULT_FIELDS if n not in DETAIL_FIELDS],
        ),
        (gettext_lazy("Totals record"), [(n, m) for n, (_k, m) in SUMMARY_FIELDS.items()]),
    ]
