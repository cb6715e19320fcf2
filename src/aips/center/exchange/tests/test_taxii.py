"""TAXII 2.1 with a real client (OASIS's taxii2-client) against a live server: discovery, API
root, collections, objects with added_after and pagination, manifests, one object; and each
organization gets exactly what it may read."""

from typing import Any

import pytest
from django.test import Client
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from aips.center.exchange import taxii
from aips.center.exchange.tests.conftest import module_token, person_token

TAXII = "application/taxii+json;version=2.1"


def _alerts_collection(root: ApiRoot) -> Collection:
    return next(c for c in root.collections if c.title == "Published alerts")


def _all_objects(collection: Collection, per_request: int, **filters: Any) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for envelope in as_pages(collection.get_objects, per_request=per_request, **filters):
        objects.extend(envelope.get("objects", []))
    return objects


def _values(objects: list[dict[str, Any]]) -> set[str]:
    return {o["name"] for o in objects if o["type"] in ("indicator", "report")}


@pytest.mark.django_db(transaction=True)
def test_r67_10_r67_8_taxii_client_reads_what_each_organization_may_see(
    live_server: Any, personas: dict[str, Any], exchange_alerts: dict[str, Any]
) -> None:
    a_head = person_token(personas["bank_a_head"])
    b_head = person_token(personas["bank_b_head"])
    a_module = module_token(personas["bank_a_head"].organization)
    url = f"{live_server.url}/taxii2/"

    # Discovery → API root → collections, with the token as the Basic password.
    server = Server(url, user="bank-a", password=a_head)
    assert server.title == "AIPS threat intelligence"
    root = server.api_roots[0]
    assert root.versions == [TAXII]
    collection = _alerts_collection(root)
    assert collection.can_read
    assert not collection.can_write
    # Everything, one per TLP label, and (the head may submit) bank A's submissions.
    assert len(root.collections) == 7

    # Pagination: two objects a page, followed to the end.
    a_objects = _all_objects(collection, per_request=2)
    for obj in a_objects:
        assert validate_instance(obj, ValidationOptions(version="2.1")).is_valid, obj["id"]
    a_names = _values(a_objects)
    assert {"Green broadcast", "Critical VPN gateway flaw", "Amber for bank A"} <= a_names
    assert "Red for bank A" in a_names  # the head is a named reader of bank A's RED alert
    assert "red-a.example.org" in a_names
    # Bank B's AMBER and RED alerts, addressed to bank B only, never reach bank A.
    assert not {"Amber for bank B", "Red for bank B", "b-only.example.net"} & a_names
    assert not {"red-b.example.net", "192.0.2.11", "192.0.2.12"} & a_names
    assert len({o["id"] for o in a_objects}) == len(a_objects)  # no repeats across pages

    # Bank B: its own, not bank A's.
    b_server = Server(url, user="bank-b", password=b_head)
    b_names = _values(_all_objects(_alerts_collection(b_server.api_roots[0]), per_request=50))
    assert {"Amber for bank B", "Red for bank B", "red-b.example.net"} <= b_names
    assert not {"Amber for bank A", "Red for bank A", "a-amber.example.org"} & b_names

    # A module reads its organization's alerts but no restricted content (nobody named it).
    m_server = Server(url, user="siem", password=a_module)
    m_names = _values(_all_objects(_alerts_collection(m_server.api_roots[0]), per_request=100))
    assert {"Green broadcast", "Amber for bank A"} <= m_names
    assert not {"Red for bank A", "red-a.example.org", "Amber for bank B"} & m_names

    # added_after: only what was added later (the later alerts' objects).
    green = exchange_alerts["green"]
    later = _all_objects(collection, per_request=100, added_after=green.published_at)
    assert "Green broadcast" not in _values(later)
    assert "Amber for bank A" in _values(later)

    # Manifest and one object.
    manifest = collection.get_manifest()
    assert {e["id"] for e in manifest["objects"]} == {o["id"] for o in a_objects}
    report = next(o for o in a_objects if o["type"] == "report")
    one = collection.get_object(report["id"])
    assert one["objects"] == [report]

    # Bank A's token asking for a bank B object by id: 404, as if it did not exist.
    b_report = next(
        o
        for o in _all_objects(_alerts_collection(b_server.api_roots[0]), per_request=100)
        if o["type"] == "report" and o["name"] == "Red for bank B"
    )
    with pytest.raises(Exception, match="404"):
        collection.get_object(b_report["id"])

    # Without a token, or with a wrong one: 401.
    with pytest.raises(Exception, match="401"):
        Server(url).title  # noqa: B018
    with pytest.raises(Exception, match="401"):
        Server(url, user="x", password="aips_wrong").title  # noqa: B018


