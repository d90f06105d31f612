"""Documents to PDF (and a PDF page to PNG for the preview), with fpdf2.

:func:`render` prints any number of documents of one layout into one PDF:
the font is loaded once and the templates compiled once per PDF; every
document is one slot on a sheet (``per_sheet`` slots per page, one under
another), repeated ``copies`` times. Fonts are subset: the PDF embeds only
the glyphs it uses.

Positions are millimetres from the document's top-left corner, plus the
layout's printer calibration shift. A text that is too long for its box
shrinks (down to 70 %) and is then cut with "…"; a multi-line text wraps
(Chinese between any two characters, other text between words) and is cut
at its box's bottom; a table prints the rows that fit and says how many did
not. Elements flagged ``form`` print only with ``print_background``; the
preview always shows them, in blue when they are not printed.
"""

import copy
import io
import logging
import math
import os
import re
import threading

from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import TextMode
from fpdf.fonts import SubsetMap

from .fonts import cjk_font
from .layout import BOX, LINE, LINE_SPACING, MULTILINE, PT_TO_MM, TABLE, TEXT, element_label
from .templating import MAX_OUTPUT, LayoutTemplateError, compile_template, render_template

INK = (0, 0, 0)
FORM_PREVIEW = (70, 120, 215)  # the form's own printing, shown but not printed
GUIDE = (190, 190, 190)  # margins and sheet cuts, in the preview only
SHRINK_LIMIT = 0.7  # a text shrinks to 70 % of its size before it is cut
SMALLEST = 4  # pt
ASCENT = 0.88  # the baseline sits this far down a CJK font's em box
CELL_PAD = 0.8  # mm each side of a table cell's text
ELLIPSIS = "…"
NO_LINE_START = set("，。、；：？！）》」』】〉,.;:?!)]}%")
TOKENS = re.compile(r"[A-Za-z0-9_.,;:!?%+\-/@#&'\"()\[\]]+ *| +|.", re.DOTALL)

_pdfium_lock = threading.Lock()  # pdfium is not thread-safe
_font_lock = threading.Lock()
_parsed_fonts = {}  # (path, face, mtime) → fpdf2's parsed font, the pattern of each PDF's copy
FAMILY = "cjk"
log = logging.getLogger(__name__)


class DocumentRenderError(Exception):
    """A document that could not be printed: which document, which element, why."""


class NothingToPrint(DocumentRenderError):
    """No document to print (the selection found nobody). Pages say why in the operator's
    language: documents render in the company's, so this message may not be."""


def render(spec, contexts, *, preview=False, title=""):
    """One PDF of ``contexts`` (an iterable of dicts) printed with layout ``spec``.

    ``preview``: also draw the form elements of an overprint layout (in blue), the
    margins and the cuts between documents of a sheet.
    """
    printer = _Printer(spec, preview=preview, title=title)
    count = 0
    for context in contexts:
        printer.add(context, count)
        count += 1
    if count == 0:
        raise NothingToPrint(_("There is nothing to print."))
    return printer.output()


def render_png(pdf_bytes, page=0, dpi=110):
    """Page ``page`` of a PDF as a PNG image (white paper), ``dpi`` dots per inch."""
    import pypdfium2 as pdfium

    with _pdfium_lock:
        document = pdfium.PdfDocument(bytes(pdf_bytes))
        try:
            bitmap = document[page].render(scale=dpi / 72)
            image = bitmap.to_pil()
        finally:
            document.close()
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def page_count(pdf_bytes):
    import pypdfium2 as pdfium

    with _pdfium_lock:
        document = pdfium.PdfDocument(bytes(pdf_bytes))
        try:
            return len(document)
        finally:
            document.close()


