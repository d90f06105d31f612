"""Pages of the document engine (F11.8, F6.6, F3.24, F3.25).

Layouts: the list, a layout's page (its sample printed as a picture, its
elements, its history), the edit page with a live preview (the form is posted
to :class:`LayoutPreviewView` as it changes; the answer is the sample printed
with what is typed, as a PNG, or the messages of what is wrong) and the
sample as a PDF. Seeing layouts needs ``documents.view_documentlayout``;
changing them ``documents.add_documentlayout`` / ``change_documentlayout``.

Printing: meter cards of books (``documents.print_meter_cards``), payment
and arrears notices of books or one customer (``documents.print_notices`` and
``billing.view_bill``). Books and customers are those of the operator's zones.
"""

import base64

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from watermis.core.journal import history
from watermis.core.views import (
    ObjectDetailView,
    ObjectListView,
    PermissionMixin,
    ScopedViewMixin,
    add_service_errors,
)
from watermis.customers.models import Book, Customer

from . import catalogue as cat
from . import services, sources
from .filtersets import DocumentLayoutFilterSet
from .fonts import FontMissing
from .forms import LayoutEditor, MeterCardPrintForm, NoticePrintForm
from .layout import ELEMENT_TYPES, LayoutSpec
from .models import DocumentKind, DocumentLayout
from .pdf import DocumentRenderError, NothingToPrint, render_png
from .tables import DocumentLayoutTable

VIEW = "documents.view_documentlayout"
CHANGE = "documents.change_documentlayout"
PREVIEW_WIDTH_PX = 1000


def pdf_response(data, filename, inline=False):
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def preview_dpi(spec):
    """A resolution that makes the preview about :data:`PREVIEW_WIDTH_PX` wide."""
    inches = spec.paper_width / 25.4
    return max(40, min(160, int(PREVIEW_WIDTH_PX / inches)))


def catalogue_rows(kind):
    """(path, label, type, depth, is list) of the kind's fields, for the reference panel."""
    rows = []
    for path, node in cat.walk(cat.catalogue(kind)):
        is_list = isinstance(node, cat.Rows)
        kind_name = "list" if is_list else ("group" if isinstance(node, cat.Group) else node.type)
        rows.append((".".join(path), node.label, kind_name, len(path) - 1, is_list))
    return rows


