"""Interactive charts (M9): the spec a chart is drawn from, built by the views from rows.

A view turns its rows into a spec with :func:`chart_spec` and hands it to the
template, which includes ``core/chart.html``::

    {% include "core/chart.html" with spec=chart id="loss-chart" %}

The include embeds the spec with ``json_script``; ``core/charts.js`` (loaded by
every page) finds the chart, loads Apache ECharts from the npm package and draws
it; and the include renders the same figures as an HTML table beside the chart:
screen readers read it, printers print it, and it stays when scripts do not run.

The script has no text of its own. Every title, series name, unit and cell text
comes from the spec, so the view translates them with gettext. Each figure is in
the spec twice: as a number the chart plots, and as the text the table and the
tooltip show (money with 2 decimals, volumes and other figures as given).

The spec, a dict ready for JSON::

    {"title": "...", "height": 320, "zoom": False,
     "category": "Month",                      # the x-axis, and the table's first column
     "axes": [{"name": "m³", "min": None, "max": None}, {"name": "%", ...}],
     "series": [{"name": "Supplied", "unit": "m³", "type": "bar", "axis": 0,
                 "stack": "", "limit": None, "limit_label": "", "values": [50.0, None]}],
     "rows": [{"category": "2026-10", "cells": ["50.00", "—"], "css": ""}]}
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .money import round_fen

BAR, LINE, TABLE = "bar", "line", "table"
SERIES_TYPES = (BAR, LINE, TABLE)
MISSING = "—"


@dataclass(frozen=True)
class Axis:
    """A value axis: the first is drawn on the left, the second on the right.

    ``name`` is written at the top of the axis (a unit: "m³", "元", "%");
    ``min``/``max`` fix its ends (else ECharts picks them from the data).
    """

    name: str = ""
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Series:
    """One figure of every row: a key of the row dicts (or a function of a row) and how
    it is drawn.

    ``type``: ``"bar"``, ``"line"``, or ``"table"`` for a column of the table (and the
    tooltip) that is not plotted. ``axis``: 0 for the left value axis, 1 for the right.
    ``money``: the figure is yuan, written (and plotted) with 2 decimals; ``places``
    writes another figure with that many decimals (e.g. 2 for volumes summed by a
    database that drops trailing zeros); else figures are written as given. Both round
    half up. Bars with the same ``stack`` are stacked. ``limit`` draws a dashed
    line at that value (labelled ``limit_label``) and marks the points above it.
    """

    key: object
    name: str
    unit: str = ""
    type: str = BAR
    axis: int = 0
    money: bool = False
    places: int | None = None
    stack: str = ""
    limit: Decimal | float | int | None = None
    limit_label: str = ""

    def value_of(self, row):
        return self.key(row) if callable(self.key) else row[self.key]

    def text_of(self, value, missing=MISSING):
        return cell_text(value, 2 if self.money else self.places, missing)


def month_text(value):
    """A billing month (a date) as ``YYYY-MM``, the category text of monthly charts."""
    return f"{value:%Y-%m}"


def cell_text(value, places=None, missing=MISSING):
    """The text of a figure in the table and the tooltip: with ``places`` decimals (rounded
    half up, as money is everywhere), else as given; ``missing`` for no figure."""
    if value is None:
        return missing
    if places is not None:
        return str(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
    return str(value)


def plot_value(value, money=False):
    """The number the chart plots: Decimal becomes float (money rounded to the fen first),
    int stays, None stays (a gap)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"a chart figure must be a number or None, not {value!r}")
    if money:
        return float(round_fen(Decimal(value)))
    return float(value) if isinstance(value, Decimal) else value


def chart_spec(
    rows,
    *,
    category,
    category_label,
    series,
    title,
    axes=(),
    category_text=None,
    row_class=None,
    zoom=False,
    height=320,
    missing=MISSING,
):
    """The spec of a chart of ``rows`` (dicts, or anything ``category`` and each series'
    key can read), one category (x-axis point and table row) per row, in order.

    ``category``: the row key (or a function of a row) of the category; its text is
    ``category_text(value)`` (default ``str``; :func:`month_text` for billing months).
    ``category_label`` heads the table's first column. ``series``: :class:`Series`.
    ``axes``: :class:`Axis` (default: one unnamed axis, two if a series uses axis 1).
    ``row_class(row)``: CSS classes of the table row. ``zoom``: a data-zoom slider
    under the chart (for long category axes). All texts arrive translated.
    """
    series = list(series)
    for one in series:
        if one.type not in SERIES_TYPES:
            raise ValueError(f"unknown series type {one.type!r}")
        if one.axis not in (0, 1):
            raise ValueError(f"series {one.name!r}: axis must be 0 (left) or 1 (right)")
    axes = list(axes) or [Axis()] * (1 + any(s.axis == 1 for s in series))
    if any(s.axis >= len(axes) for s in series if s.type != TABLE):
        raise ValueError("a series is drawn on an axis that is not given")
    if category_text is None:
        category_text = str
    rows = list(rows)
    figures = [[one.value_of(row) for one in series] for row in rows]
    return {
        "title": str(title),
        "height": height,
        "zoom": bool(zoom),
        "category": str(category_label),
        "axes": [{"name": str(a.name), "min": a.min, "max": a.max} for a in axes],
        "series": [
            {
                "name": str(one.name),
                "unit": str(one.unit),
                "type": one.type,
                "axis": one.axis,
                "stack": one.stack,
                "limit": plot_value(one.limit),
                "limit_label": str(one.limit_label),
                "values": [plot_value(values[n], one.money) for values in figures],
            }
            for n, one in enumerate(series)
        ],
        "rows": [
            {
                "category": category_text(category(row) if callable(category) else row[category]),
                "cells": [
                    one.text_of(value, missing) for one, value in zip(series, values, strict=True)
                ],
                "css": row_class(row) if row_class else "",
            }
            for row, values in zip(rows, figures, strict=True)
        ],
    }


def export_rows(spec):
    """The header and rows of a spec's table for :func:`watermis.core.export.xlsx_response`:
    the category text, then each series' number (money rounded to the fen), in spec order."""
    header = [spec["category"]] + [
        f"{s['name']} ({s['unit']})" if s["unit"] else s["name"] for s in spec["series"]
    ]
    rows = [
        [row["category"], *(s["values"][n] for s in spec["series"])]
        for n, row in enumerate(spec["rows"])
    ]
    return header, rows
