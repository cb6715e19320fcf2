"""Writes: challenges, a device's registration and revocation, mobile sign-ins and sign-outs,
and the journal of refused devices. A challenge is spent in its own transaction before anything
is judged, so a refused attempt cannot reuse it; refusals are journaled in their own transaction
and then raised."""

import base64
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.core import request_context
from aips.core.access import has_perm
from aips.core.actors import SystemActor
from aips.core.errors import AppError, Conflict, Forbidden
from aips.core.validation import Fields
from aips.etp.devices import config, keys, selectors
from aips.etp.devices.attestation import AttestationRefused, get_verifier
from aips.etp.devices.gate import MobileClient
from aips.etp.devices.models import (
    ChallengeUse,
    Device,
    GeoStatus,
    MobileChallenge,
    MobileSignIn,
    Platform,
    Proof,
)
from aips.etp.permissions import EtpPerm, EtpRole
from aips.shared.accounts import identity
from aips.shared.accounts.models import User
from aips.shared.accounts.security_notices import security_notice
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.biometrics import selectors as biometric_selectors
from aips.shared.biometrics import services as biometric_services
from aips.shared.biometrics.models import Purpose as BiometricPurpose


class DeviceUnknown(AppError):
    status = 401
    code = "device_unknown"


# --- challenges ---------------------------------------------------------------------------------


# Which platform each real verifier vouches for (the fake and `none` vouch for none).
_ATTESTED_PLATFORM = {
    "apple-appattest": "ios",
    "android-key": "android",
    "play-integrity": "android",
}


@transaction.atomic
def challenge_issue(*, use: ChallengeUse) -> MobileChallenge:
    """A single-use challenge valid AIPS_EDS_CHALLENGE_SECONDS; its text names the ETP's address
    and the use, so a signature made for one use cannot serve another."""
    now = timezone.now()
    MobileChallenge.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    nonce = secrets.token_hex(32)
    text = f"ETP mobile {use}\n{settings.AIPS_BASE_URL}\n{nonce}\n{int(now.timestamp())}"
    challenge: MobileChallenge = MobileChallenge.objects.create(
        nonce=nonce,
        use=use,
        data=text.encode(),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.AIPS_EDS_CHALLENGE_SECONDS),
    )
    return challenge


