"""The template language of document layouts: sandboxed Jinja2 over plain data (F11.8).

A layout's texts are Jinja2 templates, e.g. ``{{ customer.name }}`` or
``{{ totals.total|cny_upper }}``. They run in Jinja's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with these limits:

- the context is plain data (dicts, lists, str, Decimal, date) built by a
  per-kind source function, never model instances: a template cannot reach
  the database or call code it was not given;
- a dict shows only its keys (``customer.items`` is the key ``items``, never
  the dict method); names starting with ``_`` (keys included) and internal
  attributes are refused, and nothing can be changed (immutable sandbox);
- only the filters of :data:`FILTERS` exist; no globals, no ``include`` or
  ``import`` (there is no loader), and ``*`` / ``**`` cannot build huge values;
- a field that does not exist is an error (never a silent blank): checked
  against the kind's field catalogue when the layout is saved
  (:func:`template_fields`), and at printing time.

Filters are pure functions, documented in docs/documents.md.
"""

import datetime
import difflib
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 4000  # characters one template may produce
MAX_SEQUENCE = 10_000  # longest string or list ``*`` may build
MAX_EXPONENT = 100

FEN = Decimal("0.01")
DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACE_UNITS = ("", "拾", "佰", "仟")
SECTION_UNITS = ("", "万", "亿")
CNY_UPPER_LIMIT = Decimal("1000000000000")  # 1 万亿: the largest amount is 9999亿…


class LayoutTemplateError(Exception):
    """A template that cannot be compiled or rendered: a message and the template line."""

    def __init__(self, message, lineno=None):
        super().__init__(message)
        self.message = message
        self.lineno = lineno

    def __str__(self):
        if self.lineno:
            return _("line %(line)s: %(message)s") % {"line": self.lineno, "message": self.message}
        return self.message


# ------------------------------------------------------------------------- filters


def _decimal(value):
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(_("a yes/no value is not a number"))
    try:
        return Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(_('"%(value)s" is not a number') % {"value": value}) from None


