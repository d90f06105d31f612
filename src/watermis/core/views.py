"""Generic pages every module builds on: scoped list, detail and edit views.

Each view requires a named permission and reads through the model's
restricted queryset, so a record of another zone answers 404 whatever the URL.
Lists filter (any combination), sort, page and export to Excel; edit views
validate with a form and change data only through a service function.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from .export import export_table
from .filtersets import AuditEntryFilterSet
from .forms import style_filter_form
from .journal import history
from .models import AuditEntry
from .paging import CappedPaginator, capped_count, honour_sort, own_order
from .scoping import permission_name
from .tables import AuditEntryTable

PER_PAGE_CHOICES = (20, 50, 100, 200)


def per_page_of(request):
    """The rows per page the query string asks for (one of the choices; 50 otherwise)."""
    try:
        per_page = int(request.GET.get("per_page", 50))
    except ValueError:
        return 50
    return per_page if per_page in PER_PAGE_CHOICES else 50


def page_table(request, table, per_page=None):
    """Sort ``table`` from the query string and show one page of it, counting at most
    :data:`~watermis.core.paging.ROW_CAP` rows (:class:`~watermis.core.paging.CappedPaginator`);
    a sort of its own asked of more rows than that is refused (``table.sort_refused``)."""
    per_page = per_page or per_page_of(request)
    paginate = {"per_page": per_page, "paginator_class": CappedPaginator}
    table.sort_refused = False
    queryset = getattr(table.data, "data", None)
    if not own_order(request, type(table)) and hasattr(queryset, "query"):
        paginate["count"] = capped_count(queryset)
        request, table.sort_refused = honour_sort(request, type(table), paginate["count"])
    RequestConfig(request, paginate=paginate).configure(table)
    table.per_page_choices, table.current_per_page = PER_PAGE_CHOICES, per_page
    return table


class PermissionMixin:
    """Refuses (403) unless the operator holds ``permission_required``."""

    permission_required = None

    def get_permission_required(self):
        return self.permission_required

    def dispatch(self, request, *args, **kwargs):
        perm = self.get_permission_required()
        if perm and not request.user.has_perm(perm):
            raise PermissionDenied(_("You do not have permission to open this page."))
        return super().dispatch(request, *args, **kwargs)


class ScopedViewMixin(PermissionMixin):
    model = None
    action = "view"

    def get_permission_required(self):
        return self.permission_required or permission_name(self.model, self.action)

    def get_queryset(self):
        return self.model.objects.restrict(self.request.user, self.action)


class ObjectListView(ScopedViewMixin, TemplateView):
    template_name = "core/object_list.html"
    table_class = None
    filterset_class = None
    title = None
    create_url = None
    export_name = None

    def get_title(self):
        return self.title or self.model._meta.verbose_name_plural

    def get_filter_data(self):
        """What the filters read: the query string (a named query may add its defaults)."""
        return self.request.GET or None

    def filtered_queryset(self):
        queryset = self.get_queryset()
        self.filterset = None
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(
                self.get_filter_data(), queryset=queryset, request=self.request
            )
            style_filter_form(self.filterset.form)
            if self.filterset.is_bound and self.filterset.is_valid():
                queryset = self.filterset.qs
        return queryset

    def get(self, request, *args, **kwargs):
        queryset = self.filtered_queryset()
        table = self.table_class(queryset, request=request)
        if request.GET.get("export") == "xlsx":
            name = self.export_name or self.model._meta.model_name
            return export_table(request, table, name, self.get_title())
        page_table(request, table)
        per_page = table.current_per_page
        context = self.get_context_data(
            table=table,
            filterset=self.filterset,
            title=self.get_title(),
            can_add=request.user.has_perm(permission_name(self.model, "add")),
            create_url=self.create_url,
            per_page_choices=PER_PAGE_CHOICES,
            per_page=per_page,
        )
        return self.render_to_response(context)


class ObjectDetailView(ScopedViewMixin, TemplateView):
    template_name = "core/object_detail.html"
    edit_url = None

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_edit_href(self, obj):
        return reverse(self.edit_url, args=[obj.pk])

    def get_fields(self, obj):
        """(label, value) pairs shown on the page; by default every concrete field."""
        rows = []
        exclude = set(getattr(obj, "journal_exclude", ())) | {"id"}
        for field in obj._meta.concrete_fields:
            if field.name in exclude:
                continue
            if field.choices:
                value = getattr(obj, f"get_{field.name}_display")()
            else:
                value = getattr(obj, field.name)
            rows.append((field.verbose_name, value))
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.get_object()
        user = self.request.user
        context.update(
            object=obj,
            title=str(obj),
            model_name=obj._meta.verbose_name,
            fields=self.get_fields(obj),
            can_change=user.has_perm(permission_name(self.model, "change")),
            edit_href=self.get_edit_href(obj) if self.edit_url else None,
            history=history(obj)[:50] if user.has_perm("core.view_auditentry") else None,
        )
        return context


def add_service_errors(form, exc):
    """Show a service's ValidationError beside the fields it names (others at the top)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ObjectEditView(ScopedViewMixin, TemplateView):
    """Create (no ``pk``) or change (``pk``) one object through a service.

    ``create_service(actor, data)`` and ``update_service(actor, obj, data)``
    receive the form's cleaned data and may raise ``ValidationError``, which
    is shown beside the fields it names.
    """

    template_name = "core/object_form.html"
    form_class = None
    create_service = None
    update_service = None
    success_url = None

    def dispatch(self, request, *args, **kwargs):
        self.action = "change" if "pk" in kwargs else "add"
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_form(self, obj, data=None):
        return self.form_class(data, instance=obj, user=self.request.user)

    def render_form(self, form, obj):
        title = (
            _("Change %(name)s") % {"name": obj}
            if obj
            else _("New %(model)s") % {"model": self.model._meta.verbose_name}
        )
        return self.render_to_response(self.get_context_data(form=form, object=obj, title=title))

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return self.render_form(self.get_form(obj), obj)

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        form = self.get_form(obj, request.POST)
        if form.is_valid():
            try:
                if obj is None:
                    saved = type(self).create_service(request.user, form.cleaned_data)
                else:
                    saved = type(self).update_service(request.user, obj, form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Saved: %(name)s") % {"name": saved})
                return redirect(self.success_url or saved.get_absolute_url())
        return self.render_form(form, obj)


class JournalView(ObjectListView):
    """The sensitive-data change journal (F7.7)."""

    model = AuditEntry
    table_class = AuditEntryTable
    filterset_class = AuditEntryFilterSet
    export_name = "change-journal"
