"""Changing organisation data. Every change runs in one transaction and is journaled."""

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from watermis.core import journal
from watermis.core.models import AuditAction
from watermis.core.scoping import ensure_in_scope, visible_zone_ids
from watermis.core.services import create_scoped, update_scoped

from .models import BusinessUnit, Company, Employee, Operator, Zone

# --- company (F11.1) -------------------------------------------------------

COMPANY_FIELDS = [
    "name",
    "short_name",
    "credit_code",
    "legal_representative",
    "address",
    "postal_code",
    "phone",
    "service_hotline",
    "bank_name",
    "bank_account",
    "website",
]


@transaction.atomic
def update_company(actor, data):
    """Create or change the single company record."""
    company = Company.objects.select_for_update().first()
    values = {k: data[k] for k in COMPANY_FIELDS if k in data}
    if company is None:
        company = Company(**values)
        ensure_in_scope(actor, company, "change")
        return journal.create_object(company, actor=actor)
    ensure_in_scope(actor, company, "change")
    return journal.update_object(company, values, actor=actor)


# --- zones (F1.1) ----------------------------------------------------------

ZONE_FIELDS = ["code", "name", "kind", "sort_order", "active", "note"]


@transaction.atomic
def create_zone(actor, data):
    if actor is not None and visible_zone_ids(actor) is not None:
        raise PermissionDenied(_("Only an operator who sees every zone may create a zone."))
    return create_scoped(actor, Zone, ZONE_FIELDS, data)


@transaction.atomic
def update_zone(actor, zone, data):
    return update_scoped(actor, zone, ZONE_FIELDS, data)


# --- business units (F10.1) -----------------------------------------------

UNIT_FIELDS = ["code", "name", "zone", "kind", "address", "phone", "shares_data", "active"]


@transaction.atomic
def create_unit(actor, data):
    return create_scoped(actor, BusinessUnit, UNIT_FIELDS, data)


@transaction.atomic
def update_unit(actor, unit, data):
    return update_scoped(actor, unit, UNIT_FIELDS, data)


# --- employees (F10.2–F10.6) -----------------------------------------------

EMPLOYEE_FIELDS = [
    "code",
    "name",
    "gender",
    "phone",
    "unit",
    "is_reader",
    "is_collector",
    "is_installer",
    "is_inspector",
    "hired_on",
    "active",
    "note",
]


@transaction.atomic
def create_employee(actor, data):
    return create_scoped(actor, Employee, EMPLOYEE_FIELDS, data)


@transaction.atomic
def update_employee(actor, employee, data):
    return update_scoped(actor, employee, EMPLOYEE_FIELDS, data)


# --- operators and roles (F12.1, F12.5) --------------------------------------

OPERATOR_FIELDS = ["username", "name", "email", "employee", "unit", "all_zones", "is_active"]


def _check_grants(actor, data):
    """An operator cannot grant zones or roles beyond what they hold themselves."""
    if actor is None or actor.is_superuser:
        return
    own = visible_zone_ids(actor)
    if own is not None:
        if data.get("all_zones"):
            raise ValidationError(
                {"all_zones": _("You cannot grant every zone: you do not see every zone.")}
            )
        outside = [z for z in data.get("zones", []) if z.pk not in own]
        if outside:
            raise ValidationError(
                {
                    "zones": _("These zones are outside your scope: %(zones)s")
                    % {"zones": ", ".join(map(str, outside))}
                }
            )
        unit = data.get("unit")
        if unit is not None and unit.zone_id not in own:
            raise ValidationError({"unit": _("This business unit is outside your scope.")})
    held = actor.get_all_permissions()
    for group in data.get("groups", []):
        missing = {
            f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()
        } - held
        if missing:
            raise ValidationError(
                {
                    "groups": _(
                        "You cannot grant the role %(role)s: it holds permissions you do not have."
                    )
                    % {"role": group.name}
                }
            )


def _validate_employee_link(data, operator=None):
    employee = data.get("employee")
    if employee is None:
        return
    taken = Operator.objects.filter(employee=employee)
    if operator is not None:
        taken = taken.exclude(pk=operator.pk)
    if taken.exists():
        raise ValidationError({"employee": _("This employee already has an operator account.")})
    unit = data.get("unit")
    if unit is not None and employee.unit_id != unit.pk:
        raise ValidationError({"unit": _("The operator's unit must be the employee's unit.")})


