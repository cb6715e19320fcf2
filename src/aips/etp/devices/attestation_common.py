"""What the platform verifiers share (decision 0043): the binding of an attestation to our
challenge, the app and the device key; the token's encodings; a certificate chain checked offline
against pinned roots. Nothing here calls Google or Apple: every root is embedded or read from a
file the operator keeps."""

import base64
import binascii
import hashlib
import itertools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured

from aips.etp.devices.attestation import AttestationRefused

log = logging.getLogger("aips.etp.devices.attestation")

BINDING_LABEL = "ETP attestation"
# A leaf made on the phone carries the phone's clock as its notBefore; a phone a little ahead of
# the server must not be refused for it.
LEAF_CLOCK_SKEW = timedelta(hours=1)


def binding(*, client_id: str, nonce: str, key_sha256: str = "") -> bytes:
    """The 32 bytes an attestation must carry: SHA-256 of `ETP attestation\\n<client id>\\n
    <challenge_id>` (and `\\n<SHA-256 hex of the device key>` when the attested key is not the
    device key itself: App Attest). A token made for another app, challenge or key differs."""
    parts = [BINDING_LABEL, client_id, nonce]
    if key_sha256:
        parts.append(key_sha256.lower())
    return hashlib.sha256("\n".join(parts).encode()).digest()


def refuse(check: str, detail: str = "") -> AttestationRefused:
    """The one refusal the person sees; which check failed goes to the log for the operator (the
    journal keeps `attestation_refused`), so a forger learns nothing from the answer."""
    log.warning("attestation refused: %s %s", check, detail[:200])
    return AttestationRefused()


def b64decode(text: str, *, what: str) -> bytes:
    """Standard or URL-safe base64, padding optional."""
    cleaned = "".join(text.split())
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        if "-" in cleaned or "_" in cleaned:
            return base64.urlsafe_b64decode(cleaned)
        return base64.b64decode(cleaned, validate=True)
    except (ValueError, binascii.Error):
        raise refuse("encoding", what) from None


def load_der_certificate(der: bytes, *, what: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise refuse("certificate", what) from None


def spki(certificate: x509.Certificate) -> bytes:
    return certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_pem_file(path: str, *, setting: str) -> list[x509.Certificate]:
    """The certificates of a PEM file an operator names in a setting (a root pinned ahead of a
    release, or the tests' own); a missing or empty file stops the verifier, not the request."""
    try:
        certificates = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"{setting}: cannot read certificates from {path}") from exc
    return certificates


def verify_chain(
    chain: Sequence[x509.Certificate],
    *,
    anchors: Sequence[bytes],
    now: datetime,
) -> None:
    """`chain` is leaf first and ends with a self-signed root whose public key (SubjectPublicKeyInfo
    DER) is one of `anchors`. The root is trusted by its key, as Google and Apple advise (a root
    re-issued with the same key stays trusted, an expired copy of it in an old device's chain
    too); every other certificate must be in its validity period at `now` (the leaf's notBefore
    within LEAF_CLOCK_SKEW), be signed by the next one, whose name is its issuer, and every
    issuer must be a CA."""
    if len(chain) < 2:
        raise refuse("chain", "too short")
    root = chain[-1]
    if spki(root) not in anchors:
        raise refuse("chain", "root not pinned")
    try:
        root.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        raise refuse("chain", "root not self-signed") from None
    for position, (child, issuer) in enumerate(itertools.pairwise(chain)):
        not_before = child.not_valid_before_utc
        if position == 0:
            not_before -= LEAF_CLOCK_SKEW
        if not not_before <= now <= child.not_valid_after_utc:
            raise refuse("chain", f"certificate {position} outside its validity")
        try:
            constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            raise refuse("chain", f"issuer of {position} is not a CA") from None
        if not constraints.ca:
            raise refuse("chain", f"issuer of {position} is not a CA")
        try:
            child.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise refuse("chain", f"certificate {position} not signed by its issuer") from None
