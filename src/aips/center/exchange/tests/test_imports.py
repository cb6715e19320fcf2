"""A partner's STIX 2.1 bundle or MISP event into draft alerts; bad files answer 422."""

import json
from typing import Any

import stix2
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pymisp import MISPEvent

from aips.center.exchange import feeds, selectors, services, stix
from aips.center.exchange.tests.conftest import person_token


def _upload(client: Client, path: str, content: bytes, token: str) -> Any:
    return client.post(
        path,
        {"file": SimpleUploadedFile("intel.json", content, "application/json")},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_r67_10_stix_round_trip_export_then_import(
    personas: dict[str, Any], exchange_alerts: dict[str, Any]
) -> None:
    green = exchange_alerts["green"]
    bundle = stix.bundle_of([green], selectors.center_identity()).serialize()
    [draft] = services.stix_import(actor=personas["bank_a_maker"], data=bundle.encode())
    assert draft.state == "draft"
    assert draft.organization_id == personas["bank_a_maker"].organization_id
    assert draft.title == green.title
    assert draft.tlp == "GREEN"
    assert {i["value"] for i in draft.indicators} == {i["value"] for i in green.indicators}


def test_r67_10_partner_bundle_markings_patterns_and_what_is_skipped(
    personas: dict[str, Any],
) -> None:
    partner = stix2.Identity(name="Partner CERT", identity_class="organization")
    red = stix.tlp_marking("RED")
    either = stix2.Indicator(
        pattern="[ipv4-addr:value = '192.0.2.50'] OR [domain-name:value = 'c2.example.net']",
        pattern_type="stix",
        valid_from="2026-01-01T00:00:00Z",
        object_marking_refs=[red.id],
        created_by_ref=partner.id,
    )
    complex_one = stix2.Indicator(
        pattern="[network-traffic:dst_port = 4444]",
        pattern_type="stix",
        valid_from="2026-01-01T00:00:00Z",
    )
    yara = stix2.Indicator(
        pattern="rule x { condition: true }", pattern_type="yara", valid_from="2026-01-01T00:00:00Z"
    )
    vulnerability = stix2.Vulnerability(
        name="CVE-2023-4966",
        external_references=[{"source_name": "cve", "external_id": "CVE-2023-4966"}],
    )
    report = stix2.Report(
        name="Partner report",
        description="Citrix Bleed exploitation.",
        published="2026-01-02T00:00:00Z",
        object_refs=[either.id, complex_one.id, yara.id, vulnerability.id],
        created_by_ref=partner.id,
        allow_custom=True,
        x_partner_score=90,
    )
    bundle = stix2.Bundle(
        objects=[partner, red, either, complex_one, yara, vulnerability, report], allow_custom=True
    )
    [draft] = services.stix_import(
        actor=personas["center_analyst"], data=bundle.serialize().encode()
    )
    assert draft.tlp == "RED"  # a stricter marking on any member keeps the draft at it
    assert draft.source == "Partner CERT"
    assert {i["value"] for i in draft.indicators} == {"192.0.2.50", "c2.example.net"}
    assert draft.cve_ids == ["CVE-2023-4966"]
    assert "Not imported (2)" in draft.description
    assert "network-traffic:dst_port" in draft.description
    assert "yara" in draft.description


def test_r67_10_invalid_bundles_answer_422(personas: dict[str, Any]) -> None:
    client = Client()
    token = person_token(personas["bank_a_maker"])
    path = "/api/v1/exchange/stix-import"
    not_json = _upload(client, path, b"not json", token)
    assert not_json.status_code == 422
    assert "not JSON" in not_json.json()["error"]["fields"]["file"][0]
    bad = {"type": "bundle", "id": "bundle--1", "objects": [{"type": "indicator"}]}
    invalid = _upload(client, path, json.dumps(bad).encode(), token)
    assert invalid.status_code == 422
    assert "not valid STIX 2.1" in invalid.json()["error"]["fields"]["file"][0]
    v20 = {"type": "bundle", "id": "bundle--1", "spec_version": "2.0", "objects": []}
    assert _upload(client, path, json.dumps(v20).encode(), token).status_code == 422
    assert _upload(client, path, b'{"type": "report"}', token).status_code == 422
    # A viewer may not write alerts, so may not import them.
    viewer = person_token(personas["bank_a_viewer"])
    assert _upload(client, path, b"{}", viewer).status_code == 403


def test_r67_10_stix_import_through_the_api(personas: dict[str, Any]) -> None:
    indicator = stix2.Indicator(
        pattern="[url:value = 'http://bad.example.org/x']",
        pattern_type="stix",
        valid_from="2026-01-01T00:00:00Z",
    )
    bundle = stix2.Bundle(objects=[indicator]).serialize().encode()
    token = person_token(personas["bank_a_maker"])
    response = _upload(Client(), "/api/v1/exchange/stix-import", bundle, token)
    assert response.status_code == 201, response.content
    [out] = response.json()
    assert out["tlp"] == "AMBER"
    assert out["indicators"] == 1
    assert out["kind"] == "threat"


def test_r67_10_misp_event_into_a_draft(
    personas: dict[str, Any], exchange_alerts: dict[str, Any]
) -> None:
    # Our own feed's event, read back into a draft.
    green = exchange_alerts["green"]
    served = feeds.misp_event(green, "AIPS", "00000000-0000-0000-0000-000000000000")
    draft = services.misp_import(actor=personas["bank_a_maker"], data=json.dumps(served).encode())
    assert draft.tlp == "GREEN"
    assert draft.level == "high"
    assert {i["value"] for i in draft.indicators} == {i["value"] for i in green.indicators}
    # An event as PyMISP writes it, with a composite attribute and one AIPS does not keep.
    event = MISPEvent()
    event.info = "Partner phishing wave"
    event.threat_level_id = 2
    event.add_tag("tlp:amber")
    event.add_attribute("ip-dst|port", "192.0.2.70|443")
    event.add_attribute("filename|sha256", "x.exe|" + "a" * 64)
    event.add_attribute("vulnerability", "CVE-2024-3400")
    event.add_attribute("text", "free text")
    response = _upload(
        Client(),
        "/api/v1/exchange/misp-import",
        event.to_json().encode(),
        person_token(personas["bank_a_maker"]),
    )
    assert response.status_code == 201, response.content
    [out] = response.json()
    assert out["tlp"] == "AMBER"
    assert out["indicators"] == 2
    assert out["cve_ids"] == ["CVE-2024-3400"]
    bad = _upload(
        Client(), "/api/v1/exchange/misp-import", b"[]", person_token(personas["bank_a_maker"])
    )
    assert bad.status_code == 422


def test_r67_10_import_page(client_as: Any, personas: dict[str, Any]) -> None:
    client = client_as("center_analyst")
    assert client.get("/exchange/import/").status_code == 200
    indicator = stix2.Indicator(
        pattern="[domain-name:value = 'page.example.org']",
        pattern_type="stix",
        valid_from="2026-01-01T00:00:00Z",
    )
    upload = SimpleUploadedFile("b.json", stix2.Bundle(objects=[indicator]).serialize().encode())
    response = client.post("/exchange/import/", {"format": "stix", "file": upload})
    assert response.status_code == 302
    assert "/alerts/" in response["Location"]
    bad = client.post(
        "/exchange/import/", {"format": "stix", "file": SimpleUploadedFile("b.json", b"{}")}
    )
    assert bad.status_code == 422
    assert b"STIX 2.1 bundle is expected" in bad.content
