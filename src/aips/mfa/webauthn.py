"""WebAuthn (security keys and platform authenticators with user verification: possession +
inherence, R57.8, R57.11). Interface used by the sign-in, re-authentication and password-change
views; the JSON shapes are those of the browser's PublicKeyCredential.toJSON()."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from aips.core.errors import AppError
from aips.mfa.models import WebAuthnCredential


def registration_options(request: HttpRequest, user: Any) -> dict[str, Any]:
    raise AppError(_("Security keys are not available yet."), code="webauthn_unavailable")


def registration_verify(
    request: HttpRequest, user: Any, response_json: str, name: str
) -> WebAuthnCredential:
    raise AppError(_("Security keys are not available yet."), code="webauthn_unavailable")


def authentication_options(request: HttpRequest, user: Any) -> dict[str, Any]:
    raise AppError(_("Security keys are not available yet."), code="webauthn_unavailable")


def authentication_verify(
    request: HttpRequest, user: Any, response_json: str, *, require_uv: bool = True
) -> bool:
    return False
