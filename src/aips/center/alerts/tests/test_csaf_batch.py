"""CSAF batches (R67.3.5, R67.8, R67.10): a ROLIE feed or provider-metadata.json, uploaded or
fetched by URL, becomes one draft per advisory; the worker fetches them from a real HTTP server
(a threaded `http.server` in the test, serving the real fixtures of fixtures/csaf), checks the
`.sha256` / `.sha512` sidecars, skips what is already imported and reports every failure."""

import hashlib
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.utils import override_settings

from aips.center.alerts import csaf_batch
from aips.center.alerts.csaf_fetch import FetchRefused, Policy, check_url, fetch
from aips.center.alerts.models import Alert, CsafBatch, CsafBatchState, CsafItemState
from aips.core.errors import ValidationFailed
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent

FIXTURES = Path(__file__).parent / "fixtures" / "csaf"
DOCS = {
    "2022/rhsa-2022_0011.json": "rhsa-2022_0011.json",
    "2021/rhsa-2021_5217.json": "rhsa-2021_5217.json",
    "2022/evd-f-001.json": "2022-evd-uc-01-f-001.json",
    # The same advisory revision under a second address: imported once, then a duplicate.
    "mirror/rhsa-2022_0011.json": "rhsa-2022_0011.json",
    # Not an advisory at all.
    "2022/broken.json": "rolie-example-01-feed-tlp-white.json",
}


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/redirect-away/"):
            # Off the allow-list: "localhost" is not on it, only 127.0.0.1.
            port = self.headers.get("Host", "").rsplit(":", 1)[-1]
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/2022/rhsa-2022_0011.json")
            self.end_headers()
            return
        if self.path.startswith("/redirect-in/"):
            self.send_response(301)
            self.send_header("Location", "/2022/rhsa-2022_0011.json")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _sidecar(root: Path, path: str, algorithm: str, *, wrong: bool = False) -> None:
    body = (root / path).read_bytes() + (b"tampered" if wrong else b"")
    digest = hashlib.new(algorithm, body).hexdigest()
    name = path.rsplit("/", 1)[-1]
    (root / f"{path}.{algorithm}").write_text(f"{digest}  {name}\n")


def _feed(base: str) -> dict[str, Any]:
    """The OASIS example feed (fixtures/csaf), its entries pointed at the test server."""
    feed: dict[str, Any] = json.loads(
        (FIXTURES / "rolie-example-01-feed-tlp-white.json").read_text()
    )
    template = feed["feed"]["entry"][0]
    entries = []
    hashes = {
        "2022/rhsa-2022_0011.json": "sha512",
        "2021/rhsa-2021_5217.json": "sha256",
        "2022/evd-f-001.json": "sha256",  # its sidecar is wrong
    }
    for path in DOCS:
        entry = json.loads(json.dumps(template))
        entry["id"] = path
        entry["content"]["src"] = f"{base}/{path}"
        entry["link"] = [{"rel": "self", "href": f"{base}/{path}"}]
        if path in hashes:
            entry["link"].append({"rel": "hash", "href": f"{base}/{path}.{hashes[path]}"})
        entries.append(entry)
    # An entry whose document is missing on the server (HTTP 404).
    missing = json.loads(json.dumps(template))
    missing["content"]["src"] = f"{base}/2023/missing.json"
    missing["link"] = [{"rel": "self", "href": f"{base}/2023/missing.json"}]
    entries.append(missing)
    feed["feed"]["entry"] = entries
    feed["feed"]["link"][0]["href"] = f"{base}/feed-tlp-white.json"
    return feed


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[str]:
    """A CSAF provider on 127.0.0.1: a ROLIE feed, provider metadata, advisories, sidecars."""
    root = tmp_path / "www"
    for path, name in DOCS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / name, root / path)
    _sidecar(root, "2022/rhsa-2022_0011.json", "sha512")
    _sidecar(root, "2021/rhsa-2021_5217.json", "sha256")
    _sidecar(root, "2022/evd-f-001.json", "sha256", wrong=True)

    def handler(*args: Any, **kwargs: Any) -> _Handler:
        return _Handler(*args, directory=str(root), **kwargs)

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    (root / "feed-tlp-white.json").write_text(json.dumps(_feed(base)))
    metadata = json.loads((FIXTURES / "example-01-provider-metadata.json").read_text())
    metadata["canonical_url"] = f"{base}/.well-known/csaf/provider-metadata.json"
    metadata["distributions"][0]["rolie"]["feeds"][0]["url"] = f"{base}/feed-tlp-white.json"
    (root / ".well-known" / "csaf").mkdir(parents=True)
    (root / ".well-known/csaf/provider-metadata.json").write_text(json.dumps(metadata))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with override_settings(
            AIPS_CSAF_PROVIDER_HOSTS=["127.0.0.1"],
            AIPS_CSAF_ALLOW_HTTP=True,
            AIPS_CSAF_ALLOW_PRIVATE=True,
            AIPS_CSAF_FETCH_TIMEOUT_SECONDS=5,
        ):
            yield base
    finally:
        server.shutdown()
        server.server_close()


