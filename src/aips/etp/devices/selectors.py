"""Reads: a person's own devices (404 for anyone else's), and the device or session behind a
token (hashed the same way it is stored)."""

import hashlib

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from aips.core.actors import Viewer
from aips.etp.devices.models import Device, MobileSignIn

DEVICE_TOKEN_PREFIX = "etpd_"  # noqa: S105 - a public marker, not a secret
SESSION_TOKEN_PREFIX = "etpm_"  # noqa: S105 - a public marker, not a secret


def token_sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def device_list(actor: Viewer) -> QuerySet[Device]:
    return Device.objects.visible_to(actor)


def get_device_for(actor: Viewer, device_id: int) -> Device:
    try:
        return Device.objects.visible_to(actor).get(pk=device_id)
    except Device.DoesNotExist as exc:
        raise Http404 from exc


def device_by_token(raw: str) -> Device | None:
    """The usable device behind a device token, or None (unknown, revoked, expired, blocked)."""
    if not raw.startswith(DEVICE_TOKEN_PREFIX) or len(raw) > 100:
        return None
    device = (
        Device.objects.select_related("user", "user__organization")
        .filter(token_sha256=token_sha256(raw))
        .first()
    )
    if device is None or not device.is_usable or not device.user.can_sign_in:
        return None
    return device


def active_sign_in(raw: str) -> MobileSignIn | None:
    """The open mobile session behind a session token, on a device still registered."""
    if not raw.startswith(SESSION_TOKEN_PREFIX) or len(raw) > 100:
        return None
    sign_in = (
        MobileSignIn.objects.select_related("device", "user", "user__organization")
        .filter(token_sha256=token_sha256(raw), ended_at__isnull=True)
        .first()
    )
    if (
        sign_in is None
        or sign_in.expires_at <= timezone.now()
        or not sign_in.device.is_usable
        or not sign_in.user.can_sign_in
    ):
        return None
    return sign_in
