"""Organisation services (M1, M10, F11.1, F12.5) through the pages a person uses."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from tests.conftest import PASSWORD

from watermis.core.models import AuditEntry
from watermis.org import services
from watermis.org.models import BusinessUnit, Company, Employee, Operator, Zone


def test_company_edit_page(org, admin, login):
    client = login(admin)
    data = {"name": "江城水务集团", "credit_code": "bad", "postal_code": "12"}
    response = client.post(reverse("org:company_edit"), data)
    errors = response.context["form"].errors
    assert "credit_code" in errors and "postal_code" in errors
    assert Company.objects.get().name == "测试水务公司"
    data.update(credit_code="91420100MA4K0ABC1X", postal_code="430000")
    assert client.post(reverse("org:company_edit"), data).status_code == 302
    assert Company.objects.get().name == "江城水务集团"
    assert AuditEntry.objects.filter(object_type="org.company", action="update").exists()


def test_zone_create_and_duplicate(org, admin, login):
    client = login(admin)
    ok = client.post(
        reverse("org:zone_add"), {"code": "NC", "name": "南城区", "kind": "urban", "sort_order": 3}
    )
    assert ok.status_code == 302
    dup = client.post(
        reverse("org:zone_add"), {"code": "NC", "name": "南城区", "kind": "urban", "sort_order": 3}
    )
    assert dup.status_code == 200 and {"code", "name"} <= set(dup.context["form"].errors)
    assert Zone.objects.filter(code="NC").count() == 1


def test_unit_and_employee_roles(org, admin, login):
    client = login(admin)
    client.post(
        reverse("org:unit_add"),
        {
            "code": "HK02",
            "name": "河口镇收费点",
            "zone": org["zone_c"].pk,
            "kind": "point",
            "shares_data": "on",
            "active": "on",
        },
    )
    unit = BusinessUnit.objects.get(code="HK02")
    assert unit.shares_data
    client.post(
        reverse("org:employee_add"),
        {
            "code": "E77",
            "name": "周杰",
            "unit": unit.pk,
            "is_reader": "on",
            "is_collector": "on",
            "active": "on",
        },
    )
    employee = Employee.objects.get(code="E77")
    assert (
        employee.role_labels() == ["Meter reader", "Collector"] or len(employee.role_labels()) == 2
    )
    readers = client.get(reverse("org:reader_list"))
    collectors = client.get(reverse("org:collector_list"))
    installers = client.get(reverse("org:installer_list"))
    names = lambda page: {r.record.name for r in page.context["table"].page.object_list}  # noqa: E731
    assert (
        "周杰" in names(readers) and "周杰" in names(collectors) and "周杰" not in names(installers)
    )


def test_employee_filters_combine(org, admin, login):
    page = login(admin).get(
        reverse("org:employee_list"), {"zone": org["zone_b"].pk, "is_collector": "true"}
    )
    assert {r.record.name for r in page.context["table"].page.object_list} == {"李娜"}
    page = login(admin).get(
        reverse("org:employee_list"), {"zone": org["zone_b"].pk, "is_reader": "true"}
    )
    assert not list(page.context["table"].page.object_list)


def test_create_operator(org, admin, login):
    client = login(admin)
    data = {
        "username": "cashier9",
        "name": "收费员九",
        "unit": org["unit_a"].pk,
        "groups": [Group.objects.get(name="收费员").pk],
        "zones": [org["zone_b"].pk],
        "is_active": "on",
        "password": "short",
    }
    response = client.post(reverse("org:operator_add"), data)
    assert "password" in response.context["form"].errors
    data["password"] = "Counter2026"
    assert client.post(reverse("org:operator_add"), data).status_code == 302
    operator = Operator.objects.get(username="cashier9")
    assert operator.check_password("Counter2026")
    assert operator.visible_zone_ids() == {org["zone_a"].pk, org["zone_b"].pk}
    entry = AuditEntry.objects.get(
        object_type="org.operator", object_id=str(operator.pk), action="create"
    )
    assert "password" not in entry.after and entry.after["zones"] == [org["zone_b"].pk]


def test_operator_employee_link_rules(org, admin):
    services.create_operator(
        admin,
        {
            "username": "r1",
            "employee": org["emp_a"],
            "unit": org["unit_a"],
            "password": "Reader2026",
        },
    )
    with pytest.raises(ValidationError) as exc:
        services.create_operator(
            admin,
            {
                "username": "r2",
                "employee": org["emp_a"],
                "unit": org["unit_a"],
                "password": "Reader2026",
            },
        )
    assert "employee" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_operator(
            admin,
            {
                "username": "r3",
                "employee": org["emp_b"],
                "unit": org["unit_a"],
                "password": "Reader2026",
            },
        )
    assert "unit" in exc.value.message_dict


def test_cannot_grant_beyond_own_scope(org):
    from tests.conftest import make_operator

    from watermis.org.roles import ADMIN

    local_admin = make_operator(org, "local_admin", ADMIN)
    base = {"username": "x1", "unit": org["unit_a"], "password": "Grant2026x"}
    with pytest.raises(ValidationError) as exc:
        services.create_operator(local_admin, {**base, "all_zones": True})
    assert "all_zones" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_operator(local_admin, {**base, "zones": [org["zone_b"]]})
    assert "zones" in exc.value.message_dict


def test_cannot_grant_role_with_permissions_not_held(org, clerk_a):
    clerk_a.user_permissions.add(Permission.objects.get(codename="add_operator"))
    clerk_a = Operator.objects.get(pk=clerk_a.pk)
    admin_role = Group.objects.get(name="系统管理员")
    with pytest.raises(ValidationError) as exc:
        services.create_operator(
            clerk_a,
            {
                "username": "x2",
                "unit": org["unit_a"],
                "password": "Grant2026x",
                "groups": [admin_role],
            },
        )
    assert "groups" in exc.value.message_dict


def test_cannot_deactivate_self(org, admin):
    with pytest.raises(ValidationError):
        services.update_operator(admin, admin, {"is_active": False})


def test_deactivated_operator_cannot_sign_in(org, admin, cashier_a, client):
    services.update_operator(admin, cashier_a, {"is_active": False})
    response = client.post(reverse("login"), {"username": "cashier_a", "password": PASSWORD})
    assert response.status_code == 200


def test_role_page_creates_role_with_permissions(org, admin, login):
    client = login(admin)
    perm = Permission.objects.get(codename="view_zone")
    response = client.post(reverse("org:role_add"), {"name": "查询员", "permissions": [perm.pk]})
    assert response.status_code == 302
    role = Group.objects.get(name="查询员")
    assert list(role.permissions.all()) == [perm]
    dup = client.post(reverse("org:role_add"), {"name": "查询员"})
    assert "name" in dup.context["form"].errors
    entry = AuditEntry.objects.get(object_type="auth.group", object_id=str(role.pk))
    assert entry.after["permissions"] == [perm.pk]


def test_role_change_takes_effect(org, admin, reader_a, login):
    role = Group.objects.get(name="抄表员")
    assert login(reader_a).get(reverse("org:employee_list")).status_code == 403
    perms = [*role.permissions.all(), Permission.objects.get(codename="view_employee")]
    services.save_role(admin, role, role.name, perms)
    assert login(reader_a).get(reverse("org:employee_list")).status_code == 200


def test_only_role_admin_saves_roles(org, manager):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.save_role(manager, None, "x", [])