def elements_change(before, after):
    """A short account of what changed in a layout's elements (the journal keeps them all)."""
    before, after = before or [], after or []
    changed = [str(i + 1) for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
    parts = []
    if changed:
        parts.append(_("changed: %(numbers)s") % {"numbers": ", ".join(changed)})
    if len(after) > len(before):
        parts.append(_("%(count)s added") % {"count": len(after) - len(before)})
    if len(after) < len(before):
        parts.append(_("%(count)s removed") % {"count": len(before) - len(after)})
    return parts


def layout_history(layout, limit=50):
    """(entry, [(field, before, after)]) of a layout's journal, the elements told in short."""
    label = DocumentLayout._meta.get_field("elements").verbose_name
    rows = []
    for entry in history(layout)[:limit]:
        changes = [c for c in entry.described_changes() if c[0] != label]
        before = (entry.before or {}).get("elements")
        after = (entry.after or {}).get("elements")
        if before != after:
            count = _("%(count)s elements") % {"count": len(after or [])}
            detail = elements_change(before, after) if before is not None else []
            old = _("%(count)s elements") % {"count": len(before)} if before is not None else ""
            changes.append((label, old, " · ".join([count, *detail])))
        rows.append((entry, changes))
    return rows


# ------------------------------------------------------------------------- layouts


class LayoutListView(ObjectListView):
    model = DocumentLayout
    table_class = DocumentLayoutTable
    filterset_class = DocumentLayoutFilterSet
    create_url = "documents:layout_add"
    template_name = "documents/layout_list.html"
    export_name = "document-layouts"

    def get_queryset(self):
        order = Case(
            *(When(kind=kind, then=Value(n)) for n, kind in enumerate(DocumentKind.values)),
            output_field=IntegerField(),
        )
        return (
            super().get_queryset().alias(kind_order=order).order_by("kind_order", "-active", "name")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        active = set(DocumentLayout.objects.filter(active=True).values_list("kind", flat=True))
        context["builtin_kinds"] = [k.label for k in DocumentKind if k.value not in active]
        return context


class LayoutDetailView(ObjectDetailView):
    """A layout: its settings, its sample printed as a picture, its elements and history."""

    model = DocumentLayout
    edit_url = "documents:layout_edit"
    template_name = "documents/layout_detail.html"

    def get_fields(self, obj):
        def mm(value):
            return f"{value.normalize():f}"

        return [
            (_("Document"), obj.get_kind_display()),
            (_("Name"), obj.name),
            (_("Active"), obj.active),
            (_("Paper"), f"{mm(obj.paper_width)} × {mm(obj.paper_height)} mm"),
            (
                _("Margins (top, right, bottom, left)"),
                " · ".join(
                    mm(v)
                    for v in (obj.margin_top, obj.margin_right, obj.margin_bottom, obj.margin_left)
                )
                + " mm",
            ),
            (_("Printer shift (right, down)"), f"{mm(obj.offset_x)} · {mm(obj.offset_y)} mm"),
            (_("Documents per sheet"), obj.per_sheet),
            (_("Copies"), obj.copies),
            (_("Print the form"), obj.print_background),
            (_("Note"), obj.note),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        layout, user = context["object"], self.request.user
        context.update(
            elements=[
                {
                    "number": number,
                    "type": ELEMENT_TYPES.get(e.get("type"), e.get("type")),
                    "place": f"{e.get('x')}, {e.get('y')} · {e.get('w')} × {e.get('h')}",
                    "form": e.get("form"),
                    "what": e.get("template") or e.get("rows") or "",
                    "columns": [c.get("title") or c.get("template") for c in e.get("columns", [])],
                }
                for number, e in enumerate(layout.elements or [], start=1)
            ],
            can_copy=user.has_perm("documents.add_documentlayout"),
            can_activate=user.has_perm(CHANGE) and not layout.active,
            history=None,
            layout_history=layout_history(layout)
            if user.has_perm("core.view_auditentry")
            else None,
        )
        return context


class LayoutPngView(ScopedViewMixin, View):
    """The layout's sample, printed, as a picture (the layout page shows it)."""

    model = DocumentLayout

    def get(self, request, pk):
        layout = get_object_or_404(self.get_queryset(), pk=pk)
        spec = LayoutSpec.from_layout(layout)
        try:
            png = render_png(services.sample_pdf(spec), dpi=preview_dpi(spec))
        except (DocumentRenderError, FontMissing) as exc:
            return HttpResponse(str(exc), status=500, content_type="text/plain; charset=utf-8")
        response = HttpResponse(png, content_type="image/png")
        response["Cache-Control"] = "no-store"
        return response


class LayoutPdfView(ScopedViewMixin, View):
    """The layout's sample as a PDF (to print a test page)."""

    model = DocumentLayout

    def get(self, request, pk):
        layout = get_object_or_404(self.get_queryset(), pk=pk)
        spec = LayoutSpec.from_layout(layout)
        try:
            data = services.sample_pdf(spec, preview=False)
        except (DocumentRenderError, FontMissing) as exc:
            messages.error(request, str(exc))
            return redirect(layout.get_absolute_url())
        return pdf_response(data, f"layout-{layout.pk}-sample.pdf", inline=True)


class LayoutEditView(ScopedViewMixin, TemplateView):
    """Create (no ``pk``) or change a layout: page settings, elements, live preview."""

    model = DocumentLayout
    template_name = "documents/layout_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.action = "change" if "pk" in kwargs else "add"
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def initial_for_new(self):
        """A new layout starts as a copy (``?copy=``) or as the kind's default (``?kind=``)."""
        copy_pk = self.request.GET.get("copy", "")
        if copy_pk.isdigit():
            source = get_object_or_404(
                DocumentLayout.objects.restrict(self.request.user), pk=copy_pk
            )
            initial = {name: getattr(source, name) for name in services.LAYOUT_FIELDS}
            initial.update(name=_("%(name)s (copy)") % {"name": source.name}, active=False)
            return initial
        kind = self.request.GET.get("kind", "")
        if kind not in DocumentKind.values:
            return None
        values, elements = services.default_layouts()[kind]
        return {**values, "kind": kind, "elements": elements, "active": False}

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        if obj is None:
            initial = self.initial_for_new()
            if initial is None:
                return self.render_to_response(
                    self.get_context_data(
                        title=_("New document layout"),
                        kinds=[(k.value, k.label) for k in DocumentKind],
                    )
                )
            editor = LayoutEditor(initial=initial, user=request.user)
        else:
            editor = LayoutEditor(instance=obj, user=request.user)
        return self.render_editor(editor, obj)

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        editor = LayoutEditor(request.POST, instance=obj, user=request.user)
        if editor.is_valid():
            data = {**editor.values(), "elements": editor.elements()}
            try:
                if obj is None:
                    saved = services.create_layout(request.user, data)
                else:
                    saved = services.update_layout(request.user, obj, data)
            except ValidationError as exc:
                add_service_errors(editor.form, exc)
            else:
                messages.success(request, _("Saved: %(name)s") % {"name": saved})
                return redirect(saved.get_absolute_url())
        return self.render_editor(editor, obj)

    def render_editor(self, editor, obj):
        kind = editor.kind
        title = (
            _("Change %(name)s") % {"name": obj}
            if obj
            else _("New layout: %(kind)s") % {"kind": DocumentKind(kind).label}
        )
        return self.render_to_response(
            self.get_context_data(
                title=title,
                object=obj,
                editor=editor,
                form=editor.form,
                formset=editor.formset,
                kind=kind,
                catalogue=catalogue_rows(kind),
                layout_history=layout_history(obj, 20)
                if obj is not None and self.request.user.has_perm("core.view_auditentry")
                else None,
            )
        )


class LayoutDraftMixin(PermissionMixin):
    """The edit page's form, posted: the layout as typed, unsaved."""

    def get_permission_required(self):
        return CHANGE

    def editor(self, request):
        data = request.POST.copy()
        kind = data.get("kind") or data.get("preview_kind", "")
        data["kind"] = kind
        return LayoutEditor(data, user=request.user, kind=kind)


class LayoutPreviewView(LayoutDraftMixin, View):
    """The live preview: the sample printed with the typed layout, as a PNG in a fragment,
    or the messages saying what is wrong."""

    def post(self, request):
        editor = self.editor(request)
        context = {"messages_list": [], "image": None}
        if editor.is_valid():
            spec = editor.spec()
            try:
                png = render_png(services.sample_pdf(spec), dpi=preview_dpi(spec))
            except (DocumentRenderError, FontMissing) as exc:
                context["messages_list"] = [str(exc)]
            else:
                context["image"] = base64.b64encode(png).decode("ascii")
                context["spec"] = spec
                context["sheet_height"] = spec.paper_height * spec.per_sheet
        else:
            context["messages_list"] = editor.all_errors() or [
                _("The layout cannot be printed as it is.")
            ]
        return render(request, "documents/preview.html", context)


class LayoutDraftPdfView(LayoutDraftMixin, View):
    """The sample printed with the typed layout, as a PDF (the "Download PDF" button)."""

    def post(self, request):
        editor = self.editor(request)
        if editor.is_valid():
            try:
                data = services.sample_pdf(editor.spec(), preview=False)
            except (DocumentRenderError, FontMissing) as exc:
                problems = [str(exc)]
            else:
                return pdf_response(data, "layout-sample.pdf", inline=True)
        else:
            problems = editor.all_errors()
        return render(
            request,
            "documents/draft_errors.html",
            {"title": _("The layout cannot be printed"), "problems": problems},
            status=400,
        )


class LayoutActivateView(ScopedViewMixin, View):
    """Make a layout the one printed by default for its document."""

    model = DocumentLayout
    action = "change"

    def get(self, request, pk):
        return redirect("documents:layout_detail", pk=pk)

    def post(self, request, pk):
        layout = get_object_or_404(self.get_queryset(), pk=pk)
        services.activate_layout(request.user, layout)
        messages.success(
            request,
            _("%(name)s now prints every %(kind)s.")
            % {"name": layout.name, "kind": layout.get_kind_display()},
        )
        return redirect(layout.get_absolute_url())


# ------------------------------------------------------------------------- printing


class PrintView(PermissionMixin, TemplateView):
    """A form that prints one PDF of many documents."""

    template_name = "documents/print_form.html"
    form_class = None
    title = ""

    def get_form(self, data=None):
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_form())

    def render_form(self, form, **extra):
        return self.render_to_response(self.get_context_data(form=form, title=self.title, **extra))

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                data = self.print_pdf(form)
            except NothingToPrint:
                form.add_error(None, self.nothing_message(form))
            except DocumentRenderError as exc:
                form.add_error(None, str(exc))
            except FontMissing as exc:
                form.add_error(None, str(exc))
            else:
                return pdf_response(data, self.filename(form))
        return self.render_form(form)


class MeterCardPrintView(PrintView):
    """Meter cards (F6.6) of one or more books, in walking order: one PDF."""

    permission_required = "documents.print_meter_cards"

    @property
    def title(self):
        return _("Print meter cards")

    def get_form(self, data=None):
        initial = {}
        book = self.request.GET.get("book", "")
        if data is None and book.isdigit():
            initial["books"] = Book.objects.restrict(self.request.user).filter(pk=book)
        return MeterCardPrintForm(data, initial=initial, user=self.request.user)

    def print_pdf(self, form):
        user = self.request.user
        contexts = sources.meter_card_contexts(
            form.cleaned_data["books"],
            customers=Customer.objects.restrict(user),
            on=timezone.localdate(),
            printed_by=sources.operator_name(user),
        )
        return services.render_pdf(
            DocumentKind.METER_CARD, contexts, form.cleaned_data.get("layout")
        )

    def nothing_message(self, form):
        return _("The chosen books have no open account with a meter in service.")

    def filename(self, form):
        return f"meter-cards-{timezone.localdate():%Y%m%d}.pdf"


class NoticePrintView(PrintView):
    """Payment notices (F3.24) or arrears notices (F3.25) of books or one customer."""

    permission_required = "documents.print_notices"

    @property
    def title(self):
        return _("Print payment and arrears notices")

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.has_perm(self.permission_required) and not user.has_perm("billing.view_bill"):
            raise PermissionDenied(_("Printing notices needs the permission to see bills."))
        return super().dispatch(request, *args, **kwargs)

    def customer(self):
        pk = self.request.GET.get("customer") or self.request.POST.get("customer", "")
        if not str(pk).isdigit():
            return None
        return get_object_or_404(
            Customer.objects.restrict(self.request.user).select_related("zone", "book"), pk=pk
        )

    def get_form(self, data=None):
        self.fixed_customer = self.customer()
        initial = {}
        kind = self.request.GET.get("kind", "")
        if kind in (DocumentKind.PAYMENT_NOTICE, DocumentKind.ARREARS_NOTICE):
            initial["kind"] = kind
        book = self.request.GET.get("book", "")
        if data is None and book.isdigit():
            initial["books"] = Book.objects.restrict(self.request.user).filter(pk=book)
        return NoticePrintForm(
            data, initial=initial, user=self.request.user, customer=self.fixed_customer
        )

    def render_form(self, form, **extra):
        return super().render_form(form, customer=self.fixed_customer, **extra)

    def print_pdf(self, form):
        user, data = self.request.user, form.cleaned_data
        customers = sources.notice_customers(
            books=sources.notice_books(data.get("books") or (), data.get("areas") or ()),
            customer=self.fixed_customer,
            queryset=Customer.objects.restrict(user),
            categories=data.get("categories") or (),
        )
        build = (
            sources.payment_notice_contexts
            if data["kind"] == DocumentKind.PAYMENT_NOTICE
            else sources.arrears_notice_contexts
        )
        contexts = sources.select_notices(
            build(customers, data["on"], data["pay_by"], printed_by=sources.operator_name(user)),
            min_total=data.get("min_total"),
            min_months=data.get("min_months"),
        )
        return services.render_pdf(data["kind"], contexts, data.get("layout"))

    def nothing_message(self, form):
        if form.cleaned_data.get("min_total") or form.cleaned_data.get("min_months"):
            return _("Nobody chosen owes that much or for that long as of that date.")
        if form.cleaned_data["kind"] == DocumentKind.PAYMENT_NOTICE:
            return _("Nobody chosen has a bill to pay as of that date.")
        return _("Nobody chosen has a bill past its due date as of that date.")

    def filename(self, form):
        kind = form.cleaned_data["kind"].replace("_", "-")
        return f"{kind}s-{form.cleaned_data['on']:%Y%m%d}.pdf"
