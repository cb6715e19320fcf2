"""One JSON error shape for every 4xx/5xx under /api/: {"error": {code, message, fields,
request_id}}. The request id is the one in the X-Request-ID header and the server log."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from aips.core import ratelimit
from aips.core.branding import site_text
from aips.core.errors import AppError, FieldErrors
from aips.core.request_context import client_ip

log = logging.getLogger("aips.api")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}


def error_response(
    request: HttpRequest,
    status: int,
    message: str,
    *,
    code: str | None = None,
    fields: FieldErrors | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    body = {
        "error": {
            "code": code or _CODES.get(status, "error"),
            "message": message,
            "fields": fields or {},
            "request_id": getattr(request, "request_id", ""),
        }
    }
    response = JsonResponse(body, status=status)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _field_name(loc: list[Any]) -> str:
    # ("body", "payload", "bin") → "bin"; query parameters keep their own name.
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path")]
    return ".".join(parts) or "__all__"


def install(api: NinjaAPI) -> None:
    @api.exception_handler(AppError)
    def app_error(request: HttpRequest, exc: AppError) -> HttpResponse:
        retry_after = getattr(exc, "retry_after", None)
        return error_response(
            request,
            exc.status,
            exc.message,
            code=exc.code,
            fields=exc.fields,
            headers={"Retry-After": str(retry_after)} if retry_after else None,
        )

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields: FieldErrors = {}
        for err in exc.errors:
            fields.setdefault(_field_name(list(err.get("loc", []))), []).append(
                str(err.get("msg", "invalid"))
            )
        return error_response(request, 422, _("Some fields are not valid."), fields=fields)

    @api.exception_handler(AuthenticationError)
    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        # Failed authentications (no, bad, expired or revoked token) are limited per address, so
        # guessing tokens is slow; ninja's throttles only count requests that did authenticate.
        try:
            ratelimit.hit(
                "api-unauthenticated", client_ip(request) or "-", settings.AIPS_BAD_TOKEN_RATE_IP
            )
        except ratelimit.RateLimited as limited:
            return app_error(request, limited)
        return error_response(
            request,
            401,
            _("Authentication required."),
            headers={"WWW-Authenticate": 'Bearer realm="aips"'},
        )

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        wait = max(1, int(exc.wait or 1))
        return error_response(
            request,
            429,
            _("Too many requests; retry later."),
            headers={"Retry-After": str(wait)},
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # Ninja wraps whatever the body parser raises in a 400; the parser's own refusals
        # (`aips.core.api_parser`) keep their status and field errors.
        if isinstance(exc.__cause__, AppError):
            return app_error(request, exc.__cause__)
        return error_response(request, exc.status_code, str(exc.message))

    @api.exception_handler(RequestDataTooBig)
    def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        # Raised by Django (DATA_UPLOAD_MAX_MEMORY_SIZE) or by the upload handler
        # (AIPS_UPLOAD_MAX_BYTES) from the declared length, before the body is read.
        return error_response(request, 413, _("The request is too large."))

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        # Too many form fields or files, a malformed header: what Django answers 400 to.
        return error_response(request, 400, _("The request could not be read."))

    @api.exception_handler(MultiPartParserError)
    def bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        # Django refuses a part whose headers exceed 1 KiB, such as a file name that long.
        return error_response(
            request,
            400,
            _("The form data could not be read: a part is malformed or its file name too long."),
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(request, 404, _("Not found."))

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(request, 403, _("You do not have permission to do this."))

    @api.exception_handler(Exception)
    def internal(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("unhandled API error", exc_info=exc)
        return error_response(request, 500, site_text("internal_error"))
