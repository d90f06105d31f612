"""A layout as plain data (:class:`LayoutSpec`), and the rules it must keep (:func:`validate`).

The spec is what the PDF renderer reads. It comes from a saved
:class:`~watermis.documents.models.DocumentLayout`, from the edit form (the
live preview renders what is typed, unsaved) or from the built-in defaults.
:func:`validate` returns every problem at once, each naming the element and
the rule: outside the paper or its margins, a text box too low for its font,
a template that does not compile (with its line), a field the kind does not
have (with the closest one), a template that fails on the sample data.
"""

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import catalogue as cat
from .templating import LayoutTemplateError, compile_template, render_template, template_fields

TEXT, MULTILINE, TABLE, LINE, BOX = "text", "multiline", "table", "line", "box"
ELEMENT_TYPES = {
    TEXT: gettext_lazy("text"),
    MULTILINE: gettext_lazy("multi-line text"),
    TABLE: gettext_lazy("table"),
    LINE: gettext_lazy("line"),
    BOX: gettext_lazy("box"),
}
ALIGNMENTS = {"L": gettext_lazy("left"), "C": gettext_lazy("centre"), "R": gettext_lazy("right")}
PT_TO_MM = 25.4 / 72
MIN_SIZE, MAX_SIZE = 5, 72
MIN_STROKE, MAX_STROKE = 0.05, 3
LINE_SPACING = 1.3  # multi-line text: line height / font size
ROW_SPACING = 1.6  # table rows without a row height: row height / font size
ROWS_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")


def font_height(size):
    """The height in mm of text of ``size`` points."""
    return size * PT_TO_MM


@dataclass(frozen=True)
class Column:
    width: float
    template: str
    title: str = ""
    align: str = "L"


@dataclass(frozen=True)
class Element:
    """One thing printed: positions and sizes in mm from the document's top-left corner."""

    type: str
    x: float
    y: float
    w: float = 0
    h: float = 0
    size: float = 10
    bold: bool = False
    align: str = "L"
    form: bool = False
    template: str = ""
    rows: str = ""
    row_height: float | None = None
    border: bool = False
    columns: tuple = ()
    stroke: float = 0.2

    @property
    def row_pitch(self):
        return self.row_height or round(font_height(self.size) * ROW_SPACING, 1)

    def to_dict(self):
        """The element as stored in ``DocumentLayout.elements`` (only what its type uses)."""
        data = {"type": self.type, "x": _num(self.x), "y": _num(self.y)}
        data["w"], data["h"] = _num(self.w), _num(self.h)
        if self.type in (LINE, BOX):
            data["stroke"] = _num(self.stroke)
        else:
            data.update(size=_num(self.size), bold=self.bold, align=self.align)
        data["form"] = self.form
        if self.type in (TEXT, MULTILINE):
            data["template"] = self.template
        if self.type == TABLE:
            data["rows"] = self.rows
            if self.row_height:
                data["row_height"] = _num(self.row_height)
            data["border"] = self.border
            data["columns"] = [
                {"width": _num(c.width), "align": c.align, "title": c.title, "template": c.template}
                for c in self.columns
            ]
        return data

    @classmethod
    def from_dict(cls, data):
        """An element from its stored dict; raises ``ValueError`` naming what is wrong."""
        if not isinstance(data, dict):
            raise ValueError(_("an element must be a set of named values"))
        kind = data.get("type")
        if kind not in ELEMENT_TYPES:
            raise ValueError(
                _('unknown element type "%(type)s" (use %(types)s)')
                % {"type": kind, "types": ", ".join(ELEMENT_TYPES)}
            )
        columns = []
        for number, col in enumerate(data.get("columns") or [], start=1):
            if not isinstance(col, dict):
                raise ValueError(_("column %(n)s must be a set of named values") % {"n": number})
            columns.append(
                Column(
                    width=_float(col.get("width"), _("column %(n)s width") % {"n": number}),
                    template=str(col.get("template") or ""),
                    title=str(col.get("title") or ""),
                    align=str(col.get("align") or "L").upper(),
                )
            )
        row_height = data.get("row_height")
        return cls(
            type=kind,
            x=_float(data.get("x"), "x"),
            y=_float(data.get("y"), "y"),
            w=_float(data.get("w", 0), _("width")),
            h=_float(data.get("h", 0), _("height")),
            size=_float(data.get("size", 10), _("font size")),
            bold=bool(data.get("bold", False)),
            align=str(data.get("align") or "L").upper(),
            form=bool(data.get("form", False)),
            template=str(data.get("template") or ""),
            rows=str(data.get("rows") or "").strip(),
            row_height=_float(row_height, _("row height"))
            if row_height not in (None, "")
            else None,
            border=bool(data.get("border", False)),
            columns=tuple(columns),
            stroke=_float(data.get("stroke", 0.2), _("line width")),
        )


