import uuid

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import Resolver404, resolve
from django.utils import translation

from .journal import audit_context


def client_ip(request):
    """The client's address (the first X-Forwarded-For hop when behind the company proxy)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and getattr(settings, "WATERMIS_TRUST_FORWARDED_FOR", False):
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    """Opens a journal context per request: the operator, a request id and the address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-ID", "")[:36] or uuid.uuid4().hex
        source = "api" if request.path.startswith("/api/") else "web"
        user = request.user if request.user.is_authenticated else None
        with audit_context(
            actor=user, source=source, request_id=request.request_id, ip=client_ip(request)
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class ChosenLanguageMiddleware:
    """Simplified Chinese unless the operator chose another language (cookie set by set_language).

    The browser's Accept-Language is ignored on purpose: a water company's
    workstations show Chinese whatever the browser was installed with.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        codes = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in codes else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


PUBLIC_URL_NAMES = {"login", "set_language", "health"}


class LoginRequiredMiddleware:
    """Every page needs a signed-in operator, except the login page and static files.

    The API answers 401/403 itself (DRF), so it is left to its permission classes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not self._is_public(request):
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    def _is_public(self, request):
        path = request.path
        if path.startswith(("/static/", "/api/")):
            return True
        try:
            match = resolve(path)
        except Resolver404:  # unknown paths answer 404 after login
            return False
        return match.url_name in PUBLIC_URL_NAMES
