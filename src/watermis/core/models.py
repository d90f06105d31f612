"""Core tables: the audit journal (F7.7)."""

import datetime

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from .scoping import ScopedManager


class UnicodeJSONEncoder(DjangoJSONEncoder):
    """Stores Chinese text as itself, so the journal can be searched for it on any database."""

    def __init__(self, *args, **kwargs):
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class AuditAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    ACTION = "action", _("Action")


class AuditEntry(models.Model):
    """One journaled change: who changed what, when, with the values before and after.

    Rows are append-only: the database itself refuses UPDATE and DELETE of
    them (triggers created in migration 0002). Services write entries
    explicitly through :mod:`watermis.core.journal`, bulk paths included.
    """

    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_name = models.CharField(_("operator name"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=60, blank=True)
    request_id = models.CharField(_("request id"), max_length=36, blank=True, db_index=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    verb = models.CharField(_("operation"), max_length=60, blank=True)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    zone_id = models.BigIntegerField(_("zone"), null=True, blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True, encoder=UnicodeJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=UnicodeJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)

    objects = ScopedManager()
    zone_scope = "zone_id"
    scope_includes_unzoned = True

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("change journal")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="core_audit_object_idx")]
        permissions = [("view_api_schema", _("Read the API documentation"))]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_repr}"

    def changed_fields(self):
        """Names of the fields whose value differs between before and after."""
        before, after = self.before or {}, self.after or {}
        keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
        return [k for k in keys if before.get(k) != after.get(k)]

    def changes(self):
        """(field, before, after) for each changed field."""
        before, after = self.before or {}, self.after or {}
        return [(k, before.get(k), after.get(k)) for k in self.changed_fields()]

    def object_model(self):
        try:
            return apps.get_model(self.object_type)
        except (LookupError, ValueError):
            return None

    def object_type_label(self):
        model = self.object_model()
        return model._meta.verbose_name if model else self.object_type

    def described_changes(self):
        """(field label, before, after) with field names and values as a person reads them."""
        model = self.object_model()
        fields = {}
        if model is not None:
            for field in [*model._meta.concrete_fields, *model._meta.many_to_many]:
                fields[field.attname] = fields[field.name] = field
        rows = []
        for key, old, new in self.changes():
            old, new = _display(fields.get(key), old), _display(fields.get(key), new)
            if old == "" and new == "":
                continue
            rows.append((fields[key].verbose_name if key in fields else key, old, new))
        return rows


def _display(field, value):
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return date_format(moment, "Y-m-d H:i:s")
    return value
