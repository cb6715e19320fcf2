"""Verifying a CMS SignedData (RFC 5652) made by NCALayer, Kalkan, OpenSSL or `sign_cms`.

Order of the checks, each with its refusal: the structure (MALFORMED), the signed attributes
against the content (CONTENT_MISMATCH), the signature (BAD_SIGNATURE), the chain to a trusted
certificate (UNKNOWN_CA), validity at the moment (EXPIRED, NOT_YET_VALID), the key's purpose
(WRONG_KEY_USAGE), the IIN and BIN (NO_IIN, IIN_MISMATCH, BIN_MISMATCH), revocation (REVOKED,
REVOCATION_UNKNOWN).

The moment: `at` when given (validity and revocation both judged then: how an auditor re-checks an
old signature with the evidence kept with it). Without `at`, validity is judged at the signing
time from the signed attributes (else now), and revocation at that time and up to now: a signing
time is only the signer's claim, and a key revoked since must not pass by naming an earlier date.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from asn1crypto import cms as asn1_cms
from django.conf import settings

from aips.shared.eds import algorithms
from aips.shared.eds.certificates import (
    EKU_CLIENT_AUTH,
    EKU_EMAIL_PROTECTION,
    Cert,
    MalformedInput,
    decode_blobs,
    parse_certificate,
    signed_by,
    verify_signature,
)
from aips.shared.eds.revocation import ParsedCrl, ParsedOcsp, fetch_ocsp, judge, parse_crl
from aips.shared.eds.trust import TrustStore, default_trust_store
from aips.shared.eds.types import (
    EdsRefused,
    Purpose,
    Refusal,
    RevocationEvidence,
    Signer,
    Verification,
)

MAX_CHAIN: Final = 8
# How far in the future a signing time may be (clocks differ) when no moment is given.
SIGNING_TIME_SKEW: Final = timedelta(minutes=5)


@dataclass(frozen=True)
class ParsedSigner:
    issuer_key: str | None
    serial: int | None
    ski: bytes | None
    digest_name: str
    signature_algorithm: str
    signature: bytes
    signed_attrs: bytes | None  # DER with the SET tag, as signed
    content_type: str | None
    message_digest: bytes | None
    signing_time: datetime | None
    ess_cert_hashes: tuple[tuple[str, bytes], ...]  # (digest name, hash of the signer's cert)


@dataclass(frozen=True)
class ParsedCms:
    content_type: str
    content: bytes | None
    certificates: tuple[bytes, ...]
    crls: tuple[bytes, ...]
    signers: tuple[ParsedSigner, ...]


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _single(values: list[object], name: str) -> object:
    if len(values) != 1:
        raise MalformedInput(f"signed attribute {name} must have exactly one value")
    return values[0]


def _parse_signer(info: asn1_cms.SignerInfo) -> ParsedSigner:
    sid = info["sid"]
    issuer_key = serial = ski = None
    if sid.name == "issuer_and_serial_number":
        issuer_key = sid.chosen["issuer"].hashable
        serial = int(sid.chosen["serial_number"].native)
    else:
        ski = bytes(sid.chosen.native)
    digest_oid = info["digest_algorithm"]["algorithm"].dotted
    digest_name = algorithms.DIGEST_NAMES.get(digest_oid)
    if digest_name is None or digest_name == "sha1":
        raise algorithms.UnsupportedAlgorithm(f"digest {digest_oid}")
    attrs = info["signed_attrs"]
    signed = content_type = message_digest = signing_time = None
    ess: list[tuple[str, bytes]] = []
    if attrs.contents is not None and len(attrs):
        # The signature covers the attributes with the SET OF tag, not the [0] of the SignerInfo.
        signed = b"\x31" + _der_length(len(attrs.contents)) + attrs.contents
        seen: set[str] = set()
        for attr in attrs:
            kind = attr["type"].native
            if kind in seen:
                raise MalformedInput(f"signed attribute {kind} appears twice")
            seen.add(kind)
            values = list(attr["values"])
            if kind == "content_type":
                content_type = str(_single(values, kind).dotted)  # type: ignore[attr-defined]
            elif kind == "message_digest":
                message_digest = bytes(_single(values, kind).native)  # type: ignore[attr-defined]
            elif kind == "signing_time":
                signing_time = _single(values, kind).native  # type: ignore[attr-defined]
                if not isinstance(signing_time, datetime):
                    raise MalformedInput("signing time")
            elif kind in ("signing_certificate", "signing_certificate_v2"):
                first = _single(values, kind)["certs"][0]  # type: ignore[index]
                name = "sha1" if kind == "signing_certificate" else "sha256"
                if kind == "signing_certificate_v2" and first["hash_algorithm"].native is not None:
                    name = algorithms.DIGEST_NAMES.get(
                        first["hash_algorithm"]["algorithm"].dotted, "?"
                    )
                ess.append((name, bytes(first["cert_hash"].native)))
        if content_type is None or message_digest is None:
            raise MalformedInput("signed attributes without content type or message digest")
    return ParsedSigner(
        issuer_key=issuer_key,
        serial=serial,
        ski=ski,
        digest_name=digest_name,
        signature_algorithm=info["signature_algorithm"]["algorithm"].dotted,
        signature=bytes(info["signature"].native),
        signed_attrs=signed,
        content_type=content_type,
        message_digest=message_digest,
        signing_time=signing_time,
        ess_cert_hashes=tuple(ess),
    )


def parse_cms(raw: bytes) -> ParsedCms:
    """Read a CMS SignedData (DER, PEM or base64) into plain values; raises MalformedInput."""
    try:
        der = decode_blobs(raw)[0]
        info = asn1_cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise MalformedInput("not a SignedData")
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        content = encap["content"].native
        certificates = []
        for choice in signed_data["certificates"] or []:
            if choice.name == "certificate":
                certificates.append(choice.chosen.dump())
        crls = []
        for choice in signed_data["crls"] or []:
            if choice.name == "certificate_list":
                crls.append(choice.chosen.dump())
        signers = tuple(_parse_signer(si) for si in signed_data["signer_infos"])
        return ParsedCms(
            content_type=encap["content_type"].dotted,
            content=bytes(content) if content is not None else None,
            certificates=tuple(certificates),
            crls=tuple(crls),
            signers=signers,
        )
    except (MalformedInput, algorithms.UnsupportedAlgorithm):
        raise
    except Exception as exc:  # asn1crypto raises many kinds on bad input
        raise MalformedInput(f"CMS: {exc}") from exc


def split_signers(raw: bytes) -> list[bytes]:
    """One single-signer CMS per SignerInfo (same content and certificates), so a CMS that
    several people signed can be verified signer by signer."""
    try:
        info = asn1_cms.ContentInfo.load(decode_blobs(raw)[0], strict=True)
        signed_data = info["content"]
        out = []
        for signer in signed_data["signer_infos"]:
            copy = asn1_cms.SignedData(
                {
                    "version": signed_data["version"],
                    "digest_algorithms": signed_data["digest_algorithms"],
                    "encap_content_info": signed_data["encap_content_info"],
                    "certificates": signed_data["certificates"],
                    "signer_infos": asn1_cms.SignerInfos([signer]),
                }
            )
            out.append(
                bytes(asn1_cms.ContentInfo({"content_type": "signed_data", "content": copy}).dump())
            )
        return out
    except MalformedInput:
        raise
    except Exception as exc:  # asn1crypto raises many kinds on bad input
        raise MalformedInput(f"CMS: {exc}") from exc


# --- Policy --------------------------------------------------------------------------------------


def purpose_allows(cert: Cert, purpose: Purpose) -> bool:
    """Authentication keys (EKU client auth) sign in; signing keys (nonRepudiation and EKU
    e-mail protection) sign documents. A GOST 2015 key that carries both may do both."""
    if purpose is Purpose.AUTHENTICATION:
        return EKU_CLIENT_AUTH in cert.eku and (
            not cert.has_key_usage or "digital_signature" in cert.key_usage
        )
    ku_ok = not cert.has_key_usage or "non_repudiation" in cert.key_usage
    eku_ok = not cert.eku or EKU_EMAIL_PROTECTION in cert.eku
    return (
        ku_ok
        and eku_ok
        and ("non_repudiation" in cert.key_usage or EKU_EMAIL_PROTECTION in cert.eku)
    )


def signer_of(cert: Cert) -> Signer:
    return Signer(
        common_name=cert.common_name,
        surname=next(iter(cert.attribute("SN")), ""),
        given_name=next(iter(cert.attribute("GN")), ""),
        organization=next(iter(cert.attribute("O")), ""),
        iin=cert.iin,
        bin=cert.bin,
        roles=cert.roles,
        remote_biometric=cert.remote_biometric,
        serial_hex=cert.serial_hex,
        issuer=cert.issuer_text,
        not_before=cert.not_before,
        not_after=cert.not_after,
        fingerprint_sha256=cert.fingerprint_sha256,
        certificate_der=cert.der,
    )


def algorithm_name(cert: Cert, digest_name: str) -> str:
    public = cert.public_key
    if public.kind == "rsa":
        return f"rsa-{digest_name}"
    return "gost2015-512" if public.curve is algorithms.CURVE_512A else "gost2015-256"


def build_chain(leaf: Cert, helpers: list[Cert], trust: TrustStore) -> list[Cert]:
    """leaf → … → a trusted certificate, each link's signature checked; raises UNKNOWN_CA."""
    chain = [leaf]
    current = leaf
    for _ in range(MAX_CHAIN):
        if trust.trusts(current) and (current.self_issued or not _issuers(current, trust.certs)):
            return chain
        if current.self_issued and signed_by(current, current):
            # A self-signed root that is not in the store.
            raise EdsRefused(Refusal.UNKNOWN_CA, f"root not trusted: {current.subject_text}")
        candidates = _issuers(current, trust.certs) + _issuers(current, helpers)
        issuer = next((c for c in candidates if signed_by(current, c)), None)
        if issuer is None:
            if trust.trusts(current):
                return chain
            raise EdsRefused(Refusal.UNKNOWN_CA, f"no trusted issuer for: {current.issuer_text}")
        if not issuer.is_ca or (issuer.has_key_usage and "key_cert_sign" not in issuer.key_usage):
            raise EdsRefused(Refusal.UNKNOWN_CA, f"issuer is not a CA: {issuer.subject_text}")
        if issuer in chain:
            raise EdsRefused(Refusal.UNKNOWN_CA, "certificate loop")
        chain.append(issuer)
        current = issuer
    raise EdsRefused(Refusal.UNKNOWN_CA, "chain too long")


