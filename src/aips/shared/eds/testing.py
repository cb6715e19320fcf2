"""Test support for every app that signs or verifies: the NCA RK test PKI (real certificates,
keys, CRLs and OCSP answers, all expired: judge them at NCA_TEST_TIME) and `TestPki`, a CA of our
own made at test time for "valid now", revoked, expired, unknown-CA and wrong-usage cases.

Lives outside tests/ so other apps' tests import it; nothing in production calls it.
"""

import hashlib
import itertools
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Final

from asn1crypto import core, crl, keys, ocsp, pem, x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from aips.shared.eds import algorithms
from aips.shared.eds.certificates import (
    EKU_CLIENT_AUTH,
    EKU_EMAIL_PROTECTION,
    EKU_OCSP_SIGNING,
    parse_certificate,
    parse_public_key,
)
from aips.shared.eds.keystore import KeyBundle, load_pkcs12
from aips.shared.eds.signing import sign_cms, sign_message
from aips.shared.eds.trust import TrustStore
from aips.shared.eds.types import Purpose, Role

__all__ = [
    "NCA_PASSWORDS",
    "NCA_TEST_TIME",
    "NCA_TEST_TIME_RSA",
    "KeyBundle",
    "TestPki",
    "load_pkcs12",
    "nca_key",
    "nca_test_trust",
    "sign_cms",
    "vectors_dir",
]

# individual_valid_2015 (GOST 2015/512) is valid, ceo_revoked_2015 revoked, the GOST 2022 test
# CRL current and the OCSP answers made after it (2022-09-02).
NCA_TEST_TIME: Final = datetime(2022, 9, 1, 12, 0, tzinfo=UTC)
# individual_valid_sign_2004 (RSA) is valid only before 2022-01-18.
NCA_TEST_TIME_RSA: Final = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
NCA_PASSWORDS: Final = {
    "individual_valid_2015": "Aa123456",
    "ceo_revoked_2015": "Aa123456",
    "individual_valid_sign_2004": "Qwerty12",
    "individual_sign_revoked_2004": "Qwerty12",
    "individual_auth_revoked_2004": "Qwerty12",
}


def vectors_dir() -> Path:
    """The NCA RK test PKI (README.md there says what each file is)."""
    return Path(__file__).resolve().parent / "tests" / "vectors"


@cache
def nca_test_trust() -> TrustStore:
    """The test roots and intermediates and their CRLs (no OCSP answers: the one NCA's responder
    gave for individual_valid_2015 says "revoked 1970", its way of saying "unknown serial")."""
    root = vectors_dir()
    store = TrustStore.from_dir(root / "ca")
    return store.extended(
        crls=[(f"crl/{p.name}", p.read_bytes()) for p in sorted((root / "crl").glob("*.crl"))]
    )


@cache
def nca_key(name: str) -> KeyBundle:
    """One of the vectors' keys by name (keys/<name>.p12), opened once per test run."""
    return load_pkcs12(vectors_dir() / "keys" / f"{name}.p12", NCA_PASSWORDS[name])


# --- A CA of our own ---------------------------------------------------------------------------

_serials = itertools.count(0x1000)


def _time(moment: datetime) -> x509.Time:
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if 1950 <= moment.year < 2050:
        return x509.Time({"utc_time": moment})
    return x509.Time({"general_time": moment})


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(value)) + value


def _gost_spki(curve: algorithms.Curve, point: tuple[int, int]) -> bytes:
    """SubjectPublicKeyInfo as NCA writes it: OIDs of the KZ arc, x‖y LE in an OCTET STRING."""
    big = curve is algorithms.CURVE_512A
    key_oid = algorithms.GOST2015_512_KEY if big else algorithms.GOST2015_256_KEY
    params_oid = algorithms.GOST2015_512_PARAMS_A if big else algorithms.GOST2015_256_PARAMS_A
    digest_oid = algorithms.STREEBOG512 if big else algorithms.STREEBOG256
    params = _tlv(
        0x30, core.ObjectIdentifier(params_oid).dump() + core.ObjectIdentifier(digest_oid).dump()
    )
    algorithm = _tlv(0x30, core.ObjectIdentifier(key_oid).dump() + params)
    octets = core.OctetString(algorithms.gost_encode_public(curve, point)).dump()
    return _tlv(0x30, algorithm + _tlv(0x03, b"\x00" + octets))


@cache
def _rsa_key(index: int) -> rsa.RSAPrivateKey:
    # Keys are pooled by index so a test run makes a handful, not one per certificate; the
    # index keeps every CA's key distinct from its certificates' keys.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