def _float(value, what):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(
            _("%(what)s must be a number of millimetres or points, not %(value)r")
            % {"what": what, "value": value}
        ) from None


def _num(value):
    """A number as stored in JSON: whole numbers as int, others to 0.1."""
    value = round(float(value), 2)
    return int(value) if value == int(value) else value


@dataclass(frozen=True)
class LayoutSpec:
    """Everything the renderer needs of a layout; sizes in mm."""

    kind: str
    paper_width: float
    paper_height: float
    elements: tuple = ()
    margin_top: float = 0
    margin_right: float = 0
    margin_bottom: float = 0
    margin_left: float = 0
    offset_x: float = 0
    offset_y: float = 0
    per_sheet: int = 1
    copies: int = 1
    print_background: bool = True
    name: str = ""
    bad_elements: tuple = field(default=(), compare=False)  # (index, message) not understood

    @classmethod
    def from_values(cls, kind, values, elements):
        """A spec from layout field values (a model's or a form's) and element dicts."""
        parsed, bad = [], []
        for index, data in enumerate(elements or []):
            try:
                parsed.append(Element.from_dict(data))
            except ValueError as exc:
                parsed.append(None)
                bad.append((index, str(exc)))
        numbers = {
            name: float(values.get(name) if values.get(name) is not None else default)
            for name, default in (
                ("paper_width", 210),
                ("paper_height", 297),
                ("margin_top", 0),
                ("margin_right", 0),
                ("margin_bottom", 0),
                ("margin_left", 0),
                ("offset_x", 0),
                ("offset_y", 0),
            )
        }
        return cls(
            kind=kind,
            elements=tuple(parsed),
            per_sheet=int(values.get("per_sheet") or 1),
            copies=int(values.get("copies") or 1),
            print_background=bool(values.get("print_background", True)),
            name=str(values.get("name") or ""),
            bad_elements=tuple(bad),
            **numbers,
        )

    @classmethod
    def from_layout(cls, layout):
        values = {
            name: getattr(layout, name)
            for name in (
                "paper_width",
                "paper_height",
                "margin_top",
                "margin_right",
                "margin_bottom",
                "margin_left",
                "offset_x",
                "offset_y",
                "per_sheet",
                "copies",
                "print_background",
                "name",
            )
        }
        return cls.from_values(layout.kind, values, layout.elements)

    def element_dicts(self):
        return [e.to_dict() for e in self.elements if e is not None]

    def with_background(self, on):
        return replace(self, print_background=on)


