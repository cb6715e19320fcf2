"""The worker's CRL refresh (R57.9): CRLs downloaded from the CA certificates' distribution
points, checked against the trust store and installed atomically; the old one kept on failure.
A local http.server stands in for NCA's CRL site (no internet)."""

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from aips.core.jobs import registered_jobs
from aips.shared.eds import crl_refresh, trust
from aips.shared.eds.crl_refresh import file_name, read_status, refresh_crls
from aips.shared.eds.signing import sign_cms
from aips.shared.eds.testing import TestPki
from aips.shared.eds.trust import TrustStore, default_trust_store
from aips.shared.eds.types import EdsRefused, Purpose, Refusal
from aips.shared.eds.verify import verify_cms


class CrlSite:
    """Serves `files[path]`; a path missing is a 404, a path in `slow` never answers in time."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.slow: set[str] = set()
        self.release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path in site.slow:
                    site.release.wait(5)
                    return
                body = site.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[CrlSite]:
    served = CrlSite()
    yield served
    served.close()


@pytest.fixture
def dirs(tmp_path: Path, settings: Any) -> tuple[Path, Path]:
    trust_dir, crl_dir = tmp_path / "trust", tmp_path / "eds-crl"
    trust_dir.mkdir()
    settings.AIPS_EDS_TRUST_DIR = str(trust_dir)
    settings.AIPS_EDS_CRL_DIR = str(crl_dir)
    settings.AIPS_EDS_CRL_REFRESH_MINUTES = 60
    return trust_dir, crl_dir


def make_pki(site: CrlSite, *, delta: bool = False) -> TestPki:
    return TestPki(
        crl_urls=(f"{site.base}/ca.crl",),
        delta_crl_urls=(f"{site.base}/ca-delta.crl",) if delta else (),
    )


def test_r57_9_a_fresh_crl_is_downloaded_and_installed(
    site: CrlSite, dirs: tuple[Path, Path]
) -> None:
    trust_dir, crl_dir = dirs
    pki = make_pki(site, delta=True)
    (trust_dir / "root.cer").write_bytes(pki.root.certificate)
    site.files["/ca.crl"] = pki.crl()
    site.files["/ca-delta.crl"] = pki.crl(delta=True)

    summary = crl_refresh.crl_refresh_job()

    assert summary == "2 CRLs installed, 0 unchanged"
    installed = crl_dir / file_name(f"{site.base}/ca.crl")
    assert installed.read_bytes() == site.files["/ca.crl"]
    assert (crl_dir / file_name(f"{site.base}/ca-delta.crl")).is_file()
    assert not list(crl_dir.glob(".incoming-*"))  # no temporary file left behind
    assert read_status(crl_dir)["last_success"]
    # The same CRL again changes nothing.
    assert crl_refresh.crl_refresh_job() == "0 CRLs installed, 2 unchanged"


def test_r57_9_a_crl_signed_by_another_ca_is_refused_and_the_old_kept(
    site: CrlSite, dirs: tuple[Path, Path]
) -> None:
    trust_dir, crl_dir = dirs
    pki = make_pki(site)
    (trust_dir / "root.cer").write_bytes(pki.root.certificate)
    site.files["/ca.crl"] = pki.crl()
    store = TrustStore.from_dir(trust_dir)
    assert refresh_crls(store=store, target=crl_dir).installed
    good = (crl_dir / file_name(f"{site.base}/ca.crl")).read_bytes()

    # Another CA with the same name: same issuer, wrong key.
    site.files["/ca.crl"] = TestPki(name=pki.name).crl()
    result = refresh_crls(store=store, target=crl_dir)

    assert "not signed by a CA of the trust store" in result.failed[f"{site.base}/ca.crl"]
    assert (crl_dir / file_name(f"{site.base}/ca.crl")).read_bytes() == good
    status = read_status(crl_dir)
    assert status["failed"]
    assert status["last_success"]  # the earlier success is remembered


def test_r57_9_an_older_crl_does_not_replace_a_newer_one(
    site: CrlSite, dirs: tuple[Path, Path]
) -> None:
    trust_dir, crl_dir = dirs
    pki = make_pki(site)
    (trust_dir / "root.cer").write_bytes(pki.root.certificate)
    older, newer = pki.crl(), pki.crl()
    site.files["/ca.crl"] = newer
    store = TrustStore.from_dir(trust_dir)
    refresh_crls(store=store, target=crl_dir)
    site.files["/ca.crl"] = older

    result = refresh_crls(store=store, target=crl_dir)

    assert "older" in result.failed[f"{site.base}/ca.crl"]
    assert (crl_dir / file_name(f"{site.base}/ca.crl")).read_bytes() == newer


def test_r57_9_a_404_or_a_timeout_keeps_the_old_crl(site: CrlSite, dirs: tuple[Path, Path]) -> None:
    trust_dir, crl_dir = dirs
    pki = make_pki(site)
    (trust_dir / "root.cer").write_bytes(pki.root.certificate)
    site.files["/ca.crl"] = pki.crl()
    store = TrustStore.from_dir(trust_dir)
    refresh_crls(store=store, target=crl_dir)
    path = crl_dir / file_name(f"{site.base}/ca.crl")
    good = path.read_bytes()

    del site.files["/ca.crl"]
    assert "404" in refresh_crls(store=store, target=crl_dir).failed[f"{site.base}/ca.crl"]
    assert path.read_bytes() == good

    site.slow.add("/ca.crl")
    timed_out = refresh_crls(store=store, target=crl_dir, timeout=0.3)
    assert f"{site.base}/ca.crl" in timed_out.failed
    assert path.read_bytes() == good


def test_r57_9_too_large_or_garbage_keeps_the_old_crl(
    site: CrlSite, dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    trust_dir, crl_dir = dirs
    pki = make_pki(site)
    (trust_dir / "root.cer").write_bytes(pki.root.certificate)
    store = TrustStore.from_dir(trust_dir)
    site.files["/ca.crl"] = b"<html>maintenance</html>"
    assert refresh_crls(store=store, target=crl_dir).failed
    site.files["/ca.crl"] = pki.crl()
    monkeypatch.setattr(crl_refresh, "MAX_CRL_BYTES", 100)
    assert "larger than" in refresh_crls(store=store, target=crl_dir).failed[f"{site.base}/ca.crl"]
    assert not (crl_dir / file_name(f"{site.base}/ca.crl")).exists()


def test_r57_9_the_trust_store_uses_the_downloaded_crl(
    site: CrlSite, dirs: tuple[Path, Path]
) -> None:
    trust_dir, _ = dirs
    pki = make_pki(site)
    person = pki.issue(purpose=Purpose.SIGNING)
    (trust_dir / "root.cer").write_bytes(pki.root.certificate)
    # The bundled CRL has expired: nothing speaks for now, so the signature is refused.
    (trust_dir / "old.crl").write_bytes(
        pki.crl(this_update=pki.now - timedelta(days=10), next_update=pki.now - timedelta(days=3))
    )
    cms = sign_cms(b"data", key=person)
    with pytest.raises(EdsRefused) as unknown:
        verify_cms(cms, purpose=Purpose.SIGNING)
    assert unknown.value.reason is Refusal.REVOCATION_UNKNOWN

    site.files["/ca.crl"] = pki.crl()
    crl_refresh.crl_refresh_job()
    assert verify_cms(cms, purpose=Purpose.SIGNING).revocation

    pki.revoke(person)
    site.files["/ca.crl"] = pki.crl()
    crl_refresh.crl_refresh_job()
    with pytest.raises(EdsRefused) as revoked:
        verify_cms(cms, purpose=Purpose.SIGNING)
    assert revoked.value.reason is Refusal.REVOKED
    assert any(c.source.startswith("eds-crl/") for c in default_trust_store().parsed_crls)


def test_r57_9_the_refresh_is_a_worker_job_and_can_be_off(
    dirs: tuple[Path, Path], settings: Any
) -> None:
    job = next(j for j in registered_jobs() if j.name == "eds.crl_refresh")
    assert job.every == timedelta(minutes=60)
    assert job.run() == "no CRL URLs (the trust store names none, AIPS_EDS_CRL_URLS is empty)"
    settings.AIPS_EDS_CRL_REFRESH_MINUTES = 0
    assert crl_refresh.crl_refresh_job() == "off"


def test_r57_9_eds_status_shows_the_crls_and_the_last_refresh(
    site: CrlSite, dirs: tuple[Path, Path]
) -> None:
    trust_dir, _ = dirs
    pki = make_pki(site)
    (trust_dir / "root.cer").write_bytes(pki.root.certificate)
    site.files["/ca.crl"] = pki.crl()
    out = StringIO()
    call_command("eds", "status", "--refresh", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "Refresh: 1 CRLs installed" in text
    assert f"CRL URL: {site.base}/ca.crl" in text
    assert "CRL: eds-crl/" in text
    assert "Last successful refresh: 20" in text


def test_the_cache_directory_never_adds_trusted_certificates(
    dirs: tuple[Path, Path],
) -> None:
    _, crl_dir = dirs
    crl_dir.mkdir()
    (crl_dir / "planted.cer").write_bytes(TestPki().root.certificate)
    assert default_trust_store().certificates == ()
    assert trust.crl_cache_dir() == crl_dir


def test_r57_9_crl_urls_of_the_setting_are_refreshed_too(
    site: CrlSite, dirs: tuple[Path, Path], settings: Any
) -> None:
    """NCA's intermediates name only the root's CRL; the people's CRLs come from the setting."""
    trust_dir, crl_dir = dirs
    pki = TestPki()  # names no distribution point
    (trust_dir / "root.cer").write_bytes(pki.root.certificate)
    settings.AIPS_EDS_CRL_URLS = [f"{site.base}/people.crl", "ldap://ignored/x.crl"]
    site.files["/people.crl"] = pki.crl()
    assert crl_refresh.crl_refresh_job() == "1 CRLs installed, 0 unchanged"
    assert (crl_dir / file_name(f"{site.base}/people.crl")).is_file()