def _outcomes(batch: CsafBatch) -> dict[str, tuple[str, str]]:
    return {
        item.url.split("/", 3)[-1]: (item.state, item.reason) for item in batch.items.order_by("id")
    }


def test_r67_8_uploaded_rolie_feed_becomes_a_batch_of_drafts(
    provider: str, personas: dict[str, User]
) -> None:
    analyst = personas["center_analyst"]
    raw = json.dumps(_feed(provider)).encode()
    batch = csaf_batch.csaf_batch_start(actor=analyst, data=raw, file_name="feed.json")
    # The request only read the feed: nothing was fetched yet.
    assert batch.state == CsafBatchState.RUNNING
    assert batch.items.count() == 6
    assert not Alert.objects.filter(csaf_tracking_id__startswith="RHSA").exists()

    summary = csaf_batch.run()
    assert summary == "0 batch lists read, 6 advisories fetched, 1 batches done"
    batch.refresh_from_db()
    assert batch.state == CsafBatchState.DONE
    outcomes = _outcomes(batch)
    assert outcomes["2022/rhsa-2022_0011.json"] == (CsafItemState.IMPORTED, "")
    assert outcomes["2021/rhsa-2021_5217.json"] == (CsafItemState.IMPORTED, "")
    state, reason = outcomes["2022/evd-f-001.json"]
    assert state == CsafItemState.FAILED
    assert reason.startswith("The SHA256 digest does not match the provider's hash file")
    state, reason = outcomes["mirror/rhsa-2022_0011.json"]
    assert state == CsafItemState.DUPLICATE
    assert reason.startswith("Already imported as VUL-")
    state, reason = outcomes["2022/broken.json"]
    assert state == CsafItemState.FAILED
    assert "This is a ROLIE feed" in reason
    assert outcomes["2023/missing.json"] == (
        CsafItemState.FAILED,
        "The provider answered HTTP 404.",
    )
    assert csaf_batch.batch_counts(batch) == {
        "pending": 0,
        "imported": 2,
        "duplicate": 1,
        "failed": 3,
        "found": 6,
    }
    drafts = Alert.objects.filter(csaf_tracking_id__in=["RHSA-2022:0011", "RHSA-2021:5217"])
    assert {(a.csaf_tracking_id, a.csaf_version, a.state) for a in drafts} == {
        ("RHSA-2022:0011", "1", "draft"),
        ("RHSA-2021:5217", "1", "draft"),
    }
    assert all(a.organization_id == analyst.organization_id for a in drafts)
    events = AuditEvent.objects.filter(event__startswith="alert:batch").order_by("seq")
    assert [e.event for e in events] == ["alert:batch_started", "alert:batch_finished"]
    assert events[1].details["imported"] == 2
    assert events[1].details["duplicates"] == 1
    assert events[1].details["failed"] == 3
    assert AuditEvent.objects.filter(event="alert:created", actor_id=analyst.pk).count() == 2

    # The same feed again: everything already imported is skipped, no second draft.
    again = csaf_batch.csaf_batch_start(actor=analyst, data=raw, file_name="feed.json")
    csaf_batch.run()
    again.refresh_from_db()
    assert csaf_batch.batch_counts(again)["duplicate"] == 3
    assert csaf_batch.batch_counts(again)["imported"] == 0
    assert Alert.objects.filter(csaf_tracking_id="RHSA-2022:0011").count() == 1


