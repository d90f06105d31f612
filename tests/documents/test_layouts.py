"""Layouts: the rules a layout keeps (clear messages), the catalogue, samples and docs that
agree, the services (journaled, one active layout per kind), the built-in layouts."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from watermis.core.models import AuditEntry
from watermis.documents import catalogue as cat
from watermis.documents import services
from watermis.documents.defaults import default_layouts
from watermis.documents.layout import Element, LayoutSpec, validate
from watermis.documents.models import DocumentKind, DocumentLayout
from watermis.documents.pdf import _Printer
from watermis.documents.samples import sample_context
from watermis.documents.templating import FILTERS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "documents.md"


def messages_of(elements, kind=DocumentKind.METER_CARD, **values):
    base = {"paper_width": 148, "paper_height": 105}
    base.update(values)
    return [p.message for p in validate(LayoutSpec.from_values(kind, base, elements))]


def text(template="{{ customer.name }}", **extra):
    element = {"type": "text", "x": 10, "y": 10, "w": 50, "h": 6, "size": 10, "template": template}
    element.update(extra)
    return element


# --- the rules, with messages naming the element and the rule ---------------------------------


def test_a_good_layout_has_no_problem():
    assert messages_of([text()]) == []


def test_out_of_paper():
    (message,) = messages_of([text(), text(x=120, w=40)])
    assert message.startswith("Element 2 (text): is out of the paper")
    assert "x + width = 160 mm" in message and "148 mm" in message
    (message,) = messages_of([text(y=100, h=8)])
    assert "below the bottom edge" in message and "108 mm" in message


def test_margins_bound_the_printable_area():
    (message,) = messages_of([text(x=3)], margin_left=5)
    assert "left of the printable area (from 5 mm)" in message
    assert messages_of([], margin_left=80, margin_right=80) == [
        "The left and right margins leave no room on the paper."
    ]


def test_unknown_field_names_it_and_suggests_the_closest():
    (message,) = messages_of([text("Name: {{ customer.nme }}")])
    assert message == (
        'Element 1 (text): line 1: unknown field "customer.nme"; did you mean "customer.name"?'
    )
    (message,) = messages_of([text("{{ nobody }}")])
    assert 'unknown field "nobody"' in message


def test_template_syntax_error_gives_the_line():
    (message,) = messages_of([text("ok\n{{ customer.name }\n")])
    assert message.startswith("Element 1 (text): line 2: template syntax error")


def test_a_list_is_not_a_text():
    (message,) = messages_of([text("{{ readings.volume }}")])
    assert '"readings" is a list' in message
    assert messages_of([text("{{ readings[0].volume }} {{ readings|length }}")]) == []


def test_failures_on_the_sample_are_found():
    (message,) = messages_of([text('{{ customer.name|date("cn") }}')])
    assert "is not a date" in message
    (message,) = messages_of([text("{% for r in readings %}{{ r.volum }}{% endfor %}")])
    assert 'unknown field "volum"' in message


def test_text_box_too_low_for_its_font():
    (message,) = messages_of([text(h=2, size=12)])
    assert "the box is 2 mm high, too low for 12 pt text (it needs 4.2 mm)" in message


def test_other_element_rules():
    found = messages_of(
        [
            text(size=100),
            text(align="X"),
            text(template="  "),
            {"type": "line", "x": 1, "y": 1, "w": 0, "h": 0},
            {"type": "box", "x": 1, "y": 1, "w": 10, "h": 10, "stroke": 9},
            {"type": "circle", "x": 1, "y": 1},
            {"type": "text", "x": "left", "y": 1},
        ]
    )
    assert any(
        m.startswith("Element 1 (text): the font size must be between 5 and 72") for m in found
    )
    assert any(m.startswith("Element 2 (text): the alignment must be L, C or R") for m in found)
    assert "Element 3 (text): the template is empty" in found
    assert any(m.startswith("Element 4 (line): a line needs a width or a height") for m in found)
    assert any(m.startswith("Element 5 (box): the line width must be between") for m in found)
    assert any(m.startswith('Element 6 (element): unknown element type "circle"') for m in found)
    assert any(m.startswith("Element 7 (element): x must be a number") for m in found)


def table(**extra):
    element = {
        "type": "table",
        "x": 5,
        "y": 40,
        "w": 100,
        "h": 40,
        "size": 9,
        "rows": "readings",
        "columns": [
            {"width": 50, "align": "L", "title": "月份", "template": "{{ row.month|month }}"},
            {"width": 50, "align": "R", "title": "水量", "template": "{{ row.volume }}"},
        ],
    }
    element.update(extra)
    return element


def test_table_rules():
    assert messages_of([table()]) == []
    (message,) = messages_of([table(rows="customer")])
    assert '"customer" is not a list; the lists are: readings' in message
    (message,) = messages_of([table(rows="reedings")])
    assert 'did you mean "readings"' in message
    (message,) = messages_of([table(w=80)])
    assert "the columns are 100 mm wide together, wider than the table (80 mm)" in message
    bad_column = table()
    bad_column["columns"][1]["template"] = "{{ row.volum }}"
    (message,) = messages_of([bad_column])
    assert message.startswith('Element 1 (table): column 2: line 1: unknown field "row.volum"')
    (message,) = messages_of([table(h=5)])
    assert "room for the titles and at least one row" in message
    blank = table()
    blank["columns"][1]["template"] = ""  # a column to write in by hand
    assert messages_of([blank]) == []
    with_index = table()
    with_index["columns"][0]["template"] = "{{ index }}. {{ customer.name }} {{ row.status }}"
    assert messages_of([with_index]) == []


def test_model_validation_on_save(admin):
    layout = DocumentLayout(
        kind=DocumentKind.METER_CARD,
        name="x",
        paper_width=148,
        paper_height=105,
        elements=[text("{{ customer.nme }}")],
    )
    with pytest.raises(ValidationError) as error:
        services.create_layout(admin, {**_values(layout), "elements": layout.elements})
    assert 'unknown field "customer.nme"' in str(error.value.message_dict["elements"])
    assert not DocumentLayout.objects.exists()


def _values(layout):
    return {name: getattr(layout, name) for name in services.LAYOUT_FIELDS}


# --- the catalogue, the samples and the docs agree --------------------------------------------


def sample_paths(value, prefix=()):
    """Every path of a sample, lists looked into through their first row."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from sample_paths(child, (*prefix, key))
    elif isinstance(value, list) and value:
        yield from sample_paths(value[0], prefix)


