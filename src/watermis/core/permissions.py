"""API permission: every endpoint needs a named permission."""

from rest_framework import permissions

from .scoping import permission_name

ACTION_BY_METHOD = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class ScopedModelPermissions(permissions.BasePermission):
    """Allows a request only with ``<app>.<action>_<model>`` for the view's model.

    A view without a ``model`` attribute must name ``permission_required``
    itself; anything else is refused, so a new endpoint cannot be left open.
    """

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        perm = getattr(view, "permission_required", None)
        if perm is None:
            model = getattr(view, "model", None)
            if model is None:
                return False
            perm = permission_name(model, ACTION_BY_METHOD.get(request.method, "delete"))
        return user.has_perm(perm)


class CanReadApiSchema(permissions.BasePermission):
    """The OpenAPI document and its docs page need ``core.view_api_schema``."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("core.view_api_schema"))