def _issuers(cert: Cert, pool: tuple[Cert, ...] | list[Cert]) -> list[Cert]:
    return [
        c
        for c in pool
        if c.subject_key == cert.issuer_key
        and c.fingerprint_sha256 != cert.fingerprint_sha256
        and (cert.aki is None or c.ski is None or cert.aki == c.ski)
    ]


def _check_validity(chain: list[Cert], at: datetime) -> None:
    for cert in chain:
        if at < cert.not_before:
            raise EdsRefused(
                Refusal.NOT_YET_VALID,
                f"{cert.subject_text} valid from {cert.not_before:%Y-%m-%d %H:%M:%S}Z",
            )
        if at > cert.not_after:
            raise EdsRefused(
                Refusal.EXPIRED, f"{cert.subject_text} expired {cert.not_after:%Y-%m-%d %H:%M:%S}Z"
            )
        if cert.unknown_critical:
            raise EdsRefused(
                Refusal.MALFORMED, f"unknown critical extensions {cert.unknown_critical}"
            )


def _revocation(
    chain: list[Cert], at: datetime, trust: TrustStore, extra_crls: list[ParsedCrl]
) -> tuple[RevocationEvidence, ...]:
    crls = [*trust.parsed_crls, *extra_crls]
    online = bool(getattr(settings, "AIPS_EDS_OCSP_ONLINE", False))
    override = str(getattr(settings, "AIPS_EDS_OCSP_URL_OVERRIDE", ""))

    def fetch(cert: Cert, issuer: Cert) -> ParsedOcsp | None:
        return fetch_ocsp(cert, issuer, url_override=override)

    evidence: list[RevocationEvidence] = []
    for index in range(len(chain) - 1):
        cert, issuer = chain[index], chain[index + 1]
        leaf = index == 0
        judgement = judge(
            cert,
            issuer,
            at,
            crls=crls,
            responses=trust.parsed_ocsp,
            fetch=fetch if (leaf and online) else None,
        )
        if judgement.status == "revoked":
            raise EdsRefused(Refusal.REVOKED, judgement.detail)
        if judgement.status == "good":
            evidence.extend(judgement.evidence)
        elif leaf and getattr(settings, "AIPS_EDS_REVOCATION_UNKNOWN", "refuse") != "accept":
            raise EdsRefused(Refusal.REVOCATION_UNKNOWN, judgement.detail)
        # A CA certificate is checked when the store has a source for it; its absence is no
        # refusal (NCA's root CRLs are rarely configured, and roots are not revoked by CRL).
    return tuple(evidence)


