"""Google Play Integrity (R57.28.3, decision 0043), the classic request's verdict decrypted and
verified here with the app's own keys from the Play Console (`Play Integrity API → Response
encryption → Manage my keys`), never sent to Google's `decodeIntegrityToken`.

The app calls `IntegrityManager.requestIntegrityToken` with `nonce` = the URL-safe base64 of
`attestation_common.binding(client_id, challenge_id, SHA-256 hex of the device key)` and sends
`play-integrity:<the token>`. The token is a JWE (A256KW, A256GCM) around a JWS (ES256) around
the verdict; checked: the nonce, the package, the signing certificates, Play's recognition of
the app, the device's integrity and the verdict's age. The verdict says nothing about the device
key beyond the binding, so Key Attestation (attestation_android.py) is the stronger proof and
this one is for devices without it."""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from django.utils import timezone

from aips.etp.devices import config
from aips.etp.devices.attestation import Attestation
from aips.etp.devices.attestation_common import binding, refuse

TOKEN_PREFIX = "play-integrity:"  # noqa: S105 - a token's kind, not a secret
# Google's advice: refuse a verdict older than a few minutes (the challenge lives
# AIPS_EDS_CHALLENGE_SECONDS anyway; the clocks may differ a little).
MAX_AGE = timedelta(minutes=10)
DEVICE_VERDICTS = {"MEETS_DEVICE_INTEGRITY", "MEETS_STRONG_INTEGRITY"}


@dataclass(frozen=True)
class PlayIntegrityResult:
    package: str
    version_code: str
    device: tuple[str, ...]


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise refuse("encoding", "play integrity token") from None


def _json(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise refuse("play_token", what) from None
    if not isinstance(value, dict):
        raise refuse("play_token", what)
    return value


def decrypt_verdict(
    token: str, *, decryption_key: bytes, verification_key: ec.EllipticCurvePublicKey
) -> dict[str, Any]:
    """The verdict's JSON, once the JWE decrypts with `decryption_key` and the JWS inside
    verifies with `verification_key`; raises AttestationRefused."""
    parts = token.split(".")
    if len(parts) != 5:
        raise refuse("play_token", "not a compact JWE")
    header = _json(_b64url(parts[0]), "JWE header")
    if header.get("alg") != "A256KW" or header.get("enc") != "A256GCM":
        raise refuse("play_token", "JWE algorithms")
    try:
        content_key = aes_key_unwrap(decryption_key, _b64url(parts[1]))
        jws = AESGCM(content_key).decrypt(
            _b64url(parts[2]), _b64url(parts[3]) + _b64url(parts[4]), parts[0].encode("ascii")
        )
    except (InvalidUnwrap, InvalidTag, ValueError):
        raise refuse("play_token", "does not decrypt with our key") from None
    pieces = jws.split(b".")
    if len(pieces) != 3:
        raise refuse("play_token", "not a compact JWS")
    if _json(_b64url(pieces[0].decode("ascii", "replace")), "JWS header").get("alg") != "ES256":
        raise refuse("play_token", "JWS algorithm")
    signature = _b64url(pieces[2].decode("ascii", "replace"))
    if len(signature) != 64:
        raise refuse("play_token", "signature length")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        verification_key.verify(der, pieces[0] + b"." + pieces[1], ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise refuse("play_token", "not signed by Google's key for our app") from None
    return _json(_b64url(pieces[1].decode("ascii", "replace")), "verdict")


def _digest_hex(value: Any) -> str:
    return _b64url(value).hex() if isinstance(value, str) else ""


def verify_verdict(
    verdict: dict[str, Any],
    *,
    nonce_binding: bytes,
    packages: Sequence[str],
    digests: Sequence[str],
    now: datetime,
) -> PlayIntegrityResult:
    """Google's order: the request details first, then the app, then the device."""
    request = verdict.get("requestDetails") or {}
    app = verdict.get("appIntegrity") or {}
    device = verdict.get("deviceIntegrity") or {}
    if not all(isinstance(part, dict) for part in (request, app, device)):
        raise refuse("play_verdict", "shape")
    nonce = request.get("nonce")
    if not isinstance(nonce, str) or _b64url(nonce.strip()) != nonce_binding:
        raise refuse("nonce", "not our challenge, app and device key")
    try:
        moment = datetime.fromtimestamp(int(request.get("timestampMillis", "")) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        raise refuse("play_verdict", "timestamp") from None
    if abs(now - moment) > MAX_AGE:
        raise refuse("play_verdict", f"made at {moment.isoformat()}")
    package = app.get("packageName")
    if request.get("requestPackageName") not in packages or package not in packages:
        raise refuse("application", "package not in AIPS_ETP_ANDROID_PACKAGES")
    if app.get("appRecognitionVerdict") != "PLAY_RECOGNIZED":
        raise refuse("application", str(app.get("appRecognitionVerdict"))[:40])
    signers = {_digest_hex(d) for d in app.get("certificateSha256Digest") or ()}
    if not signers or not signers <= set(digests):
        raise refuse("application", "signer not in AIPS_ETP_ANDROID_SIGNING_CERT_SHA256")
    labels = device.get("deviceRecognitionVerdict") or []
    if not isinstance(labels, list) or not DEVICE_VERDICTS & set(labels):
        raise refuse("device_integrity", str(labels)[:80])
    return PlayIntegrityResult(
        package=str(package),
        version_code=str(app.get("versionCode", "")),
        device=tuple(sorted(str(label) for label in labels)),
    )


def _keys() -> tuple[bytes, ec.EllipticCurvePublicKey]:
    """The Play Console's two keys (base64, as it shows them); missing or unreadable, every
    Play Integrity token is refused (and the log says why)."""
    try:
        decryption = base64.b64decode(config.play_integrity_decryption_key(), validate=True)
        verification = serialization.load_der_public_key(
            base64.b64decode(config.play_integrity_verification_key(), validate=True)
        )
    except (ValueError, binascii.Error):
        raise refuse("play_keys", "AIPS_ETP_PLAY_INTEGRITY_* unreadable") from None
    if len(decryption) != 32 or not isinstance(verification, ec.EllipticCurvePublicKey):
        raise refuse("play_keys", "AIPS_ETP_PLAY_INTEGRITY_* not set or not the Play Console's")
    return decryption, verification


class PlayIntegrityVerifier:
    """`AIPS_ETP_ATTESTATION_VERIFIER=aips.etp.devices.attestation_play.PlayIntegrityVerifier`
    alone, or through attestation_platforms.PlatformVerifier."""

    name = "play-integrity"

    def verify(self, *, token: str, client_id: str, key_sha256: str, nonce: str) -> Attestation:
        if not token.startswith(TOKEN_PREFIX):
            raise refuse("token", "not play-integrity")
        decryption_key, verification_key = _keys()
        verdict = decrypt_verdict(
            token[len(TOKEN_PREFIX) :].strip(),
            decryption_key=decryption_key,
            verification_key=verification_key,
        )
        result = verify_verdict(
            verdict,
            nonce_binding=binding(client_id=client_id, nonce=nonce, key_sha256=key_sha256),
            packages=config.android_packages(),
            digests=config.android_signing_cert_sha256(),
            now=timezone.now(),
        )
        return Attestation(
            verifier=self.name,
            detail=f"{result.package} v{result.version_code} {','.join(result.device)}",
        )