def test_r67_8_provider_metadata_by_url_is_read_by_the_worker(
    provider: str, personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    client = client_as("bank_a_maker")
    url = f"{provider}/.well-known/csaf/provider-metadata.json"
    response = client.post(
        "/api/v1/alerts/csaf-batches", {"url": url, "tlp": "GREEN", "level": "high"}
    )
    assert response.status_code == 202, response.content
    started = response.json()
    assert started["state"] == "queued"
    assert started["found"] == 0
    csaf_batch.run(limit=2)
    middle = client.get(f"/api/v1/alerts/csaf-batches/{started['id']}").json()
    assert middle["state"] == "running"
    assert middle["kind"] == "provider_metadata"
    assert middle["title"] == "Example Company ProductCERT"
    assert (middle["found"], middle["pending"]) == (6, 4)
    csaf_batch.run()
    done = client.get(f"/api/v1/alerts/csaf-batches/{started['id']}").json()
    assert done["state"] == "done"
    assert (done["imported"], done["duplicates"], done["failed"]) == (2, 1, 3)
    imported = [i for i in done["items"] if i["state"] == "imported"]
    alert = Alert.objects.get(pk=imported[0]["alert_id"])
    assert alert.organization_id == personas["bank_a_maker"].organization_id
    assert alert.level == "high"
    assert alert.tlp == "GREEN"
    failed = {i["url"].split("/", 3)[-1]: i["reason"] for i in done["items"] if i["reason"]}
    assert failed["2023/missing.json"] == "The provider answered HTTP 404."
    listed = client.get("/api/v1/alerts/csaf-batches").json()
    assert [b["id"] for b in listed] == [started["id"]]
    # Another organization's people do not see the batch: 404, as for anything missing.
    other = client_as("bank_b_maker").get(f"/api/v1/alerts/csaf-batches/{started['id']}")
    assert other.status_code == 404


def test_r67_8_batch_pages_show_counts_and_reasons(
    provider: str, personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    client = client_as("center_analyst")
    assert client.get("/alerts/import/batch/").status_code == 200
    upload = SimpleUploadedFile(
        "feed.json", json.dumps(_feed(provider)).encode(), "application/json"
    )
    response = client.post("/alerts/import/batch/", {"file": upload, "tlp": "AMBER"})
    assert response.status_code == 302
    page_url = response["Location"]
    csaf_batch.run()
    page = client.get(page_url).content.decode()
    assert 'id="batch-found">6<' in page
    assert 'id="batch-imported">2<' in page
    assert 'id="batch-duplicates">1<' in page
    assert 'id="batch-failed">3<' in page
    assert "The provider answered HTTP 404." in page
    assert "RHSA-2022:0011 (version 1)" in page
    listing = client.get("/alerts/batches/").content.decode()
    assert page_url in listing
    # Neither a file nor a URL: said on the form.
    refused = client.post("/alerts/import/batch/", {"tlp": "AMBER"})
    assert refused.status_code == 422
    assert "Give either a file or a URL" in refused.content.decode()


def test_r67_8_an_advisory_instead_of_a_feed_is_refused_with_what_to_do(
    personas: dict[str, User],
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        csaf_batch.csaf_batch_start(
            actor=personas["center_analyst"],
            data=(FIXTURES / "rhsa-2022_0011.json").read_bytes(),
        )
    assert "This is a single advisory" in caught.value.fields["file"][0]


# --- The guard against server-side request forgery ---------------------------------------------


def test_r67_8_ssrf_guard_refuses_hosts_off_the_list_and_plain_http(
    personas: dict[str, User],
) -> None:
    analyst = personas["center_analyst"]
    with override_settings(AIPS_CSAF_PROVIDER_HOSTS=["csaf.example.com"]):
        with pytest.raises(ValidationFailed) as caught:
            csaf_batch.csaf_batch_start(
                actor=analyst, url="https://evil.example.net/provider-metadata.json"
            )
        assert "not on the allow-list (AIPS_CSAF_PROVIDER_HOSTS)" in caught.value.fields["url"][0]
        with pytest.raises(ValidationFailed) as caught:
            csaf_batch.csaf_batch_start(
                actor=analyst, url="http://csaf.example.com/provider-metadata.json"
            )
        assert caught.value.fields["url"] == ["Only https:// URLs are fetched."]
        with pytest.raises(ValidationFailed):
            csaf_batch.csaf_batch_start(
                actor=analyst, url="https://user:pw@csaf.example.com/provider-metadata.json"
            )
        # A provider metadata naming a feed elsewhere is refused before anything is fetched.
        metadata = json.loads((FIXTURES / "example-01-provider-metadata.json").read_text())
        with pytest.raises(ValidationFailed) as caught:
            csaf_batch.csaf_batch_start(actor=analyst, data=json.dumps(metadata).encode())
        assert "www.example.com is not on the allow-list" in caught.value.fields["file"][0]
    assert not CsafBatch.objects.exists()


def test_r67_8_ssrf_guard_refuses_loopback_unless_the_test_setting_allows_it(
    provider: str, personas: dict[str, User]
) -> None:
    with override_settings(AIPS_CSAF_ALLOW_PRIVATE=False):
        batch = csaf_batch.csaf_batch_start(
            actor=personas["center_analyst"], url=f"{provider}/feed-tlp-white.json"
        )
        csaf_batch.run()
    batch.refresh_from_db()
    assert batch.state == CsafBatchState.FAILED
    assert batch.error == (
        "The host 127.0.0.1 resolves to an address that is not public; it is not fetched."
    )
    assert AuditEvent.objects.filter(event="alert:batch_finished").count() == 1
    for address in ("10.0.0.1", "169.254.169.254", "::1", "192.168.1.1", "::ffff:127.0.0.1"):
        rules = Policy(hosts=frozenset({address}), allow_http=True)
        with pytest.raises(FetchRefused, match="not public"):
            fetch(f"http://{address if ':' not in address else f'[{address}]'}/x", rules)


def test_r67_8_redirects_stay_on_the_allow_list_and_size_is_limited(provider: str) -> None:
    rules = Policy(hosts=frozenset({"127.0.0.1"}), allow_http=True, allow_private=True)
    inside = fetch(f"{provider}/redirect-in/x", rules)
    assert json.loads(inside)["document"]["tracking"]["id"] == "RHSA-2022:0011"
    with pytest.raises(FetchRefused, match="localhost is not on the allow-list"):
        fetch(f"{provider}/redirect-away/x", rules)
    small = Policy(
        hosts=frozenset({"127.0.0.1"}), allow_http=True, allow_private=True, max_bytes=1024
    )
    with pytest.raises(FetchRefused, match="larger than the limit of 1 KiB"):
        fetch(f"{provider}/2022/rhsa-2022_0011.json", small)
    with pytest.raises(FetchRefused, match="Only https"):
        check_url(f"{provider}/x", Policy(hosts=frozenset({"127.0.0.1"})))


def test_r67_8_a_worker_job_is_registered() -> None:
    from aips.core.jobs import registered_jobs

    job = next(j for j in registered_jobs() if j.name == "alerts.csaf_batches")
    assert job.concurrent


def test_r67_8_feed_readers_take_links_hashes_and_directories() -> None:
    from aips.center.alerts.csaf_feeds import ListedDocument, read_distribution, read_index_txt

    feed = read_distribution((FIXTURES / "rolie-example-01-feed-tlp-white.json").read_bytes())
    assert feed.kind == "rolie_feed"
    assert feed.title == "Example CSAF feed (TLP:WHITE)"
    assert feed.documents == [
        ListedDocument(
            url="https://psirt.domain.tld/advisories/csaf/2020/2020-ESA-001.json",
            hash_url="https://psirt.domain.tld/advisories/csaf/2020/2020-ESA-001.json.sha512",
        )
    ]
    metadata = json.loads((FIXTURES / "example-01-provider-metadata.json").read_text())
    metadata["distributions"].append({"directory_url": "https://www.example.com/csaf/white/"})
    provider = read_distribution(json.dumps(metadata))
    assert provider.kind == "provider_metadata"
    assert provider.title == "Example Company ProductCERT"
    assert provider.sources == [
        "https://www.example.com/.well-known/csaf/feed-tlp-white.json",
        "https://www.example.com/csaf/white/index.txt",
    ]
    index = b"2023/esa-2023-001.json\n# a comment\n\n2023/esa-2023-001.json\nchanges.csv\n"
    assert read_index_txt(index, url="https://www.example.com/csaf/white/index.txt") == [
        ListedDocument(url="https://www.example.com/csaf/white/2023/esa-2023-001.json")
    ]