@pytest.mark.parametrize("kind", DocumentKind.values)
def test_sample_has_every_field_of_the_catalogue_and_nothing_else(kind):
    catalogue_paths = {path for path, _node in cat.walk(cat.catalogue(kind))}
    sample = sample_context(kind)
    assert set(sample_paths(sample)) == catalogue_paths
    for path, node in cat.walk(cat.catalogue(kind)):
        if isinstance(node, cat.Rows):
            value = sample
            for part in path:
                value = value[part]
            assert len(value) >= 1, path  # the preview shows a row of every list


@pytest.mark.parametrize("kind", DocumentKind.values)
def test_docs_list_every_field(kind):
    docs = DOCS.read_text()
    common = docs.split("## Fields of each document", 1)[1].split("\n### ", 1)[0]
    section = docs.split(f"— `{kind}`", 1)[1].split("\n### ", 1)[0]
    root = cat.catalogue(kind)
    for path, _node in cat.walk(root):
        name = ".".join(path)
        if path[0] in ("company", "customer", "printed_on", "printed_by"):
            assert f"`{name}`" in common or name == "customer", name
        elif isinstance(cat.resolve(root, path[:-1]), cat.Rows):
            assert f"`row.{path[-1]}`" in section, (kind, name)
        else:
            assert f"`{name}`" in section, (kind, name)


def test_docs_explain_every_filter():
    docs = DOCS.read_text()
    for name in FILTERS:
        assert f"`{name}`" in docs, name


# --- services ---------------------------------------------------------------------------------


def layout_data(**changes):
    values, elements = default_layouts()[DocumentKind.METER_CARD]
    data = {**values, "kind": DocumentKind.METER_CARD, "elements": elements, "active": True}
    data.update(changes)
    return data


def test_create_update_activate_are_journaled(admin):
    first = services.create_layout(admin, layout_data(name="卡一"))
    second = services.create_layout(admin, layout_data(name="卡二"))
    first.refresh_from_db()
    assert second.active and not first.active  # one active layout per kind
    services.update_layout(admin, first, {"name": "卡一（改）", "copies": 2})
    services.activate_layout(admin, first)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.active and not second.active
    entries = AuditEntry.objects.filter(object_type="documents.documentlayout")
    verbs = list(entries.order_by("id").values_list("action", "verb", "object_id"))
    assert verbs == [
        ("create", "", str(first.pk)),
        ("update", "deactivate", str(first.pk)),
        ("create", "", str(second.pk)),
        ("update", "", str(first.pk)),
        ("update", "deactivate", str(second.pk)),
        ("update", "activate", str(first.pk)),
    ]
    change = entries.get(verb="", action="update")
    assert change.before["copies"] == 1 and change.after["copies"] == 2
    assert services.active_layout(DocumentKind.METER_CARD).name == "卡一（改）"


