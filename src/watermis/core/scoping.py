"""Permission and zone scoping: the one restricted queryset every view and API uses (F12.5).

A model that belongs to a zone names the path to it in ``zone_scope`` (``"pk"``
for the zone itself, ``"zone"``, ``"unit__zone"``, ...); a model with
``zone_scope = None`` is company-wide. ``Model.objects.restrict(user, action)``
returns nothing unless the user holds ``<app>.<action>_<model>``, and only the
rows of the zones the user may see. Services re-check a single object with
:func:`ensure_in_scope` inside their transaction.
"""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _


def permission_name(model, action):
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def visible_zone_ids(user):
    """The set of zone ids a user may see, or ``None`` for every zone."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return None
    cached = getattr(user, "_visible_zone_ids", False)
    if cached is False:
        cached = user.visible_zone_ids()
        user._visible_zone_ids = cached
    return cached


def scope_filter(model, zones):
    """A Q object selecting the rows of ``model`` inside ``zones`` (a set of ids)."""
    path = model.zone_scope
    q = Q(**{f"{path}__in": zones})
    if getattr(model, "scope_includes_unzoned", False):
        q |= Q(**{f"{path}__isnull": True})
    return q


class ScopedQuerySet(models.QuerySet):
    def restrict(self, user, action="view"):
        """Rows of this queryset the user may ``action`` (view, add, change, delete)."""
        if not getattr(user, "is_authenticated", False) or not user.has_perm(
            permission_name(self.model, action)
        ):
            return self.none()
        return self.in_zones(visible_zone_ids(user))

    def in_zones(self, zones):
        if zones is None or getattr(self.model, "zone_scope", None) is None:
            return self
        return self.filter(scope_filter(self.model, zones))


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


def ensure_in_scope(user, obj, action="view"):
    """Refuse (PermissionDenied) unless ``user`` may ``action`` this object."""
    if user is None:  # jobs and commands run with full scope
        return
    if not user.has_perm(permission_name(type(obj), action)):
        raise PermissionDenied(_("You do not have permission to do this."))
    zones = visible_zone_ids(user)
    if zones is None or getattr(type(obj), "zone_scope", None) is None:
        return
    from .journal import zone_of

    zone = zone_of(obj)
    if zone is None and getattr(type(obj), "scope_includes_unzoned", False):
        return
    if zone not in zones:
        raise PermissionDenied(_("This record belongs to a zone outside your scope."))


def ensure_zone_in_scope(user, zone_id):
    """Refuse (PermissionDenied) unless ``user`` may work in zone ``zone_id``."""
    if user is None:
        return
    zones = visible_zone_ids(user)
    if zones is not None and zone_id not in zones:
        raise PermissionDenied(_("This zone is outside your scope."))
