"""Signing in and out: login history (F12.3), lock-out after repeated failures."""

from datetime import timedelta

from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from watermis.core import journal
from watermis.core.middleware import client_ip
from watermis.core.models import AuditAction
from watermis.system.params import get_param

from .models import LoginEvent, LoginEventKind, Operator


class SignInRefused(Exception):
    """The sign-in was refused; the message says why, for the person at the screen."""


def record_event(request, username, kind, operator=None, detail="", now=None):
    return LoginEvent.objects.create(
        at=now or timezone.now(),
        username=username[:150],
        operator=operator,
        kind=kind,
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:300],
        detail=detail[:200],
        zone_id=operator.unit.zone_id if operator is not None and operator.unit_id else None,
    )


def sign_in(request, username, password, switching=False, now=None):
    """Check the credentials and start the session; returns the operator.

    Every attempt is recorded. After ``login.max_failures`` failures in a row
    the operator is locked for ``login.lockout_minutes``; a locked operator is
    refused even with the right password.
    """
    now = now or timezone.now()
    username = (username or "").strip()
    operator = Operator.objects.filter(username=username).select_related("unit").first()
    if operator is not None and operator.is_locked(now):
        record_event(request, username, LoginEventKind.LOCKED, operator, now=now)
        raise SignInRefused(
            _("This operator is locked until %(time)s after repeated failed sign-ins.")
            % {"time": date_format(timezone.localtime(operator.locked_until), "H:i")}
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        _register_failure(request, username, operator, now)
        raise SignInRefused(_("Wrong user name or password, or the operator is disabled."))
    with transaction.atomic():
        Operator.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        kind = LoginEventKind.SWITCH if switching else LoginEventKind.LOGIN
        previous = request.user.username if switching and request.user.is_authenticated else ""
        detail = _("from %(name)s") % {"name": previous} if previous else ""
        record_event(request, username, kind, user, detail, now)
    login(request, user)
    return user


def _register_failure(request, username, operator, now):
    with transaction.atomic():
        record_event(request, username, LoginEventKind.FAILED, operator, now=now)
        if operator is None:
            return
        Operator.objects.filter(pk=operator.pk).update(failed_logins=F("failed_logins") + 1)
        operator.refresh_from_db(fields=["failed_logins", "locked_until"])
        if operator.failed_logins >= get_param("login.max_failures"):
            operator.locked_until = now + timedelta(minutes=get_param("login.lockout_minutes"))
            operator.save(update_fields=["locked_until"])
            with journal.acting_as(None):
                journal.record(
                    operator,
                    AuditAction.ACTION,
                    None,
                    {"locked_until": operator.locked_until.isoformat()},
                    _("%(count)s failed sign-ins in a row") % {"count": operator.failed_logins},
                    verb="lock_out",
                )


def sign_out(request):
    if request.user.is_authenticated:
        record_event(request, request.user.username, LoginEventKind.LOGOUT, request.user)
    logout(request)
