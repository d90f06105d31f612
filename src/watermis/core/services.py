"""Generic create/update of master data: scope-checked, row-locked, journaled.

Apps call these from their own service functions, adding their domain rules.
"""

import copy

from . import journal
from .scoping import ensure_in_scope


def create_scoped(actor, model, fields, data):
    """Create a ``model`` row from ``data`` (the named ``fields`` only), inside the actor's scope."""
    obj = model(**{name: data[name] for name in fields if name in data})
    ensure_in_scope(actor, obj, "add")
    return journal.create_object(obj, actor=actor)


def update_scoped(actor, obj, fields, data):
    """Change ``obj`` under a row lock; refused when it is, or would move, outside the actor's scope."""
    obj = type(obj).objects.select_for_update().get(pk=obj.pk)
    ensure_in_scope(actor, obj, "change")
    changes = {name: data[name] for name in fields if name in data}
    proposed = copy.copy(obj)
    for name, value in changes.items():
        setattr(proposed, name, value)
    ensure_in_scope(actor, proposed, "change")
    return journal.update_object(obj, changes, actor=actor)
