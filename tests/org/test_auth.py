"""Signing in: login history (F12.3), lock-out, password rules (F12.1), switching operator (F12.2)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.conftest import PASSWORD

from watermis.core.models import AuditEntry
from watermis.org.models import LoginEvent, LoginEventKind, Operator
from watermis.system.services import set_parameter


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_records_success_with_address(org, cashier_a, client):
    response = sign_in(client, "cashier_a", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    event = LoginEvent.objects.get()
    assert event.kind == LoginEventKind.LOGIN and event.operator == cashier_a
    assert event.ip == "127.0.0.1" and event.zone_id == org["zone_a"].pk


def test_wrong_password_is_recorded_and_refused(org, cashier_a, client):
    response = sign_in(client, "cashier_a", "wrong")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert LoginEvent.objects.get().kind == LoginEventKind.FAILED
    assert Operator.objects.get(pk=cashier_a.pk).failed_logins == 1
    sign_in(client, "ghost", "x")  # unknown names are recorded too
    assert LoginEvent.objects.filter(username="ghost", operator=None).exists()


def test_lockout_after_repeated_failures(org, admin, cashier_a, client):
    set_parameter(admin, "login.max_failures", "3", "test")
    for _ in range(3):
        sign_in(client, "cashier_a", "wrong")
    cashier_a.refresh_from_db()
    assert cashier_a.is_locked()
    # the right password is refused while locked
    response = sign_in(client, "cashier_a", PASSWORD)
    assert response.status_code == 200
    assert LoginEvent.objects.filter(kind=LoginEventKind.LOCKED).count() == 1
    assert AuditEntry.objects.filter(verb="lock_out", object_id=str(cashier_a.pk)).exists()
    # the lock ends by itself
    cashier_a.locked_until = timezone.now() - datetime.timedelta(seconds=1)
    cashier_a.save()
    assert sign_in(client, "cashier_a", PASSWORD).status_code == 302
    cashier_a.refresh_from_db()
    assert cashier_a.failed_logins == 0


def test_administrator_unlocks(org, admin, cashier_a, login):
    cashier_a.locked_until = timezone.now() + datetime.timedelta(minutes=10)
    cashier_a.failed_logins = 5
    cashier_a.save()
    response = login(admin).post(
        reverse("org:operator_unlock", args=[cashier_a.pk]), {"reason": "called"}
    )
    assert response.status_code == 302
    cashier_a.refresh_from_db()
    assert not cashier_a.is_locked() and cashier_a.failed_logins == 0
    assert AuditEntry.objects.filter(verb="unlock", actor=admin).exists()


def test_change_own_password_rules(org, cashier_a, login):
    client = login(cashier_a)
    url = reverse("org:password_change")
    weak = client.post(
        url, {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    assert "new_password1" in weak.context["form"].errors
    wrong_old = client.post(
        url, {"old_password": "no", "new_password1": "Better2026", "new_password2": "Better2026"}
    )
    assert "old_password" in wrong_old.context["form"].errors
    mismatch = client.post(
        url, {"old_password": PASSWORD, "new_password1": "Better2026", "new_password2": "Other2026"}
    )
    assert "new_password2" in mismatch.context["form"].errors
    ok = client.post(
        url,
        {"old_password": PASSWORD, "new_password1": "Better2026", "new_password2": "Better2026"},
    )
    assert ok.status_code == 302
    cashier_a.refresh_from_db()
    assert cashier_a.check_password("Better2026") and cashier_a.password_changed_at
    assert AuditEntry.objects.filter(verb="change_password", actor=cashier_a).exists()
    # the session survives the change
    assert client.get(reverse("home")).status_code == 200


def test_switch_operator(org, cashier_a, manager, client):
    sign_in(client, "cashier_a", PASSWORD)
    response = client.post(
        reverse("org:switch_operator"), {"username": "manager", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == manager
    event = LoginEvent.objects.get(kind=LoginEventKind.SWITCH)
    assert event.operator == manager and "cashier_a" in event.detail


def test_failed_switch_keeps_current_operator(org, cashier_a, manager, client):
    sign_in(client, "cashier_a", PASSWORD)
    response = client.post(
        reverse("org:switch_operator"), {"username": "manager", "password": "bad"}
    )
    assert response.status_code == 200
    assert client.get(reverse("home")).context["user"] == cashier_a


def test_logout_recorded(org, cashier_a, client):
    sign_in(client, "cashier_a", PASSWORD)
    client.post(reverse("logout"))
    assert LoginEvent.objects.filter(kind=LoginEventKind.LOGOUT, operator=cashier_a).exists()
    assert client.get(reverse("home")).status_code == 302


def test_login_history_page(org, manager, cashier_a, client, login):
    sign_in(client, "cashier_a", "bad")
    page = login(manager).get(
        reverse("org:login_history"), {"kind": "failed", "username": "cashier"}
    )
    rows = list(page.context["table"].page.object_list)
    assert len(rows) == 1 and rows[0].record.username == "cashier_a"


def test_login_events_are_append_only(org, cashier_a, client):
    from django.db import IntegrityError, transaction

    sign_in(client, "cashier_a", "bad")
    with pytest.raises(IntegrityError), transaction.atomic():
        LoginEvent.objects.update(detail="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        LoginEvent.objects.all().delete()


def test_open_redirect_refused(org, cashier_a, client):
    response = client.post(
        reverse("login") + "?next=https://evil.example/",
        {"username": "cashier_a", "password": PASSWORD},
    )
    assert response["Location"] == "/"


def test_session_idle_expiry_configured(settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_COOKIE_AGE <= 3600
    assert settings.SESSION_COOKIE_HTTPONLY
