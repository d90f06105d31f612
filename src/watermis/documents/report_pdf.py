"""Statistical reports and other long tables as PDF (M8), with the documents' print font.

A layout (:mod:`watermis.documents.pdf`) prints a document of a fixed shape; a
report has as many rows as it has groups. :func:`render_table` prints a table
over as many A4 pages as it needs: the company and title on top, the header row
repeated on every page, numbers right-aligned, the total row last, and on each
page's foot who printed it, when, and "page n of m".
"""

import io
import re

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from .fonts import cjk_font
from .pdf import FAMILY, attach_font

MARGIN = 10  # mm
ROW = 6.2  # mm per row
SIZE = 8.5  # pt
PAD = 1.0  # mm each side of a cell's text


class _Report(FPDF):
    footer_text = ""

    def footer(self):
        self.set_y(-8)
        self.set_font(FAMILY, size=7)
        self.cell(0, 4, self.footer_text, align="L")
        self.set_x(MARGIN)
        self.cell(
            0,
            4,
            _("Page %(page)s of %(pages)s") % {"page": self.page_no(), "pages": "{nb}"},
            align="R",
        )


def _widths(pdf, header, rows, numeric, room):
    """Column widths: every column gets room for its widest figure; what is left goes to
    the columns whose title is wider than their figures (the title wraps if it must)."""
    pdf.set_font(FAMILY, size=SIZE)
    body = []
    for i in range(len(header)):
        texts = [row[i] for row in rows[:500]]
        widest = max((pdf.get_string_width(t) for t in texts), default=0) + 2 * PAD
        body.append(max(widest, 10))
    titles = [pdf.get_string_width(t) + 2 * PAD for t in header]
    wanted = [max(b, t) for b, t in zip(body, titles, strict=True)]
    if sum(wanted) <= room:
        return [w * room / sum(wanted) for w in wanted]
    if sum(body) >= room:
        return [b * room / sum(body) for b in body]
    spare = room - sum(body)
    extra = [w - b for w, b in zip(wanted, body, strict=True)]
    return [b + spare * e / sum(extra) for b, e in zip(body, extra, strict=True)]


def _title_lines(pdf, text, width):
    """``text`` broken into lines that fit ``width`` mm (Chinese between any characters,
    other text between words), at most 3 lines."""
    lines, line = [], ""
    for token in re.findall(r"[A-Za-z0-9_.,;:%()/'’-]+ ?|.", text):
        if line and pdf.get_string_width(line + token.rstrip()) > width - 2 * PAD:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    lines.append(line.rstrip())
    return [_fit(pdf, t, width) for t in lines[:3]]


def _fit(pdf, text, width):
    """``text`` cut with an ellipsis to fit ``width`` mm."""
    if pdf.get_string_width(text) <= width - 2 * PAD:
        return text
    while text and pdf.get_string_width(text + "…") > width - 2 * PAD:
        text = text[:-1]
    return text + "…"


def render_table(title, subtitle, header, rows, total=None, numeric=(), company="", operator=""):
    """The PDF bytes of a table report.

    ``header``: column titles; ``rows``/``total``: lists of cell texts (already formatted);
    ``numeric``: booleans, True for right-aligned columns; ``subtitle``: what the report
    covers (months, zone, grouping).
    """
    landscape = len(header) > 6
    pdf = _Report(orientation="L" if landscape else "P", unit="mm", format="A4")
    attach_font(pdf, cjk_font())
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=14)
    pdf.alias_nb_pages()
    printed = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    pdf.footer_text = _("Printed %(when)s by %(who)s") % {"when": printed, "who": operator}
    numeric = list(numeric) or [False] * len(header)
    room = pdf.w - 2 * MARGIN
    widths = _widths(pdf, header, rows + ([total] if total else []), numeric, room)

    def header_row():
        pdf.set_font(FAMILY, size=SIZE)
        pdf.set_fill_color(235, 238, 242)
        titles = [_title_lines(pdf, text, widths[i]) for i, text in enumerate(header)]
        line = SIZE * 0.3528 * 1.25  # mm per title line
        height = max(ROW, max(len(t) for t in titles) * line + 1.5)
        x, y = pdf.get_x(), pdf.get_y()
        for i, lines in enumerate(titles):
            pdf.rect(x, y, widths[i], height, style="DF")
            top = y + (height - len(lines) * line) / 2
            for n, text in enumerate(lines):
                pdf.set_xy(x, top + n * line)
                pdf.cell(widths[i], line, text, align="C")
            x += widths[i]
        pdf.set_xy(MARGIN, y + height)

    pdf.add_page()
    pdf.set_font(FAMILY, size=13)
    if company:
        pdf.cell(0, 7, company, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=8.5)
    pdf.cell(0, 5, subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    header_row()
    body = [*rows, total] if total else list(rows)
    for number, row in enumerate(body):
        if pdf.will_page_break(ROW):
            pdf.add_page()
            header_row()
        last = total is not None and number == len(body) - 1
        if last:
            pdf.set_fill_color(245, 245, 245)
        for i, text in enumerate(row):
            align = "R" if numeric[i] else "L"
            pdf.cell(widths[i], ROW, _fit(pdf, text, widths[i]), border=1, align=align, fill=last)
        pdf.ln(ROW)
    if not body:
        pdf.cell(0, ROW, _("There is nothing to print."), new_x="LMARGIN", new_y="NEXT")
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()
