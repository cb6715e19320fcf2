from django.db.models import QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from aips.core.actors import Viewer
from aips.shared.mfa.models import WebAuthnCredential


def totp_devices(*, actor: Viewer) -> QuerySet[TOTPDevice]:
    """One's own confirmed authenticators (django-otp's model has no visible_to of its own)."""
    if actor is None or not actor.is_authenticated:
        none: QuerySet[TOTPDevice] = TOTPDevice.objects.none()
        return none
    mine: QuerySet[TOTPDevice] = TOTPDevice.objects.filter(user_id=actor.pk, confirmed=True)
    return mine.order_by("id")


def webauthn_credentials(*, actor: Viewer) -> QuerySet[WebAuthnCredential]:
    return WebAuthnCredential.objects.visible_to(actor)
