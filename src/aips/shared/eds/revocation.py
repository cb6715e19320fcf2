"""Revocation: CRLs (with delta CRLs) and OCSP responses, read, checked against their issuer and
judged at a moment; online OCSP (off unless a setting turns it on) with a cache.

The rule at the moment `at` (the signing time by default):
- a source is usable when it speaks about `at`: a CRL whose nextUpdate is after `at` (with a
  delta CRL, the delta's), an OCSP answer made after `at` (or within OCSP_GRACE before it) or
  whose thisUpdate..nextUpdate holds `at`;
- the certificate is revoked when any usable source lists it revoked at or before `at`
  (certificateHold counts; a delta's removeFromCRL lifts a hold). The "revoked 1970-01-01"
  that NCA's responder gives for a serial it does not know counts as revoked: fail closed;
- it is good when some usable source says so and none says revoked;
- otherwise its status is unknown, and `AIPS_EDS_REVOCATION_UNKNOWN` decides (refuse by default).
"""

import hashlib
import logging
import secrets
import threading
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final

from asn1crypto import core, crl, ocsp

from aips.shared.eds import algorithms
from aips.shared.eds.certificates import (
    EKU_OCSP_SIGNING,
    Cert,
    MalformedInput,
    parse_certificate,
    signed_by,
    verify_signature,
)
from aips.shared.eds.types import RevocationEvidence

logger = logging.getLogger(__name__)

# An OCSP answer without nextUpdate made this long before the moment still speaks for it (clock
# skew between us, the signer and the responder; a response fetched a moment before signing).
OCSP_GRACE: Final = timedelta(minutes=15)

_REMOVE_FROM_CRL: Final = "remove_from_crl"


@dataclass(frozen=True)
class CrlEntry:
    revoked_at: datetime
    reason: str


@dataclass(frozen=True)
class ParsedCrl:
    source: str
    der: bytes
    issuer_key: str
    aki: bytes | None
    this_update: datetime
    next_update: datetime | None
    number: int | None
    delta_base: int | None  # the BaseCRLNumber of a delta CRL, None for a complete CRL
    indirect: bool
    entries: dict[int, CrlEntry]
    tbs: bytes
    signature_algorithm: str
    signature: bytes


@lru_cache(maxsize=256)
def parse_crl(der: bytes, source: str = "") -> ParsedCrl:
    try:
        cert_list = crl.CertificateList.load(der, strict=True)
        tbs = cert_list["tbs_cert_list"]
        entries: dict[int, CrlEntry] = {}
        for entry in tbs["revoked_certificates"]:
            reason = entry.crl_reason_value
            if entry.certificate_issuer_value is not None:
                raise MalformedInput("indirect CRL entries are not supported")
            entries[int(entry["user_certificate"].native)] = CrlEntry(
                entry["revocation_date"].native,
                reason.native if reason is not None else "unspecified",
            )
        aki = cert_list.authority_key_identifier
        idp = cert_list.issuing_distribution_point_value
        number = cert_list.crl_number_value
        delta = cert_list.delta_crl_indicator_value
        next_update = tbs["next_update"].native
        return ParsedCrl(
            source=source,
            der=der,
            issuer_key=tbs["issuer"].hashable,
            aki=aki if isinstance(aki, bytes) else None,
            this_update=tbs["this_update"].native,
            next_update=next_update,
            number=int(number.native) if number is not None else None,
            delta_base=int(delta.native) if delta is not None else None,
            indirect=bool(idp is not None and idp["indirect_crl"].native),
            entries=entries,
            tbs=tbs.dump(),
            signature_algorithm=cert_list["signature_algorithm"]["algorithm"].dotted,
            signature=bytes(cert_list["signature"].native),
        )
    except MalformedInput:
        raise
    except Exception as exc:  # asn1crypto raises many kinds on bad input
        raise MalformedInput(f"CRL {source}: {exc}") from exc


@dataclass(frozen=True)
class SingleStatus:
    hash_algorithm: str
    name_hash: bytes
    key_hash: bytes
    serial: int
    status: str  # "good", "revoked", "unknown"
    revoked_at: datetime | None
    this_update: datetime
    next_update: datetime | None


@dataclass(frozen=True)
class ParsedOcsp:
    source: str
    der: bytes
    produced_at: datetime
    responder_name: str | None  # normalized name, when the responder is named by name
    responder_key_hash: bytes | None  # SHA-1 of its key, when named by key
    responses: tuple[SingleStatus, ...]
    certs: tuple[bytes, ...]
    nonce: bytes | None
    tbs: bytes
    signature_algorithm: str
    signature: bytes


