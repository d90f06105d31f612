"""Document layouts and printing: the API other modules call (F11.8).

Printing::

    from watermis.documents.services import render_pdf
    pdf_bytes = render_pdf("water_invoice", contexts)          # the active layout
    pdf_bytes = render_pdf("water_invoice", contexts, layout)  # a chosen one

``contexts`` is an iterable of plain-data dicts shaped as the kind's field
catalogue says (:mod:`watermis.documents.catalogue`); one PDF holds them all,
one document after another. Without an active layout of the kind, the
built-in default layout prints (:mod:`watermis.documents.defaults`).

Layout changes go through :func:`create_layout`, :func:`update_layout` and
:func:`activate_layout`: permission-checked, validated, journaled, one
transaction each; one layout per kind is active.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from watermis.core import journal
from watermis.core.scoping import ensure_in_scope

from . import pdf
from .defaults import default_layout, default_layouts
from .layout import LayoutSpec
from .models import DocumentKind, DocumentLayout
from .samples import sample_context

LAYOUT_FIELDS = [
    "kind",
    "name",
    "active",
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
    "elements",
    "note",
]


class NoLayout(Exception):
    """The kind has no layout to print with."""


# ------------------------------------------------------------------------- printing


def active_layout(kind):
    """The spec of the active layout of ``kind``: the administrator's, else the built-in."""
    kind = DocumentKind(kind)
    layout = DocumentLayout.objects.filter(kind=kind, active=True).first()
    if layout is not None:
        return LayoutSpec.from_layout(layout)
    return default_spec(kind)


def default_spec(kind):
    """The built-in default layout of ``kind``."""
    values, elements = default_layout(kind)
    return LayoutSpec.from_values(kind, values, elements)


def as_spec(kind, layout):
    """``layout`` (None, a :class:`DocumentLayout` or a :class:`LayoutSpec`) as a spec of ``kind``."""
    if layout is None:
        return active_layout(kind)
    spec = LayoutSpec.from_layout(layout) if isinstance(layout, DocumentLayout) else layout
    if spec.kind != DocumentKind(kind):
        raise ValueError(f"a {spec.kind} layout cannot print {kind} documents")
    return spec


def render_pdf(kind, contexts, layout=None, *, preview=False):
    """One PDF (bytes) of the documents ``contexts`` of ``kind``, many pages.

    ``layout``: a :class:`DocumentLayout` or :class:`LayoutSpec` of the kind (default: the
    active one). Raises :class:`watermis.documents.pdf.DocumentRenderError` naming the
    document and the element when one cannot print, and
    :class:`watermis.documents.fonts.FontMissing` without a Chinese font.
    """
    spec = as_spec(kind, layout)
    with translation.override(settings.LANGUAGE_CODE):  # documents speak the company's language
        return pdf.render(spec, contexts, preview=preview, title=DocumentKind(kind).label)


def sample_pdf(spec, *, preview=True):
    """The layout printed with its kind's sample data (enough copies to fill a sheet)."""
    context = sample_context(spec.kind)
    documents = max(1, spec.per_sheet // max(spec.copies, 1))
    with translation.override(settings.LANGUAGE_CODE):
        return pdf.render(spec, [context] * documents, preview=preview, title=spec.name)


def sample_png(spec, dpi=110):
    """The first page of :func:`sample_pdf` as a PNG image (the live preview)."""
    return pdf.render_png(sample_pdf(spec), dpi=dpi)


# ------------------------------------------------------------------------- changing layouts


def _deactivate_others(layout, actor):
    """Make ``layout`` the only active one of its kind: the others are switched off (locked
    in primary-key order, journaled)."""
    others = (
        DocumentLayout.objects.select_for_update()
        .filter(kind=layout.kind, active=True)
        .exclude(pk=layout.pk)
        .order_by("pk")
    )
    for other in others:
        journal.update_object(other, {"active": False}, verb="deactivate", actor=actor)


def _one_active(save):
    """Run ``save``; two people activating layouts of one kind at once: the second is told."""
    try:
        with transaction.atomic():
            return save()
    except IntegrityError as exc:
        if "documents_one_active_layout_per_kind" not in str(exc):
            raise
        raise ValidationError(
            {"active": _("Another layout of this document was made active just now; try again.")}
        ) from None


@transaction.atomic
def create_layout(actor, data):
    """A new layout from ``data`` (the :data:`LAYOUT_FIELDS`); active: the others of its kind
    are switched off."""
    layout = DocumentLayout(**{name: data[name] for name in LAYOUT_FIELDS if name in data})
    ensure_in_scope(actor, layout, "add")
    if layout.active:
        _deactivate_others(layout, actor)
    return _one_active(lambda: journal.create_object(layout, actor=actor))


@transaction.atomic
def update_layout(actor, layout, data):
    """Change a layout under a row lock; the kind never changes."""
    layout = DocumentLayout.objects.select_for_update().get(pk=layout.pk)
    ensure_in_scope(actor, layout, "change")
    if "kind" in data and data["kind"] != layout.kind:
        raise ValidationError({"kind": _("The document of a layout cannot change.")})
    changes = {name: data[name] for name in LAYOUT_FIELDS if name in data and name != "kind"}
    if changes.get("active") and not layout.active:
        _deactivate_others(layout, actor)
    return _one_active(lambda: journal.update_object(layout, changes, actor=actor))


@transaction.atomic
def activate_layout(actor, layout):
    """Print ``layout`` by default for its kind (the previous active one is switched off)."""
    layout = DocumentLayout.objects.select_for_update().get(pk=layout.pk)
    ensure_in_scope(actor, layout, "change")
    if layout.active:
        return layout
    _deactivate_others(layout, actor)
    return _one_active(
        lambda: journal.update_object(layout, {"active": True}, verb="activate", actor=actor)
    )


@transaction.atomic
def ensure_default_layouts(actor=None):
    """Create the built-in default layout of every kind that has no layout yet (active).

    Returns the layouts created. Journaled; run by the demo and by
    ``manage.py create_default_layouts``.
    """
    created = []
    have = set(DocumentLayout.objects.values_list("kind", flat=True).distinct())
    with translation.override(settings.LANGUAGE_CODE):  # the names, in the company's language
        layouts = default_layouts()
    for kind, (values, elements) in layouts.items():
        if kind in have:
            continue
        layout = DocumentLayout(kind=kind, active=True, elements=elements, **values)
        created.append(journal.create_object(layout, actor=actor))
    return created
