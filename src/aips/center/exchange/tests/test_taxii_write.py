"""TAXII 2.1 Add Objects and Get Status: an organization's maker adds STIX objects to its own
submissions collection (with taxii2-client against a live server), they become draft alerts of
the organization for its head to approve, and the status is the poster organization's alone.
Also: Retry-After on the feeds' 429s, and one journal entry per restricted response."""

import json
from typing import Any

import pytest
import stix2
from django.core.cache import cache
from django.test import Client
from taxii2client.v21 import Server

from aips.center.exchange import stix, taxii
from aips.center.exchange.tests.conftest import module_token, person_token
from aips.shared.audit.models import AuditEvent

TAXII = "application/taxii+json;version=2.1"


def _envelope() -> dict[str, Any]:
    partner = stix2.Identity(name="Bank A SOC", identity_class="organization")
    indicator = stix2.Indicator(
        name="c2",
        pattern="[domain-name:value = 'c2.bank-a-seen.example']",
        pattern_type="stix",
        valid_from="2026-01-01T00:00:00Z",
        object_marking_refs=[stix.tlp_marking("AMBER").id],
    )
    report = stix2.Report(
        name="Phishing wave seen at bank A",
        published="2026-01-02T00:00:00Z",
        object_refs=[indicator.id],
        created_by_ref=partner.id,
    )
    malware = stix2.Malware(name="dropper", is_family=False)
    objects = [partner, stix.tlp_marking("AMBER"), indicator, report, malware]
    return {"objects": [json.loads(o.serialize()) for o in objects]}


@pytest.mark.django_db(transaction=True)
def test_r67_10_taxii_add_objects_makes_drafts_and_a_private_status(
    live_server: Any, personas: dict[str, Any]
) -> None:
    from aips.center.alerts.models import Alert

    maker = personas["bank_a_maker"]
    server = Server(f"{live_server.url}/taxii2/", user="m", password=person_token(maker))
    root = server.api_roots[0]
    [submissions] = [c for c in root.collections if c.can_write]
    assert not submissions.can_read
    assert submissions.id == taxii.submissions_collection(maker.organization_id).id

    envelope = _envelope()
    status = submissions.add_objects(envelope)
    assert status.status == "complete"
    assert status.total_count == 5
    assert status.success_count == 4  # the report, its indicator, the identity, the marking
    assert status.failure_count == 1
    assert status.failures[0]["id"] == envelope["objects"][4]["id"]
    assert status.pending_count == 0
    report_id = envelope["objects"][3]["id"]
    [done] = [s for s in status.successes if s["id"] == report_id]
    assert done["version"] == envelope["objects"][3]["modified"]

    draft = Alert.objects.get(title="Phishing wave seen at bank A")
    assert draft.state == "draft"
    assert draft.organization_id == maker.organization_id
    assert draft.created_by_id == maker.pk
    assert draft.tlp == "AMBER"
    assert done["message"] == f"draft {draft.reference}"
    entry = AuditEvent.objects.get(event="exchange:taxii_submitted", target_id=str(status.id))
    assert entry.details["alerts"] == [draft.pk]

    # The status, again by the client (TAXII's Get Status) and by the organization's head.
    status.refresh()
    assert status.success_count == 4
    url = f"/taxii2/aips/status/{status.id}/"
    head = Client(HTTP_AUTHORIZATION=f"Bearer {person_token(personas['bank_a_head'])}")
    assert head.get(url, HTTP_ACCEPT=TAXII).json()["id"] == status.id
    # Anyone else, the center included: 404, as if it did not exist.
    for other in ("bank_b_head", "center_admin"):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {person_token(personas[other])}")
        refused = client.get(url, HTTP_ACCEPT=TAXII)
        assert refused.status_code == 404, other
        assert refused.json()["http_status"] == "404"