@lru_cache(maxsize=256)
def parse_ocsp(der: bytes, source: str = "") -> ParsedOcsp:
    try:
        response = ocsp.OCSPResponse.load(der, strict=True)
        if response["response_status"].native != "successful":
            raise MalformedInput(f"OCSP {source}: status {response['response_status'].native}")
        if response["response_bytes"]["response_type"].native != "basic_ocsp_response":
            raise MalformedInput(f"OCSP {source}: not a basic response")
        basic = response["response_bytes"]["response"].parsed
        tbs = basic["tbs_response_data"]
        responder = tbs["responder_id"]
        statuses = []
        for single in tbs["responses"]:
            cert_id = single["cert_id"]
            status = single["cert_status"]
            revoked_at = (
                status.chosen["revocation_time"].native if status.name == "revoked" else None
            )
            statuses.append(
                SingleStatus(
                    hash_algorithm=cert_id["hash_algorithm"]["algorithm"].dotted,
                    name_hash=bytes(cert_id["issuer_name_hash"].native),
                    key_hash=bytes(cert_id["issuer_key_hash"].native),
                    serial=int(cert_id["serial_number"].native),
                    status=status.name,
                    revoked_at=revoked_at,
                    this_update=single["this_update"].native,
                    next_update=single["next_update"].native,
                )
            )
        nonce = None
        for extension in tbs["response_extensions"] or []:
            if extension["extn_id"].native == "nonce":
                nonce = bytes(extension["extn_value"].contents)
        certs = tuple(c.dump() for c in basic["certs"] or [])
        return ParsedOcsp(
            source=source,
            der=der,
            produced_at=tbs["produced_at"].native,
            responder_name=responder.chosen.hashable if responder.name == "by_name" else None,
            responder_key_hash=bytes(responder.chosen.native)
            if responder.name == "by_key"
            else None,
            responses=tuple(statuses),
            certs=certs,
            nonce=nonce,
            tbs=tbs.dump(),
            signature_algorithm=basic["signature_algorithm"]["algorithm"].dotted,
            signature=bytes(basic["signature"].native),
        )
    except MalformedInput:
        raise
    except Exception as exc:  # asn1crypto raises many kinds on bad input
        raise MalformedInput(f"OCSP {source}: {exc}") from exc


# --- Checking sources against the issuer --------------------------------------------------------


@lru_cache(maxsize=512)
def _crl_signed_by(crl_der: bytes, issuer_der: bytes) -> bool:
    parsed, issuer = parse_crl(crl_der), parse_certificate(issuer_der)
    if issuer.has_key_usage and "crl_sign" not in issuer.key_usage:
        return False
    try:
        return verify_signature(
            issuer.public_key, parsed.signature_algorithm, parsed.tbs, parsed.signature
        )
    except (algorithms.UnsupportedAlgorithm, MalformedInput):
        return False


def crl_signed_by(crl_der: bytes, issuer_der: bytes) -> bool:
    """The CRL's signature verifies with the issuer's key, and the issuer may sign CRLs."""
    return _crl_signed_by(crl_der, issuer_der)


def _cert_id_matches(single: SingleStatus, cert: Cert, issuer: Cert) -> bool:
    if single.serial != cert.serial:
        return False
    name = algorithms.DIGEST_NAMES.get(single.hash_algorithm)
    if name is None or name not in (
        "sha1",
        "sha256",
        "sha384",
        "sha512",
        "streebog256",
        "streebog512",
    ):
        return False
    if name == "sha1":
        name_hash = hashlib.sha1(issuer.subject_der).digest()  # noqa: S324 - OCSP CertID
        key_hash = hashlib.sha1(issuer.public_key.key_bits).digest()  # noqa: S324
    else:
        name_hash = algorithms.digest(issuer.subject_der, name)
        key_hash = algorithms.digest(issuer.public_key.key_bits, name)
    return single.name_hash == name_hash and single.key_hash == key_hash