class _Template:
    """A compiled template, or its text when it has no template code (most captions)."""

    __slots__ = ("constant", "source", "template")

    def __init__(self, source):
        self.source = source
        if any(mark in source for mark in ("{{", "{%", "{#")):
            self.constant, self.template = None, compile_template(source)
        else:  # Jinja would print it as it is, less one trailing line break
            self.constant, self.template = source.removesuffix("\n"), None

    def render(self, context):
        if self.template is None:
            return self.constant
        return render_template(self.template, context)


class _Failed(Exception):
    """Template ``position`` of a batch failed with ``error`` (a LayoutTemplateError)."""

    def __init__(self, position, error):
        super().__init__(str(error))
        self.position, self.error = position, error


class _Batch:
    """The templates of one document (or one table row) rendered in one go.

    Rendering a Jinja template costs a context and a call whatever its size, and a
    document has dozens of short ones: they are joined into one template, split apart
    again by a private-use character after rendering. Anything unusual (the character
    in the data, an error, a text too long) renders them one by one instead, which
    also names the template that failed (:class:`_Failed`).
    """

    SEPARATOR = "\ue000"

    def __init__(self, templates):
        self.templates = templates
        dynamic = [t for t in templates if t.template is not None]
        self.count = len(dynamic)
        self.combined = None
        if self.count > 1:
            joined = (self.SEPARATOR + "\n").join(t.source.removesuffix("\n") for t in dynamic)
            try:
                self.combined = compile_template(joined)
            except LayoutTemplateError:
                self.combined = None

    def render(self, context):
        if self.combined is not None:
            try:
                parts = self.combined.render(context).split(self.SEPARATOR)
            except Exception:  # noqa: BLE001 - rendered one by one below, which says why
                parts = None
            if (
                parts is not None
                and len(parts) == self.count
                and all(len(part) <= MAX_OUTPUT for part in parts)
            ):
                parts = iter([parts[0], *(p.removeprefix("\n") for p in parts[1:])])
                return [t.constant if t.template is None else next(parts) for t in self.templates]
        texts = []
        for position, template in enumerate(self.templates):
            try:
                texts.append(template.render(context))
            except LayoutTemplateError as exc:
                raise _Failed(position, exc) from None
        return texts


class _Compiled:
    """An element with its templates compiled."""

    __slots__ = ("element", "index", "template", "row", "rows_path")

    def __init__(self, index, element):
        self.index, self.element = index, element
        self.template = self.row = self.rows_path = None
        try:
            if element.type in (TEXT, MULTILINE):
                self.template = _Template(element.template)
            elif element.type == TABLE:
                self.rows_path = tuple(element.rows.split("."))
                self.row = _Batch([_Template(c.template) for c in element.columns])
        except LayoutTemplateError as exc:
            raise DocumentRenderError(f"{element_label(index, element)}: {exc}") from None


