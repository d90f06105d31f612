"""The demo company: deterministic, complete, and every demo operator can sign in."""

from django.core.management import call_command
from django.urls import reverse

from watermis.core.models import AuditEntry
from watermis.demo import build_demo, demo_logins
from watermis.org.demo import DEMO_PASSWORD
from watermis.org.models import BusinessUnit, Employee, Operator, Zone


def test_demo_builds_and_every_operator_signs_in(db, client):
    build_demo(seed=7)
    assert Zone.objects.count() == 6
    assert BusinessUnit.objects.filter(shares_data=True).exists()
    for flag in ("is_reader", "is_collector", "is_installer", "is_inspector"):
        assert Employee.objects.filter(**{flag: True}).exists(), flag
    # everything written is journaled, bulk paths included
    assert AuditEntry.objects.filter(object_type="org.employee").count() == Employee.objects.count()
    for username, _role, _zone in demo_logins():
        response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
        assert client.get(reverse("home")).status_code == 200
        client.post(reverse("logout"))
    assert Operator.objects.get(username="cashier").visible_zone_ids() == {
        Zone.objects.get(code="DC").pk
    }


def test_demo_is_deterministic(db):
    from django.db import transaction

    def staff():
        return list(
            Employee.objects.order_by("code").values_list("code", "name", "phone", "unit__code")
        )

    with transaction.atomic():
        build_demo(seed=11)
        first = staff()
        transaction.set_rollback(True)
    assert not Employee.objects.exists()
    build_demo(seed=11)
    assert staff() == first and len(first) == 80


def test_load_demo_command_refuses_second_load(db, capsys):
    call_command("load_demo")
    call_command("load_demo", "--if-empty")
    out = capsys.readouterr().out
    assert "admin" in out and DEMO_PASSWORD in out
    import pytest
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("load_demo")