@lru_cache(maxsize=512)
def _ocsp_signed_for(ocsp_der: bytes, issuer_der: bytes) -> bool:
    """Whether the response is signed by the issuer itself or by a responder the issuer
    authorized (its certificate, in the response, issued by the issuer with EKU OCSPSigning and
    valid when the response was produced)."""
    parsed, issuer = parse_ocsp(ocsp_der), parse_certificate(issuer_der)
    candidates = [issuer]
    for der in parsed.certs:
        try:
            responder = parse_certificate(der)
        except MalformedInput:
            continue
        if (
            responder.issuer_key == issuer.subject_key
            and EKU_OCSP_SIGNING in responder.eku
            and responder.valid_at(parsed.produced_at)
            and signed_by(responder, issuer)
        ):
            candidates.append(responder)
    for signer in candidates:
        if parsed.responder_name is not None and parsed.responder_name != signer.subject_key:
            continue
        if parsed.responder_key_hash is not None:
            key_hash = hashlib.sha1(signer.public_key.key_bits).digest()  # noqa: S324 - ResponderID
            if key_hash != parsed.responder_key_hash:
                continue
        try:
            if verify_signature(
                signer.public_key, parsed.signature_algorithm, parsed.tbs, parsed.signature
            ):
                return True
        except (algorithms.UnsupportedAlgorithm, MalformedInput):
            continue
    return False


# --- Judging --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    status: str  # "good", "revoked", "unknown"
    evidence: tuple[RevocationEvidence, ...]
    detail: str = ""


def _crl_judgement(
    cert: Cert, issuer: Cert, at: datetime, crls: Iterable[ParsedCrl]
) -> Judgement | None:
    mine = [
        c
        for c in crls
        if c.issuer_key == issuer.subject_key
        and not c.indirect
        and (c.aki is None or issuer.ski is None or c.aki == issuer.ski)
        and _crl_signed_by(c.der, issuer.der)
    ]
    bases = [c for c in mine if c.delta_base is None]
    deltas = [c for c in mine if c.delta_base is not None]

    def usable(c: ParsedCrl) -> bool:
        return c.next_update is None or c.next_update > at

    best: tuple[ParsedCrl, ParsedCrl | None] | None = None
    for base in sorted(bases, key=lambda c: c.this_update, reverse=True):
        fitting = [
            d
            for d in deltas
            if usable(d)
            and base.number is not None
            and d.delta_base is not None
            and d.delta_base <= base.number
            and (d.number or 0) > base.number
        ]
        delta = max(fitting, key=lambda d: d.this_update) if fitting else None
        if delta is not None or usable(base):
            best = (base, delta)
            break
    if best is None:
        return None
    base, delta = best
    entry = base.entries.get(cert.serial)
    said_by = base.source
    if delta is not None and cert.serial in delta.entries:
        entry = delta.entries[cert.serial]
        said_by = delta.source
        if entry.reason == _REMOVE_FROM_CRL:
            entry = None
    revoked = entry is not None and entry.revoked_at <= at
    status = "revoked" if revoked else "good"
    evidence = [RevocationEvidence("crl", base.source, base.this_update, base.der, status)]
    if delta is not None:
        evidence.append(
            RevocationEvidence("delta_crl", delta.source, delta.this_update, delta.der, status)
        )
    detail = (
        f"CRL {said_by}: serial {cert.serial_hex} revoked "
        f"{entry.revoked_at:%Y-%m-%d %H:%M:%S}Z ({entry.reason})"
        if revoked and entry
        else ""
    )
    return Judgement(status, tuple(evidence), detail)


def _ocsp_judgement(
    cert: Cert, issuer: Cert, at: datetime, responses: Iterable[ParsedOcsp]
) -> list[Judgement]:
    out = []
    for response in responses:
        for single in response.responses:
            if not _cert_id_matches(single, cert, issuer):
                continue
            if not _ocsp_signed_for(response.der, issuer.der):
                logger.warning("OCSP response %s: signature does not verify", response.source)
                continue
            evidence = (
                RevocationEvidence(
                    "ocsp", response.source, response.produced_at, response.der, single.status
                ),
            )
            if (
                single.status == "revoked"
                and single.revoked_at is not None
                and single.revoked_at <= at
            ):
                detail = f"OCSP {response.source}: revoked {single.revoked_at:%Y-%m-%d %H:%M:%S}Z"
                out.append(Judgement("revoked", evidence, detail))
                continue
            covers = single.this_update >= at - OCSP_GRACE or (
                single.next_update is not None and single.this_update <= at < single.next_update
            )
            if single.status in ("good", "revoked") and covers:
                # "revoked" after `at` still says the certificate was good at `at`.
                good = RevocationEvidence(
                    "ocsp", response.source, response.produced_at, response.der, "good"
                )
                out.append(Judgement("good", (good,)))
    return out


