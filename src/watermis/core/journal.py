"""The audit journal: who changed what, when, before and after (F7.7).

Services call :func:`record` (or :func:`record_many` on bulk paths) inside
their transaction, so a change and its journal row commit or roll back
together. The actor, request id, source and address come from the current
:func:`audit_context`, which the web middleware opens per request and
management commands and jobs open themselves.
"""

import contextvars
import datetime
import decimal
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.db import models
from django.utils import timezone

from .models import AuditAction, AuditEntry


@dataclass(frozen=True)
class AuditContext:
    actor: object = None
    request_id: str = ""
    source: str = "system"
    ip: str | None = None


_NO_CONTEXT = AuditContext()
_current = contextvars.ContextVar("watermis_audit_context", default=None)


def current_context() -> AuditContext:
    return _current.get() or _NO_CONTEXT


@contextmanager
def audit_context(actor=None, source="system", request_id=None, ip=None):
    """Open a journal context: every entry written inside names this actor and source."""
    token = _current.set(
        AuditContext(actor=actor, request_id=request_id or uuid.uuid4().hex, source=source, ip=ip)
    )
    try:
        yield _current.get()
    finally:
        _current.reset(token)


@contextmanager
def acting_as(actor):
    """Within an open context, name another actor (e.g. after a login in the same request)."""
    token = _current.set(replace(current_context(), actor=actor))
    try:
        yield
    finally:
        _current.reset(token)


def snapshot_value(value):
    """A field value as the journal stores it (JSON-safe)."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return None
    return value


def snapshot(obj, m2m=True):
    """A JSON-safe dict of an object's journaled field values.

    Fields named in the model's ``journal_exclude`` (passwords, for example)
    are left out. Many-to-many values are sorted lists of primary keys.
    """
    exclude = set(getattr(obj, "journal_exclude", ()))
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude:
            continue
        data[field.attname] = snapshot_value(field.value_from_object(obj))
    if m2m and obj.pk is not None:
        for field in obj._meta.many_to_many:
            if field.name in exclude:
                continue
            data[field.name] = sorted(v.pk for v in getattr(obj, field.name).all())
    return data


def zone_of(obj):
    """The zone id an object belongs to, following its model's ``zone_scope`` path."""
    path = getattr(type(obj), "zone_scope", None)
    if path is None:
        return None
    *parents, last = path.split("__")
    value = obj
    for part in parents:
        value = getattr(value, part, None)
        if value is None:
            return None
    if last == "pk":
        return value.pk
    attname = last + "_id"
    if hasattr(value, attname):  # the id, without loading the related row
        return getattr(value, attname)
    return getattr(value, last, None)


def saved_operator(actor):
    """The actor when it is a saved operator; None for jobs, commands and the demo."""
    return actor if getattr(actor, "pk", None) else None


def build_entry(obj, action, before=None, after=None, reason="", verb="", at=None, actor=None):
    """An unsaved journal entry for ``obj`` in the current context.

    ``actor`` is the operator a service acts for; without it, the context's.
    """
    ctx = current_context()
    actor = saved_operator(actor or ctx.actor)
    return AuditEntry(
        at=at or timezone.now(),
        actor=actor,
        actor_name=getattr(actor, "username", "") or "",
        source=ctx.source,
        request_id=ctx.request_id,
        ip=ctx.ip,
        action=action,
        verb=verb,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        zone_id=zone_of(obj),
        before=before,
        after=after,
        reason=reason or "",
    )


def record(obj, action, before=None, after=None, reason="", verb="", actor=None):
    """Write one journal entry for ``obj``. Call it inside the service's transaction."""
    entry = build_entry(obj, action, before, after, reason, verb, actor=actor)
    entry.save(force_insert=True)
    return entry


def record_many(entries, batch_size=2000):
    """Write entries made by :func:`build_entry` in bulk (bulk paths skip signals)."""
    return AuditEntry.objects.bulk_create(entries, batch_size=batch_size)


def create_object(obj, reason="", m2m=None, actor=None, checked=False):
    """Save a new object and journal it. ``m2m`` maps field names to values to set.

    ``checked``: the service built ``obj`` from rows it read (and locked) itself, so only
    its own fields are validated here; references, unique fields and constraints are left
    to the database (``full_clean`` reads each of them again: a query apiece)."""
    if checked:
        obj.clean_fields(exclude=[f.name for f in obj._meta.concrete_fields if f.is_relation])
    else:
        obj.full_clean()
    obj.save(force_insert=True)
    for name, values in (m2m or {}).items():
        getattr(obj, name).set(values)
    record(obj, AuditAction.CREATE, None, snapshot(obj), reason, actor=actor)
    return obj


def update_object(obj, changes, reason="", m2m=None, verb="", actor=None):
    """Apply field changes (and m2m sets) to a saved object and journal before/after.

    Nothing is written, journal included, when no value actually changes.
    """
    before = snapshot(obj)
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    for name, values in (m2m or {}).items():
        getattr(obj, name).set(values)
    after = snapshot(obj)
    if before != after:
        record(obj, AuditAction.UPDATE, before, after, reason, verb, actor=actor)
    return obj


def history(obj):
    """Journal entries of one object, newest first."""
    return AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))


def model_label(model: type[models.Model]) -> str:
    return model._meta.label_lower
