from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from watermis.core.views import PermissionMixin, add_service_errors

from . import services
from .forms import ParameterForm
from .params import REGISTRY, SPECS, get_param


class ParameterListView(PermissionMixin, TemplateView):
    """All parameters by group, with their current value and whether it is the default."""

    permission_required = "system.view_parameter"
    template_name = "system/parameter_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        groups = {}
        for spec in SPECS:
            value = get_param(spec.key)
            groups.setdefault(str(spec.group), []).append(
                {
                    "spec": spec,
                    "display": spec.display(value),
                    "default_display": spec.display(spec.default),
                    "is_default": value == spec.default,
                }
            )
        context.update(
            groups=groups,
            title=_("Parameters"),
            can_change=self.request.user.has_perm("system.change_parameter"),
        )
        return context


class ParameterEditView(PermissionMixin, TemplateView):
    permission_required = "system.change_parameter"
    template_name = "core/object_form.html"

    def get_spec(self):
        try:
            return REGISTRY[self.kwargs["key"]]
        except KeyError:
            raise Http404 from None

    def render_form(self, form, spec):
        title = _("Change parameter: %(label)s") % {"label": spec.label}
        return self.render_to_response(self.get_context_data(form=form, title=title))

    def get(self, request, *args, **kwargs):
        spec = self.get_spec()
        form = ParameterForm(initial={"value": spec.format(get_param(spec.key))}, spec=spec)
        return self.render_form(form, spec)

    def post(self, request, *args, **kwargs):
        spec = self.get_spec()
        form = ParameterForm(request.POST, spec=spec)
        if form.is_valid():
            try:
                services.set_parameter(
                    request.user, spec.key, form.cleaned_data["value"], form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Saved: %(name)s") % {"name": spec.label})
                return redirect("system:parameter_list")
        return self.render_form(form, spec)
