"""The center's certification authority for integration modules (R57.28.3, R67.7): an ECDSA P-256
key and a self-signed certificate in AIPS_DATA_DIR/ca/, never in the database, so whoever can
write the database still cannot mint a client certificate. nginx verifies agents against the CA
certificate; AIPS then matches the SHA-256 fingerprint of the certificate it issued.

No Django models here: this module is files and cryptography only; services.py records who
issued what."""

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.utils.translation import gettext as _

CA_VALIDITY = timedelta(days=3652)
CLIENT_VALIDITY = timedelta(days=365)
# Clocks of agents and the proxy may lag a little behind the center's.
BACKDATE = timedelta(minutes=5)
MAX_CSR_LENGTH = 16_000
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
# P-256/P-384 and RSA ≥ 2048 work with every nginx/OpenSSL and TLS 1.2 client stack.
_CURVES = (ec.SECP256R1, ec.SECP384R1)
_MIN_RSA_BITS = 2048


class CAError(Exception):
    """The CA is missing, incomplete or already there; the message says what to do."""


class CSRError(ValueError):
    """A certificate signing request that cannot be signed."""


@dataclass(frozen=True)
class Issued:
    certificate_pem: str
    fingerprint: str
    serial: str
    not_after: datetime
    # Only when AIPS generated the key pair; shown once, never stored.
    private_key_pem: str | None = None


def ca_dir() -> Path:
    return Path(settings.DATA_DIR) / "ca"


def _key_path() -> Path:
    return ca_dir() / "ca.key"


def _cert_path() -> Path:
    return ca_dir() / "ca.pem"


def exists() -> bool:
    return _key_path().exists() or _cert_path().exists()


def fingerprint_of(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER encoding, lowercase hex without colons (what AIPS stores)."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: never overwrite; two processes initialising at once cannot both succeed.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def init(*, common_name: str, organization: str, now: datetime | None = None) -> str:
    """Create the CA and return its certificate (PEM). Refuses if any part of one exists:
    replacing the CA would silently orphan every certificate already issued (nginx would then
    reject those agents)."""
    if exists():
        raise CAError(f"a CA already exists in {ca_dir()}; it is never overwritten")
    now = now or datetime.now(UTC)
    directory = ca_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        # path_length=0: the CA signs end-entity certificates only, never another CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    _write_new(_key_path(), key_pem, 0o600)
    _write_new(_cert_path(), cert_pem, 0o644)
    return cert_pem.decode()


def certificate_pem() -> str | None:
    """The CA certificate (public), or None before `aips ca init`."""
    path = _cert_path()
    return path.read_text() if path.exists() else None


def certificate() -> x509.Certificate | None:
    pem = certificate_pem()
    return x509.load_pem_x509_certificate(pem.encode()) if pem else None


def _load() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    if not (_key_path().exists() and _cert_path().exists()):
        raise CAError(f"the center's CA is not set up in {ca_dir()}: run `aips ca init`")
    key = serialization.load_pem_private_key(_key_path().read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CAError(f"{_key_path()} is not an ECDSA private key")
    cert = x509.load_pem_x509_certificate(_cert_path().read_bytes())
    if cert.public_key() != key.public_key():
        raise CAError(f"{_key_path()} does not belong to {_cert_path()}")
    return key, cert


def parse_csr(pem: str) -> x509.CertificateSigningRequest:
    """A CSR whose self-signature is valid and whose key is strong enough; CSRError otherwise.
    Nothing else in it is trusted: the subject and extensions are set by the center."""
    if len(pem) > MAX_CSR_LENGTH:
        raise CSRError(_("it is too long"))
    try:
        csr = x509.load_pem_x509_csr(pem.strip().encode())
    except ValueError as exc:
        raise CSRError(_("it is not a PEM certificate signing request")) from exc
    try:
        valid = csr.is_signature_valid
        key = csr.public_key()
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        valid = False
    if not valid:
        raise CSRError(_("its signature does not verify"))
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, _CURVES):
            raise CSRError(_("use an ECDSA P-256 or P-384 key"))
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            raise CSRError(_("an RSA key must have at least 2048 bits"))
    else:
        raise CSRError(_("use an ECDSA P-256/P-384 or an RSA key"))
    return csr


def issue(
    *,
    common_name: str,
    organization: str,
    csr: x509.CertificateSigningRequest | None = None,
    now: datetime | None = None,
) -> Issued:
    """A client certificate (TLS client authentication only) for one module. With a CSR, its
    public key is certified; without one, a P-256 key pair is generated here and returned once."""
    ca_key, ca_cert = _load()
    now = now or datetime.now(UTC)
    private_key_pem = None
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    if csr is None:
        key = ec.generate_private_key(ec.SECP256R1())
        public_key = key.public_key()
        private_key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    else:
        csr_key = csr.public_key()
        assert isinstance(csr_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)  # noqa: S101 - parse_csr
        public_key = csr_key
    # Never outlive the CA: nginx would refuse the chain anyway.
    not_after = min(now + CLIENT_VALIDITY, ca_cert.not_valid_after_utc)
    serial = x509.random_serial_number()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Issued(
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        fingerprint=fingerprint_of(certificate),
        serial=format(serial, "x"),
        not_after=certificate.not_valid_after_utc,
        private_key_pem=private_key_pem,
    )


def fingerprint_from_header(value: str, *, now: datetime | None = None) -> str | None:
    """What the TLS proxy passed about the verified client certificate: either the certificate
    itself, URL-escaped PEM (nginx's $ssl_client_escaped_cert), or its SHA-256 fingerprint as
    hex (colons allowed). nginx's own $ssl_client_fingerprint is SHA-1 (40 hex digits) and is
    deliberately not accepted. None for anything else, or for an expired certificate."""
    value = value.strip()
    if not value:
        return None
    if "BEGIN" in value or "%" in value:
        # unquote, not unquote_plus: a literal "+" of base64 must stay a "+".
        pem = unquote(value)
        try:
            cert = x509.load_pem_x509_certificate(pem.encode())
        except ValueError:
            return None
        moment = now or datetime.now(UTC)
        if not (cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc):
            return None
        return fingerprint_of(cert)
    candidate = value.replace(":", "").lower()
    return candidate if _FINGERPRINT.match(candidate) else None