def judge(
    cert: Cert,
    issuer: Cert,
    at: datetime,
    *,
    crls: Iterable[ParsedCrl],
    responses: Iterable[ParsedOcsp],
    fetch: Callable[[Cert, Cert], ParsedOcsp | None] | None = None,
) -> Judgement:
    """The certificate's status at `at` from every usable source (see the module's rule)."""
    judgements = _ocsp_judgement(cert, issuer, at, responses)
    crl_judgement = _crl_judgement(cert, issuer, at, crls)
    if crl_judgement is not None:
        judgements.append(crl_judgement)
    if fetch is not None and not any(j.status == "revoked" for j in judgements):
        fetched = fetch(cert, issuer)
        if fetched is not None:
            judgements.extend(_ocsp_judgement(cert, issuer, at, [fetched]))
    revoked = [j for j in judgements if j.status == "revoked"]
    if revoked:
        return Judgement(
            "revoked", tuple(e for j in revoked for e in j.evidence), revoked[0].detail
        )
    good = [j for j in judgements if j.status == "good"]
    if good:
        return Judgement("good", tuple(e for j in good for e in j.evidence))
    return Judgement(
        "unknown",
        (),
        f"no usable CRL or OCSP answer for serial {cert.serial_hex} at {at:%Y-%m-%d %H:%M:%S}Z",
    )


# --- Online OCSP ---------------------------------------------------------------------------------


_cache_lock = threading.Lock()
_cache: dict[tuple[str, int], ParsedOcsp] = {}
_CACHE_SIZE: Final = 1024


def build_ocsp_request(cert: Cert, issuer: Cert, nonce: bytes) -> bytes:
    cert_id = ocsp.CertId(
        {
            "hash_algorithm": {"algorithm": "sha256"},
            "issuer_name_hash": hashlib.sha256(issuer.subject_der).digest(),
            "issuer_key_hash": hashlib.sha256(issuer.public_key.key_bits).digest(),
            "serial_number": cert.serial,
        }
    )
    request = ocsp.OCSPRequest(
        {
            "tbs_request": {
                "request_list": [{"req_cert": cert_id}],
                "request_extensions": [{"extn_id": "nonce", "extn_value": core.OctetString(nonce)}],
            }
        }
    )
    return bytes(request.dump())


def _post(url: str, body: bytes, timeout: float) -> bytes:
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP URL: {url}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, headers={"Content-Type": "application/ocsp-request"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
        return bytes(reply.read(1_000_000))


# Tests replace this to answer without a network.
post_ocsp: Callable[[str, bytes, float], bytes] = _post


def fetch_ocsp(
    cert: Cert, issuer: Cert, *, url_override: str = "", timeout: float = 10.0
) -> ParsedOcsp | None:
    """Ask the responder (the certificate's AIA, or the override) about `cert`; answers are
    cached in memory by issuer and serial and reused while they still speak for the moment."""
    key = (issuer.fingerprint_sha256, cert.serial)
    with _cache_lock:
        cached = _cache.get(key)
    now = datetime.now(UTC)
    if cached is not None and any(
        s.this_update >= now - OCSP_GRACE or (s.next_update is not None and s.next_update > now)
        for s in cached.responses
    ):
        return cached
    url = url_override or next(iter(cert.ocsp_urls), "")
    if not url:
        return None
    nonce = secrets.token_bytes(16)
    try:
        raw = post_ocsp(url, build_ocsp_request(cert, issuer, nonce), timeout)
        parsed = parse_ocsp(raw, url)
    except (OSError, ValueError) as exc:
        logger.warning("OCSP request to %s failed: %s", url, exc)
        return None
    if not _nonce_matches(parsed.nonce, nonce):
        logger.warning("OCSP response from %s: nonce does not match", url)
        return None
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[key] = parsed
    return parsed


def _nonce_matches(returned: bytes | None, sent: bytes) -> bool:
    """A responder may leave the nonce out (freshness is then judged by thisUpdate); when it
    returns one it must be ours, bare or inside its own OCTET STRING (RFC 8954)."""
    if returned is None or returned == sent:
        return True
    try:
        inner = core.load(returned)
    except ValueError:
        return False
    return isinstance(inner, core.OctetString) and inner.native == sent


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
