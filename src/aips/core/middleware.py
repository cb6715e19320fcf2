from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from aips.core import request_context

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
    """Headers Django and django-csp do not set themselves."""

    PERMISSIONS_POLICY = (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=(), publickey-credentials-get=(self), "
        "publickey-credentials-create=(self)"
    )

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
