"""STIX 2.1 export: valid per the OASIS validator, deterministic, TLP 2.0 markings."""

import json
from typing import Any

from stix2validator import ValidationOptions, validate_string

from aips.center.exchange import selectors, stix


def _bundle(alerts: list[Any]) -> dict[str, Any]:
    bundle = stix.bundle_of(alerts, selectors.center_identity(), "https://aips.example.kz")
    parsed: dict[str, Any] = json.loads(bundle.serialize())
    return parsed


def test_r67_10_r67_3_5_stix_export_is_valid_per_the_oasis_validator(
    exchange_alerts: dict[str, Any],
) -> None:
    alerts = [exchange_alerts[k] for k in ("green", "vuln", "amber_b", "red_a")]
    text = json.dumps(_bundle(alerts))
    # The validator's "strict" checks too, except that ids be UUIDv4 (ours are v5 on
    # purpose: a re-export gives the same ids) and the TLP 2.0 extension, which it cannot fetch.
    result = validate_string(text, ValidationOptions(version="2.1", strict=False))
    assert result.is_valid, [str(e) for r in result.object_results for e in r.errors]


def test_r67_10_stix_objects_patterns_and_markings(exchange_alerts: dict[str, Any]) -> None:
    green, vuln = exchange_alerts["green"], exchange_alerts["vuln"]
    objects = _bundle([green, vuln])["objects"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_type.setdefault(obj["type"], []).append(obj)
    assert len(by_type["identity"]) == 1
    identity = by_type["identity"][0]["id"]
    patterns = {o["pattern"] for o in by_type["indicator"]}
    assert patterns == {
        "[ipv4-addr:value = '203.0.113.66']",
        "[ipv6-addr:value = '2001:db8::66']",
        "[ipv4-addr:value = '198.51.100.0/24']",
        "[domain-name:value = 'invoice-kz.example.com']",
        "[url:value = 'https://invoice-kz.example.com/pay?id=1']",
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
        "[file:hashes.'SHA-256' = "
        "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
        "[email-addr:value = 'phisher@invoice-kz.example.com']",
    }
    green_marking = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    assert [m["id"] for m in by_type["marking-definition"]] == [green_marking]
    marking = by_type["marking-definition"][0]
    assert marking["name"] == "TLP:GREEN"
    assert marking["extensions"][stix.TLP2_EXTENSION]["tlp_2_0"] == "green"
    for obj in by_type["indicator"] + by_type["report"] + by_type["vulnerability"]:
        assert obj["created_by_ref"] == identity
        assert obj["object_marking_refs"] == [green_marking]
    reports = {r["name"]: r for r in by_type["report"]}
    threat = reports["Green broadcast"]
    assert set(threat["object_refs"]) == {o["id"] for o in by_type["indicator"]}
    assert threat["report_types"] == ["threat-report"]
    vulnerability = by_type["vulnerability"][0]
    assert vulnerability["name"] == "CVE-2024-3400"
    assert vulnerability["external_references"][0] == {
        "source_name": "cve",
        "external_id": "CVE-2024-3400",
        "url": "https://nvd.nist.gov/vuln/detail/CVE-2024-3400",
    }
    assert reports["Critical VPN gateway flaw"]["object_refs"] == [vulnerability["id"]]


def test_r67_10_stix_ids_are_stable_across_exports(exchange_alerts: dict[str, Any]) -> None:
    alerts = [exchange_alerts["green"], exchange_alerts["red_b"]]
    first = {o["id"]: o for o in _bundle(alerts)["objects"]}
    again = {o["id"]: o for o in _bundle(alerts)["objects"]}
    assert first == again
    red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    assert red in first


def test_every_tlp_has_the_oasis_marking() -> None:
    assert {stix.tlp_marking(level).name for level in stix.TLP2_IDS} == {
        "TLP:CLEAR",
        "TLP:GREEN",
        "TLP:AMBER",
        "TLP:AMBER+STRICT",
        "TLP:RED",
    }
    assert stix.pattern_of("unknown-kind", "x") is None
    assert (
        stix.pattern_of("domain", "o'brien.example") == "[domain-name:value = 'o\\'brien.example']"
    )
