"""Test stand-ins for Apple's and Google's attestation services: our own roots and intermediates
(made with `cryptography`), and attestation objects and Keystore chains in the exact layouts the
real ones have, so the verifiers run unchanged against them. Each builder takes the one thing a
failing case changes."""

import base64
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cbor2
import pytest
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.x509.oid import NameOID

from aips.etp.devices.attestation import AttestationRefused
from aips.etp.devices.attestation_android import KEY_DESCRIPTION_OID
from aips.etp.devices.attestation_apple import AAGUID_DEVELOPMENT, AAGUID_PRODUCTION, NONCE_OID

PrivateKey = ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate(
    *,
    subject: str,
    key: PrivateKey,
    issuer: str,
    issuer_key: PrivateKey,
    ca: bool,
    extensions: Sequence[x509.UnrecognizedExtension] = (),
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class Ca:
    """A self-signed root and one intermediate under it."""

    name: str
    root_key: PrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP384R1()))
    intermediate_key: PrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    def __post_init__(self) -> None:
        self.root = certificate(
            subject=f"{self.name} Root CA",
            key=self.root_key,
            issuer=f"{self.name} Root CA",
            issuer_key=self.root_key,
            ca=True,
        )
        self.intermediate = certificate(
            subject=f"{self.name} CA 1",
            key=self.intermediate_key,
            issuer=f"{self.name} Root CA",
            issuer_key=self.root_key,
            ca=True,
        )

    def root_file(self, folder: Path) -> str:
        path = folder / f"{self.name.replace(' ', '_')}.pem"
        path.write_bytes(self.root.public_bytes(serialization.Encoding.PEM))
        return str(path)

    def leaf(
        self,
        key: PrivateKey,
        extension: x509.UnrecognizedExtension,
        *,
        not_after: datetime | None = None,
    ) -> x509.Certificate:
        return certificate(
            subject="leaf",
            key=key,
            issuer=f"{self.name} CA 1",
            issuer_key=self.intermediate_key,
            ca=False,
            extensions=[extension],
            not_after=not_after,
        )


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


# --- Apple App Attest ---------------------------------------------------------------------------


def _point(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def auth_data(
    key: PrivateKey, *, app_id: str, counter: int = 0, development: bool = False
) -> bytes:
    point = _point(key)
    credential_id = hashlib.sha256(point).digest()
    cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:]})
    return (
        hashlib.sha256(app_id.encode()).digest()
        + bytes([0x40])
        + counter.to_bytes(4, "big")
        + (AAGUID_DEVELOPMENT if development else AAGUID_PRODUCTION)
        + len(credential_id).to_bytes(2, "big")
        + credential_id
        + cose
    )


