import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import BusinessUnit, Employee, LoginEvent, Operator, Zone


class ZoneTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)

    class Meta:
        model = Zone
        fields = ("code", "name", "kind", "sort_order", "active", "note")


class BusinessUnitTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)

    class Meta:
        model = BusinessUnit
        fields = ("code", "name", "zone", "kind", "address", "phone", "shares_data", "active")


class EmployeeTable(tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    roles = tables.Column(_("Roles"), empty_values=(), orderable=False)

    class Meta:
        model = Employee
        fields = (
            "code",
            "name",
            "gender",
            "phone",
            "unit",
            "unit__zone",
            "roles",
            "hired_on",
            "active",
        )

    def render_roles(self, record):
        return "、".join(str(label) for label in record.role_labels())

    def value_roles(self, record):
        return self.render_roles(record)


class OperatorTable(tables.Table):
    username = tables.Column(linkify=True)
    roles = tables.Column(_("Roles"), empty_values=(), orderable=False)
    locked = tables.Column(_("Locked"), empty_values=(), orderable=False)

    class Meta:
        model = Operator
        fields = (
            "username",
            "name",
            "unit",
            "employee",
            "roles",
            "all_zones",
            "is_active",
            "locked",
            "last_login",
        )

    def render_roles(self, record):
        return "、".join(g.name for g in record.groups.all())

    def value_roles(self, record):
        return self.render_roles(record)

    def render_locked(self, record):
        return _("Yes") if record.is_locked() else ""

    def value_locked(self, record):
        return self.render_locked(record)


class LoginEventTable(tables.Table):
    class Meta:
        model = LoginEvent
        fields = ("at", "username", "operator__name", "kind", "ip", "detail")