# --- The entry point ---------------------------------------------------------------------------


def verify_cms(
    cms: bytes,
    *,
    purpose: Purpose,
    data: bytes | None = None,
    at: datetime | None = None,
    trust: TrustStore | None = None,
    expected_iin: str = "",
    expected_bin: str = "",
    extra_certificates: Iterable[bytes] = (),
) -> Verification:
    """Verify a CMS with one signer for `purpose`; return who signed or raise EdsRefused.

    `data` is the content of a detached signature (for an attached one it must equal the
    content, when given). `trust=None` uses the configured store (AIPS_EDS_TRUST_DIR)."""
    try:
        parsed = parse_cms(cms)
    except (MalformedInput, algorithms.UnsupportedAlgorithm) as exc:
        raise EdsRefused(Refusal.MALFORMED, str(exc)) from exc
    except RecursionError as exc:
        raise EdsRefused(Refusal.MALFORMED, "nested too deeply") from exc
    if len(parsed.signers) != 1:
        raise EdsRefused(
            Refusal.MALFORMED, f"{len(parsed.signers)} signers; verify each (split_signers)"
        )
    signer = parsed.signers[0]
    if parsed.content is not None and data is not None and parsed.content != data:
        raise EdsRefused(
            Refusal.CONTENT_MISMATCH, "the attached content differs from the data given"
        )
    content = parsed.content if parsed.content is not None else data
    if content is None:
        raise EdsRefused(Refusal.MALFORMED, "detached signature without the signed data")
    trust = trust if trust is not None else default_trust_store()
    try:
        cert = _signer_certificate(parsed, signer)
        # Certificates that help build the chain (the CMS's own, a bundle's chain/); never trusted.
        helpers = [parse_certificate(der) for der in (*parsed.certificates, *extra_certificates)]
        extra_crls = [parse_crl(der, f"cms-crl-{i}") for i, der in enumerate(parsed.crls)]
    except MalformedInput as exc:
        raise EdsRefused(Refusal.MALFORMED, str(exc)) from exc

    try:
        content_digest = algorithms.digest(content, signer.digest_name)
        if signer.signed_attrs is not None:
            if signer.content_type != parsed.content_type:
                raise EdsRefused(Refusal.CONTENT_MISMATCH, "content-type attribute differs")
            if signer.message_digest != content_digest:
                raise EdsRefused(
                    Refusal.CONTENT_MISMATCH, "message-digest attribute differs from the content's"
                )
            for name, value in signer.ess_cert_hashes:
                if name not in algorithms.DIGEST_NAMES.values() or _hash(cert.der, name) != value:
                    raise EdsRefused(
                        Refusal.BAD_SIGNATURE,
                        "signing-certificate attribute names another certificate",
                    )
            ok = verify_signature(
                cert.public_key,
                signer.signature_algorithm,
                signer.signed_attrs,
                signer.signature,
                signer.digest_name,
            )
        else:
            ok = verify_signature(
                cert.public_key,
                signer.signature_algorithm,
                content,
                signer.signature,
                signer.digest_name,
            )
    except (algorithms.UnsupportedAlgorithm, MalformedInput) as exc:
        raise EdsRefused(Refusal.MALFORMED, f"unsupported: {exc}") from exc
    if not ok:
        raise EdsRefused(
            Refusal.BAD_SIGNATURE, "the signature does not verify with the signer's key"
        )

    now = datetime.now(UTC)
    if at is not None:
        moment = revocation_moment = _aware(at)
    else:
        # The signing time is the signer's claim: validity is judged at it, revocation also up
        # to now, so a key revoked since cannot sign with an earlier date and pass.
        moment = signer.signing_time or now
        if moment > now + SIGNING_TIME_SKEW:
            raise EdsRefused(
                Refusal.NOT_YET_VALID, f"signing time {moment:%Y-%m-%d %H:%M:%S}Z is in the future"
            )
        revocation_moment = max(moment, now)
    try:
        chain = build_chain(cert, helpers, trust)
    except MalformedInput as exc:
        raise EdsRefused(Refusal.MALFORMED, str(exc)) from exc
    _check_validity(chain, moment)
    if not purpose_allows(cert, purpose):
        raise EdsRefused(
            Refusal.WRONG_KEY_USAGE,
            f"{purpose.value}: key usage {sorted(cert.key_usage)}, "
            f"extended key usage {list(cert.eku)}",
        )
    if not cert.iin:
        raise EdsRefused(Refusal.NO_IIN, cert.subject_text)
    if expected_iin and cert.iin != expected_iin:
        raise EdsRefused(Refusal.IIN_MISMATCH, f"certificate IIN {cert.iin}")
    if expected_bin and cert.bin != expected_bin:
        raise EdsRefused(Refusal.BIN_MISMATCH, f"certificate BIN {cert.bin or 'none'}")
    try:
        evidence = _revocation(chain, revocation_moment, trust, extra_crls)
    except MalformedInput as exc:
        raise EdsRefused(Refusal.MALFORMED, str(exc)) from exc
    return Verification(
        signer=signer_of(cert),
        content=content,
        signing_time=signer.signing_time,
        checked_at=moment,
        algorithm=algorithm_name(cert, signer.digest_name),
        chain=tuple(c.der for c in chain),
        revocation=evidence,
        purpose=purpose,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _hash(data: bytes, name: str) -> bytes:
    if name == "sha1":
        return hashlib.sha1(data).digest()  # noqa: S324 - ESS signing-certificate v1 fixes SHA-1
    return algorithms.digest(data, name)


def _signer_certificate(parsed: ParsedCms, signer: ParsedSigner) -> Cert:
    for der in parsed.certificates:
        cert = parse_certificate(der)
        if signer.ski is not None:
            if cert.ski == signer.ski:
                return cert
        elif cert.serial == signer.serial and cert.issuer_key == signer.issuer_key:
            return cert
    raise MalformedInput("the signer's certificate is not in the CMS")