def cny_upper(value):
    """An amount in Chinese capital numerals (大写金额), as written on invoices and cheques.

    Rounded half up to the fen. ``123.45`` → 壹佰贰拾叁元肆角伍分; ``0`` → 零元整;
    ``100`` → 壹佰元整; ``1409.50`` → 壹仟肆佰零玖元伍角; ``325.04`` → 叁佰贰拾伍元零肆分;
    ``15`` → 壹拾伍元整; ``0.5`` → 伍角; a negative amount starts with 负 (red invoices).
    Rules (the People's Bank of China rules for writing amounts): 整 follows 元 when
    there is no 角 and no 分; one 零 stands for a run of zeros inside the number
    (also across 万 and 亿); 零 follows 元 when 角 is zero and 分 is not; 拾 always
    has its digit (壹拾). Amounts of 1 万亿 and more are refused.
    """
    amount = _decimal(value)
    if amount is None:
        return ""
    amount = amount.quantize(FEN, rounding=ROUND_HALF_UP)
    sign = ""
    if amount < 0:
        sign, amount = "负", -amount
    if amount >= CNY_UPPER_LIMIT:
        raise ValueError(_("%(value)s is too large for capital numerals") % {"value": value})
    fen_total = int(amount * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if yuan == 0 and rest == 0:
        return sign + "零元整"
    text = _integer_upper(yuan)
    if yuan:
        text += "元"
        if rest == 0:
            return sign + text + "整"
        if jiao == 0:
            return sign + text + "零" + DIGITS[fen] + "分"
    if jiao:
        text += DIGITS[jiao] + "角"
    if fen:
        text += DIGITS[fen] + "分"
    return sign + text


def _integer_upper(number):
    """A whole number of yuan in capital numerals (no unit), "" for 0."""
    digits = str(number) if number else ""
    out = []
    zero_pending = False
    section_has_digit = False
    for i, char in enumerate(digits):
        position = len(digits) - 1 - i
        place, section = position % 4, position // 4
        digit = int(char)
        if digit == 0:
            zero_pending = bool(out)
        else:
            if zero_pending:
                out.append("零")
                zero_pending = False
            out.append(DIGITS[digit] + PLACE_UNITS[place])
            section_has_digit = True
        if place == 0 and section > 0:
            if section_has_digit:
                out.append(SECTION_UNITS[section])
            section_has_digit = False
    return "".join(out)


def money(value, grouping=True):
    """An amount with 2 decimals, half up, with a thousands separator: 1,234.50."""
    amount = _decimal(value)
    if amount is None:
        return ""
    amount = amount.quantize(FEN, rounding=ROUND_HALF_UP)
    return f"{amount:,.2f}" if grouping else f"{amount:.2f}"


def number(value, places=2, grouping=False):
    """A number with ``places`` decimals (half up): volumes, readings, prices."""
    amount = _decimal(value)
    if amount is None:
        return ""
    places = int(places)
    if not 0 <= places <= 6:
        raise ValueError(_("places must be between 0 and 6"))
    amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{amount:,.{places}f}" if grouping else f"{amount:.{places}f}"


DATE_FORMATS = {
    "iso": "%Y-%m-%d",
    "cn": "{y}年{m}月{d}日",
    "cn0": "%Y年%m月%d日",
    "dot": "%Y.%m.%d",
    "slash": "%Y/%m/%d",
    "compact": "%Y%m%d",
}
MONTH_FORMATS = {
    "iso": "%Y-%m",
    "cn": "{y}年{m}月",
    "cn0": "%Y年%m月",
    "dot": "%Y.%m",
    "compact": "%Y%m",
}


def _as_date(value):
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise ValueError(_('"%(value)s" is not a date') % {"value": value})


def _format(day, fmt, presets):
    pattern = presets.get(fmt, fmt)
    if "{" in pattern:  # the presets without leading zeros
        return pattern.format(y=day.year, m=day.month, d=day.day)
    if "%" not in pattern:
        raise ValueError(
            _('unknown date format "%(format)s": use one of %(names)s or a strftime pattern')
            % {"format": fmt, "names": ", ".join(presets)}
        )
    return day.strftime(pattern)


def format_date(value, fmt="iso"):
    """A date: ``iso`` 2026-03-05, ``cn`` 2026年3月5日, ``cn0`` 2026年03月05日, ``dot``
    2026.03.05, ``slash`` 2026/03/05, ``compact`` 20260305, or a strftime pattern."""
    if value is None or value == "":
        return ""
    return _format(_as_date(value), fmt, DATE_FORMATS)


def format_month(value, fmt="iso"):
    """A billing month: ``iso`` 2026-03, ``cn`` 2026年3月, ``cn0`` 2026年03月, ``dot``
    2026.03, ``compact`` 202603, or a strftime pattern."""
    if value is None or value == "":
        return ""
    return _format(_as_date(value), fmt, MONTH_FORMATS)


def pad(value, width, fill=" ", right=False):
    """``value`` filled to ``width`` characters with ``fill`` (on the left when ``right``:
    ``{{ no|pad(8, "0", right=True) }}`` → 00001234); longer values are left alone."""
    text = "" if value is None else str(value)
    width = int(width)
    if not 0 <= width <= 200:
        raise ValueError(_("width must be between 0 and 200"))
    fill = str(fill)[:1] or " "
    return text.rjust(width, fill) if right else text.ljust(width, fill)


def truncate(value, length, end="…"):
    """At most ``length`` characters; a cut text ends with ``end`` (counted in ``length``)."""
    text = "" if value is None else str(value)
    length = int(length)
    if length < 0:
        raise ValueError(_("length cannot be negative"))
    if len(text) <= length:
        return text
    end = str(end)
    return text[: max(length - len(end), 0)] + end[:length]


def default(value, fallback=""):
    """``fallback`` when ``value`` is empty (None, "" or an empty list)."""
    return fallback if value is None or value == "" or value == [] else value


def join(values, separator=""):
    return str(separator).join("" if v is None else str(v) for v in values)


def _length(value):
    return len(value)


def _upper(value):
    return "" if value is None else str(value).upper()


def _lower(value):
    return "" if value is None else str(value).lower()


def _trim(value):
    return "" if value is None else str(value).strip()


def _replace(value, old, new):
    return ("" if value is None else str(value)).replace(str(old), str(new))


def _first(values):
    return values[0] if values else None


def _last(values):
    return values[-1] if values else None


FILTERS = {
    "money": money,
    "cny_upper": cny_upper,
    "number": number,
    "date": format_date,
    "month": format_month,
    "pad": pad,
    "truncate": truncate,
    "default": default,
    "join": join,
    "length": _length,
    "upper": _upper,
    "lower": _lower,
    "trim": _trim,
    "replace": _replace,
    "first": _first,
    "last": _last,
}


# ------------------------------------------------------------------------- environment


class MissingField(StrictUndefined):
    """An unknown field: an error wherever it is used, naming the field."""

    __slots__ = ()

    @property
    def _undefined_message(self):
        if self._undefined_hint:
            return self._undefined_hint
        return _('unknown field "%(name)s"') % {"name": self._undefined_name}


def _finalize(value):
    return "" if value is None else value


class LayoutEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox of layout templates: dicts show their keys only; no huge values."""

    intercepted_binops = frozenset({"*", "**"})

    def getattr(self, obj, attribute):
        if isinstance(obj, dict):
            return self._key(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        if isinstance(obj, dict):
            return self._key(obj, argument)
        return super().getitem(obj, argument)

    def _key(self, obj, name):
        if isinstance(name, str) and name.startswith("_"):
            raise SecurityError(_('the name "%(name)s" is private') % {"name": name})
        if name in obj:
            return obj[name]
        return self.undefined(obj=obj, name=name)

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, int | float | Decimal) and abs(right) > MAX_EXPONENT:
                raise SecurityError(_("the power is too large"))
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > MAX_SEQUENCE
                ):
                    raise SecurityError(_("the text or list would be too long"))
        return super().call_binop(context, operator, left, right)


def make_environment():
    env = LayoutEnvironment(
        undefined=MissingField,
        autoescape=False,
        finalize=_finalize,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters = dict(FILTERS)
    env.globals = {}
    return env


ENVIRONMENT = make_environment()


def compile_template(source):
    """The compiled template of ``source``; :class:`LayoutTemplateError` with the line if the
    syntax is wrong."""
    try:
        return ENVIRONMENT.from_string(source or "")
    except TemplateSyntaxError as exc:
        raise LayoutTemplateError(
            _("template syntax error: %(message)s") % {"message": exc.message}, exc.lineno
        ) from None
    except TemplateError as exc:  # e.g. a filter that does not exist
        raise LayoutTemplateError(str(exc)) from None


def parse_template(source):
    """The syntax tree of ``source`` (for :func:`template_fields`)."""
    try:
        return ENVIRONMENT.parse(source or "")
    except TemplateSyntaxError as exc:
        raise LayoutTemplateError(
            _("template syntax error: %(message)s") % {"message": exc.message}, exc.lineno
        ) from None


def render_template(template, context):
    """``template`` rendered with ``context``; every failure is a :class:`LayoutTemplateError`
    (an unknown field, a refused attribute, a filter given a wrong value)."""
    try:
        text = template.render(context)
    except SecurityError as exc:
        raise LayoutTemplateError(
            _("not allowed in a layout: %(message)s") % {"message": exc}, _lineno(exc)
        ) from None
    except UndefinedError as exc:
        raise LayoutTemplateError(exc.message or str(exc), _lineno(exc)) from None
    except TemplateError as exc:
        raise LayoutTemplateError(exc.message or str(exc), _lineno(exc)) from None
    except (ValueError, TypeError, ArithmeticError, LookupError) as exc:
        raise LayoutTemplateError(str(exc), _lineno(exc)) from None
    if len(text) > MAX_OUTPUT:
        raise LayoutTemplateError(
            _("the text is longer than %(limit)s characters") % {"limit": MAX_OUTPUT}
        )
    return text


def _lineno(exc):
    """The template line of an exception raised while rendering: Jinja rewrites the
    traceback so that the template's frames carry the template's line numbers."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


# ------------------------------------------------------------------------- field check


def template_fields(source):
    """The data fields ``source`` reads: (path, line) pairs, e.g. (("customer", "name"), 1).

    A path starts at a name the template does not define itself (loop variables and
    ``set`` names are left out) and follows constant attributes and keys
    (``bills[0].amount`` → ``("bills", 0, "amount")``); it stops at a computed key.
    """
    from jinja2 import meta

    tree = parse_template(source)
    free = meta.find_undeclared_variables(tree)
    found = []
    _collect(tree, free, found)
    return found


def _chain(node):
    parts = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str | int):
            parts.append(node.arg.value)
        else:
            parts = []  # a computed key: only what comes before it can be checked
        node = node.node
    if isinstance(node, nodes.Name) and node.ctx == "load":
        return (node.name, *reversed(parts)), node.lineno
    return None, None


def _collect(node, free, found):
    if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
        path, lineno = _chain(node)
        if path is not None and path[0] in free:
            found.append((path, lineno))
        inner = node
        while isinstance(inner, nodes.Getattr | nodes.Getitem):
            if isinstance(inner, nodes.Getitem):
                _collect(inner.arg, free, found)
            inner = inner.node
        if not isinstance(inner, nodes.Name):
            _collect(inner, free, found)
        return
    for child in node.iter_child_nodes():
        _collect(child, free, found)


def suggest(name, candidates):
    """The closest candidate to a mistyped ``name``, or None."""
    match = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return match[0] if match else None