def app_attest_object(
    ca: Ca,
    *,
    client_data_hash: bytes,
    app_id: str,
    counter: int = 0,
    development: bool = False,
    key: PrivateKey | None = None,
    nonce_over: bytes | None = None,
    credential_key: PrivateKey | None = None,
) -> bytes:
    """What `attestKey` returns: CBOR {fmt, attStmt {x5c, receipt}, authData}, the leaf carrying
    SHA-256(authData ‖ clientDataHash) in extension 1.2.840.113635.100.8.2. `nonce_over` puts
    another clientDataHash in the certificate (a token made for another challenge);
    `credential_key` names another key in authData than the certificate's."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    data = auth_data(credential_key or key, app_id=app_id, counter=counter, development=development)
    nonce = hashlib.sha256(data + (nonce_over or client_data_hash)).digest()
    # SEQUENCE { [1] EXPLICIT OCTET STRING (32 bytes) }
    extension_value = bytes([0x30, 0x24, 0xA1, 0x22, 0x04, 0x20]) + nonce
    leaf = ca.leaf(key, x509.UnrecognizedExtension(NONCE_OID, extension_value))
    return cbor2.dumps(
        {
            "fmt": "apple-appattest",
            "attStmt": {"x5c": [der(leaf), der(ca.intermediate)], "receipt": b"receipt"},
            "authData": data,
        }
    )


def apple_token(attestation_object: bytes) -> str:
    return "apple-appattest:" + base64.b64encode(attestation_object).decode()


# --- Android Key Attestation --------------------------------------------------------------------


def _der(tag: bytes, body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        encoded = bytes([length])
    else:
        raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
        encoded = bytes([0x80 | len(raw)]) + raw
    return tag + encoded + body


def _enumerated(value: int) -> bytes:
    return bytes([0x0A, 0x01, value])


def _explicit(number: int, inner: bytes) -> bytes:
    """[number] EXPLICIT, context-specific and constructed (high tag numbers as KeyMint uses)."""
    if number < 31:
        return _der(bytes([0xA0 | number]), inner)
    digits: list[int] = []
    while number:
        digits.insert(0, number & 0x7F)
        number >>= 7
    tag = bytes([0xBF]) + bytes([d | 0x80 for d in digits[:-1]] + [digits[-1]])
    return _der(tag, inner)


def key_description(
    *,
    challenge: bytes,
    package: str,
    signer_sha256: bytes,
    security_level: int = 1,
    verified_boot_state: int = 0,
    device_locked: bool = True,
    origin: int = 0,
) -> bytes:
    """KeyDescription (attestation version 200, KeyMint 2) as Android 12+ writes it."""
    application_id = _der(
        b"\x30",
        _der(
            b"\x31",
            _der(b"\x30", core.OctetString(package.encode()).dump() + core.Integer(7).dump()),
        )
        + _der(b"\x31", core.OctetString(signer_sha256).dump()),
    )
    software = _der(
        b"\x30",
        _explicit(701, core.Integer(1_700_000_000_000).dump())
        + _explicit(709, core.OctetString(application_id).dump()),
    )
    root_of_trust = _der(
        b"\x30",
        core.OctetString(b"\x11" * 32).dump()
        + core.Boolean(device_locked).dump()
        + _enumerated(verified_boot_state)
        + core.OctetString(b"\x22" * 32).dump(),
    )
    hardware = _der(
        b"\x30",
        _explicit(1, _der(b"\x31", core.Integer(2).dump()))
        + _explicit(2, core.Integer(3).dump())
        + _explicit(10, core.Integer(1).dump())
        + _explicit(702, core.Integer(origin).dump())
        + _explicit(704, root_of_trust)
        + _explicit(706, core.Integer(202601).dump()),
    )
    return _der(
        b"\x30",
        core.Integer(200).dump()
        + _enumerated(security_level)
        + core.Integer(200).dump()
        + _enumerated(security_level)
        + core.OctetString(challenge).dump()
        + core.OctetString(b"").dump()
        + software
        + hardware,
    )


def keystore_chain(
    ca: Ca, device_key: PrivateKey, description: bytes, *, not_after: datetime | None = None
) -> list[x509.Certificate]:
    extension = x509.UnrecognizedExtension(KEY_DESCRIPTION_OID, description)
    leaf = ca.leaf(device_key, extension, not_after=not_after)
    return [leaf, ca.intermediate, ca.root]


def android_token(chain: list[x509.Certificate]) -> str:
    return "android-key:" + ".".join(base64.b64encode(der(c)).decode() for c in chain)


@contextmanager
def refused(caplog: pytest.LogCaptureFixture, check: str) -> Iterator[None]:
    """Expect AttestationRefused, for `check` (as the verifier logs it), not for another."""
    with (
        caplog.at_level(logging.WARNING, logger="aips.etp.devices.attestation"),
        pytest.raises(AttestationRefused),
    ):
        yield
    assert f"attestation refused: {check} " in caplog.text, caplog.text


# --- Google Play Integrity (classic request, our own keys) --------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def play_token(
    verdict: dict[str, object], *, decryption_key: bytes, signing_key: PrivateKey
) -> str:
    """What `requestIntegrityToken` returns: a JWS (ES256) over the verdict, inside a JWE
    (A256KW, A256GCM) under the app's decryption key."""
    header = _b64url(json.dumps({"alg": "ES256"}).encode())
    body = _b64url(json.dumps(verdict).encode())
    r, s = decode_dss_signature(
        signing_key.sign(f"{header}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    )
    jws = f"{header}.{body}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    protected = _b64url(json.dumps({"alg": "A256KW", "enc": "A256GCM"}).encode())
    content_key, iv = os.urandom(32), os.urandom(12)
    sealed = AESGCM(content_key).encrypt(iv, jws.encode(), protected.encode())
    wrapped = aes_key_wrap(decryption_key, content_key)
    parts = [protected, _b64url(wrapped), _b64url(iv), _b64url(sealed[:-16]), _b64url(sealed[-16:])]
    return "play-integrity:" + ".".join(parts)