# ------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``index`` is the element's (None for the paper), ``field`` the value
    at fault (a layout field name, or an element's key) when known."""

    message: str
    index: int | None = None
    field: str | None = None


def element_label(index, element, numbering=None):
    """ "Element 3 (text)": the element's number as the page shows it (``numbering[index]``)."""
    kind = ELEMENT_TYPES.get(getattr(element, "type", None), _("element"))
    number = numbering[index] if numbering else index + 1
    return _("Element %(number)s (%(type)s)") % {"number": number, "type": kind}


def validate(spec, sample=None, numbering=None):
    """Every problem of ``spec`` (an empty list when it prints).

    ``sample`` is the context the templates are tried on (default: the kind's sample);
    ``numbering`` the number each element shows on the edit page (default: its position).
    """
    from .samples import sample_context

    problems = _paper_problems(spec)
    root = cat.catalogue(spec.kind)
    context = sample if sample is not None else sample_context(spec.kind)
    for index, message in spec.bad_elements:
        label = element_label(index, None, numbering)
        problems.append(Problem(f"{label}: {message}", index))
    for index, element in enumerate(spec.elements):
        if element is None:
            continue
        label = element_label(index, element, numbering)
        for message, key in _element_problems(spec, element, root, context):
            problems.append(Problem(f"{label}: {message}", index, key))
    return problems


def _paper_problems(spec):
    problems = []
    if spec.margin_left + spec.margin_right >= spec.paper_width:
        problems.append(
            Problem(
                _("The left and right margins leave no room on the paper."), None, "margin_left"
            )
        )
    if spec.margin_top + spec.margin_bottom >= spec.paper_height:
        problems.append(
            Problem(_("The top and bottom margins leave no room on the paper."), None, "margin_top")
        )
    if spec.paper_height * spec.per_sheet > 1200:
        problems.append(
            Problem(
                _("%(n)s documents of %(h)s mm make a sheet longer than 1200 mm.")
                % {"n": spec.per_sheet, "h": _num(spec.paper_height)},
                None,
                "per_sheet",
            )
        )
    return problems


def _element_problems(spec, element, root, context):
    """(message, key) for each rule ``element`` breaks."""
    out = []
    kind = element.type
    if kind in (TEXT, MULTILINE, TABLE):
        if not MIN_SIZE <= element.size <= MAX_SIZE:
            out.append(
                (
                    _("the font size must be between %(low)s and %(high)s pt")
                    % {"low": MIN_SIZE, "high": MAX_SIZE},
                    "size",
                )
            )
        if element.align not in ALIGNMENTS:
            out.append((_("the alignment must be L, C or R"), "align"))
    else:
        if not MIN_STROKE <= element.stroke <= MAX_STROKE:
            out.append(
                (
                    _("the line width must be between %(low)s and %(high)s mm")
                    % {"low": MIN_STROKE, "high": MAX_STROKE},
                    "stroke",
                )
            )
    out.extend(_geometry_problems(spec, element))
    if kind in (TEXT, MULTILINE):
        out.extend(_template_problems(element.template, root, context, "template"))
    elif kind == TABLE:
        out.extend(_table_problems(element, root, context))
    return out


def _geometry_problems(spec, element):
    out = []
    if element.x < 0 or element.y < 0:
        return [(_("x and y cannot be negative"), "x")]
    if element.w < 0 or element.h < 0:
        return [(_("the width and height cannot be negative"), "w")]
    if element.type == LINE:
        if element.w == 0 and element.h == 0:
            out.append((_("a line needs a width or a height (its length)"), "w"))
    elif element.w == 0 or element.h == 0:
        out.append((_("the width and the height must be above 0"), "w"))
    left, top = spec.margin_left, spec.margin_top
    right = spec.paper_width - spec.margin_right
    bottom = spec.paper_height - spec.margin_bottom
    facts = {
        "x": _num(element.x),
        "y": _num(element.y),
        "w": _num(element.w),
        "h": _num(element.h),
        "right": _num(element.x + element.w),
        "bottom": _num(element.y + element.h),
        "left_edge": _num(left),
        "top_edge": _num(top),
        "right_edge": _num(right),
        "bottom_edge": _num(bottom),
    }
    if element.x < left - 1e-6:
        out.append(
            (
                _("starts at x = %(x)s mm, left of the printable area (from %(left_edge)s mm)")
                % facts,
                "x",
            )
        )
    if element.y < top - 1e-6:
        out.append(
            (
                _("starts at y = %(y)s mm, above the printable area (from %(top_edge)s mm)")
                % facts,
                "y",
            )
        )
    if element.x + element.w > right + 1e-6:
        out.append(
            (
                _(
                    "is out of the paper: x + width = %(right)s mm, beyond the right edge of the "
                    "printable area at %(right_edge)s mm"
                )
                % facts,
                "w",
            )
        )
    if element.y + element.h > bottom + 1e-6:
        out.append(
            (
                _(
                    "is out of the paper: y + height = %(bottom)s mm, below the bottom edge of "
                    "the printable area at %(bottom_edge)s mm"
                )
                % facts,
                "h",
            )
        )
    if element.type in (TEXT, MULTILINE) and element.h > 0:
        need = font_height(element.size)
        if element.h + 1e-6 < need:
            out.append(
                (
                    _(
                        "the box is %(h)s mm high, too low for %(size)s pt text "
                        "(it needs %(need)s mm)"
                    )
                    % {"h": facts["h"], "size": _num(element.size), "need": round(need, 1)},
                    "h",
                )
            )
    return out


def _template_problems(source, root, context, key, extra_fields=None, extra_sample=None):
    """Syntax, unknown fields and a trial on the sample data of one template.

    ``extra_fields`` adds names (a table column's ``row`` and ``index``) with their
    ``extra_sample`` values."""
    if not source.strip():
        return [(_("the template is empty"), key)]
    out = []
    scope = cat.Group(root.label, {**root.fields, **(extra_fields or {})})
    try:
        template = compile_template(source)
        for path, lineno in template_fields(source):
            try:
                cat.resolve(scope, path)
            except KeyError as exc:
                out.append((str(LayoutTemplateError(exc.args[0], lineno)), key))
        if out:
            return out
        render_template(template, {**context, **(extra_sample or {})})
    except LayoutTemplateError as exc:
        out.append((str(exc), key))
    return out


def _table_problems(element, root, context):
    out = []
    rows = element.rows
    rows_node = None
    if not rows:
        out.append(
            (_("a table needs the list it prints (rows), e.g. %(e)s") % {"e": "bills"}, "rows")
        )
    elif not ROWS_PATTERN.match(rows):
        out.append(
            (
                _('rows must name a list field like "bills", not "%(rows)s"') % {"rows": rows},
                "rows",
            )
        )
    else:
        try:
            rows_node = cat.resolve(root, rows.split("."))
        except KeyError as exc:
            out.append((exc.args[0], "rows"))
        else:
            if not isinstance(rows_node, cat.Rows):
                lists = ", ".join(cat.list_paths_of(root))
                out.append(
                    (
                        _('"%(rows)s" is not a list; the lists are: %(lists)s')
                        % {"rows": rows, "lists": lists},
                        "rows",
                    )
                )
                rows_node = None
    if not element.columns:
        out.append((_("a table needs at least one column"), "columns"))
    width = sum(c.width for c in element.columns)
    if element.columns and width > element.w + 1e-6:
        out.append(
            (
                _("the columns are %(cols)s mm wide together, wider than the table (%(w)s mm)")
                % {"cols": _num(width), "w": _num(element.w)},
                "columns",
            )
        )
    pitch = element.row_pitch
    if element.row_height is not None and element.row_height + 1e-6 < font_height(element.size):
        out.append(
            (
                _("the row height %(rh)s mm is too low for %(size)s pt text")
                % {"rh": _num(element.row_height), "size": _num(element.size)},
                "row_height",
            )
        )
    if element.h + 1e-6 < 2 * pitch:
        out.append(
            (
                _(
                    "the table is %(h)s mm high: room for the titles and at least one row needs %(need)s mm"
                )
                % {"h": _num(element.h), "need": _num(2 * pitch)},
                "h",
            )
        )
    sample_rows = _sample_rows(context, rows) if rows_node is not None else []
    extra_fields = extra_sample = None
    if rows_node is not None:
        extra_fields = {
            "row": cat.Group(rows_node.label, rows_node.fields),
            "index": cat.Field("#", cat.NUMBER),
        }
        extra_sample = {"row": sample_rows[0] if sample_rows else {}, "index": 1}
    for number, column in enumerate(element.columns, start=1):
        if column.width <= 0:
            out.append((_("column %(n)s: the width must be above 0") % {"n": number}, "columns"))
        if column.align not in ALIGNMENTS:
            out.append(
                (_("column %(n)s: the alignment must be L, C or R") % {"n": number}, "columns")
            )
        if extra_fields is None or not column.template.strip():
            continue  # a blank column (to write in by hand) has no template
        for message, _key in _template_problems(
            column.template, root, context, "columns", extra_fields, extra_sample
        ):
            out.append(
                (_("column %(n)s: %(message)s") % {"n": number, "message": message}, "columns")
            )
    return out


def _sample_rows(context, path):
    value = context
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, list) else []


def decimal_mm(value):
    """A stored mm value as a Decimal with one place (for forms)."""
    return Decimal(str(value)).quantize(Decimal("0.1"))
