"""Changing parameters: validated against the declaration, journaled."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from watermis.core import journal
from watermis.core.models import AuditAction
from watermis.core.scoping import ensure_in_scope

from .models import Parameter
from .params import spec_for


def set_parameter(actor, key, raw_value, reason=""):
    """Set parameter ``key`` from text; raises ValidationError naming the field ``value``."""
    spec = spec_for(key)
    try:
        value = spec.parse(raw_value)
    except ValidationError as exc:
        raise ValidationError({"value": exc.messages}) from None
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for the change.")})
    text = spec.format(value)
    with transaction.atomic():
        param = Parameter.objects.select_for_update().filter(key=key).first()
        if param is None:
            param = Parameter(key=key, value=spec.format(spec.default))
            ensure_in_scope(actor, param, "change")
            before = {"key": key, "value": spec.format(spec.default), "default": True}
            param.value = text
            param.save(force_insert=True)
        else:
            ensure_in_scope(actor, param, "change")
            before = {"key": key, "value": param.value}
            if param.value == text:
                return param
            param.value = text
            param.save(update_fields=["value"])
        journal.record(
            param,
            AuditAction.UPDATE,
            before,
            {"key": key, "value": text},
            reason,
            verb="set_parameter",
            actor=actor,
        )
    return param
