"""Second factors: enrolment, verification, recovery codes and administrative reset (R57.8)."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from aips.core.actors import Actor, Person, SystemActor
from aips.core.errors import AppError, ValidationFailed
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.mfa.models import RecoveryCode, WebAuthnCredential

RECOVERY_CODE_COUNT = 10
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed from paper


def _normalize_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def _hash_code(raw: str) -> str:
    # 80 random bits per code, so a fast hash is enough; lockout bounds online guessing.
    return hashlib.sha256(_normalize_code(raw).encode()).hexdigest()


def has_totp(user: Person) -> bool:
    return bool(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists())


def has_webauthn(user: Person) -> bool:
    return WebAuthnCredential.objects.filter(user_id=user.pk).exists()


def has_second_factor(user: Person) -> bool:
    return has_totp(user) or has_webauthn(user)


def _new_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user_id=user.pk).delete()
    codes = [
        "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user_id=user.pk, code_hash=_hash_code(code)) for code in codes]
    )
    record(
        actor=user,
        event=EventType.RECOVERY_CODES_GENERATED,
        target=user,
        organization_id=user.organization_id,
        details={"count": len(codes)},
    )
    return codes


@transaction.atomic
def totp_setup(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator for the enrolment page; it counts only once confirmed."""
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="", confirmed=False)
    return device


@transaction.atomic
def totp_confirm(*, user: User, code: str) -> list[str]:
    """Confirm the pending authenticator with a first code. Returns fresh recovery codes when the
    user had none (first enrolment), else an empty list."""
    device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=False).first()
    if device is None:
        raise AppError(_("Start the authenticator set-up again."), code="no_pending_device")
    if not device.verify_token(_normalize_code(code)):
        raise ValidationFailed.field(
            "code", _("The code is not valid. Check the time on your phone.")
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(
        actor=user,
        event=EventType.MFA_ENROLLED,
        target=user,
        organization_id=user.organization_id,
        details={"device": "totp", "device_id": device.pk},
    )
    if RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).exists():
        return []
    return _new_codes(user)


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    return _new_codes(user)


@transaction.atomic
def verify_code(*, user: User, code: str) -> str | None:
    """Check a typed second factor: a TOTP code (replays and codes outside ±1 step refused by
    django-otp) or a single-use recovery code. Returns which one matched, or None."""
    normalized = _normalize_code(code)
    if normalized.isdigit() and len(normalized) in (6, 8):
        for device in TOTPDevice.objects.select_for_update().filter(
            user_id=user.pk, confirmed=True
        ):
            if device.verify_token(normalized):
                return "totp"
        return None
    if len(normalized) == 16:
        recovery = (
            RecoveryCode.objects.select_for_update()
            .filter(user_id=user.pk, code_hash=_hash_code(normalized), used_at__isnull=True)
            .first()
        )
        if recovery is not None:
            recovery.used_at = timezone.now()
            recovery.save(update_fields=["used_at"])
            left = RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).count()
            record(
                actor=user,
                event=EventType.RECOVERY_CODE_USED,
                target=user,
                organization_id=user.organization_id,
                details={"remaining": left},
            )
            return "recovery"
    return None


def unused_recovery_codes(user: Person) -> int:
    return RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).count()


@transaction.atomic
def totp_remove(*, user: User, device_id: int) -> None:
    device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, pk=device_id).first()
    if device is None:
        raise AppError(_("No such authenticator."), code="not_found", status=404)
    others = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exclude(pk=device.pk)
    if device.confirmed and not others.exists() and not has_webauthn(user):
        raise AppError(
            _("This is your only second factor; add another one before removing it."),
            code="last_factor",
            status=409,
        )
    device.delete()
    record(
        actor=user,
        event=EventType.MFA_REMOVED,
        target=user,
        organization_id=user.organization_id,
        details={"device": "totp", "device_id": device_id},
    )


@transaction.atomic
def webauthn_remove(*, user: User, credential_id: int) -> None:
    credential = WebAuthnCredential.objects.visible_to(user).filter(pk=credential_id).first()
    if credential is None:
        raise AppError(_("No such security key."), code="not_found", status=404)
    others = WebAuthnCredential.objects.filter(user_id=user.pk).exclude(pk=credential.pk)
    if not others.exists() and not has_totp(user):
        raise AppError(
            _("This is your only second factor; add another one before removing it."),
            code="last_factor",
            status=409,
        )
    credential.delete()
    record(
        actor=user,
        event=EventType.MFA_REMOVED,
        target=user,
        organization_id=user.organization_id,
        details={"device": "webauthn", "credential_id": credential_id},
    )


def reset_all_factors(*, actor: Actor, user: User, reason: str) -> None:
    """Called by accounts.services.user_reset_second_factors inside its transaction."""
    TOTPDevice.objects.filter(user_id=user.pk).delete()
    WebAuthnCredential.objects.filter(user_id=user.pk).delete()
    RecoveryCode.objects.filter(user_id=user.pk).delete()
    record(
        actor=actor,
        event=EventType.MFA_RESET,
        target=user,
        organization_id=user.organization_id,
        details={"reason": reason},
    )


@transaction.atomic
def totp_install_known_key(*, actor: Actor, user: User, key_hex: str) -> TOTPDevice:
    """Operators only (the demo data): an authenticator whose secret is printed for newcomers."""
    if not isinstance(actor, SystemActor):
        raise AppError(_("Only the command line may install a known secret."), status=403)
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="demo", key=key_hex, confirmed=True)
        record(
            actor=actor,
            event=EventType.MFA_ENROLLED,
            target=user,
            organization_id=user.organization_id,
            details={"device": "totp", "device_id": device.pk, "via": "cli"},
        )
    return device
