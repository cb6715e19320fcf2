"""Keeping the trust store's CRLs fresh: the worker's `eds.crl_refresh` job (R57.9).

NCA RK's CRLs live hours to days; once one has expired every signature under that CA is refused as
`revocation_unknown`. Every `AIPS_EDS_CRL_REFRESH_MINUTES` the job downloads the CRLs named by the
trusted CA certificates (CRL distribution points and freshest CRL, i.e. the delta) and installs
each into `AIPS_EDS_CRL_DIR` (default `AIPS_DATA_DIR/eds-crl/`), which `default_trust_store()`
reads beside the trust directory; the bundled package directory is never written.

A downloaded CRL replaces the file only when it parses, is signed by a certificate of the trust
store that may sign CRLs, and is not older than the one it replaces (no rollback to a CRL from
before a revocation); the file is written to a temporary name and renamed, so a reader never sees
half a file. On any failure (HTTP error, timeout, too large, bad signature) the old file stays
and the failure is logged and kept in `status.json`, which `aips eds status` prints.
"""

import hashlib
import json
import logging
import os
import re
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from asn1crypto import x509
from django.conf import settings

from aips.shared.eds.certificates import MalformedInput, decode_blobs
from aips.shared.eds.revocation import ParsedCrl, crl_signed_by, parse_crl
from aips.shared.eds.trust import TrustStore, trust_dir

logger = logging.getLogger(__name__)

MAX_CRL_BYTES: Final = 64 * 1024 * 1024  # NCA's largest CRL is tens of MB
TIMEOUT_SECONDS: Final = 30.0
STATUS_FILE: Final = "status.json"


def crl_dir() -> Path:
    return Path(settings.AIPS_EDS_CRL_DIR)


def _get(url: str, timeout: float, limit: int) -> bytes:
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP URL: {url}")
    with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 - scheme checked
        data = bytes(reply.read(limit + 1))
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    return data


# Tests replace this to answer without the network (or serve a local http.server).
fetch_url: Callable[[str, float, int], bytes] = _get


def crl_urls(store: TrustStore) -> list[str]:
    """The CRL distribution points and freshest-CRL URLs of the store's CA certificates, then
    AIPS_EDS_CRL_URLS (HTTP only; LDAP points are NCA's alternates), each once, in order."""
    urls: list[str] = []
    for cert in store.certs:
        if not cert.is_ca:
            continue
        found = list(cert.crl_urls)
        freshest = x509.Certificate.load(cert.der).freshest_crl_value
        for point in freshest or []:
            names = point["distribution_point"]
            if names.name == "full_name":
                found.extend(
                    str(n.native) for n in names.chosen if n.name == "uniform_resource_identifier"
                )
        for url in found:
            if url.lower().startswith(("http://", "https://")) and url not in urls:
                urls.append(url)
    for url in getattr(settings, "AIPS_EDS_CRL_URLS", []):
        if url.lower().startswith(("http://", "https://")) and url not in urls:
            urls.append(url)
    return urls


def file_name(url: str) -> str:
    """A stable file name per URL: readable tail plus a hash (two CAs may both call it x.crl)."""
    tail = re.sub(r"[^A-Za-z0-9._-]", "_", url.rstrip("/").rsplit("/", 1)[-1])[:40]
    tail = tail.removesuffix(".crl") or "crl"
    return f"{tail}-{hashlib.sha256(url.encode()).hexdigest()[:12]}.crl"


@dataclass
class RefreshResult:
    installed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # url → why

    def summary(self) -> str:
        parts = [f"{len(self.installed)} CRLs installed", f"{len(self.unchanged)} unchanged"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return ", ".join(parts)


def _signed_by_store(parsed: ParsedCrl, store: TrustStore) -> bool:
    return any(
        cert.subject_key == parsed.issuer_key and crl_signed_by(parsed.der, cert.der)
        for cert in store.certs
    )


def _older(new: ParsedCrl, old: ParsedCrl) -> bool:
    if new.number is not None and old.number is not None and new.number != old.number:
        return new.number < old.number
    return new.this_update < old.this_update


def _install(url: str, store: TrustStore, target: Path, timeout: float) -> bool:
    """Download, check and install one CRL; True when the file changed. Raises on any failure."""
    data = fetch_url(url, timeout, MAX_CRL_BYTES)
    blobs = decode_blobs(data)
    if len(blobs) != 1:
        raise MalformedInput("expected one CRL")
    parsed = parse_crl(blobs[0], url)
    if not _signed_by_store(parsed, store):
        raise MalformedInput("not signed by a CA of the trust store")
    path = target / file_name(url)
    if path.exists():
        old_der = path.read_bytes()
        if old_der == parsed.der:
            return False
        try:
            old = parse_crl(old_der, str(path))
        except MalformedInput:
            old = None
        if old is not None and old.issuer_key == parsed.issuer_key and _older(parsed, old):
            raise MalformedInput("older than the installed CRL")
    target.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, parsed.der)
    return True


def _write_atomically(path: Path, data: bytes) -> None:
    # A temporary name without the .crl suffix, so the trust store never reads a partial file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def refresh_crls(
    *, store: TrustStore, target: Path | None = None, timeout: float = TIMEOUT_SECONDS
) -> RefreshResult:
    """Refresh every CRL the store's CA certificates name; record the outcome in status.json."""
    target = target or crl_dir()
    result = RefreshResult()
    for url in crl_urls(store):
        try:
            changed = _install(url, store, target, timeout)
        except (OSError, ValueError) as exc:  # MalformedInput is a ValueError
            logger.warning("EDS CRL refresh: kept the old CRL of %s: %s", url, exc)
            result.failed[url] = str(exc) or type(exc).__name__
            continue
        (result.installed if changed else result.unchanged).append(url)
    _write_status(target, result)
    return result


def _write_status(target: Path, result: RefreshResult) -> None:
    previous = read_status(target)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    ok = not result.failed and bool(result.installed or result.unchanged)
    status = {
        "last_run": now,
        "last_success": now if ok else previous.get("last_success"),
        "installed": result.installed,
        "unchanged": result.unchanged,
        "failed": result.failed,
    }
    try:
        target.mkdir(parents=True, exist_ok=True)
        _write_atomically(target / STATUS_FILE, json.dumps(status, indent=2).encode())
    except OSError as exc:
        logger.warning("EDS CRL refresh: cannot write %s: %s", target / STATUS_FILE, exc)


def read_status(target: Path | None = None) -> dict[str, object]:
    """The last refresh (`last_run`, `last_success`, …), or {} when none ran."""
    try:
        loaded = json.loads(((target or crl_dir()) / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def crl_refresh_job() -> str:
    """The worker's job (aips.shared.eds.jobs)."""
    if settings.AIPS_EDS_CRL_REFRESH_MINUTES <= 0:
        return "off"
    # Only the trust directory's CA certificates: the cache holds CRLs, never trust.
    store = TrustStore.from_dir(trust_dir())
    if not crl_urls(store):
        return "no CRL URLs (the trust store names none, AIPS_EDS_CRL_URLS is empty)"
    return refresh_crls(store=store).summary()
