"""The device's key pair (R57.27.1, R57.28.3): an EC P-256 key made in the phone's keystore
(Android Keystore, the Secure Enclave), of which the server keeps the public half. The app
proves possession by signing the server's challenge (ECDSA with SHA-256; the signature as DER,
or as the 64-byte r‖s that CryptoKit returns), base64."""

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.utils.translation import gettext as _

from aips.core.errors import AppError, ValidationFailed

MAX_KEY_CHARS = 4096
MAX_SIGNATURE_CHARS = 512


class BadDeviceSignature(AppError):
    status = 401
    code = "bad_signature"


def parse_public_key(text: str) -> bytes:
    """The SubjectPublicKeyInfo DER of an EC P-256 public key given as PEM or base64 DER;
    raises ValidationFailed on `public_key`."""
    text = (text or "").strip()
    problem = ValidationFailed.field(
        "public_key", _("Give the device's EC P-256 public key (SubjectPublicKeyInfo, base64).")
    )
    if not text or len(text) > MAX_KEY_CHARS:
        raise problem
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error):
        raise problem from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise problem
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_sha256(spki: bytes) -> str:
    return hashlib.sha256(spki).hexdigest()


def verify_signature(spki: bytes, *, signature: str, data: bytes) -> None:
    """Raises BadDeviceSignature unless `signature` is the device key's over `data`."""
    refused = BadDeviceSignature(_("The device's signature does not verify."))
    if not signature or len(signature) > MAX_SIGNATURE_CHARS:
        raise refused
    try:
        raw = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        raise refused from None
    if len(raw) == 64:
        raw = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = serialization.load_der_public_key(spki)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise refused
    try:
        key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise refused from None
