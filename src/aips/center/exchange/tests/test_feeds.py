"""Block-lists and the MISP feed: per caller, per TLP audience, read back by PyMISP."""

import hashlib
import json
from typing import Any

from django.test import Client
from pymisp import MISPEvent

from aips.center.exchange import feeds
from aips.center.exchange.tests.conftest import module_token, person_token


def _get(path: str, token: str) -> Any:
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def _lines(text: str) -> tuple[list[str], set[str]]:
    lines = text.splitlines()
    return [line for line in lines if line.startswith("# ")], {
        line for line in lines if not line.startswith("#")
    }


def test_r67_10_r67_8_blocklists_per_caller_and_tlp(
    personas: dict[str, Any], exchange_alerts: dict[str, Any]
) -> None:
    a = person_token(personas["bank_a_head"])
    b = person_token(personas["bank_b_head"])
    b_module = module_token(personas["bank_b_head"].organization)

    response = _get("/exports/blocklist/ip.txt", a)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    header, a_ips = _lines(response.content.decode())
    assert header[0] == "# AIPS block-list: ip"
    assert header[1].startswith("# Generated: ")
    assert {"203.0.113.66", "2001:db8::66", "198.51.100.0/24"} <= a_ips
    assert not {"192.0.2.11", "192.0.2.12"} & a_ips  # bank B's AMBER and RED

    _header, b_ips = _lines(_get("/exports/blocklist/ip.txt", b).content.decode())
    assert {"203.0.113.66", "192.0.2.11", "192.0.2.12"} <= b_ips
    # Only what TLP:CLEAR and GREEN allow, for a device run by a third party.
    _header, b_green = _lines(_get("/exports/blocklist/ip.txt?tlp=CLEAR,GREEN", b).content.decode())
    assert "203.0.113.66" in b_green
    assert "192.0.2.11" not in b_green
    # A module: AMBER yes, RED no (only named people read RED content).
    _header, m_ips = _lines(_get("/exports/blocklist/ip.txt", b_module).content.decode())
    assert "192.0.2.11" in m_ips
    assert "192.0.2.12" not in m_ips

    _header, domains = _lines(_get("/exports/blocklist/domain.txt", a).content.decode())
    assert {"invoice-kz.example.com", "a-amber.example.org", "red-a.example.org"} <= domains
    assert "b-only.example.net" not in domains
    _header, urls = _lines(_get("/exports/blocklist/url.txt", a).content.decode())
    assert urls == {"https://invoice-kz.example.com/pay?id=1"}
    _header, sha = _lines(_get("/exports/blocklist/sha256.txt", a).content.decode())
    assert sha == {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
    _header, md5 = _lines(_get("/exports/blocklist/md5.txt", a).content.decode())
    assert md5 == {"d41d8cd98f00b204e9800998ecf8427e"}

    assert _get("/exports/blocklist/registry.txt", a).status_code == 404
    _header, strict = _lines(_get("/exports/blocklist/ip.txt?tlp=AMBER+STRICT", b).content.decode())
    assert strict == set()
    bad = _get("/exports/blocklist/ip.txt?tlp=PURPLE", a)
    assert bad.status_code == 422
    assert set(bad.json()["error"]) == {"code", "message", "fields", "request_id"}
    assert Client().get("/exports/blocklist/ip.txt").status_code == 401
    assert _get("/exports/blocklist/ip.txt", "aips_not-a-token").status_code == 401


def test_r67_10_misp_feed_read_back_by_pymisp(
    personas: dict[str, Any], exchange_alerts: dict[str, Any]
) -> None:
    a = person_token(personas["bank_a_head"])
    manifest = _get("/misp-feed/manifest.json", a).json()
    green = exchange_alerts["green"]
    red_b = exchange_alerts["red_b"]
    assert feeds.event_uuid(green) in manifest
    assert feeds.event_uuid(red_b) not in manifest
    for event_uuid, entry in manifest.items():
        response = _get(f"/misp-feed/{event_uuid}.json", a)
        assert response.status_code == 200
        event = MISPEvent()
        event.load(response.content.decode())
        assert event.uuid == event_uuid
        # PyMISP's own manifest of the event it loaded matches the one served.
        theirs = event.manifest[event_uuid]
        for key in ("info", "date", "threat_level_id", "analysis", "Orgc"):
            assert str(theirs[key]) == str(entry[key]), key
        assert str(theirs["timestamp"]) == str(entry["timestamp"])
        assert [t["name"] for t in theirs["Tag"]] == [t["name"] for t in entry["Tag"]]
        # And its feed output carries the attributes as served.
        feed = event.to_feed()["Event"]
        assert {a["value"] for a in feed.get("Attribute", [])} == {
            a["value"] for a in json.loads(response.content)["Event"].get("Attribute", [])
        }
    event = MISPEvent()
    event.load(_get(f"/misp-feed/{feeds.event_uuid(green)}.json", a).content.decode())
    types = {(attr.type, attr.value) for attr in event.attributes}
    assert ("ip-dst", "203.0.113.66") in types
    assert ("domain", "invoice-kz.example.com") in types
    assert ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") in types
    assert "tlp:green" in {t.name for t in event.tags}
    # hashes.csv: md5(value),event uuid for every attribute of every event served.
    hashes = _get("/misp-feed/hashes.csv", a).content.decode().splitlines()
    digest = hashlib.md5(b"203.0.113.66", usedforsecurity=False).hexdigest()
    assert f"{digest},{feeds.event_uuid(green)}" in hashes
    red_digest = hashlib.md5(b"192.0.2.12", usedforsecurity=False).hexdigest()
    assert not [line for line in hashes if line.startswith(red_digest)]
    # Another organization's event: 404, as if it did not exist.
    assert _get(f"/misp-feed/{feeds.event_uuid(red_b)}.json", a).status_code == 404
    assert Client().get("/misp-feed/manifest.json").status_code == 401
