from django.apps import apps
from django.contrib import messages
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View

from watermis.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    PermissionMixin,
    ScopedViewMixin,
    add_service_errors,
)

from . import auth, services
from .filtersets import (
    BusinessUnitFilterSet,
    EmployeeFilterSet,
    LoginEventFilterSet,
    OperatorFilterSet,
    ZoneFilterSet,
)
from .forms import (
    BusinessUnitForm,
    CompanyForm,
    EmployeeForm,
    LoginForm,
    OperatorForm,
    PasswordChangeForm,
    PasswordResetForm,
    RoleForm,
    ZoneForm,
)
from .models import BusinessUnit, Company, Employee, EmployeeRole, LoginEvent, Operator, Zone
from .roles import OWN_APPS
from .tables import BusinessUnitTable, EmployeeTable, LoginEventTable, OperatorTable, ZoneTable

# --- signing in, out, switching (F12.1–F12.3) -------------------------------


def _safe_next(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


class LoginView(TemplateView):
    template_name = "org/login.html"
    switching = False

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.switching:
            return redirect(_safe_next(request))
        return self.render_to_response(self.get_context_data(form=LoginForm()))

    def post(self, request, *args, **kwargs):
        form = LoginForm(request.POST)
        if form.is_valid():
            try:
                auth.sign_in(
                    request,
                    form.cleaned_data["username"],
                    form.cleaned_data["password"],
                    switching=self.switching,
                )
            except auth.SignInRefused as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(_safe_next(request))
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(switching=self.switching, next=_safe_next(self.request, ""))
        return context


class SwitchOperatorView(LoginView):
    """Sign in as another operator without closing the browser (F12.2)."""

    switching = True


def logout_view(request):
    if request.method != "POST":
        return redirect("home")
    auth.sign_out(request)
    return redirect("login")


class PasswordChangeView(TemplateView):
    template_name = "org/password_change.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=PasswordChangeForm()))

    def post(self, request, *args, **kwargs):
        form = PasswordChangeForm(request.POST)
        if form.is_valid():
            try:
                operator = services.change_own_password(
                    request.user,
                    form.cleaned_data["old_password"],
                    form.cleaned_data["new_password1"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                from django.contrib.auth import update_session_auth_hash

                update_session_auth_hash(request, operator)
                messages.success(request, _("Your password has been changed."))
                return redirect("home")
        return self.render_to_response(self.get_context_data(form=form))


class LoginHistoryView(ObjectListView):
    model = LoginEvent
    table_class = LoginEventTable
    filterset_class = LoginEventFilterSet
    export_name = "login-history"

    def get_queryset(self):
        return super().get_queryset().select_related("operator")


# --- company (F11.1) ----------------------------------------------------------


class CompanyView(ObjectDetailView):
    model = Company
    edit_url = "org:company_edit"

    def get_object(self):
        return Company.objects.restrict(self.request.user).first() or Company(name=_("(not set)"))

    def get_edit_href(self, obj):
        return reverse("org:company_edit")


class CompanyEditView(ObjectEditView):
    model = Company
    form_class = CompanyForm
    success_url = "org:company"

    def dispatch(self, request, *args, **kwargs):
        self.action = "change"
        return super(ObjectEditView, self).dispatch(request, *args, **kwargs)

    def get_object(self):
        return Company.objects.first()

    @staticmethod
    def create_service(actor, data):
        return services.update_company(actor, data)

    @staticmethod
    def update_service(actor, obj, data):
        return services.update_company(actor, data)


# --- zones, units, employees (M1, M10) -----------------------------------------


class ZoneListView(ObjectListView):
    model = Zone
    table_class = ZoneTable
    filterset_class = ZoneFilterSet
    create_url = "org:zone_add"


class ZoneDetailView(ObjectDetailView):
    model = Zone
    edit_url = "org:zone_edit"


class ZoneEditView(ObjectEditView):
    model = Zone
    form_class = ZoneForm
    create_service = services.create_zone
    update_service = services.update_zone


class UnitListView(ObjectListView):
    model = BusinessUnit
    table_class = BusinessUnitTable
    filterset_class = BusinessUnitFilterSet
    create_url = "org:unit_add"

    def get_queryset(self):
        return super().get_queryset().select_related("zone")


class UnitDetailView(ObjectDetailView):
    model = BusinessUnit
    edit_url = "org:unit_edit"


class UnitEditView(ObjectEditView):
    model = BusinessUnit
    form_class = BusinessUnitForm
    create_service = services.create_unit
    update_service = services.update_unit


ROLE_TITLES = {
    EmployeeRole.READER: gettext_lazy("Meter readers"),
    EmployeeRole.COLLECTOR: gettext_lazy("Collectors"),
    EmployeeRole.INSTALLER: gettext_lazy("Installers"),
    EmployeeRole.INSPECTOR: gettext_lazy("Inspectors"),
}


class EmployeeListView(ObjectListView):
    """All employees (F10.2), or those holding one role (F10.3–F10.6)."""

    model = Employee
    table_class = EmployeeTable
    filterset_class = EmployeeFilterSet
    create_url = "org:employee_add"
    role = None

    def get_title(self):
        return ROLE_TITLES[self.role] if self.role else super().get_title()

    def get_queryset(self):
        queryset = super().get_queryset().select_related("unit", "unit__zone")
        if self.role:
            queryset = queryset.filter(**{f"is_{self.role}": True})
        return queryset

    @property
    def export_name(self):
        return f"{self.role}s" if self.role else "employees"


class EmployeeDetailView(ObjectDetailView):
    model = Employee
    edit_url = "org:employee_edit"


class EmployeeEditView(ObjectEditView):
    model = Employee
    form_class = EmployeeForm
    create_service = services.create_employee
    update_service = services.update_employee


# --- operators and roles (F12.5) -------------------------------------------------


class OperatorListView(ObjectListView):
    model = Operator
    table_class = OperatorTable
    filterset_class = OperatorFilterSet
    create_url = "org:operator_add"

    def get_queryset(self):
        return super().get_queryset().select_related("unit", "employee").prefetch_related("groups")


class OperatorDetailView(ObjectDetailView):
    model = Operator
    edit_url = "org:operator_edit"
    template_name = "org/operator_detail.html"

    def get_fields(self, obj):
        rows = [
            (_("User name"), obj.username),
            (_("Name"), obj.name),
            (_("Email"), obj.email),
            (_("Employee"), obj.employee),
            (_("Business unit"), obj.unit),
            (_("Roles"), "、".join(g.name for g in obj.groups.all())),
            (_("Other zones granted"), "、".join(z.name for z in obj.zones.all())),
            (_("Sees every zone"), obj.all_zones),
            (_("Active"), obj.is_active),
            (_("Last sign-in"), obj.last_login),
            (_("Password changed at"), obj.password_changed_at),
            (_("Failed sign-ins in a row"), obj.failed_logins),
            (_("Locked until"), obj.locked_until if obj.is_locked() else None),
        ]
        return rows


class OperatorEditView(ObjectEditView):
    model = Operator
    form_class = OperatorForm
    create_service = services.create_operator
    update_service = services.update_operator


class OperatorPasswordResetView(ScopedViewMixin, TemplateView):
    model = Operator
    action = "change"
    template_name = "core/object_form.html"

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def render_form(self, form, obj):
        title = _("Set a new password for %(name)s") % {"name": obj}
        return self.render_to_response(self.get_context_data(form=form, object=obj, title=title))

    def get(self, request, *args, **kwargs):
        return self.render_form(PasswordResetForm(), self.get_object())

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        form = PasswordResetForm(request.POST)
        if form.is_valid():
            try:
                services.reset_password(
                    request.user,
                    obj,
                    form.cleaned_data["new_password1"],
                    form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("The password of %(name)s has been set.") % {"name": obj}
                )
                return redirect(obj.get_absolute_url())
        return self.render_form(form, obj)


class OperatorUnlockView(ScopedViewMixin, View):
    model = Operator
    action = "change"

    def post(self, request, *args, **kwargs):
        obj = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        services.unlock_operator(request.user, obj, request.POST.get("reason", ""))
        messages.success(request, _("%(name)s is unlocked.") % {"name": obj})
        return redirect(obj.get_absolute_url())


def permission_groups():
    """Permissions grouped by module, with labels in the operator's language."""
    labels = {"view": _("View"), "add": _("Add"), "change": _("Change"), "delete": _("Delete")}
    perms = Permission.objects.filter(content_type__app_label__in=OWN_APPS).select_related(
        "content_type"
    )
    groups = {}
    for perm in perms.order_by("content_type__app_label", "content_type__model", "codename"):
        model = apps.get_model(perm.content_type.app_label, perm.content_type.model)
        custom = dict(model._meta.permissions)
        action = perm.codename.split("_", 1)[0]
        if perm.codename in custom:
            label = str(custom[perm.codename])
        elif action in labels:
            label = f"{labels[action]}: {model._meta.verbose_name}"
        else:
            label = perm.name
        app_config = apps.get_app_config(perm.content_type.app_label)
        groups.setdefault(str(app_config.verbose_name), []).append((perm, label))
    return groups


class RoleListView(PermissionMixin, TemplateView):
    permission_required = "org.manage_roles"
    template_name = "org/role_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        roles = Group.objects.order_by("name").prefetch_related("permissions", "user_set")
        context.update(roles=roles, title=_("Roles and permissions"))
        return context


class RoleEditView(PermissionMixin, TemplateView):
    permission_required = "org.manage_roles"
    template_name = "org/role_form.html"

    def get_role(self):
        return get_object_or_404(Group, pk=self.kwargs["pk"]) if "pk" in self.kwargs else None

    def render_form(self, form, role, selected):
        title = _("Change role %(name)s") % {"name": role.name} if role else _("New role")
        return self.render_to_response(
            self.get_context_data(
                form=form, role=role, title=title, groups=permission_groups(), selected=selected
            )
        )

    def get(self, request, *args, **kwargs):
        role = self.get_role()
        selected = set(role.permissions.values_list("pk", flat=True)) if role else set()
        return self.render_form(
            RoleForm(initial={"name": role.name if role else ""}), role, selected
        )

    def post(self, request, *args, **kwargs):
        role = self.get_role()
        form = RoleForm(request.POST)
        ids = [int(v) for v in request.POST.getlist("permissions") if v.isdigit()]
        permissions = list(
            Permission.objects.filter(pk__in=ids, content_type__app_label__in=OWN_APPS)
        )
        if form.is_valid():
            try:
                role = services.save_role(
                    request.user, role, form.cleaned_data["name"], permissions
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Saved: %(name)s") % {"name": role.name})
                return redirect("org:role_list")
        return self.render_form(form, role, {p.pk for p in permissions})
