"""JSON endpoints for the browser's WebAuthn calls (first-party JS: static/aips/webauthn.js)."""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from aips.core.access import public, require
from aips.core.api_errors import error_response
from aips.core.errors import AppError
from aips.core.permissions import Perm
from aips.shared.accounts import sessions
from aips.shared.accounts.models import User
from aips.shared.mfa import webauthn


def _json_error(request: HttpRequest, exc: AppError) -> HttpResponse:
    return error_response(request, exc.status, exc.message, code=exc.code, fields=exc.fields)


@public
@never_cache
@require_POST
def authenticate_options(request: HttpRequest) -> HttpResponse:
    """Options for an assertion: for the person between password and second factor, or for a
    signed-in person confirming a sensitive action."""
    user = request.user if isinstance(request.user, User) else sessions.preauth_user(request)
    if user is None:
        return error_response(request, 401, _("Sign in first."))
    try:
        return JsonResponse(webauthn.authentication_options(request, user))
    except AppError as exc:
        return _json_error(request, exc)


@require(Perm.PROFILE_VIEW, fresh=True)
@never_cache
@require_POST
def register_options(request: HttpRequest) -> HttpResponse:
    user = sessions.acting_person(request)
    try:
        return JsonResponse(webauthn.registration_options(request, user))
    except AppError as exc:
        return _json_error(request, exc)


@require(Perm.PROFILE_VIEW, fresh=True)
@never_cache
@require_POST
def register_verify(request: HttpRequest) -> HttpResponse:
    user = sessions.acting_person(request)
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise TypeError("the body is not a JSON object")
        name = str(body.get("name") or "").strip()[:100] or _("Security key")
        credential = webauthn.registration_verify(
            request, user, json.dumps(body.get("credential") or {}), name
        )
    except (ValueError, TypeError):
        return error_response(request, 400, _("The browser sent a malformed answer."))
    except AppError as exc:
        return _json_error(request, exc)
    return JsonResponse({"id": credential.pk, "name": credential.name}, status=201)