_rsa_counter = itertools.count()
_RSA_POOL: Final = 12


@dataclass
class _Issued:
    bundle: KeyBundle
    revoked_at: datetime | None = None
    reason: str = "key_compromise"
    in_delta: bool = False


@dataclass
class TestPki:
    """A root CA (RSA by default; "gost512" or "gost256" for GOST 34.10-2015) that issues
    end-entity certificates, CRLs (and delta CRLs) and OCSP answers, valid around now.

        pki = TestPki()
        person = pki.issue(iin="900101300123", purpose=Purpose.AUTHENTICATION)
        cms = sign_cms(b"nonce", key=person, detached=True)
        verify_cms(cms, purpose=Purpose.AUTHENTICATION, data=b"nonce", trust=pki.trust())
    """

    __test__ = False  # not a pytest test class

    name: str = "AIPS TEST CA"
    algorithm: str = "rsa"
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    ocsp_url: str = "http://ocsp.aips-test.invalid/"
    # The root's own CRL distribution points and freshest-CRL (delta) URLs, for the CRL refresh.
    crl_urls: tuple[str, ...] = ()
    delta_crl_urls: tuple[str, ...] = ()
    root: KeyBundle = field(init=False)
    _issued: list[_Issued] = field(init=False, default_factory=list)
    _crl_number: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        subject = x509.Name.build({"common_name": self.name, "country_name": "KZ"})
        private = self._new_key(self.algorithm)
        spki = self._spki(private)
        ski = _key_id(spki)
        extensions = [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": True}},
            {"extn_id": "key_usage", "critical": True, "extn_value": {"key_cert_sign", "crl_sign"}},
            {"extn_id": "key_identifier", "critical": False, "extn_value": ski},
        ]
        for extn_id, urls in (
            ("crl_distribution_points", self.crl_urls),
            ("freshest_crl", self.delta_crl_urls),
        ):
            if urls:
                points = [
                    {
                        "distribution_point": x509.DistributionPointName(
                            name="full_name",
                            value=[x509.GeneralName(name="uniform_resource_identifier", value=u)],
                        )
                    }
                    for u in urls
                ]
                extensions.append({"extn_id": extn_id, "critical": False, "extn_value": points})
        der = self._sign_certificate(
            subject=subject,
            issuer=subject,
            spki=spki,
            not_before=self.now - timedelta(days=365),
            not_after=self.now + timedelta(days=3650),
            extensions=extensions,
            signer=private,
        )
        self.root = _bundle(der, (), private)

    # --- keys -----------------------------------------------------------------------------------

    @staticmethod
    def _new_key(algorithm: str) -> rsa.RSAPrivateKey | tuple[algorithms.Curve, int]:
        if algorithm == "rsa":
            return _rsa_key(next(_rsa_counter) % _RSA_POOL)
        curve = {"gost512": algorithms.CURVE_512A, "gost256": algorithms.CURVE_256A}[algorithm]
        return curve, secrets.randbelow(curve.q - 1) + 1

    @staticmethod
    def _spki(private: rsa.RSAPrivateKey | tuple[algorithms.Curve, int]) -> bytes:
        if isinstance(private, rsa.RSAPrivateKey):
            return private.public_key().public_bytes(
                Encoding.DER, PublicFormat.SubjectPublicKeyInfo
            )
        curve, value = private
        return _gost_spki(curve, algorithms.gost_public_key(curve, value))

    def _sign_certificate(
        self,
        *,
        subject: x509.Name,
        issuer: x509.Name,
        spki: bytes,
        not_before: datetime,
        not_after: datetime,
        extensions: list[dict[str, object]],
        signer: rsa.RSAPrivateKey | tuple[algorithms.Curve, int] | KeyBundle,
        serial: int | None = None,
    ) -> bytes:
        key = signer if isinstance(signer, KeyBundle) else _bundle(b"", (), signer)
        sig_oid = _sig_oid(key)
        alg = {"algorithm": sig_oid, "parameters": core.Null()}
        tbs = x509.TbsCertificate(
            {
                "version": "v3",
                "serial_number": serial if serial is not None else next(_serials) * 7919 + 0x10000,
                "signature": alg,
                "issuer": issuer,
                "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
                "subject": subject,
                "subject_public_key_info": keys.PublicKeyInfo.load(spki),
                "extensions": extensions,
            }
        )
        tbs_der = tbs.dump()
        signature = _sign(key, tbs_der)
        cert = x509.Certificate(
            {"tbs_certificate": tbs, "signature_algorithm": alg, "signature_value": signature}
        )
        return bytes(cert.dump())

    # --- issuing --------------------------------------------------------------------------------

    def issue(
        self,
        *,
        common_name: str = "ТЕСТОВ ТЕСТ",
        surname: str = "ТЕСТОВ",
        given_name: str = "ТЕСТОВИЧ",
        iin: str = "900101300123",
        bin: str = "",
        organization: str = "",
        roles: Iterable[Role] | None = None,
        purpose: Purpose | None = Purpose.SIGNING,
        key_usage: Iterable[str] | None = None,
        eku: Sequence[str] | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        algorithm: str | None = None,
        issuer: KeyBundle | None = None,
    ) -> KeyBundle:
        """An end-entity certificate and its key. `purpose` picks NCA's usage (SIGNING:
        nonRepudiation + e-mail protection; AUTHENTICATION: client auth; None: both), `key_usage`
        and `eku` override it. Roles default to individual, or head for a BIN."""
        if roles is None:
            roles = (Role.EMPLOYEE_OF_LEGAL_ENTITY, Role.HEAD) if bin else (Role.INDIVIDUAL,)
        if key_usage is None:
            key_usage = {
                Purpose.SIGNING: {"digital_signature", "non_repudiation"},
                Purpose.AUTHENTICATION: {"digital_signature", "key_encipherment"},
                None: {"digital_signature", "non_repudiation", "key_encipherment"},
            }[purpose]
        if eku is None:
            eku = {
                Purpose.SIGNING: [EKU_EMAIL_PROTECTION],
                Purpose.AUTHENTICATION: [EKU_CLIENT_AUTH],
                None: [EKU_CLIENT_AUTH, EKU_EMAIL_PROTECTION],
            }[purpose]
        attributes: dict[str, str] = {"common_name": common_name, "surname": surname}
        if iin:
            attributes["serial_number"] = f"IIN{iin}"
        attributes["country_name"] = "KZ"
        if organization:
            attributes["organization_name"] = organization
        if bin:
            attributes["organizational_unit_name"] = f"BIN{bin}"
        attributes["given_name"] = given_name
        ca = issuer or self.root
        ca_cert = x509.Certificate.load(ca.certificate)
        private = self._new_key(algorithm or self.algorithm)
        spki = self._spki(private)
        extensions: list[dict[str, object]] = [
            {"extn_id": "key_usage", "critical": True, "extn_value": set(key_usage)},
            {
                "extn_id": "extended_key_usage",
                "critical": False,
                "extn_value": [*eku, *(r.value for r in roles)],
            },
            {
                "extn_id": "key_identifier",
                "critical": False,
                "extn_value": _key_id(spki),
            },
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": ca_cert.key_identifier},
            },
            {
                "extn_id": "authority_information_access",
                "critical": False,
                "extn_value": [
                    {
                        "access_method": "ocsp",
                        "access_location": {"uniform_resource_identifier": self.ocsp_url},
                    }
                ],
            },
        ]
        der = self._sign_certificate(
            subject=x509.Name.build(attributes),
            issuer=ca_cert.subject,
            spki=spki,
            not_before=not_before or self.now - timedelta(days=30),
            not_after=not_after or self.now + timedelta(days=365),
            extensions=extensions,
            signer=ca,
        )
        chain = (ca.certificate,) if ca is self.root else (ca.certificate, *ca.chain)
        bundle = _bundle(der, chain, private)
        self._issued.append(_Issued(bundle))
        return bundle

    def issue_ca(self, *, name: str = "AIPS TEST INTERMEDIATE") -> KeyBundle:
        """An intermediate CA under the root (issue with `issuer=` it)."""
        private = self._new_key(self.algorithm)
        spki = self._spki(private)
        root_cert = x509.Certificate.load(self.root.certificate)
        der = self._sign_certificate(
            subject=x509.Name.build({"common_name": name, "country_name": "KZ"}),
            issuer=root_cert.subject,
            spki=spki,
            not_before=self.now - timedelta(days=300),
            not_after=self.now + timedelta(days=3000),
            extensions=[
                {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": True}},
                {
                    "extn_id": "key_usage",
                    "critical": True,
                    "extn_value": {"key_cert_sign", "crl_sign"},
                },
                {
                    "extn_id": "key_identifier",
                    "critical": False,
                    "extn_value": _key_id(spki),
                },
                {
                    "extn_id": "authority_key_identifier",
                    "critical": False,
                    "extn_value": {"key_identifier": root_cert.key_identifier},
                },
            ],
            signer=self.root,
        )
        bundle = _bundle(der, (self.root.certificate,), private)
        self._issued.append(_Issued(bundle))
        return bundle

    def revoke(
        self,
        bundle: KeyBundle,
        *,
        at: datetime | None = None,
        reason: str = "key_compromise",
        delta: bool = False,
    ) -> None:
        """Mark a certificate revoked (from `at`, default an hour ago). `delta=True` lists it
        only in the delta CRL, not in the base CRL."""
        for issued in self._issued:
            if issued.bundle.certificate == bundle.certificate:
                issued.revoked_at = at or self.now - timedelta(hours=1)
                issued.reason = reason
                issued.in_delta = delta
                return
        raise ValueError("not issued by this CA")

    # --- revocation -------------------------------------------------------------------------------

    def crl(
        self,
        *,
        delta: bool = False,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        issuer: KeyBundle | None = None,
    ) -> bytes:
        """The base CRL (revocations not marked delta), or the delta CRL (all revocations, over
        the latest base)."""
        ca = issuer or self.root
        ca_cert = x509.Certificate.load(ca.certificate)
        self._crl_number += 1
        base_number = self._crl_number - 1 if delta else None
        entries = []
        for issued in self._issued:
            if issued.revoked_at is None or (issued.in_delta and not delta):
                continue
            if (
                parse_certificate(issued.bundle.certificate).issuer_key
                != parse_certificate(ca.certificate).subject_key
            ):
                continue
            entries.append(
                {
                    "user_certificate": issued.bundle.cert.serial,
                    "revocation_date": _time(issued.revoked_at),
                    "crl_entry_extensions": [
                        {"extn_id": "crl_reason", "extn_value": issued.reason}
                    ],
                }
            )
        extensions: list[dict[str, object]] = [
            {"extn_id": "crl_number", "extn_value": self._crl_number},
            {
                "extn_id": "authority_key_identifier",
                "extn_value": {"key_identifier": ca_cert.key_identifier},
            },
        ]
        if delta:
            extensions.append(
                {"extn_id": "delta_crl_indicator", "critical": True, "extn_value": base_number}
            )
        alg = {"algorithm": _sig_oid(ca), "parameters": core.Null()}
        tbs = crl.TbsCertList(
            {
                "version": "v2",
                "signature": alg,
                "issuer": ca_cert.subject,
                "this_update": _time(this_update or self.now - timedelta(minutes=10)),
                "next_update": _time(next_update or self.now + timedelta(days=1 if delta else 7)),
                "revoked_certificates": entries or None,
                "crl_extensions": extensions,
            }
        )
        signature = _sign(ca, tbs.dump())
        return bytes(
            crl.CertificateList(
                {"tbs_cert_list": tbs, "signature_algorithm": alg, "signature": signature}
            ).dump()
        )

    def ocsp_response(
        self,
        bundle: KeyBundle,
        *,
        status: str | None = None,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        delegated: bool = False,
        nonce: bytes | None = None,
        issuer: KeyBundle | None = None,
    ) -> bytes:
        """An OCSP answer about `bundle`'s certificate: its status here (or `status`: "good",
        "revoked", "unknown"), signed by the CA or, `delegated=True`, by a responder certificate
        with EKU OCSPSigning that the CA issued."""
        issued = next((i for i in self._issued if i.bundle.certificate == bundle.certificate), None)
        ca = issuer or self.root
        ca_cert = parse_certificate(ca.certificate)
        if status is None:
            status = "revoked" if issued is not None and issued.revoked_at is not None else "good"
        if status == "revoked":
            revoked_at = (
                issued.revoked_at if issued and issued.revoked_at else self.now - timedelta(hours=1)
            )
            cert_status: object = {
                "revoked": {"revocation_time": revoked_at, "revocation_reason": "key_compromise"}
            }
        elif status == "unknown":
            cert_status = {"unknown": core.Null()}
        else:
            cert_status = {"good": core.Null()}
        signer = ca
        certs = []
        if delegated:
            signer = self.issue(
                common_name="OCSP RESPONDER",
                iin="",
                purpose=None,
                key_usage={"digital_signature"},
                eku=[EKU_OCSP_SIGNING],
                roles=(),
                issuer=ca,
            )
            self._issued.pop()
            certs = [x509.Certificate.load(signer.certificate)]
        produced = this_update or self.now
        response_data = ocsp.ResponseData(
            {
                "version": "v1",
                "responder_id": {"by_name": x509.Certificate.load(signer.certificate).subject},
                "produced_at": produced,
                "responses": [
                    {
                        "cert_id": {
                            "hash_algorithm": {"algorithm": "sha256"},
                            "issuer_name_hash": hashlib.sha256(ca_cert.subject_der).digest(),
                            "issuer_key_hash": hashlib.sha256(ca_cert.public_key.key_bits).digest(),
                            "serial_number": bundle.cert.serial,
                        },
                        "cert_status": cert_status,
                        "this_update": produced,
                        "next_update": next_update,
                    }
                ],
                "response_extensions": (
                    [{"extn_id": "nonce", "extn_value": core.OctetString(nonce)}]
                    if nonce is not None
                    else None
                ),
            }
        )
        alg = {"algorithm": _sig_oid(signer), "parameters": core.Null()}
        basic = ocsp.BasicOCSPResponse(
            {
                "tbs_response_data": response_data,
                "signature_algorithm": alg,
                "signature": _sign(signer, response_data.dump()),
                "certs": certs or None,
            }
        )
        return bytes(
            ocsp.OCSPResponse(
                {
                    "response_status": "successful",
                    "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
                }
            ).dump()
        )

    def trust(
        self,
        *,
        crl: bool = True,
        delta: bool = False,
        ocsp_for: Iterable[KeyBundle] = (),
        extra_certificates: Iterable[bytes] = (),
    ) -> TrustStore:
        """A store that trusts this root, with a fresh CRL (and delta CRL) and OCSP answers."""
        crls: list[tuple[str, bytes]] = []
        if crl:
            crls.append(("test-ca.crl", self.crl()))
            if delta:
                crls.append(("test-ca-delta.crl", self.crl(delta=True)))
        responses = [(f"test-ca-{i}.ocsp", self.ocsp_response(b)) for i, b in enumerate(ocsp_for)]
        return TrustStore(source=f"TestPki {self.name}").extended(
            certificates=[self.root.certificate, *extra_certificates],
            crls=crls,
            ocsp_responses=responses,
        )

    def write_trust_dir(self, path: Path, *, crl: bool = True, delta: bool = False) -> Path:
        """The same as files (root.cer, test-ca.crl…), for AIPS_EDS_TRUST_DIR and the command."""
        path.mkdir(parents=True, exist_ok=True)
        (path / "root.cer").write_bytes(self.root.certificate)
        store = self.trust(crl=crl, delta=delta)
        for name, der in store.crls:
            (path / name).write_bytes(der)
        return path

    def write_pem(self, bundle: KeyBundle, path: Path) -> tuple[Path, Path]:
        """An RSA key and certificate as PEM files (for `openssl cms -sign`)."""
        if bundle.rsa_key is None:
            raise ValueError("only RSA keys can be written for OpenSSL")
        key_file = path / "key.pem"
        cert_file = path / "cert.pem"
        key_file.write_bytes(
            bundle.rsa_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        )
        cert_file.write_bytes(pem.armor("CERTIFICATE", bundle.certificate))
        return key_file, cert_file


def _key_id(spki: bytes) -> bytes:
    return hashlib.sha1(_key_bits(spki)).digest()  # noqa: S324 - key identifiers are SHA-1 by custom


def _key_bits(spki: bytes) -> bytes:
    return parse_public_key(spki).key_bits


def _bundle(
    certificate: bytes,
    chain: tuple[bytes, ...],
    private: rsa.RSAPrivateKey | tuple[algorithms.Curve, int],
) -> KeyBundle:
    if isinstance(private, rsa.RSAPrivateKey):
        return KeyBundle(certificate=certificate, chain=chain, rsa_key=private)
    return _GostBundle(certificate=certificate, chain=chain, gost_key=private[1], curve=private[0])


@dataclass(frozen=True)
class _GostBundle(KeyBundle):
    """A GOST key whose certificate may not exist yet (a CA signing its own certificate)."""

    curve: algorithms.Curve | None = None


def _sig_oid(key: KeyBundle) -> str:
    if key.rsa_key is not None:
        return algorithms.SHA256_RSA
    curve = (
        key.curve
        if isinstance(key, _GostBundle) and key.curve is not None
        else key.cert.public_key.curve
    )
    return (
        algorithms.GOST2015_512_SIGNATURE
        if curve is algorithms.CURVE_512A
        else algorithms.GOST2015_256_SIGNATURE
    )


def _sign(key: KeyBundle, message: bytes) -> bytes:
    if key.rsa_key is not None:
        return algorithms.rsa_sign(key.rsa_key, "sha256", message)
    if isinstance(key, _GostBundle) and key.curve is not None and key.gost_key is not None:
        name = "streebog512" if key.curve is algorithms.CURVE_512A else "streebog256"
        return algorithms.gost_sign(key.curve, key.gost_key, algorithms.digest(message, name))
    return sign_message(key, message)
