"""A person's identity proven with EDS (R57.9, R57.10), and the strong-factor policy.

A page that asks for an EDS signature first gets a challenge: random bytes kept in the server-side
session for `AIPS_EDS_CHALLENGE_SECONDS`, one per use ("login", "bind", "register"), taken out on
the first attempt whatever its outcome. The person signs them with the authentication key in
NCALayer (`core/static/aips/ncalayer.js`); `prove_identity` verifies the CMS with
`aips.shared.eds.verify.verify_cms` (chain to the NCA roots, revocation, key usage = client
authentication), checks that it signs exactly this challenge and that the certificate's BIN,
when it carries one, is the person's organization's. Mapping the certificate's IIN to an account
(`signer_must_be`, `services.iin_bind`) comes after.

The policy: an organization's people pass EDS or biometrics as the second factor when the center
requires it for their organization (`Organization.strong_auth_required`) or for all
(`AIPS_STRONG_AUTH_REQUIRED`); `sessions.sign_in` refuses any other factor for them."""

import base64
import binascii
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from aips.core.errors import AppError
from aips.shared.accounts.models import User
from aips.shared.eds.trust import TrustStore
from aips.shared.eds.types import EdsRefused, Purpose, Refusal, Verification
from aips.shared.eds.verify import verify_cms

CHALLENGE_SESSION_KEY = "aips_eds_challenges"
# The second factors that satisfy R57.10 when an organization must use a strong one.
STRONG_FACTORS = frozenset({"eds", "biometrics"})
# A CMS with its certificate chain is a few kilobytes; anything far larger is not one.
CMS_MAX_CHARS = 64 * 1024
_PEM_ARMOUR = re.compile(r"-----(BEGIN|END) [A-Z0-9 ]+-----")


class ChallengeExpired(AppError):
    """No challenge in the session for this use, or an expired one: sign a fresh one."""

    status = 422
    code = "eds_challenge_expired"

    def __init__(self) -> None:
        super().__init__(
            _("The request to sign has expired or was already used. Sign again."),
            code=self.code,
        )


# --- the policy ---------------------------------------------------------------------------------


def is_strong_factor_required(user: User) -> bool:
    """Must this person's second factor be EDS or biometrics (R57.10)? For an organization's people
    when the center requires it for their organization or for all; never for the center's own
    staff, who administer the policy."""
    organization = user.organization
    if organization.is_center:
        return False
    return bool(settings.AIPS_STRONG_AUTH_REQUIRED or organization.strong_auth_required)


def has_eds(user: User) -> bool:
    """The account is bound to an IIN: an EDS whose certificate carries it signs the person in."""
    return bool(user.iin)


# --- challenges in the session ------------------------------------------------------------------


def issue_challenge(request: HttpRequest, *, use: str) -> str:
    """A new challenge for `use` (it replaces the one before); returns its bytes as base64, which
    the page hands to NCALayer. The text names the site and the use, so a signature made for one
    cannot be passed off as another."""
    text = f"AIPS {use}\n{settings.AIPS_BASE_URL}\n{secrets.token_hex(32)}\n{int(time.time())}"
    encoded = base64.b64encode(text.encode()).decode()
    challenges = dict(request.session.get(CHALLENGE_SESSION_KEY) or {})
    challenges[use] = {"data": encoded, "at": time.time()}
    request.session[CHALLENGE_SESSION_KEY] = challenges
    return encoded


def take_challenge(request: HttpRequest, *, use: str) -> bytes | None:
    """The challenge for `use`, removed from the session (single use), or None when there is none
    or it is older than AIPS_EDS_CHALLENGE_SECONDS."""
    challenges = dict(request.session.get(CHALLENGE_SESSION_KEY) or {})
    item = challenges.pop(use, None)
    request.session[CHALLENGE_SESSION_KEY] = challenges
    if not isinstance(item, dict):
        return None
    try:
        issued = float(item.get("at") or 0)
        data = base64.b64decode(str(item.get("data") or ""), validate=True)
    except (TypeError, ValueError, binascii.Error):
        return None
    if not data or time.time() - issued > settings.AIPS_EDS_CHALLENGE_SECONDS:
        return None
    return data


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EdsClock:
    """What a signature is judged against: the trust store (None = the configured NCA roots,
    AIPS_EDS_TRUST_DIR) and the moment (None = now)."""

    trust: TrustStore | None = None
    at: datetime | None = None


def eds_clock() -> EdsClock:
    """The production answer. Tests replace this one function to judge the NCA test keys at a
    pinned moment, or keys of a CA of their own (`aips.shared.eds.testing`)."""
    return EdsClock()


def decode_cms(raw: str) -> bytes:
    """The CMS NCALayer returned, as base64 with or without PEM armour and line breaks."""
    text = _PEM_ARMOUR.sub("", raw or "")
    text = "".join(text.split())
    if not text or len(text) > CMS_MAX_CHARS:
        raise EdsRefused(Refusal.MALFORMED, "empty or oversized")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EdsRefused(Refusal.MALFORMED, "not base64") from exc


def prove_identity(*, cms: str, challenge: bytes | None, user: User) -> Verification:
    """The verified signature of `challenge` with an authentication key, by someone whose
    certificate may stand for `user`: an IIN present and, when the certificate names an
    organization (a BIN), the user's organization. Raises ChallengeExpired or EdsRefused."""
    verification = prove_signer(cms=cms, challenge=challenge)
    signer = verification.signer
    if signer.bin and signer.bin != user.organization.bin:
        raise EdsRefused(
            Refusal.BIN_MISMATCH,
            f"certificate BIN {signer.bin}, organization {user.organization.bin}",
        )
    return verification


def prove_signer(*, cms: str, challenge: bytes | None) -> Verification:
    """The verified signature of `challenge` with an authentication key whose certificate carries
    an IIN, before any account exists (a self-registration); `prove_identity` adds the account's
    checks. Raises ChallengeExpired or EdsRefused."""
    if challenge is None:
        raise ChallengeExpired()
    clock = eds_clock()
    verification = verify_cms(
        decode_cms(cms),
        purpose=Purpose.AUTHENTICATION,
        data=challenge,
        at=clock.at,
        trust=clock.trust,
    )
    if verification.content != challenge:
        raise EdsRefused(Refusal.CONTENT_MISMATCH, "the signed content is not the challenge")
    if not verification.signer.iin:
        raise EdsRefused(Refusal.NO_IIN)
    return verification


def signer_must_be(verification: Verification, user: User) -> None:
    """Sign-in: the certificate's IIN is the one bound to this account (R57.10)."""
    if not user.iin or verification.signer.iin != user.iin:
        raise EdsRefused(Refusal.IIN_MISMATCH, "the certificate's IIN is not the account's")


def evidence(verification: Verification) -> dict[str, Any]:
    """What the audit journal keeps of a verified signature: enough to find the certificate again,
    not the person's IIN in clear."""
    signer = verification.signer
    return {
        "iin": mask_iin(signer.iin),
        "bin": signer.bin,
        "certificate_serial": signer.serial_hex,
        "certificate_sha256": signer.fingerprint_sha256,
        "issuer": signer.issuer,
        "algorithm": verification.algorithm,
        "signing_time": verification.signing_time.isoformat() if verification.signing_time else "",
        "roles": sorted(role.value for role in signer.roles),
    }


def mask_iin(iin: str) -> str:
    """An IIN for pages and the journal: only its last four digits (the first six are a birth
    date)."""
    return f"{'•' * 8}{iin[-4:]}" if len(iin) == 12 else ""
