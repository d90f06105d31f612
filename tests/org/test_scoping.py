"""Zone scoping (F12.5): an operator cannot read or change another zone's records by URL or API."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from watermis.core.scoping import visible_zone_ids
from watermis.org import services
from watermis.org.models import BusinessUnit, Employee, Operator, Zone


def test_visible_zones(org, admin, clerk_a, manager):
    assert visible_zone_ids(admin) is None
    assert visible_zone_ids(manager) is None
    assert visible_zone_ids(clerk_a) == {org["zone_a"].pk}


def test_granted_zones_and_shared_units(org, clerk_a):
    clerk_a.zones.add(org["zone_b"])
    clerk_a = Operator.objects.get(pk=clerk_a.pk)
    assert visible_zone_ids(clerk_a) == {org["zone_a"].pk, org["zone_b"].pk}
    # a unit sharing its data is seen by operators holding org.view_shared_data
    from django.contrib.auth.models import Permission

    clerk_a.user_permissions.add(Permission.objects.get(codename="view_shared_data"))
    clerk_a = Operator.objects.get(pk=clerk_a.pk)
    assert org["zone_c"].pk in visible_zone_ids(clerk_a)


def test_restricted_querysets(org, clerk_a):
    assert set(Zone.objects.restrict(clerk_a)) == {org["zone_a"]}
    assert set(BusinessUnit.objects.restrict(clerk_a)) == {org["unit_a"]}
    assert set(Employee.objects.restrict(clerk_a)) == {org["emp_a"]}
    # the clerk may view employees but not change them
    assert not Employee.objects.restrict(clerk_a, "change").exists()


@pytest.mark.parametrize(
    "url_name,key",
    [
        ("org:zone_detail", "zone_b"),
        ("org:unit_detail", "unit_b"),
        ("org:employee_detail", "emp_b"),
    ],
)
def test_other_zone_detail_is_404(org, clerk_a, login, url_name, key):
    client = login(clerk_a)
    own = {"zone_b": "zone_a", "unit_b": "unit_a", "emp_b": "emp_a"}[key]
    assert client.get(reverse(url_name, args=[org[own].pk])).status_code == 200
    assert client.get(reverse(url_name, args=[org[key].pk])).status_code == 404


def test_list_shows_only_own_zone(org, clerk_a, login):
    page = login(clerk_a).get(reverse("org:employee_list"))
    names = {row.record.name for row in page.context["table"].page.object_list}
    assert names == {"张伟"}


def test_edit_other_zone_by_url_is_404(org, admin, login):
    # a zone-A administrator (all permissions, one zone) cannot change zone B's unit
    from tests.conftest import make_operator

    from watermis.org.roles import ADMIN

    local_admin = make_operator(org, "local_admin", ADMIN)
    client = login(local_admin)
    url = reverse("org:unit_edit", args=[org["unit_b"].pk])
    assert client.get(url).status_code == 404
    response = client.post(
        url, {"code": "XC01", "name": "改名", "zone": org["zone_b"].pk, "kind": "hall"}
    )
    assert response.status_code == 404
    assert BusinessUnit.objects.get(pk=org["unit_b"].pk).name == "西城区营业厅"


def test_service_rechecks_scope(org):
    from tests.conftest import make_operator

    from watermis.org.roles import ADMIN

    local_admin = make_operator(org, "local_admin", ADMIN)
    with pytest.raises(PermissionDenied):
        services.update_unit(local_admin, org["unit_b"], {"name": "改名"})
    # and cannot move its own unit into a zone it does not see
    with pytest.raises(PermissionDenied):
        services.update_unit(local_admin, org["unit_a"], {"zone": org["zone_b"]})
    # nor create a zone at all (zones are company-wide work)
    with pytest.raises(PermissionDenied):
        services.create_zone(local_admin, {"code": "NEW", "name": "新区", "kind": "urban"})


def test_form_choices_are_scoped(org, login):
    from tests.conftest import make_operator

    from watermis.org.roles import ADMIN

    local_admin = make_operator(org, "local_admin", ADMIN)
    page = login(local_admin).get(reverse("org:employee_add"))
    units = set(page.context["form"].fields["unit"].queryset)
    assert units == {org["unit_a"], org["unit_c"]}  # unit_c shares its data
    # posting another zone's unit is refused beside the field
    response = login(local_admin).post(
        reverse("org:employee_add"), {"code": "E9", "name": "赵六", "unit": org["unit_b"].pk}
    )
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors
    assert not Employee.objects.filter(code="E9").exists()


def test_api_is_scoped(org, clerk_a, login):
    client = login(clerk_a)
    data = client.get("/api/employees/").json()
    assert [e["name"] for e in data["results"]] == ["张伟"]
    assert client.get(f"/api/employees/{org['emp_b'].pk}/").status_code == 404
    assert client.get(f"/api/zones/{org['zone_b'].pk}/").status_code == 404


def test_api_write_needs_permission_and_scope(org, clerk_a, login):
    from tests.conftest import make_operator

    from watermis.org.roles import ADMIN

    client = login(clerk_a)
    response = client.patch(
        f"/api/employees/{org['emp_a'].pk}/", {"name": "改"}, content_type="application/json"
    )
    assert response.status_code == 403
    local_admin = make_operator(org, "local_admin", ADMIN)
    client = login(local_admin)
    response = client.patch(
        f"/api/employees/{org['emp_b'].pk}/", {"name": "改"}, content_type="application/json"
    )
    assert response.status_code == 404
    response = client.post(
        "/api/employees/",
        {"code": "E8", "name": "钱七", "unit": org["unit_b"].pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and "unit" in response.json()
    response = client.patch(
        f"/api/employees/{org['emp_a'].pk}/",
        {"phone": "13800000000"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert Employee.objects.get(pk=org["emp_a"].pk).phone == "13800000000"


def test_api_anonymous_refused(org, client):
    assert client.get("/api/zones/").status_code in (401, 403)
    assert client.get("/api/schema/").status_code in (401, 403)


def test_api_writes_go_through_services(org, admin, login):
    from watermis.core.models import AuditEntry

    client = login(admin)
    response = client.post(
        "/api/zones/",
        {"code": "NC", "name": "南城区", "kind": "urban"},
        content_type="application/json",
    )
    assert response.status_code == 201
    entry = AuditEntry.objects.get(object_type="org.zone", object_id=str(response.json()["id"]))
    assert entry.actor == admin and entry.source == "api"
    response = client.patch(
        f"/api/zones/{org['zone_a'].pk}/", {"note": "API"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert AuditEntry.objects.filter(
        object_type="org.zone", object_id=str(org["zone_a"].pk), action="update", source="api"
    ).exists()
    # a rule only the service knows (zones are created by operators seeing every zone)
    from tests.conftest import make_operator

    from watermis.org.roles import ADMIN

    client = login(make_operator(org, "local_admin", ADMIN))
    response = client.post(
        "/api/zones/",
        {"code": "WC", "name": "外城", "kind": "urban"},
        content_type="application/json",
    )
    assert response.status_code == 403
