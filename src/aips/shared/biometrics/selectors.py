"""Reads: a person's own sessions (404 for anyone else's), the passed check a password change or
a sign-in may use, and the provider's view of a session (the fake client page)."""

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from aips.core.actors import Viewer
from aips.shared.biometrics.models import BiometricSession, Purpose, SessionState


def get_session_for(actor: Viewer, public_id: UUID | str) -> BiometricSession:
    try:
        return (
            BiometricSession.objects.visible_to(actor)
            .select_related("user")
            .get(public_id=public_id)
        )
    except (BiometricSession.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc


def usable_check(actor: Viewer, *, purpose: Purpose, public_id: str) -> BiometricSession | None:
    """The passed, unused, fresh session `public_id` of the actor's for `purpose`, or None."""
    if not public_id:
        return None
    fresh_since = timezone.now() - timedelta(minutes=settings.AIPS_BIOMETRIC_FRESH_MINUTES)
    try:
        return (
            BiometricSession.objects.visible_to(actor)
            .filter(
                public_id=public_id,
                purpose=purpose,
                state=SessionState.PASSED,
                used_at__isnull=True,
                decided_at__gte=fresh_since,
            )
            .first()
        )
    except (ValidationError, ValueError):  # not a UUID
        return None


def provider_session(provider: str, provider_session_id: str) -> BiometricSession | None:
    """The session as its provider knows it (by the provider's own id): for the fake provider's
    client page, which stands in for a system outside the platform and has no actor."""
    return (
        BiometricSession.objects.select_related("user")
        .filter(provider=provider, provider_session_id=provider_session_id[:128])
        .first()
    )