@transaction.atomic
def challenge_take(*, nonce: str, use: ChallengeUse) -> MobileChallenge:
    """Spend the challenge `nonce` (once, unexpired, for `use`); raises ChallengeExpired."""
    now = timezone.now()
    taken = MobileChallenge.objects.filter(
        nonce=(nonce or "")[:64], use=use, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if taken != 1:
        raise identity.ChallengeExpired()
    challenge: MobileChallenge = MobileChallenge.objects.get(nonce=nonce)
    return challenge


def challenge_text(challenge: MobileChallenge) -> str:
    return base64.b64encode(bytes(challenge.data)).decode()


# --- the journal of refusals --------------------------------------------------------------------


@transaction.atomic
def device_refused(
    *, client_id: str, version: str, findings: list[str], user: User | None = None, reason: str = ""
) -> None:
    """A device or an attempt the ETP refused: a compromised device (R57.27.2) or a failed
    registration. Journaled in its own transaction; the caller answers the refusal."""
    details: dict[str, Any] = {"client_id": client_id[:200], "app_version": version[:32]}
    if findings:
        details["findings"] = findings
    if reason:
        details["reason"] = reason[:64]
    record(
        actor=user or SystemActor(label="mobile"),
        event=EventType.DEVICE_REFUSED,
        target=user,
        organization_id=user.organization_id if user else None,
        details=details,
    )


# --- registration -------------------------------------------------------------------------------


def may_register(user: User) -> bool:
    """A participant whose organization signs in only with EDS or biometrics (R57.10)."""
    return (
        user.role == EtpRole.PARTICIPANT
        and has_perm(user, EtpPerm.DEVICE_MANAGE)
        and identity.is_strong_factor_required(user)
    )


@dataclass(frozen=True)
class Registration:
    proof: str
    challenge_id: str
    public_key: str
    key_signature: str
    attestation: str
    name: str
    platform: str
    eds_cms: str = ""
    biometric_session: str = ""


def _prove(user: User, registration: Registration, challenge: MobileChallenge) -> dict[str, Any]:
    """The strong sign-in: EDS over the challenge by the account's IIN, or a passed biometric
    check of the account's, spent here. Returns the evidence for the journal."""
    if registration.proof == Proof.EDS:
        eds = identity.prove_identity(
            cms=registration.eds_cms, challenge=bytes(challenge.data), user=user
        )
        identity.signer_must_be(eds, user)
        return {"proof": "eds", **identity.evidence(eds)}
    session = biometric_selectors.usable_check(
        user, purpose=BiometricPurpose.SECOND_FACTOR, public_id=registration.biometric_session
    )
    if session is None:
        raise Conflict(_("This biometric check cannot be used any more. Start a new one."))
    biometric_services.check_use(
        actor=user, session=session, purpose=BiometricPurpose.SECOND_FACTOR
    )
    return {"proof": "biometrics", "session": str(session.public_id)}


def _clean(registration: Registration) -> bytes:
    f = Fields()
    f.required_text("name", registration.name, max_length=100)
    if registration.platform not in Platform.values:
        f.add("platform", _("Choose android or ios."))
    if registration.proof not in Proof.values:
        f.add("proof", _("Choose eds or biometrics."))
    elif registration.proof == Proof.EDS and not registration.eds_cms:
        f.add("eds_cms", _("Sign the challenge with EDS."))
    elif registration.proof == Proof.BIOMETRICS and not registration.biometric_session:
        f.add("biometric_session", _("Give the passed biometric check."))
    f.raise_if_any()
    return keys.parse_public_key(registration.public_key)


def device_register(
    *, user: User, client: MobileClient, registration: Registration
) -> tuple[Device, str]:
    """Bind the app on this device (its key) to `user` after a strong sign-in (R57.27.1,
    R57.28.3). `user` has passed the password; this proves the rest. Returns the device and its
    token, shown once."""
    spki = _clean(registration)
    if not may_register(user):
        device_refused(
            client_id=client.client_id, version=client.version, findings=[], user=user,
            reason="not_allowed",
        )  # fmt: skip
        raise Forbidden(
            _("Only participants who sign in with EDS or biometrics can register a mobile device.")
        )
    challenge = challenge_take(nonce=registration.challenge_id, use=ChallengeUse.REGISTER)
    fingerprint = keys.key_sha256(spki)
    try:
        evidence = _prove(user, registration, challenge)
        keys.verify_signature(
            spki, signature=registration.key_signature, data=bytes(challenge.data)
        )
        verdict = get_verifier().verify(
            token=registration.attestation[:20000],
            client_id=client.client_id,
            key_sha256=fingerprint,
            nonce=challenge.nonce,
        )
        # A platform's own attestation must match the platform the device claims: an Android
        # key attestation does not vouch for an "ios" device.
        attested = _ATTESTED_PLATFORM.get(verdict.verifier)
        if attested is not None and attested != registration.platform:
            raise AttestationRefused()
    except AppError as exc:
        device_refused(
            client_id=client.client_id, version=client.version, findings=[], user=user,
            reason=exc.code,
        )  # fmt: skip
        raise
    return _device_create(
        user=user,
        client=client,
        registration=registration,
        spki=spki,
        fingerprint=fingerprint,
        verifier=verdict.verifier,
        evidence=evidence,
    )


@transaction.atomic
def _device_create(
    *,
    user: User,
    client: MobileClient,
    registration: Registration,
    spki: bytes,
    fingerprint: str,
    verifier: str,
    evidence: dict[str, Any],
) -> tuple[Device, str]:
    raw = selectors.DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    try:
        with transaction.atomic():
            device = Device.objects.create(
                user=user,
                name=registration.name.strip()[:100],
                platform=registration.platform,
                client_id=client.client_id,
                public_key=spki,
                key_sha256=fingerprint,
                attestation_verifier=verifier,
                proof=registration.proof,
                token_sha256=selectors.token_sha256(raw),
                token_prefix=raw[:11],
                app_version=client.version,
                created_at=now,
                expires_at=now + timedelta(days=config.device_days()),
            )
    except IntegrityError:
        raise Conflict(
            _("This device key is already registered. Make a new key pair."),
            code="device_key_taken",
        ) from None
    record(
        actor=user,
        event=EventType.DEVICE_REGISTERED,
        target=device,
        organization_id=user.organization_id,
        details={
            **evidence,
            "client_id": client.client_id,
            "app_version": client.version,
            "platform": device.platform,
            "key_sha256": fingerprint,
            "attestation": verifier,
            "token_prefix": device.token_prefix,
        },
    )
    return device, raw


@transaction.atomic
def device_revoke(*, actor: User, device: Device) -> Device:
    """The owner revokes a device (a lost phone): its token and open sessions stop at once."""
    if device.user_id != actor.pk:
        raise Forbidden()
    locked = Device.objects.select_for_update().get(pk=device.pk)
    if locked.revoked_at is not None:
        return locked
    now = timezone.now()
    locked.revoked_at = now
    locked.save(update_fields=["revoked_at"])
    ended = MobileSignIn.objects.filter(device=locked, ended_at__isnull=True).update(ended_at=now)
    record(
        actor=actor,
        event=EventType.DEVICE_REVOKED,
        target=locked,
        organization_id=actor.organization_id,
        details={"token_prefix": locked.token_prefix, "sessions_ended": ended},
    )
    return locked


# --- mobile sign-in -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Geolocation:
    """R57.27.11: where the person was, or that they refused to say (or the device could not)."""

    status: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    accuracy_m: int | None = None


def _clean_geo(geo: Geolocation) -> Geolocation:
    f = Fields()
    if geo.status not in GeoStatus.values:
        f.add("geolocation.status", _("Choose granted, refused or unavailable."))
    elif geo.status == GeoStatus.GRANTED:
        if geo.latitude is None or not Decimal(-90) <= geo.latitude <= Decimal(90):
            f.add("geolocation.latitude", _("Give a latitude between -90 and 90."))
        if geo.longitude is None or not Decimal(-180) <= geo.longitude <= Decimal(180):
            f.add("geolocation.longitude", _("Give a longitude between -180 and 180."))
        if geo.accuracy_m is not None and not 0 <= geo.accuracy_m <= 1_000_000:
            f.add("geolocation.accuracy_m", _("Give the accuracy in metres."))
    f.raise_if_any()
    if geo.status != GeoStatus.GRANTED:
        return Geolocation(status=geo.status)
    micro = Decimal("0.000001")
    return Geolocation(
        status=geo.status,
        latitude=geo.latitude.quantize(micro) if geo.latitude is not None else None,
        longitude=geo.longitude.quantize(micro) if geo.longitude is not None else None,
        accuracy_m=geo.accuracy_m,
    )


def mobile_sign_in(
    *, client: MobileClient, device_token: str, challenge_id: str, signature: str, geo: Geolocation
) -> tuple[MobileSignIn, str]:
    """A registered device signs the challenge with its key: a mobile session opens, stored with
    the geolocation or its refusal (R57.27.11); the person is told (R57.27.10). Returns the
    session and its token, shown once."""
    clean_geo = _clean_geo(geo)
    device = selectors.device_by_token(device_token)
    if device is None or device.client_id != client.client_id:
        raise DeviceUnknown(_("This device is not registered, or its registration was revoked."))
    challenge = challenge_take(nonce=challenge_id, use=ChallengeUse.SESSION)
    try:
        keys.verify_signature(
            bytes(device.public_key), signature=signature, data=bytes(challenge.data)
        )
    except AppError as exc:
        _sign_in_failed(device=device, reason=exc.code)
        raise
    return _sign_in_open(device=device, client=client, geo=clean_geo)


@transaction.atomic
def _sign_in_failed(*, device: Device, reason: str) -> None:
    record(
        actor=device.user,
        event=EventType.LOGIN_FAILED,
        target=device.user,
        organization_id=device.user.organization_id,
        details={"channel": "mobile", "device": device.pk, "reason": reason[:64]},
    )


@transaction.atomic
def _sign_in_open(
    *, device: Device, client: MobileClient, geo: Geolocation
) -> tuple[MobileSignIn, str]:
    raw = selectors.SESSION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    ctx = request_context.current()
    sign_in = MobileSignIn.objects.create(
        device=device,
        user=device.user,
        token_sha256=selectors.token_sha256(raw),
        created_at=now,
        expires_at=now + timedelta(minutes=config.session_minutes()),
        ip=ctx.ip if ctx and ctx.ip else None,
        app_version=client.version,
        geo_status=geo.status,
        latitude=geo.latitude,
        longitude=geo.longitude,
        accuracy_m=geo.accuracy_m,
    )
    Device.objects.filter(pk=device.pk).update(last_used_at=now, app_version=client.version)
    User.objects.filter(pk=device.user_id).update(last_login=now)
    record(
        actor=device.user,
        event=EventType.LOGIN_SUCCEEDED,
        target=device.user,
        organization_id=device.user.organization_id,
        details={
            "second_factor": "device_key",
            "channel": "mobile",
            "device": device.pk,
            "app_version": client.version,
            "geolocation": geo.status,
        },
    )
    security_notice(user=device.user, event="sign_in", factor="mobile")
    return sign_in, raw


@transaction.atomic
def mobile_sign_out(*, actor: User, sign_in: MobileSignIn) -> None:
    if sign_in.user_id != actor.pk:
        raise Forbidden()
    MobileSignIn.objects.filter(pk=sign_in.pk, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    record(
        actor=actor,
        event=EventType.LOGGED_OUT,
        target=actor,
        organization_id=actor.organization_id,
        details={"channel": "mobile", "device": sign_in.device_id},
    )
