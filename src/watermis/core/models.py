"""Core tables: the audit journal (F7.7)."""

import datetime
import functools
from collections import defaultdict

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from .scoping import ScopedQuerySet


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


class AuditEntryQuerySet(ScopedQuerySet):
    """Entries fetched together name their related rows together.

    Every list of entries a queryset fetches (a page, a record's history, an
    export) shares :class:`RelatedNames`, so :meth:`AuditEntry.described_changes`
    shows the related rows' names with one query per related model for the
    whole list, not per entry.
    """

    def _fetch_all(self):
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._result_cache and isinstance(self._result_cache[0], AuditEntry):
            RelatedNames.attach(self._result_cache)


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

    objects = models.Manager.from_queryset(AuditEntryQuerySet)()
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
        """(field label, before, after) with field names and values as a person reads them.

        A foreign key shows the related row's ``str()`` (``#id`` if the row is
        gone); entries fetched by one query look their names up together.
        """
        model = self.object_model()
        fields = _fields_by_key(model) if model is not None else {}
        names = getattr(self, "_related_names", None)
        if names is None:
            names = RelatedNames([self])
        rows = []
        for key, old, new in self.changes():
            field = fields.get(key)
            old, new = _display(field, old, names), _display(field, new, names)
            if old == "" and new == "":
                continue
            rows.append((field.verbose_name if field is not None else key, old, new))
        return rows


@functools.cache
def _fields_by_key(model):
    """A model's journaled fields by attname and by name (snapshots use the attname)."""
    fields = {}
    for field in [*model._meta.concrete_fields, *model._meta.many_to_many]:
        fields[field.attname] = fields[field.name] = field
    return fields


def _is_reference(field):
    return field is not None and field.is_relation and field.related_model is not None


class RelatedNames:
    """The names (``str()``) of the rows a list of journal entries refers to by id.

    Fetched on first use, with one query per related model for the whole list,
    through ``_base_manager`` (a name is shown even if the row is outside the
    reader's zones or a manager would hide it). :meth:`attach` shares one
    instance among every ``CHUNK`` entries, so a long export stays in bounded memory.
    """

    CHUNK = 1000

    def __init__(self, entries):
        self.entries = entries
        self.names = None

    @classmethod
    def attach(cls, entries):
        for start in range(0, len(entries), cls.CHUNK):
            chunk = entries[start : start + cls.CHUNK]
            names = cls(chunk)
            for entry in chunk:
                entry._related_names = names

    def get(self, model, pk):
        """The name of ``model`` row ``pk``; ``#pk`` if there is no such row."""
        if self.names is None:
            self.names = self._fetch()
            self.entries = None
        name = self.names.get((model, str(pk)))
        return name if name is not None else f"#{pk}"

    def _fetch(self):
        wanted = defaultdict(set)
        for entry in self.entries:
            model = entry.object_model()
            if model is None:
                continue
            fields = _fields_by_key(model)
            for key, old, new in entry.changes():
                field = fields.get(key)
                if not _is_reference(field):
                    continue
                for value in (old, new):
                    for pk in value if isinstance(value, list) else [value]:
                        if isinstance(pk, int | str) and pk != "":
                            wanted[field.related_model].add(pk)
        names = {}
        for model, pks in wanted.items():
            related = [
                f.name
                for f in model._meta.concrete_fields
                if f.is_relation and (f.many_to_one or f.one_to_one)
            ]
            valid = set()
            for pk in pks:  # a journaled id of the wrong type (a hand-written entry) is skipped
                try:
                    valid.add(model._meta.pk.to_python(pk))
                except (TypeError, ValueError, ValidationError):
                    continue
            # str() of a row may read its own foreign keys: fetched in the same query
            rows = model._base_manager.select_related(*related).in_bulk(valid)
            for pk, obj in rows.items():
                names[(model, str(pk))] = str(obj)
        return names


def _display(field, value, names):
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if _is_reference(field):
        values = value if isinstance(value, list) else [value]
        return ", ".join(names.get(field.related_model, pk) for pk in values)
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
