"""WebAuthn (security keys and platform authenticators with user verification: possession +
inherence, R57.8, R57.11). Interface used by the sign-in, re-authentication and password-change
views; the JSON shapes are those of the browser's PublicKeyCredential.toJSON().

Challenges live in the session, one for registration and one for authentication, bound to the
user they were issued for; each is used once (popped on verification, whatever the outcome) and
expires after CHALLENGE_SECONDS."""

import json
import logging
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from aips.core.actors import Person
from aips.core.errors import AppError
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.mfa.models import WebAuthnCredential

log = logging.getLogger("aips.shared.mfa.webauthn")

RP_NAME = "AIPS"
REGISTRATION_KEY = "aips_webauthn_registration"
AUTHENTICATION_KEY = "aips_webauthn_authentication"
# The browser's own timeout (a hint) and how long the server keeps a challenge.
TIMEOUT_MS = 120_000
CHALLENGE_SECONDS = 300
_MAX_RESPONSE_CHARS = 64_000


class WebAuthnRefused(AppError):
    status = 400
    code = "webauthn_invalid"
    default_message = _lazy("The security key's answer could not be verified.")


def _rp_id() -> str:
    return str(settings.AIPS_WEBAUTHN_RP_ID)


def _origin() -> str:
    return str(settings.AIPS_WEBAUTHN_ORIGIN).rstrip("/")


def _user_handle(user: Person) -> bytes:
    """Opaque and stable per user (no e-mail or database id in the authenticator)."""
    return salted_hmac("aips.shared.mfa.webauthn.user_handle", str(user.pk)).digest()[:32]


def _transports(values: Any) -> list[AuthenticatorTransport]:
    result: list[AuthenticatorTransport] = []
    for value in values if isinstance(values, list) else []:
        try:
            result.append(AuthenticatorTransport(value))
        except ValueError:
            continue
    return result


def _descriptors(user: Person) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(credential.credential_id),
            transports=_transports(credential.transports) or None,
        )
        for credential in WebAuthnCredential.objects.filter(user_id=user.pk)
    ]


def _remember(request: HttpRequest, key: str, user: Person, challenge: bytes) -> None:
    request.session[key] = {
        "challenge": bytes_to_base64url(challenge),
        "uid": user.pk,
        "at": time.time(),
    }


def _take_challenge(request: HttpRequest, key: str, user: Person) -> bytes | None:
    """The challenge issued to this user in this session, once; None when missing or stale."""
    state = request.session.pop(key, None)
    if not isinstance(state, dict) or state.get("uid") != user.pk:
        return None
    try:
        if time.time() - float(state.get("at", 0)) > CHALLENGE_SECONDS:
            return None
        return base64url_to_bytes(str(state["challenge"]))
    except (KeyError, TypeError, ValueError):
        return None


def _as_json(options: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(options_to_json(options))
    return data


# --- registration --------------------------------------------------------------------------


def registration_options(request: HttpRequest, user: Person) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptionsJSON for a new credential of this user; the user must be
    verified by the authenticator (PIN, fingerprint, face), and keys already registered are
    excluded."""
    options = generate_registration_options(
        rp_id=_rp_id(),
        rp_name=RP_NAME,
        user_name=user.email,
        user_id=_user_handle(user),
        user_display_name=getattr(user, "full_name", "") or user.email,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(user),
    )
    _remember(request, REGISTRATION_KEY, user, options.challenge)
    return _as_json(options)


@transaction.atomic
def registration_verify(
    request: HttpRequest, user: User, response_json: str, name: str
) -> WebAuthnCredential:
    """Check the browser's answer to registration_options and keep the new credential."""
    challenge = _take_challenge(request, REGISTRATION_KEY, user)
    if challenge is None:
        raise WebAuthnRefused(
            _("The request to add a security key has expired. Start again."),
            code="webauthn_no_challenge",
        )
    if not response_json or len(response_json) > _MAX_RESPONSE_CHARS:
        raise WebAuthnRefused(_("The browser sent no usable answer from the security key."))
    try:
        parsed = parse_registration_credential_json(response_json)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=_rp_id(),
            expected_origin=_origin(),
            require_user_presence=True,
            require_user_verification=True,
        )
    except Exception as exc:  # any malformed or unverifiable answer is the user's 400, not a 500
        log.info("webauthn registration refused for user %s: %s", user.pk, exc)
        raise WebAuthnRefused(
            _(
                "The security key could not be added: its answer could not be verified. "
                "Use a key that can check your PIN, fingerprint or face, and try again."
            )
        ) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if WebAuthnCredential.objects.filter(credential_id=credential_id).exists():
        raise WebAuthnRefused(
            _("This security key is already registered."), code="webauthn_duplicate"
        )
    label = name.strip()[:100] or _("Security key")
    try:
        with transaction.atomic():
            credential = WebAuthnCredential.objects.create(
                user=user,
                name=label,
                credential_id=credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=[t.value for t in parsed.response.transports or []],
            )
    except IntegrityError as exc:
        raise WebAuthnRefused(
            _("This security key is already registered."), code="webauthn_duplicate"
        ) from exc
    record(
        actor=user,
        event=EventType.WEBAUTHN_REGISTERED,
        target=user,
        organization_id=user.organization_id,
        details={
            "credential_id": credential.pk,
            "name": credential.name,
            "aaguid": verified.aaguid,
            "fmt": str(getattr(verified.fmt, "value", verified.fmt)),
            "user_verified": verified.user_verified,
            "backed_up": verified.credential_backed_up,
            "transports": credential.transports,
        },
    )
    return credential


# --- authentication ------------------------------------------------------------------------


def authentication_options(request: HttpRequest, user: Person) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptionsJSON for this user's credentials (an empty
    allowCredentials when they have none), with user verification required."""
    options = generate_authentication_options(
        rp_id=_rp_id(),
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _remember(request, AUTHENTICATION_KEY, user, options.challenge)
    return _as_json(options)


def authentication_verify(
    request: HttpRequest, user: Person, response_json: str, *, require_uv: bool = True
) -> bool:
    """True when the answer is a valid assertion, for the challenge issued to this user in this
    session, by one of this user's credentials. Never raises: any problem is False."""
    challenge = _take_challenge(request, AUTHENTICATION_KEY, user)
    if challenge is None or not response_json or len(response_json) > _MAX_RESPONSE_CHARS:
        return False
    try:
        parsed = parse_authentication_credential_json(response_json)
        credential = WebAuthnCredential.objects.filter(
            user_id=user.pk, credential_id=parsed.id
        ).first()
        if credential is None:
            return False
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=_rp_id(),
            expected_origin=_origin(),
            credential_public_key=bytes(credential.public_key),
            credential_current_sign_count=credential.sign_count,
            require_user_verification=require_uv,
        )
    except Exception as exc:  # malformed JSON, bad signature, wrong origin, counter regression
        log.info("webauthn assertion refused for user %s: %s", user.pk, exc)
        return False
    new_count = int(verified.new_sign_count)
    with transaction.atomic():
        locked = WebAuthnCredential.objects.select_for_update().filter(pk=credential.pk).first()
        if locked is None:
            return False
        # A concurrent use may have moved the counter on since it was read above.
        if (new_count > 0 or locked.sign_count > 0) and new_count <= locked.sign_count:
            log.info("webauthn sign count regression for credential %s", locked.pk)
            return False
        locked.sign_count = new_count
        locked.last_used_at = timezone.now()
        locked.save(update_fields=["sign_count", "last_used_at"])
    return True
