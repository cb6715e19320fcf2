"""R67.8 (via R67.3.8): each input's native records become schema-v1 signals (or detector
observations); unreadable records raise Malformed, irrelevant ones yield nothing."""

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from aips_agent import signals as s
from aips_agent.events import AuthFailure, Connection, Dropped, Malformed, NoEventTime
from aips_agent.mappers import FACTORIES, MapContext

DATA = Path(__file__).parent / "data"
ALMATY = ZoneInfo("Asia/Almaty")


def run(input_type: str, file: str, **options: Any) -> list[Any]:
    mapper = FACTORIES[input_type](MapContext(sensor="agent-1", tz=ALMATY, options=options))
    out: list[Any] = []
    for line in (DATA / file).read_bytes().splitlines():
        try:
            out.append(real(mapper(line)))
        except Malformed as exc:
            out.append(exc)
    return out


def real(items: list[Any]) -> list[Any]:
    """What a mapper made, without its notes (Dropped records, NoEventTime warnings)."""
    return [i for i in items if not isinstance(i, Dropped | NoEventTime)]


def as_dict(signal: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(s.encode(signal))
    return data


def test_r67_3_8_suricata_eve_alerts_become_ids_signals_and_flows_feed_the_scan_detector() -> None:
    alert, stats, flow, outbound, garbage, no_alert = run("suricata_eve", "eve.json")
    [signal] = alert
    data = as_dict(signal)
    assert data["kind"] == "ids"
    assert data["observed_at"] == "2026-11-22T10:00:00.123456+06:00"
    assert data["product"] == "Suricata"
    assert data["vendor"] == "OISF"
    assert data["sensor"] == "ids-dmz-1"
    assert data["severity"] == "high"  # Suricata severity 1
    assert data["rule_id"] == "2024897"
    assert data["rule_name"].startswith("ET EXPLOIT Possible Apache Struts")
    assert (data["src_ip"], data["src_port"], data["dst_ip"], data["dst_port"]) == (
        "203.0.113.7",
        51234,
        "10.1.2.3",
        443,
    )
    assert data["protocol"] == "TCP"
    assert data["direction"] == "external"
    assert data["category"] == "Attempted Administrator Privilege Gain"
    assert data["action"] == "allowed"
    assert set(data) <= s.FIELDS["ids"] | {"kind"}
    assert stats == []
    [connection] = flow
    assert isinstance(connection, Connection)
    assert (connection.src_ip, connection.dst_ip, connection.dst_port) == (
        "198.51.100.9",
        "10.1.2.4",
        22,
    )
    out = as_dict(outbound[0])
    assert out["direction"] == "internal"
    assert "severity" not in out  # medium is the default: omitted
    assert isinstance(garbage, Malformed)
    assert isinstance(no_alert, Malformed)


def test_r67_3_8_modsecurity_v3_and_v2_audit_logs_become_waf_signals() -> None:
    v3, clean, v2, garbage = run("modsecurity", "modsec_audit.json")
    data = as_dict(v3[0])
    assert data["kind"] == "waf"
    assert data["url"] == "/search?q=<script>alert(1)</script>"
    assert data["method"] == "GET"
    assert data["host"] == "ib.alataubank.kz"
    assert data["status"] == 403
    assert data["src_ip"] == "203.0.113.50"
    assert data["src_port"] == 54022
    assert data["dst_ip"] == "10.1.2.10"
    assert data["dst_port"] == 443
    # The most severe message wins: 949110 has severity 0 (emergency).
    assert data["rule_id"] == "949110"
    assert data["severity"] == "critical"
    assert data["observed_at"] == "2026-11-22T10:05:00+05:00"
    assert data["product_version"] == "ModSecurity v3.0.12 (Linux)"
    assert clean == []
    w2 = as_dict(v2[0])
    assert w2["rule_id"] == "942100"
    assert w2["rule_name"] == "SQL Injection Attack Detected via libinjection"
    assert w2["url"] == "/wp-login.php"
    assert w2["method"] == "POST"
    assert w2["status"] == 403
    assert w2["severity"] == "high"
    assert w2["observed_at"] == "2026-11-22T10:06:00+06:00"
    assert isinstance(garbage, Malformed)


def test_r67_3_8_wazuh_alerts_become_malware_or_endpoint_signals() -> None:
    virus, rootcheck, routine, broken = run("wazuh", "wazuh_alerts.json")
    data = as_dict(virus[0])
    assert data["kind"] == "malware"
    assert data["file_name"] == "/home/ops/Downloads/invoice.exe"
    assert data["md5"] == "44d88612fea8a8f36de82e1278abb02f"
    assert data["sha1"] == "3395856ce81f2b7382dee72602f798b642f14140"
    assert data["host"] == "ws-acc-014"
    assert data["severity"] == "high"
    data = as_dict(rootcheck[0])
    assert data["kind"] == "endpoint"
    assert data["host"] == "srv-core-02"
    assert data["detection"] == "Host-based anomaly detection event (rootcheck)."
    assert data["severity"] == "high"
    assert routine == []  # level 3 < min_level 7
    assert isinstance(broken, Malformed)


def test_r67_3_8_clamav_found_lines_become_malware_signals() -> None:
    clamd, ok, syslog, clamscan, selfcheck, broken = run("clamav", "clamav.log")
    data = as_dict(clamd[0])
    assert data["kind"] == "malware"
    assert data["file_name"] == "/var/spool/exim/scan/1rXyZ-0001/invoice.zip"
    assert data["detection"] == "Win.Test.EICAR_HDB-1"
    assert data["observed_at"] == "2026-11-22T10:15:00+05:00"
    assert ok == []
    assert selfcheck == []
    data = as_dict(syslog[0])
    assert data["file_name"] == "/srv/share/in/report: q1.docm"  # a ": " inside the path
    assert data["detection"] == "Doc.Downloader.Emotet-7032651-0"
    assert data["host"] == "mx1"
    data = as_dict(clamscan[0])
    assert data["file_name"] == "/tmp/eicar.com"  # noqa: S108 - a sample path
    assert isinstance(broken, Malformed)


def test_r67_3_8_jsonl_with_a_field_mapping_makes_phishing_signals() -> None:
    options = {
        "kind": "phishing",
        "match": {"verdict": "phishing"},
        "fields": {
            "observed_at": "ts",
            "sender": "envelope.from",
            "recipient_count": "envelope.rcpt_count",
            "subject": "subject",
            "urls": "links",
            "attachment_hashes": "attachments.0.sha256",
            "src_ip": "client_ip",
            "sensor": "gateway",
        },
        "constants": {"product": "MailGW", "vendor": "Example", "severity": "high"},
    }
    phish, clean = run("jsonl", "mailgw.jsonl", **options)
    data = as_dict(phish[0])
    assert data["kind"] == "phishing"
    assert data["sender"] == "support@secure-alatau.example"
    assert data["recipient_count"] == 12
    assert data["urls"] == ["http://secure-alatau.example/unblock"]
    assert data["attachment_hashes"] == [
        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
    ]
    assert data["sensor"] == "mx-1"
    assert data["severity"] == "high"
    assert data["direction"] == "external"
    assert clean == []


def test_r67_3_8_sshd_failed_passwords_are_detector_observations() -> None:
    root, admin, accepted, iso, pam = run("sshd", "auth.log")
    [first] = root
    assert isinstance(first, AuthFailure)
    assert (first.account, first.src_ip) == ("root", "203.0.113.200")
    [second] = admin
    assert isinstance(second, AuthFailure)
    assert second.account == "admin"
    assert accepted == []
    assert pam == []
    [third] = iso
    assert isinstance(third, AuthFailure)
    assert third.at == pytest.approx(1795321804.123456)


def test_r67_3_8_windows_4625_in_three_export_shapes() -> None:
    flat, beat, powershell, success, no_user = run("windows_4625", "win4625.json")
    accounts = [e[0].account for e in (flat, beat, powershell)]
    assert accounts == ["ALATAU\\j.doe", "ALATAU\\a.smith", "b.user"]
    assert powershell[0].src_ip == "203.0.113.151"
    assert powershell[0].at == 1795336801.0
    assert success == []
    assert isinstance(no_user, Malformed)


def test_r67_3_8_strings_are_cut_to_the_servers_limits_and_bad_addresses_dropped() -> None:
    mapper = FACTORIES["suricata_eve"](MapContext())
    line = json.dumps(
        {
            "timestamp": "2026-11-22T10:00:00Z",
            "event_type": "alert",
            "src_ip": "not-an-ip",
            "dest_port": 70000,
            "alert": {"signature": "x" * 5000, "severity": 3, "category": "c" * 500},
        }
    ).encode()
    data = as_dict(real(mapper(line))[0])
    assert len(data["rule_name"]) == 512
    assert len(data["category"]) == 128
    assert "src_ip" not in data
    assert "dst_port" not in data
    assert "direction" not in data
    assert data["severity"] == "low"
    assert data["observed_at"] == "2026-11-22T10:00:00+00:00"


def test_r67_3_8_ids_are_uuid4_and_unique() -> None:
    mapper = FACTORIES["clamav"](MapContext())
    ids = {as_dict(real(mapper(b"/x: Eicar FOUND"))[0])["id"] for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 36 and i[14] == "4" for i in ids)


def test_r67_3_8_encoded_signals_omit_none_and_defaults() -> None:
    signal = s.IdsSignal(
        id=s.new_id(), observed_at="2026-11-22T10:00:00+00:00", product="p", vendor="v"
    )
    assert msgspec.json.decode(s.encode(signal)) == {
        "kind": "ids",
        "id": signal.id,
        "observed_at": "2026-11-22T10:00:00+00:00",
        "product": "p",
        "vendor": "v",
    }