class _Printer:
    def __init__(self, spec, preview, title):
        bad = [e for e in spec.elements if e is None] or spec.bad_elements
        if bad:
            raise DocumentRenderError(_("The layout has elements that cannot be read."))
        self.spec = spec
        self.preview = preview
        self.draw_form = spec.print_background or preview
        self.form_colour = INK if spec.print_background else FORM_PREVIEW
        self.elements = [
            _Compiled(i, e)
            for i, e in enumerate(spec.elements)
            if self.draw_form or not e.form  # overprinting: the form is not even rendered
        ]
        self.texts = [c for c in self.elements if c.template is not None]
        self.batch = _Batch([c.template for c in self.texts])
        self.slot_height = spec.paper_height
        pdf = FPDF(unit="mm", format=(spec.paper_width, spec.paper_height * spec.per_sheet))
        pdf.set_auto_page_break(False)
        pdf.set_margin(0)
        pdf.c_margin = 0
        pdf.set_creator("WaterMIS")
        if title:
            pdf.set_title(str(title))
        attach_font(pdf, cjk_font())
        pdf.set_font(FAMILY, size=10)
        self.pdf = pdf
        self.font = pdf.current_font
        self.widths = self.font.cw
        self.size = 10
        self.colour = INK
        self.slot = 0
        # texts repeat on every document (captions, titles): measured, fitted and
        # encoded once per PDF (bounded: cleared when full)
        self._units, self._fitted, self._encoded = {}, {}, {}

    # --- documents and sheets -------------------------------------------------------------

    def add(self, context, number):
        for _copy in range(self.spec.copies):
            if self.slot % self.spec.per_sheet == 0:
                self.pdf.add_page()
                if self.preview:
                    self._guides()
            top = (self.slot % self.spec.per_sheet) * self.slot_height
            self.origin = (self.spec.offset_x, top + self.spec.offset_y)
            try:
                texts = dict(zip(self.texts, self.batch.render(context), strict=True))
            except _Failed as failed:
                self._failed(number, self.texts[failed.position], failed.error)
            for compiled in self.elements:
                try:
                    self._draw(compiled, context, texts.get(compiled))
                except LayoutTemplateError as exc:
                    self._failed(number, compiled, exc)
            self.slot += 1

    def _failed(self, number, compiled, error):
        raise DocumentRenderError(
            _("Document %(number)s, %(element)s: %(message)s")
            % {
                "number": number + 1,
                "element": element_label(compiled.index, compiled.element),
                "message": error,
            }
        ) from None

    def output(self):
        return bytes(self.pdf.output())

    def _guides(self):
        spec, pdf = self.spec, self.pdf
        pdf.set_draw_color(*GUIDE)
        pdf.set_line_width(0.1)
        pdf.set_dash_pattern(dash=1, gap=1)
        for slot in range(spec.per_sheet):
            top = slot * spec.paper_height
            if slot:
                pdf.line(0, top, spec.paper_width, top)
            if spec.margin_top or spec.margin_right or spec.margin_bottom or spec.margin_left:
                pdf.rect(
                    spec.margin_left,
                    top + spec.margin_top,
                    spec.paper_width - spec.margin_left - spec.margin_right,
                    spec.paper_height - spec.margin_top - spec.margin_bottom,
                )
        pdf.set_dash_pattern()

    # --- elements -------------------------------------------------------------------------

    def _draw(self, compiled, context, text):
        element = compiled.element
        colour = self.form_colour if element.form else INK
        x, y = element.x + self.origin[0], element.y + self.origin[1]
        if element.type == TEXT:
            text = text.replace("\n", " ").strip()
            self._text(
                text, x, y, element.w, element.h, element.size, element.align, element.bold, colour
            )
        elif element.type == MULTILINE:
            self._multiline(text, x, y, element, colour)
        elif element.type == TABLE:
            self._table(compiled, context, x, y, colour)
        elif element.type == LINE:
            self._stroke(colour, element.stroke)
            self.pdf.line(x, y, x + element.w, y + element.h)
        elif element.type == BOX:
            self._stroke(colour, element.stroke)
            self.pdf.rect(x, y, element.w, element.h)

    def _stroke(self, colour, width):
        self.pdf.set_draw_color(*colour)
        self.pdf.set_line_width(width)

    def width(self, text, size):
        """The width of ``text`` in mm at ``size`` pt."""
        units = self._units.get(text)
        if units is None:
            widths = self.widths
            units = sum(widths[ord(c)] for c in text)
            _remember(self._units, text, units)
        return units * size * PT_TO_MM / 1000

    def fit(self, text, room, size):
        """(text, size) that fit ``room`` mm: shrunk to 70 % at most, then cut with "…"."""
        key = (text, room, size)
        fitted = self._fitted.get(key)
        if fitted is None:
            fitted = self._fit(text, room, size)
            _remember(self._fitted, key, fitted)
        return fitted

    def _fit(self, text, room, size):
        full = self.width(text, size)
        if full <= room:
            return text, size
        smaller = max(size * room / full, size * SHRINK_LIMIT, SMALLEST)
        if self.width(text, smaller) <= room + 1e-6:
            return text, smaller
        limit = room - self.width(ELLIPSIS, smaller)
        scale = smaller * PT_TO_MM / 1000
        used, cut = 0.0, 0
        for char in text:
            used += self.widths[ord(char)] * scale
            if used > limit:
                break
            cut += 1
        return text[:cut].rstrip() + ELLIPSIS, smaller

    def _put(self, text, x, baseline, size, bold, colour):
        pdf = self.pdf
        if size != self.size:
            pdf.set_font_size(size)
            self.size = size
        if pdf.current_font_is_set_on_page and not bold:
            # the usual case, written directly: the text's glyphs, placed and coloured
            encoded = self._encoded.get(text)
            if encoded is None:
                encoded = self.font.encode_text(text)
                _remember(self._encoded, text, encoded)
            k = pdf.k
            op = f"BT {x * k:.2f} {(pdf.h - baseline) * k:.2f} Td {encoded} ET"
            if colour != INK:
                r, g, b = (c / 255 for c in colour)
                op = f"q {r:.3f} {g:.3f} {b:.3f} rg {op} Q"
            pdf._out(op)
            return
        if colour != self.colour:
            pdf.set_text_color(*colour)
            self.colour = colour
        if bold:
            with pdf.local_context(
                text_mode=TextMode.FILL_STROKE, line_width=size * 0.025, draw_color=colour
            ):
                pdf.text(x, baseline, text)
        else:
            pdf.text(x, baseline, text)

    def _text(self, text, x, y, w, h, size, align, bold, colour):
        if not text:
            return
        text, size = self.fit(text, w, size)
        em = size * PT_TO_MM
        baseline = y + (h - em) / 2 + ASCENT * em
        self._put(text, _aligned(x, w, self.width(text, size), align), baseline, size, bold, colour)

    def _multiline(self, text, x, y, element, colour):
        size = element.size
        em = size * PT_TO_MM
        pitch = em * LINE_SPACING
        lines = self.wrap(text, element.w, size)
        room = max(1, math.floor((element.h + 1e-6) / pitch))
        if len(lines) > room:
            lines = lines[:room]
            lines[-1], _size = self.fit(lines[-1] + ELLIPSIS * 2, element.w, size)
            if not lines[-1].endswith(ELLIPSIS):
                lines[-1] = lines[-1][:-1]
        baseline = y + (pitch - em) / 2 + ASCENT * em
        for line in lines:
            if line:
                width = self.width(line, size)
                self._put(
                    line,
                    _aligned(x, element.w, width, element.align),
                    baseline,
                    size,
                    element.bold,
                    colour,
                )
            baseline += pitch

    def wrap(self, text, room, size):
        """``text`` in lines no wider than ``room`` mm (explicit line breaks kept)."""
        lines = []
        for paragraph in text.rstrip("\n").split("\n"):
            line, used = "", 0.0
            for token in TOKENS.findall(paragraph):
                width = self.width(token, size)
                if used + width <= room or (token in NO_LINE_START and line):
                    line, used = line + token, used + width
                    continue
                if token.isspace():
                    lines.append(line.rstrip())
                    line, used = "", 0.0
                    continue
                if line:
                    lines.append(line.rstrip())
                line, used = "", 0.0
                for char in token:  # a word wider than the line: cut it anywhere
                    char_width = self.width(char, size)
                    if used + char_width > room and line:
                        lines.append(line)
                        line, used = "", 0.0
                    line, used = line + char, used + char_width
            lines.append(line.rstrip())
        return lines

    def _table(self, compiled, context, x, y, colour):
        element, pdf = compiled.element, self.pdf
        rows = context
        for part in compiled.rows_path:
            rows = rows.get(part) if isinstance(rows, dict) else None
        if not isinstance(rows, list | tuple):
            raise LayoutTemplateError(
                _('"%(rows)s" is not a list in this document') % {"rows": element.rows}
            )
        pitch = element.row_pitch
        slots = max(1, math.floor((element.h + 1e-6) / pitch) - 1)
        columns = element.columns
        total = sum(c.width for c in columns)
        if self.draw_form:  # the grid and the titles belong to the form
            form = self.form_colour
            if element.border:
                self._stroke(form, 0.2)
                pdf.rect(x, y, total, (slots + 1) * pitch)
                for row in range(1, slots + 1):
                    pdf.line(x, y + row * pitch, x + total, y + row * pitch)
                left = x
                for column in columns[:-1]:
                    left += column.width
                    pdf.line(left, y, left, y + (slots + 1) * pitch)
            left = x
            for column in columns:
                if column.title:
                    self._text(
                        column.title,
                        left + CELL_PAD,
                        y,
                        column.width - 2 * CELL_PAD,
                        pitch,
                        element.size,
                        "C",
                        False,
                        form,
                    )
                left += column.width
        shown = rows if len(rows) <= slots else rows[: slots - 1]
        top = y + pitch
        for number, row in enumerate(shown, start=1):
            scope = dict(context)
            scope["row"], scope["index"] = row, number
            try:
                texts = compiled.row.render(scope)
            except _Failed as failed:
                raise LayoutTemplateError(
                    _("column %(n)s: %(message)s")
                    % {"n": failed.position + 1, "message": failed.error}
                ) from None
            left = x
            for column, text in zip(columns, texts, strict=True):
                text = text.replace("\n", " ").strip()
                pad = CELL_PAD if column.width > 4 * CELL_PAD else 0
                self._text(
                    text,
                    left + pad,
                    top,
                    column.width - 2 * pad,
                    pitch,
                    element.size,
                    column.align,
                    element.bold,
                    colour,
                )
                left += column.width
            top += pitch
        if len(rows) > slots:
            more = _("… and %(count)s more") % {"count": len(rows) - len(shown)}
            self._text(
                more,
                x + CELL_PAD,
                top,
                total - 2 * CELL_PAD,
                pitch,
                element.size,
                "L",
                False,
                colour,
            )