@transaction.atomic
def create_operator(actor, data):
    """Open an operator account with an initial password (checked by the password rules)."""
    operator = Operator(**{k: data[k] for k in OPERATOR_FIELDS if k in data})
    if operator.unit_id is None and operator.employee_id:
        operator.unit = operator.employee.unit
    ensure_in_scope(actor, operator, "add")
    _check_grants(actor, data)
    _validate_employee_link(data)
    password = data.get("password") or ""
    try:
        password_validation.validate_password(password, operator)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    operator.set_password(password)
    operator.password_changed_at = timezone.now()
    return journal.create_object(
        operator,
        m2m={"groups": data.get("groups", []), "zones": data.get("zones", [])},
        actor=actor,
    )


@transaction.atomic
def update_operator(actor, operator, data):
    operator = Operator.objects.select_for_update().get(pk=operator.pk)
    ensure_in_scope(actor, operator, "change")
    if operator.is_superuser and actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser may change a superuser."))
    _check_grants(actor, data)
    _validate_employee_link(data, operator)
    if actor is not None and actor.pk == operator.pk and data.get("is_active") is False:
        raise ValidationError({"is_active": _("You cannot deactivate your own account.")})
    m2m = {name: data[name] for name in ("groups", "zones") if name in data}
    return journal.update_object(
        operator, {k: data[k] for k in OPERATOR_FIELDS if k in data}, m2m=m2m
    )


@transaction.atomic
def reset_password(actor, operator, new_password, reason):
    """The administrator sets a new password for another operator (journaled, without the hash)."""
    operator = Operator.objects.select_for_update().get(pk=operator.pk)
    ensure_in_scope(actor, operator, "change")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason for the change.")})
    try:
        password_validation.validate_password(new_password, operator)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from None
    operator.set_password(new_password)
    operator.password_changed_at = timezone.now()
    operator.save(update_fields=["password", "password_changed_at"])
    journal.record(operator, AuditAction.ACTION, reason=reason, verb="reset_password", actor=actor)
    return operator


@transaction.atomic
def change_own_password(operator, old_password, new_password):
    """An operator changes their own password (F12.1)."""
    operator = Operator.objects.select_for_update().get(pk=operator.pk)
    if not operator.check_password(old_password):
        raise ValidationError({"old_password": _("Your old password was entered incorrectly.")})
    try:
        password_validation.validate_password(new_password, operator)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from None
    operator.set_password(new_password)
    operator.password_changed_at = timezone.now()
    operator.save(update_fields=["password", "password_changed_at"])
    journal.record(operator, AuditAction.ACTION, verb="change_password", actor=operator)
    return operator


@transaction.atomic
def unlock_operator(actor, operator, reason=""):
    """Lift a lock-out after repeated failed sign-ins."""
    operator = Operator.objects.select_for_update().get(pk=operator.pk)
    ensure_in_scope(actor, operator, "change")
    before = {
        "locked_until": operator.locked_until and operator.locked_until.isoformat(),
        "failed_logins": operator.failed_logins,
    }
    operator.locked_until = None
    operator.failed_logins = 0
    operator.save(update_fields=["locked_until", "failed_logins"])
    journal.record(
        operator,
        AuditAction.ACTION,
        before,
        {"locked_until": None, "failed_logins": 0},
        reason,
        "unlock",
    )
    return operator


def _require_role_admin(actor):
    if actor is not None and not actor.has_perm("org.manage_roles"):
        raise PermissionDenied(_("Only the administrator manages roles."))


@transaction.atomic
def save_role(actor, role, name, permissions):
    """Create (``role`` None) or change a role: a named set of permissions (F12.5)."""
    _require_role_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the role a name.")})
    clash = Group.objects.filter(name=name)
    if role is not None:
        clash = clash.exclude(pk=role.pk)
    if clash.exists():
        raise ValidationError({"name": _("A role with this name exists already.")})
    if role is None:
        role = Group(name=name)
        return journal.create_object(role, m2m={"permissions": permissions}, actor=actor)
    role = Group.objects.select_for_update().get(pk=role.pk)
    return journal.update_object(
        role, {"name": name}, m2m={"permissions": permissions}, actor=actor
    )