def test_r67_10_taxii_add_objects_protocol(personas: dict[str, Any], settings: Any) -> None:
    maker = personas["bank_a_maker"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {person_token(maker)}", HTTP_ACCEPT=TAXII)
    mine = taxii.submissions_collection(maker.organization_id).id
    theirs = taxii.submissions_collection(personas["bank_b_head"].organization_id).id
    read_only = taxii.collections()[0].id
    body = json.dumps(_envelope())

    def post(
        collection_id: str, data: str = body, content_type: str = TAXII, c: Any = client
    ) -> Any:
        return c.post(
            f"/taxii2/aips/collections/{collection_id}/objects/", data, content_type=content_type
        )

    # The wrong media type: 415; not an envelope: 400; read collections: 403; another
    # organization's submissions: 404; reading one's own submissions: 403.
    assert post(mine, content_type="application/json").status_code == 415
    bad = post(mine, data='{"objects": []}')
    assert bad.status_code == 400
    assert bad["Content-Type"] == TAXII
    assert set(bad.json()) <= {"title", "description", "http_status", "error_id"}
    assert post(read_only).status_code == 403
    assert post(theirs).status_code == 404
    assert client.get(f"/taxii2/aips/collections/{mine}/objects/").status_code == 403
    # Not valid STIX: accepted as a request, every object failed with the reason, no draft.
    broken = json.dumps({"objects": [{"type": "report", "id": "report--nope"}]})
    answer = post(mine, data=broken)
    assert answer.status_code == 202
    assert answer.json()["failure_count"] == 1
    assert "not valid STIX" in answer.json()["failures"][0]["message"]
    # A viewer (no exchange:submit) and a module (reads only) are not offered the collection.
    viewer = Client(HTTP_AUTHORIZATION=f"Bearer {person_token(personas['bank_a_viewer'])}")
    assert post(mine, c=viewer).status_code == 404
    module = Client(HTTP_AUTHORIZATION=f"Bearer {module_token(maker.organization)}")
    assert post(mine, c=module).status_code == 404
    # Larger than the server takes: 413 (the API root says how much it takes).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    too_big = post(mine)
    assert too_big.status_code == 413
    assert client.get("/taxii2/aips/").json()["max_content_length"] == 1000


def test_r57_28_1_feed_429_carries_retry_after(personas: dict[str, Any], settings: Any) -> None:
    """The feeds' 429 says when to come back: the rest of the fixed window (core.ratelimit),
    as the REST API's 429 does."""
    cache.clear()
    settings.AIPS_BAD_TOKEN_RATE_IP = "2/m"
    wrong = Client(HTTP_AUTHORIZATION="Bearer aips_wrong", HTTP_ACCEPT=TAXII)
    assert wrong.get("/taxii2/").status_code == 401
    assert wrong.get("/taxii2/").status_code == 401
    for path in ("/taxii2/", "/exports/blocklist/ip.txt", "/misp-feed/manifest.json"):
        limited = wrong.get(path)
        assert limited.status_code == 429, path
        assert 1 <= int(limited["Retry-After"]) <= 60, path
    # The TAXII one is TAXII's error object, the others the API's error shape.
    assert wrong.get("/taxii2/").json()["http_status"] == "429"
    api = wrong.get("/api/v1/alerts")
    assert api.status_code == 429
    assert 1 <= int(api["Retry-After"]) <= 60
    cache.clear()


def test_r57_17_one_journal_entry_per_restricted_response(
    personas: dict[str, Any], exchange_alerts: dict[str, Any]
) -> None:
    """A block-list carrying two restricted alerts writes one entry naming both (decision 0045),
    not one per alert."""
    from aips.center.exchange.tests.conftest import publish

    second = publish(
        personas, title="Second red", tlp="RED", to=["bank_a_head"], indicators=["192.0.2.99"]
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {person_token(personas['bank_a_head'])}")
    before = AuditEvent.objects.count()
    assert client.get("/exports/blocklist/domain.txt").status_code == 200
    assert client.get("/exports/blocklist/ip.txt").status_code == 200
    entries = list(AuditEvent.objects.filter(event="exchange:restricted_served").order_by("seq"))
    assert len(entries) == 2  # one per response
    assert AuditEvent.objects.count() == before + 2
    ip_list = entries[-1]
    assert ip_list.details["count"] == 1
    assert [a["id"] for a in ip_list.details["alerts"]] == [second.pk]
    assert ip_list.target_id == str(second.pk)  # a single alert is the entry's target too
    # The RED TAXII collection carries both of bank A's RED alerts: one entry, both listed.
    red = next(c for c in taxii.collections() if c.tlp == "RED")
    taxii_client = Client(
        HTTP_AUTHORIZATION=f"Bearer {person_token(personas['bank_a_head'])}", HTTP_ACCEPT=TAXII
    )
    taxii_client.get(f"/taxii2/aips/collections/{red.id}/objects/")
    last = AuditEvent.objects.filter(event="exchange:restricted_served").order_by("-seq").first()
    assert last is not None
    assert {a["id"] for a in last.details["alerts"]} == {exchange_alerts["red_a"].pk, second.pk}
    assert last.target_id == ""