def test_r67_10_taxii_tlp_collections_and_protocol_errors(
    personas: dict[str, Any], exchange_alerts: dict[str, Any]
) -> None:
    token = person_token(personas["bank_a_head"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT=TAXII)
    base = "/taxii2/aips/collections/"
    collections = client.get(base).json()["collections"]
    green = next(c for c in collections if c["title"] == "Published alerts, TLP:GREEN")
    response = client.get(f"{base}{green['id']}/objects/")
    assert response.status_code == 200
    assert response["Content-Type"] == TAXII
    assert response["X-TAXII-Date-Added-First"] <= response["X-TAXII-Date-Added-Last"]
    markings = {o["id"] for o in response.json()["objects"] if o["type"] == "marking-definition"}
    assert markings == {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"}
    names = {o.get("name") for o in response.json()["objects"]}
    assert "Amber for bank A" not in names
    assert "Green broadcast" in names
    # Handing out TLP:RED content is on the record, as opening the alert is (0029): one entry
    # for the response, naming the alert (0045).
    from aips.shared.audit.models import AuditEvent

    red = next(c for c in collections if c["title"] == "Published alerts, TLP:RED")
    red_a = exchange_alerts["red_a"]
    served = AuditEvent.objects.filter(event="exchange:restricted_served")
    assert not served.exists()
    names = {o.get("name") for o in client.get(f"{base}{red['id']}/objects/").json()["objects"]}
    assert "Red for bank A" in names
    assert "Red for bank B" not in names
    [entry] = served
    assert entry.target_id == str(red_a.pk)
    assert entry.details["alerts"] == [{"id": red_a.pk, "reference": red_a.reference, "tlp": "RED"}]
    # 406 for a media type TAXII 2.1 does not serve; TAXII's error object.
    refused = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="text/html").get(base)
    assert refused.status_code == 406
    assert refused.json()["http_status"] == "406"
    assert set(refused.json()) <= {"title", "description", "http_status", "error_id"}
    # 404 for an unknown collection, 400 for a bad added_after, 401 without a token.
    assert client.get(f"{base}nope/objects/").status_code == 404
    bad = client.get(f"{base}{green['id']}/objects/?added_after=yesterday")
    assert bad.status_code == 400
    anonymous = Client(HTTP_ACCEPT=TAXII).get(base)
    assert anonymous.status_code == 401
    assert "Basic" in anonymous["WWW-Authenticate"]
    assert anonymous.json()["http_status"] == "401"
    # POST is not offered on the list of collections.
    assert client.post(base).status_code == 405


def test_taxii_paging_and_timestamps() -> None:
    entries: list[Any] = list(range(5))
    page = taxii.paginate(entries, limit=2, start=4)
    assert list(page.entries) == [entries[4]]
    assert not page.more
    assert page.next is None
    page = taxii.paginate(entries, limit=2, start=0)
    assert page.more
    assert page.next == "2"
    assert taxii.parse_timestamp("2026-01-01T00:00:00Z") is not None
    assert taxii.parse_timestamp("2026-01-01") is None
