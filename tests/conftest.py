"""Shared fixtures: a small company with two zones, the standard roles and an operator per role."""

import pytest
from django.db import connection

from watermis.core.journal import audit_context
from watermis.org.models import BusinessUnit, Company, Employee, Operator, Zone, ZoneKind
from watermis.org.roles import ADMIN, CASHIER, CLERK, MANAGER, READER, ensure_standard_roles

PASSWORD = "Secret2026x"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need PostgreSQL: skipped (and said so) on SQLite. Browser
    tests (``e2e``) run on one xdist worker (``--dist loadgroup``): each worker running one
    would build its own demo server (a minute and a half of both cores)."""
    from django.conf import settings

    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(pytest.mark.xdist_group("e2e"))
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in the PostgreSQL pass)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def org(db):
    """Two zones (A: 东城区, B: 西城区), a unit in each, a shared department, staff, roles."""
    with audit_context(source="test"):
        company = Company.objects.create(name="测试水务公司")
        zone_a = Zone.objects.create(code="DC", name="东城区", kind=ZoneKind.URBAN)
        zone_b = Zone.objects.create(code="XC", name="西城区", kind=ZoneKind.URBAN)
        zone_c = Zone.objects.create(code="HK", name="河口镇", kind=ZoneKind.TOWNSHIP)
        unit_a = BusinessUnit.objects.create(code="DC01", name="东城区营业厅", zone=zone_a)
        unit_b = BusinessUnit.objects.create(code="XC01", name="西城区营业厅", zone=zone_b)
        unit_c = BusinessUnit.objects.create(
            code="HK01", name="河口镇营业所", zone=zone_c, shares_data=True
        )
        emp_a = Employee.objects.create(code="E1", name="张伟", unit=unit_a, is_reader=True)
        emp_b = Employee.objects.create(code="E2", name="李娜", unit=unit_b, is_collector=True)
        emp_c = Employee.objects.create(code="E3", name="王芳", unit=unit_c, is_installer=True)
        roles = ensure_standard_roles()
    return {
        "company": company,
        "zone_a": zone_a,
        "zone_b": zone_b,
        "zone_c": zone_c,
        "unit_a": unit_a,
        "unit_b": unit_b,
        "unit_c": unit_c,
        "emp_a": emp_a,
        "emp_b": emp_b,
        "emp_c": emp_c,
        "roles": roles,
    }


def make_operator(org, username, role, unit_key="unit_a", all_zones=False, **extra):
    operator = Operator(
        username=username,
        name=username.title(),
        unit=org[unit_key] if unit_key else None,
        all_zones=all_zones,
        **extra,
    )
    operator.set_password(PASSWORD)
    operator.save()
    if role:
        operator.groups.add(org["roles"][role])
    return operator


@pytest.fixture
def admin(org):
    return make_operator(org, "admin", ADMIN, unit_key=None, all_zones=True)


@pytest.fixture
def manager(org):
    return make_operator(org, "manager", MANAGER, all_zones=True)


@pytest.fixture
def clerk_a(org):
    return make_operator(org, "clerk_a", CLERK)


@pytest.fixture
def cashier_a(org):
    return make_operator(org, "cashier_a", CASHIER)


@pytest.fixture
def reader_a(org):
    return make_operator(org, "reader_a", READER)


@pytest.fixture
def nobody(org):
    """An operator with no role: no permission at all."""
    return make_operator(org, "nobody", None)


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login