def test_the_kind_of_a_layout_never_changes(admin):
    layout = services.create_layout(admin, layout_data())
    with pytest.raises(ValidationError):
        services.update_layout(admin, layout, {"kind": DocumentKind.RECEIPT})


def test_the_database_refuses_two_active_layouts(admin):
    services.create_layout(admin, layout_data())
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentLayout.objects.create(
            kind=DocumentKind.METER_CARD, name="another", active=True, elements=[]
        )


def test_only_the_administrator_changes_layouts(manager, clerk_a, admin):
    with pytest.raises(PermissionDenied):
        services.create_layout(manager, layout_data())
    layout = services.create_layout(admin, layout_data())
    with pytest.raises(PermissionDenied):
        services.update_layout(clerk_a, layout, {"name": "x"})
    with pytest.raises(PermissionDenied):
        services.activate_layout(manager, layout)


def test_without_a_layout_the_built_in_one_prints(db):
    spec = services.active_layout(DocumentKind.ARREARS_NOTICE)
    assert spec.paper_width == 210 and spec.paper_height == 297
    assert spec.elements


def test_default_layouts_are_created_once_and_journaled(db):
    created = services.ensure_default_layouts()
    assert len(created) == len(DocumentKind) == DocumentLayout.objects.filter(active=True).count()
    assert services.ensure_default_layouts() == []
    assert (
        AuditEntry.objects.filter(object_type="documents.documentlayout", action="create").count()
        == 8
    )


# --- the built-in layouts print their samples well --------------------------------------------


class _Recorder(_Printer):
    """A printer that records every text it fits, to find shrunk and cut texts."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fitted = []

    def fit(self, text, room, size):
        out = super().fit(text, room, size)
        self.fitted.append((text, size, *out))
        return out


@pytest.mark.parametrize("kind", DocumentKind.values)
def test_default_layout_prints_its_sample_without_cutting_text(kind):
    values, elements = default_layouts()[kind]
    spec = LayoutSpec.from_values(kind, values, elements)
    assert validate(spec) == []
    printer = _Recorder(spec, preview=False, title="")
    printer.add(sample_context(kind), 0)
    cut = [text for text, _size, printed, _new in printer.fitted if printed != text]
    assert cut == []
    shrunk = [(text, size, new) for text, size, _printed, new in printer.fitted if new < size]
    assert shrunk == []


def _printed_box(element):
    """The area a text or a table of a built-in layout prints on (a table: its grid)."""
    x, y, w, h = element["x"], element["y"], element["w"], element["h"]
    if element["type"] == "table":
        pitch = Element.from_dict(element).row_pitch
        h = int((h + 1e-6) // pitch) * pitch
    return (x, y, x + w, y + h, element.get("template") or element.get("rows"))


@pytest.mark.parametrize("kind", DocumentKind.values)
def test_default_elements_do_not_overlap(kind):
    """Texts and tables of a built-in layout do not overlap each other."""
    _values, elements = default_layouts()[kind]
    boxes = [_printed_box(e) for e in elements if e["type"] in ("text", "multiline", "table")]
    overlaps = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if (
                a[0] < b[2] - 0.01
                and b[0] < a[2] - 0.01
                and a[1] < b[3] - 0.01
                and b[1] < a[3] - 0.01
            ):
                overlaps.append((a[4], b[4]))
    assert overlaps == []


def test_filters_of_the_defaults_exist():
    for _kind, (_values, elements) in default_layouts().items():
        for element in elements:
            for template in [element.get("template", "")] + [
                c["template"] for c in element.get("columns", [])
            ]:
                for name in re.findall(r"\|\s*(\w+)", template):
                    assert name in FILTERS, name


def test_the_demo_and_the_command_store_the_default_layouts(db, capsys):
    from django.core.management import call_command

    from watermis.documents import demo

    assert len(demo.build()["layouts"]) == len(DocumentKind)
    call_command("create_default_layouts")
    assert "0 layout(s) created." in capsys.readouterr().out
    assert DocumentLayout.objects.filter(active=True).count() == len(DocumentKind)
