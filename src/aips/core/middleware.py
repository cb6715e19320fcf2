from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from aips.core import request_context
from aips.core.api_errors import error_response

Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Gives every request one correlation id: in the response header, the logs, error bodies
    and (later) audit events."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_context.new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = rid  # type: ignore[attr-defined]
        ctx = request_context.RequestContext(
            request_id=rid,
            ip=request_context.client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:512],
        )
        token = request_context.bind(ctx)
        structlog.contextvars.bind_contextvars(request_id=rid)
        try:
            response = self.get_response(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            request_context.reset(token)
        response["X-Request-ID"] = rid
        return response


class UserLanguageMiddleware:
    """A signed-in user sees their preferred language unless they picked one in this browser."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and not request.path.startswith("/api/")
        ):
            language = getattr(user, "language", "")
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers Django and django-csp do not set themselves, and a floor for every response.

    First in MIDDLEWARE, so it also sees what never reaches the inner middleware: static files
    (WhiteNoise answers them itself), the method guard's 405, redirects of SecurityMiddleware.
    On those it fills in the page policy's Content-Security-Policy and X-Frame-Options (R57.26);
    a response that already carries them (every page, through django-csp and Django's
    XFrameOptionsMiddleware) keeps its own. Nosniff and Referrer-Policy come from Django's
    SecurityMiddleware, which every response passes."""

    PERMISSIONS_POLICY = (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=(), publickey-credentials-get=(self), "
        "publickey-credentials-create=(self)"
    )

    def __init__(self, get_response: Handler) -> None:
        from csp.utils import build_policy
        from django.conf import settings

        self.get_response = get_response
        self.policy = build_policy()
        self.frame_options = settings.X_FRAME_OPTIONS
        self.debug = settings.DEBUG

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not getattr(response, "xframe_options_exempt", False):
            response.setdefault("X-Frame-Options", self.frame_options)
        # Django's technical 404/500 pages in DEBUG use inline styles; django-csp spares them too.
        debug_page = self.debug and response.status_code in (404, 500)
        if self.policy and not debug_page and not getattr(response, "_csp_exempt", False):
            response.setdefault("Content-Security-Policy", self.policy)
        return response


class MethodGuardMiddleware:
    """Only the methods AIPS serves get past this point: TRACE (which would echo the request,
    cookies included, to a cross-site script), TRACK, CONNECT and any unknown verb are answered
    405 before a page, the API or a static file sees them."""

    ALLOWED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in self.ALLOWED:
            return self.get_response(request)
        from django.utils.translation import gettext as _

        message = _("This HTTP method is not allowed.")
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = error_response(request, 405, message)
        else:
            response = HttpResponse(message, status=405, content_type="text/plain; charset=utf-8")
        response["Allow"] = ", ".join(self.ALLOWED)
        return response
