"""Trust stores: the certificates we trust (NCA RK's roots and intermediates), the CRLs and the
stored OCSP responses that speak about the certificates they issue.

Every certificate in a store is trusted: a chain ends at the first one it reaches (a root, or an
intermediate whose root is not in the store). Certificates inside a CMS only help to build the
chain; they are never trusted themselves.

`default_trust_store()` reads `AIPS_EDS_TRUST_DIR` (the bundled `eds/trust/` directory by
default), again whenever a file in it changes, so a CRL dropped in by cron is used at once.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Final

from django.conf import settings

from aips.shared.eds.certificates import Cert, MalformedInput, decode_blobs, parse_certificate
from aips.shared.eds.revocation import ParsedCrl, ParsedOcsp, parse_crl, parse_ocsp

logger = logging.getLogger(__name__)

BUNDLED_TRUST_DIR: Final = Path(__file__).resolve().parent / "trust"
CERTIFICATE_SUFFIXES: Final = (".cer", ".crt", ".pem", ".der")
CRL_SUFFIXES: Final = (".crl",)
OCSP_SUFFIXES: Final = (".ocsp", ".bin")


@dataclass(frozen=True)
class TrustStore:
    certificates: tuple[bytes, ...] = ()  # DER, trusted
    crls: tuple[tuple[str, bytes], ...] = ()  # (source, DER)
    ocsp_responses: tuple[tuple[str, bytes], ...] = ()  # (source, DER)
    source: str = ""
    problems: tuple[str, ...] = field(default=(), compare=False)  # files that could not be read

    @classmethod
    def from_dir(cls, path: str | Path) -> "TrustStore":
        """Certificates (*.cer, *.crt, *.pem, *.der; PEM may hold several), CRLs (*.crl, DER or
        PEM) and OCSP responses (*.ocsp, *.bin), in the directory and below it."""
        root = Path(path)
        certificates: list[bytes] = []
        crls: list[tuple[str, bytes]] = []
        responses: list[tuple[str, bytes]] = []
        problems: list[str] = []
        if not root.is_dir():
            return cls(source=str(root), problems=(f"{root}: not a directory",))
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            suffix = file.suffix.lower()
            name = str(file.relative_to(root))
            try:
                data = file.read_bytes()
                if suffix in CERTIFICATE_SUFFIXES:
                    for der in decode_blobs(data):
                        parse_certificate(der)
                        certificates.append(der)
                elif suffix in CRL_SUFFIXES:
                    for der in decode_blobs(data):
                        parse_crl(der, name)
                        crls.append((name, der))
                elif suffix in OCSP_SUFFIXES:
                    der = decode_blobs(data)[0]
                    parse_ocsp(der, name)
                    responses.append((name, der))
            except (OSError, MalformedInput) as exc:
                logger.warning("EDS trust store %s: skipped %s: %s", root, name, exc)
                problems.append(f"{name}: {exc}")
        return cls(
            tuple(_unique(certificates)), tuple(crls), tuple(responses), str(root), tuple(problems)
        )

    def extended(
        self,
        *,
        certificates: Iterable[bytes] = (),
        crls: Iterable[tuple[str, bytes] | bytes] = (),
        ocsp_responses: Iterable[tuple[str, bytes] | bytes] = (),
    ) -> "TrustStore":
        """A new store with more items (bare DER gets a made-up source name)."""

        def named(items: Iterable[tuple[str, bytes] | bytes], kind: str) -> list[tuple[str, bytes]]:
            return [
                item if isinstance(item, tuple) else (f"{kind}-{i}", item)
                for i, item in enumerate(items)
            ]

        return TrustStore(
            tuple(_unique([*self.certificates, *certificates])),
            (*self.crls, *named(crls, "crl")),
            (*self.ocsp_responses, *named(ocsp_responses, "ocsp")),
            self.source,
            self.problems,
        )

    def merged(self, other: "TrustStore") -> "TrustStore":
        return self.extended(
            certificates=other.certificates, crls=other.crls, ocsp_responses=other.ocsp_responses
        )

    def without_revocation(self) -> "TrustStore":
        return TrustStore(self.certificates, (), (), self.source, self.problems)

    @cached_property
    def certs(self) -> tuple[Cert, ...]:
        return tuple(parse_certificate(der) for der in self.certificates)

    @cached_property
    def _fingerprints(self) -> frozenset[str]:
        return frozenset(c.fingerprint_sha256 for c in self.certs)

    def trusts(self, cert: Cert) -> bool:
        return cert.fingerprint_sha256 in self._fingerprints

    @cached_property
    def parsed_crls(self) -> tuple[ParsedCrl, ...]:
        return tuple(parse_crl(der, name) for name, der in self.crls)

    @cached_property
    def parsed_ocsp(self) -> tuple[ParsedOcsp, ...]:
        return tuple(parse_ocsp(der, name) for name, der in self.ocsp_responses)


def _unique(items: Iterable[bytes]) -> list[bytes]:
    seen: set[bytes] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


_default: tuple[tuple[object, ...], TrustStore] | None = None


def trust_dir() -> Path:
    configured = getattr(settings, "AIPS_EDS_TRUST_DIR", "")
    return Path(configured) if configured else BUNDLED_TRUST_DIR


def crl_cache_dir() -> Path | None:
    """Where the worker installs the CRLs it downloads (aips.shared.eds.crl_refresh)."""
    configured = getattr(settings, "AIPS_EDS_CRL_DIR", "")
    return Path(configured) if configured else None


def _state(root: Path) -> tuple[object, ...]:
    try:
        return tuple(
            sorted(
                (str(p), p.stat().st_mtime_ns, p.stat().st_size)
                for p in root.rglob("*")
                if p.is_file()
            )
        )
    except OSError:
        return ()


def default_trust_store() -> TrustStore:
    """The configured store, re-read when a file in the directory is added, removed or changed,
    with the CRLs the worker downloaded (only CRLs: that directory never adds trust)."""
    global _default
    root = trust_dir()
    cache = crl_cache_dir()
    cached_state = _state(cache) if cache else ()
    state: tuple[object, ...] = (str(root), _state(root), str(cache), cached_state)
    if _default is None or _default[0] != state:
        store = TrustStore.from_dir(root)
        if cache is not None and cache.is_dir() and cache.resolve() != root.resolve():
            cached = TrustStore.from_dir(cache).crls
            store = store.extended(crls=[(f"{cache.name}/{name}", der) for name, der in cached])
        _default = (state, store)
    return _default[1]
