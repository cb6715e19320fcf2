"""Apple App Attest (R57.28.3, decision 0043), verified offline: the attestation object the app
gets from `DCAppAttestService.attestKey(_:clientDataHash:)` is checked as Apple's "Validating
apps that connect to your server" describes, against the App Attestation root embedded here.

The App Attest key is not the device key (CryptoKit's Secure Enclave key signs our challenges), so
the client data binds both: clientDataHash = `attestation_common.binding(client_id, challenge_id,
SHA-256 hex of the device key)`. The token is `apple-appattest:<base64 of the
attestation object>`.

Not checked here: the receipt (its fraud metric needs Apple's server) and later assertions (the
device key signs our sign-in challenges instead)."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cbor2
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from aips.etp.devices import config
from aips.etp.devices.attestation import Attestation
from aips.etp.devices.attestation_common import (
    b64decode,
    binding,
    load_der_certificate,
    load_pem_file,
    refuse,
    spki,
    verify_chain,
)

TOKEN_PREFIX = "apple-appattest:"  # noqa: S105 - a token's kind, not a secret
FORMAT = "apple-appattest"
NONCE_OID = x509.ObjectIdentifier("1.2.840.113635.100.8.2")
AAGUID_PRODUCTION = b"appattest" + b"\x00" * 7
AAGUID_DEVELOPMENT = b"appattestdevelop"

# Apple App Attestation Root CA, as Apple publishes it
# (https://www.apple.com/certificateauthority/Apple_App_Attestation_Root_CA.pem): ECDSA P-384,
# valid 2020-03-18 to 2045-03-15, SHA-256 of the DER
# 1cb9823ba28ba6ad2d33a006941de2ae4f513ef1d4e831b9f7e0fa7b6242c932 (a test checks it).
APPLE_APP_ATTESTATION_ROOT_CA = b"""-----BEGIN CERTIFICATE-----
MIICITCCAaegAwIBAgIQC/O+DvHN0uD7jG5yH2IXmDAKBggqhkjOPQQDAzBSMSYw
JAYDVQQDDB1BcHBsZSBBcHAgQXR0ZXN0YXRpb24gUm9vdCBDQTETMBEGA1UECgwK
QXBwbGUgSW5jLjETMBEGA1UECAwKQ2FsaWZvcm5pYTAeFw0yMDAzMTgxODMyNTNa
Fw00NTAzMTUwMDAwMDBaMFIxJjAkBgNVBAMMHUFwcGxlIEFwcCBBdHRlc3RhdGlv
biBSb290IENBMRMwEQYDVQQKDApBcHBsZSBJbmMuMRMwEQYDVQQIDApDYWxpZm9y
bmlhMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAERTHhmLW07ATaFQIEVwTtT4dyctdh
NbJhFs/Ii2FdCgAHGbpphY3+d8qjuDngIN3WVhQUBHAoMeQ/cLiP1sOUtgjqK9au
Yen1mMEvRq9Sk3Jm5X8U62H+xTD3FE9TgS41o0IwQDAPBgNVHRMBAf8EBTADAQH/
MB0GA1UdDgQWBBSskRBTM72+aEH/pwyp5frq5eWKoTAOBgNVHQ8BAf8EBAMCAQYw
CgYIKoZIzj0EAwMDaAAwZQIwQgFGnByvsiVbpTKwSga0kP0e8EeDS4+sQmTvb7vn
53O5+FRXgeLhpJ06ysC5PrOyAjEAp5U4xDgEgllF7En3VcE3iexZZtKeYnpqtijV
oyFraWVIyd/dganmrduC1bmTBGwD
-----END CERTIFICATE-----
"""


class _NonceExtension(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """The leaf's extension 1.2.840.113635.100.8.2: SEQUENCE { [1] EXPLICIT OCTET STRING }."""

    _fields = [("nonce", core.OctetString, {"explicit": 1})]


@dataclass(frozen=True)
class AppAttestResult:
    app_id: str
    key_id: bytes
    development: bool
    receipt: bytes


def roots() -> list[x509.Certificate]:
    path = config.apple_root_ca_file()
    if path:
        return load_pem_file(path, setting="AIPS_ETP_APPLE_ROOT_CA_FILE")
    return [x509.load_pem_x509_certificate(APPLE_APP_ATTESTATION_ROOT_CA)]


def _authenticator_data(data: bytes) -> tuple[bytes, int, bytes, bytes, bytes]:
    """rpIdHash, counter, aaguid, credential id and the COSE key of the attested credential
    data (WebAuthn's layout, which App Attest keeps)."""
    if len(data) < 55:
        raise refuse("authData", "too short")
    rp_id_hash, flags, counter = data[:32], data[32], int.from_bytes(data[33:37], "big")
    if not flags & 0x40:
        raise refuse("authData", "no attested credential data")
    aaguid = data[37:53]
    length = int.from_bytes(data[53:55], "big")
    credential_id = data[55 : 55 + length]
    if len(credential_id) != length:
        raise refuse("authData", "credential id cut short")
    return rp_id_hash, counter, aaguid, credential_id, data[55 + length :]


