"""Which biometric session this browser started: one at a time, kept in the Django session so a
passed check serves only the browser (and the person) that started it."""

from typing import Any

from django.http import HttpRequest

from aips.shared.biometrics.models import BiometricSession, Purpose

BROWSER_KEY = "aips_biometric"


def remember(
    request: HttpRequest, session: BiometricSession, *, back: str, token: str = ""
) -> None:
    request.session[BROWSER_KEY] = {
        "id": str(session.public_id),
        "purpose": session.purpose,
        "uid": session.user_id,
        "next": back,
        "token": token,  # the invitation being accepted, for a registration without a sign-in
    }


def remembered(request: HttpRequest) -> dict[str, Any] | None:
    data = request.session.get(BROWSER_KEY)
    return data if isinstance(data, dict) and data.get("id") else None


def remembered_id(request: HttpRequest, purpose: Purpose) -> str:
    """The id of this browser's session for `purpose`, or ""."""
    data = remembered(request)
    return str(data["id"]) if data and data.get("purpose") == purpose else ""


def forget(request: HttpRequest) -> None:
    request.session.pop(BROWSER_KEY, None)
