"""Certificates read once into plain values (asn1crypto parses lazily and raises late; reading
everything up front turns a malformed certificate into one `MalformedInput`), public keys (RSA
and the KZ GOST OIDs asn1crypto does not know), signature checks, and NCA's subject fields.
"""

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from asn1crypto import core, pem, x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from aips.shared.eds import algorithms
from aips.shared.eds.types import Role


class MalformedInput(ValueError):
    """Bytes that are not the structure they claim to be."""


# --- Public keys -------------------------------------------------------------------------------


class _AlgorithmIdentifier(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _SubjectPublicKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("algorithm", _AlgorithmIdentifier), ("public_key", core.BitString)]


class _GostKeyParameters(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


@dataclass(frozen=True)
class PublicKey:
    kind: str  # "rsa" or "gost"
    spki_der: bytes
    key_bits: bytes  # the BIT STRING's value: what an OCSP issuerKeyHash hashes
    curve: algorithms.Curve | None = None
    point: tuple[int, int] | None = None
    rsa_numbers: tuple[int, int] | None = None  # (n, e)


@lru_cache(maxsize=1024)
def parse_public_key(spki_der: bytes) -> PublicKey:
    try:
        spki = _SubjectPublicKeyInfo.load(spki_der)
        oid = spki["algorithm"]["algorithm"].dotted
        bits = bytes(spki["public_key"].contents[1:])  # first byte: the count of unused bits
    except (ValueError, TypeError) as exc:
        raise MalformedInput(f"public key: {exc}") from exc
    if oid == algorithms.RSA_ENCRYPTION:
        try:
            key = load_der_public_key(spki_der)
        except ValueError as exc:
            raise MalformedInput(f"RSA public key: {exc}") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise MalformedInput("RSA public key")
        numbers = key.public_numbers()
        return PublicKey("rsa", spki_der, bits, rsa_numbers=(numbers.n, numbers.e))
    if oid in algorithms.KEY_CURVES:
        curve = algorithms.KEY_CURVES[oid]
        try:
            params = spki["algorithm"]["parameters"]
            if params is not None and params.contents:
                param_set = _GostKeyParameters.load(params.dump())["public_key_param_set"].dotted
                curve = algorithms.CURVES.get(param_set, curve)
                if param_set not in algorithms.CURVES:
                    raise algorithms.UnsupportedAlgorithm(f"GOST parameter set {param_set}")
            raw = core.OctetString.load(bits).native
            point = algorithms.gost_decode_public(curve, raw)
        except (ValueError, TypeError) as exc:
            raise MalformedInput(f"GOST public key: {exc}") from exc
        return PublicKey("gost", spki_der, bits, curve=curve, point=point)
    raise algorithms.UnsupportedAlgorithm(f"public key algorithm {oid}")


def verify_signature(
    public: PublicKey, algorithm_oid: str, message: bytes, signature: bytes, digest_name: str = ""
) -> bool:
    """Whether `signature` over `message` verifies with `public`. `algorithm_oid` is a signature
    algorithm (sha256WithRSAEncryption, GOST 2015) or a key algorithm (rsaEncryption, as CMS
    signer infos often say), then `digest_name` says the hash. Raises UnsupportedAlgorithm."""
    if public.kind == "rsa":
        if algorithm_oid in algorithms.SIGNATURE_DIGESTS:
            name = algorithms.SIGNATURE_DIGESTS[algorithm_oid]
            if digest_name and digest_name != name:
                return False
        elif algorithm_oid == algorithms.RSA_ENCRYPTION and digest_name:
            name = digest_name
        else:
            raise algorithms.UnsupportedAlgorithm(f"RSA signature {algorithm_oid} {digest_name}")
        if not name.startswith("sha") or name == "sha1":
            raise algorithms.UnsupportedAlgorithm(f"RSA with {name}")
        return algorithms.rsa_verify(public.spki_der, name, message, signature)
    curve, point = public.curve, public.point
    if curve is None or point is None:
        raise algorithms.UnsupportedAlgorithm("GOST key without a curve")
    expected = "streebog512" if curve.size == 64 else "streebog256"
    allowed = {
        algorithms.GOST2015_512_SIGNATURE
        if curve.size == 64
        else algorithms.GOST2015_256_SIGNATURE,
        algorithms.GOST2015_512_KEY if curve.size == 64 else algorithms.GOST2015_256_KEY,
    }
    if algorithm_oid not in allowed:
        raise algorithms.UnsupportedAlgorithm(
            f"GOST signature {algorithm_oid} with a {curve.name} key"
        )
    if digest_name and digest_name != expected:
        return False
    return algorithms.gost_verify(curve, point, algorithms.digest(message, expected), signature)


# --- Certificates --------------------------------------------------------------------------------

EKU_CLIENT_AUTH: Final = "1.3.6.1.5.5.7.3.2"
EKU_EMAIL_PROTECTION: Final = "1.3.6.1.5.5.7.3.4"
EKU_OCSP_SIGNING: Final = "1.3.6.1.5.5.7.3.9"
REMOTE_BIOMETRIC: Final = "1.2.398.3.3.4.3.2.1"

_SHORT_NAMES: Final = {
    "common_name": "CN",
    "surname": "SN",
    "given_name": "GN",
    "serial_number": "serialNumber",
    "country_name": "C",
    "state_or_province_name": "ST",
    "locality_name": "L",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "email_address": "E",
    "domain_component": "DC",
    "title": "T",
}
# Critical extensions we understand; any other critical one makes the certificate unusable.
_KNOWN_CRITICAL: Final = {
    "key_usage",
    "basic_constraints",
    "extended_key_usage",
    "certificate_policies",
    "subject_alt_name",
    "name_constraints",
    "policy_constraints",
    "inhibit_any_policy",
    "authority_key_identifier",
    "key_identifier",
    "ocsp_no_check",
}


@dataclass(frozen=True)
class Cert:
    der: bytes
    tbs: bytes
    signature_algorithm: str
    signature: bytes
    subject_key: str  # normalized subject name, for matching issuers
    issuer_key: str
    subject_der: bytes
    subject_text: str
    issuer_text: str
    attributes: tuple[tuple[str, str], ...]  # subject (short name, value) in order
    serial: int
    not_before: datetime
    not_after: datetime
    ski: bytes | None
    aki: bytes | None
    key_usage: frozenset[str]
    has_key_usage: bool
    eku: tuple[str, ...]  # dotted OIDs; empty when the extension is absent
    policies: tuple[str, ...]
    is_ca: bool
    has_basic_constraints: bool
    unknown_critical: tuple[str, ...]
    ocsp_urls: tuple[str, ...]
    crl_urls: tuple[str, ...]
    spki_der: bytes
    fingerprint_sha256: str

    @property
    def public_key(self) -> PublicKey:
        return parse_public_key(self.spki_der)

    @property
    def serial_hex(self) -> str:
        text = f"{self.serial:X}"
        return text.rjust(len(text) + len(text) % 2, "0")

    @property
    def self_issued(self) -> bool:
        return self.subject_key == self.issuer_key

    def attribute(self, short: str) -> list[str]:
        return [value for name, value in self.attributes if name == short]

    @property
    def common_name(self) -> str:
        return next(iter(self.attribute("CN")), "")

    @property
    def iin(self) -> str:
        for value in self.attribute("serialNumber"):
            match = re.fullmatch(r"IIN(\d{12})", value.strip())
            if match:
                return match.group(1)
        return ""

    @property
    def bin(self) -> str:
        for value in self.attribute("OU"):
            match = re.fullmatch(r"BIN(\d{12})", value.strip())
            if match:
                return match.group(1)
        return ""

    @property
    def roles(self) -> frozenset[Role]:
        values = {role.value for role in Role}
        return frozenset(Role(oid) for oid in self.eku if oid in values)

    @property
    def remote_biometric(self) -> bool:
        return REMOTE_BIOMETRIC in self.eku or REMOTE_BIOMETRIC in self.policies

    def valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "+".join(_text(v) for v in value)
    return str(value)


def _name_attributes(name: x509.Name) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for rdn in name.chosen:
        for attribute in rdn:
            kind = attribute["type"]
            short = _SHORT_NAMES.get(kind.native, kind.dotted) if kind.native else kind.dotted
            out.append((short, _text(attribute["value"].native)))
    return tuple(out)


def _name_text(attributes: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in attributes)


@lru_cache(maxsize=2048)
def parse_certificate(der: bytes) -> Cert:
    """Read a DER certificate into a `Cert`; raises MalformedInput."""
    try:
        return _parse_certificate(der)
    except MalformedInput:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError... on bad input
        raise MalformedInput(f"certificate: {exc}") from exc


def _parse_certificate(der: bytes) -> Cert:
    cert = x509.Certificate.load(der, strict=True)
    tbs = cert["tbs_certificate"]
    subject_attrs = _name_attributes(tbs["subject"])
    issuer_attrs = _name_attributes(tbs["issuer"])
    validity = tbs["validity"]
    not_before = validity["not_before"].native
    not_after = validity["not_after"].native
    ku = cert.key_usage_value
    eku = cert.extended_key_usage_value
    bc = cert.basic_constraints_value
    aki = cert.authority_key_identifier_value
    policies = cert.certificate_policies_value
    aia = cert.authority_information_access_value
    cdp = cert.crl_distribution_points_value
    ocsp_urls: list[str] = []
    if aia is not None:
        for description in aia:
            if description["access_method"].native == "ocsp":
                location = description["access_location"]
                if location.name == "uniform_resource_identifier":
                    ocsp_urls.append(str(location.native))
    crl_urls: list[str] = []
    if cdp is not None:
        for point in cdp:
            names = point["distribution_point"]
            if names.name == "full_name":
                crl_urls.extend(
                    str(n.native) for n in names.chosen if n.name == "uniform_resource_identifier"
                )
    unknown_critical = tuple(
        sorted(str(e) for e in cert.critical_extensions if e not in _KNOWN_CRITICAL)
    )
    spki_der = tbs["subject_public_key_info"].dump()
    return Cert(
        der=der,
        tbs=tbs.dump(),
        signature_algorithm=cert["signature_algorithm"]["algorithm"].dotted,
        signature=bytes(cert["signature_value"].native),
        subject_key=tbs["subject"].hashable,
        issuer_key=tbs["issuer"].hashable,
        subject_der=tbs["subject"].dump(),
        subject_text=_name_text(subject_attrs),
        issuer_text=_name_text(issuer_attrs),
        attributes=subject_attrs,
        serial=int(tbs["serial_number"].native),
        not_before=not_before,
        not_after=not_after,
        ski=cert.key_identifier_value.native if cert.key_identifier_value is not None else None,
        aki=aki["key_identifier"].native
        if aki is not None and aki["key_identifier"].native
        else None,
        key_usage=frozenset(ku.native) if ku is not None else frozenset(),
        has_key_usage=ku is not None,
        eku=tuple(oid.dotted for oid in eku) if eku is not None else (),
        policies=tuple(p["policy_identifier"].dotted for p in policies)
        if policies is not None
        else (),
        is_ca=bool(bc["ca"].native) if bc is not None else False,
        has_basic_constraints=bc is not None,
        unknown_critical=unknown_critical,
        ocsp_urls=tuple(ocsp_urls),
        crl_urls=tuple(crl_urls),
        spki_der=spki_der,
        fingerprint_sha256=hashlib.sha256(der).hexdigest(),
    )


def signed_by(child: Cert, issuer: Cert) -> bool:
    """Whether `issuer`'s key verifies `child`'s signature (cached: GOST 512 takes ~60 ms)."""
    return _signed_by(child.der, issuer.der)


@lru_cache(maxsize=2048)
def _signed_by(child_der: bytes, issuer_der: bytes) -> bool:
    child, issuer = parse_certificate(child_der), parse_certificate(issuer_der)
    try:
        return verify_signature(
            issuer.public_key, child.signature_algorithm, child.tbs, child.signature
        )
    except (algorithms.UnsupportedAlgorithm, MalformedInput):
        return False


# --- Reading files ----------------------------------------------------------------------------

_BASE64 = re.compile(rb"^[A-Za-z0-9+/=\s]+$")


def decode_blobs(data: bytes) -> list[bytes]:
    """DER as is; PEM (one or several blocks, any label); bare base64. Raises MalformedInput."""
    if data[:1] == b"\x30":
        return [data]
    stripped = data.strip()
    if pem.detect(stripped):
        try:
            return [der for _kind, _headers, der in pem.unarmor(stripped, multiple=True)]
        except ValueError as exc:
            raise MalformedInput(f"PEM: {exc}") from exc
    if stripped and _BASE64.match(stripped):
        try:
            decoded = base64.b64decode(b"".join(stripped.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedInput(f"base64: {exc}") from exc
        if decoded[:1] == b"\x30":
            return [decoded]
    raise MalformedInput("neither DER, PEM nor base64")


def load_certificates(data: bytes) -> list[Cert]:
    return [parse_certificate(der) for der in decode_blobs(data)]