def _cose_point(cose: bytes) -> bytes:
    try:
        key: Any = cbor2.loads(cose)
    except (cbor2.CBORDecodeError, ValueError, EOFError):
        raise refuse("authData", "credential public key") from None
    if not isinstance(key, dict):
        raise refuse("authData", "credential public key")
    x, y = key.get(-2), key.get(-3)
    if not isinstance(x, bytes) or not isinstance(y, bytes):
        raise refuse("authData", "credential public key")
    return b"\x04" + x + y


def _leaf_nonce(leaf: x509.Certificate) -> bytes:
    try:
        extension = leaf.extensions.get_extension_for_oid(NONCE_OID).value
    except x509.ExtensionNotFound:
        raise refuse("nonce", "extension missing") from None
    if not isinstance(extension, x509.UnrecognizedExtension):
        raise refuse("nonce", "extension unreadable")
    try:
        nonce = _NonceExtension.load(extension.value)["nonce"].native
    except (ValueError, TypeError, KeyError):
        raise refuse("nonce", "extension unreadable") from None
    if not isinstance(nonce, bytes):
        raise refuse("nonce", "extension unreadable")
    return nonce


def verify_attestation_object(
    attestation_object: bytes,
    *,
    client_data_hash: bytes,
    app_ids: Sequence[str],
    development: bool,
    anchors: Sequence[x509.Certificate],
    now: datetime,
) -> AppAttestResult:
    """Apple's nine steps, in their order; raises AttestationRefused at the first that fails."""
    try:
        decoded: Any = cbor2.loads(attestation_object)
    except (cbor2.CBORDecodeError, ValueError, EOFError):
        raise refuse("cbor", "not an attestation object") from None
    if not isinstance(decoded, dict) or decoded.get("fmt") != FORMAT:
        raise refuse("cbor", "format")
    statement, auth_data = decoded.get("attStmt"), decoded.get("authData")
    if not isinstance(statement, dict) or not isinstance(auth_data, bytes):
        raise refuse("cbor", "attStmt or authData")
    x5c, receipt = statement.get("x5c"), statement.get("receipt", b"")
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, bytes) for c in x5c):
        raise refuse("cbor", "x5c")
    # 1. The chain to Apple's root.
    chain = [load_der_certificate(der, what=f"x5c[{i}]") for i, der in enumerate(x5c)]
    root = next((r for r in anchors if r.subject == chain[-1].issuer), None)
    if root is None:
        raise refuse("chain", "not issued under the App Attestation root")
    verify_chain([*chain, root], anchors=[spki(r) for r in anchors], now=now)
    leaf = chain[0]
    # 2.-4. The nonce: SHA-256 of authData followed by clientDataHash, in the leaf.
    expected = hashlib.sha256(auth_data + client_data_hash).digest()
    if _leaf_nonce(leaf) != expected:
        raise refuse("nonce", "does not match our challenge, app and device key")
    # 5. The key identifier: SHA-256 of the leaf's public key (the uncompressed point).
    public_key = leaf.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise refuse("key", "not an EC key")
    point = public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    key_id = hashlib.sha256(point).digest()
    rp_id_hash, counter, aaguid, credential_id, cose = _authenticator_data(auth_data)
    # 6. The App ID: team id and bundle id.
    app_id = next((a for a in app_ids if hashlib.sha256(a.encode()).digest() == rp_id_hash), None)
    if app_id is None:
        raise refuse("app_id", "rpIdHash is not one of AIPS_ETP_APPLE_APP_IDS")
    # 7. A fresh key: the counter is 0.
    if counter != 0:
        raise refuse("counter", str(counter))
    # 8. The environment.
    if aaguid != (AAGUID_DEVELOPMENT if development else AAGUID_PRODUCTION):
        raise refuse("aaguid", aaguid.hex())
    # 9. The credential is the certified key.
    if credential_id != key_id or _cose_point(cose) != point:
        raise refuse("credential", "not the certified key")
    return AppAttestResult(
        app_id=app_id,
        key_id=key_id,
        development=development,
        receipt=receipt if isinstance(receipt, bytes) else b"",
    )


class AppAttestVerifier:
    """`AIPS_ETP_ATTESTATION_VERIFIER=aips.etp.devices.attestation_apple.AppAttestVerifier` for an
    iOS-only deployment; attestation_platforms.PlatformVerifier serves both platforms."""

    name = "apple-appattest"

    def verify(self, *, token: str, client_id: str, key_sha256: str, nonce: str) -> Attestation:
        if not token.startswith(TOKEN_PREFIX):
            raise refuse("token", "not apple-appattest")
        attestation_object = b64decode(token[len(TOKEN_PREFIX) :], what="attestation object")
        result = verify_attestation_object(
            attestation_object,
            client_data_hash=binding(client_id=client_id, nonce=nonce, key_sha256=key_sha256),
            app_ids=config.apple_app_ids(),
            development=config.apple_app_attest_development(),
            anchors=roots(),
            now=timezone.now(),
        )
        environment = "development" if result.development else "production"
        return Attestation(
            verifier=self.name,
            detail=f"{result.app_id} {environment} key {result.key_id.hex()}",
        )