def attach_font(pdf, choice):
    """Give ``pdf`` the print font, parsed once per process.

    Reading the metrics of a CJK font (65,000 glyphs) takes most of a second; each PDF
    gets a copy of the parsed font with its own subset and its own font file handle
    (writing the PDF subsets that handle in place). Falls back to fpdf2's ``add_font``
    if the copy cannot be made.
    """
    try:
        key = (choice.path, choice.index, os.path.getmtime(choice.path))
        with _font_lock:
            pattern = _parsed_fonts.get(key)
            if pattern is None:
                probe = FPDF()
                probe.add_font(FAMILY, fname=choice.path, collection_font_number=choice.index)
                pattern = probe.fonts[FAMILY]
                _parsed_fonts.clear()
                _parsed_fonts[key] = pattern
        from fontTools.ttLib import TTFont

        font = copy.copy(pattern)
        font.i = len(pdf.fonts) + 1
        font.ttfont = TTFont(choice.path, recalcTimestamp=False, fontNumber=choice.index, lazy=True)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        font.subset = SubsetMap(font)
        pdf.fonts[FAMILY] = font
        if font.is_cff and font.is_cid_keyed:
            pdf._set_min_pdf_version("1.6")
    except (AttributeError, TypeError) as exc:  # another fpdf2: parse the font again
        log.warning("cannot reuse the parsed font (%s); loading it for this PDF", exc)
        pdf.fonts.pop(FAMILY, None)
        pdf.add_font(FAMILY, fname=choice.path, collection_font_number=choice.index)


def _remember(cache, key, value, limit=20_000):
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value


def _aligned(x, room, width, align):
    if align == "R":
        return x + room - width
    if align == "C":
        return x + (room - width) / 2
    return x
