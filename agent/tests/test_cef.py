"""R67.3.8: SIEMs (ArcSight, QRadar, KUMA, MaxPatrol …) forward CEF over syslog; the agent reads
RFC 3164 and RFC 5424 headers, CEF escapes, and maps each event to a signal kind."""

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aips_agent import signals as s
from aips_agent.cef import cef_mapper, parse_cef, parse_extension, parse_syslog
from aips_agent.events import AuthFailure, Dropped, Malformed, NoEventTime
from aips_agent.inputs import Framer
from aips_agent.mappers import Item, MapContext

DATA = Path(__file__).parent / "data"
TZ = ZoneInfo("Asia/Almaty")


def mapped(line: bytes, **options: Any) -> list[Item]:
    """The signals and observations a line makes (Dropped and NoEventTime notes left out)."""
    items = cef_mapper(MapContext(sensor="agent", tz=TZ, options=options))(line)
    return [i for i in items if not isinstance(i, Dropped | NoEventTime)]


def data_of(item: Item) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(s.encode(item))
    return result


def test_r67_3_8_rfc5424_header_with_structured_data() -> None:
    msg = parse_syslog(
        b'<134>1 2026-11-22T10:21:00.000+06:00 kuma-01 KUMA 77 ID1 [a@1 x="q\\]z" y="1"]'
        b'[b@2 z="2"] CEF:0|V|P|1|1|n|5|',
        TZ,
    )
    assert (msg.facility, msg.severity) == (16, 6)
    assert msg.timestamp == "2026-11-22T10:21:00.000+06:00"
    assert (msg.host, msg.app) == ("kuma-01", "KUMA")
    assert msg.message == "CEF:0|V|P|1|1|n|5|"


def test_r67_3_8_rfc5424_without_structured_data_and_with_bom() -> None:
    msg = parse_syslog(b"<14>1 2026-11-22T10:21:00Z host app - - - \xef\xbb\xbfhello", TZ)
    assert msg.message == "hello"
    assert msg.timestamp == "2026-11-22T10:21:00+00:00"


def test_r67_3_8_rfc3164_header_with_and_without_tag() -> None:
    msg = parse_syslog(b"<13>Nov  2 10:24:00 qradar CEF:0|a|b|c|d|e|1|", TZ)
    assert msg.host == "qradar"
    assert msg.app is None
    assert msg.message.startswith("CEF:0|a")
    assert msg.timestamp is not None
    assert msg.timestamp[5:19] == "11-02T10:24:00"
    msg = parse_syslog(b"<13>Nov 22 10:24:00 fw01 asa[123]: CEF:0|a|b|c|d|e|1|", TZ)
    assert (msg.host, msg.app, msg.message) == ("fw01", "asa", "CEF:0|a|b|c|d|e|1|")


def test_r67_3_8_a_pri_out_of_range_is_malformed() -> None:
    with pytest.raises(Malformed):
        parse_syslog(b"<999>x", TZ)


def test_r67_3_8_cef_header_and_extension_escapes() -> None:
    cef = parse_cef(
        r"CEF:0|Vendor\|With\|Pipes|Prod|1.0|100|Name with \\ backslash|5|"
        r"src=192.0.2.1 msg=a\=b c request=http://x/?a\=1&b\=2 cs1Label=policy cs1=Default Web "
        r"path=C:\\Temp\\x.exe multi=line\nbreak"
    )
    assert cef.vendor == "Vendor|With|Pipes"
    assert cef.name == "Name with \\ backslash"
    assert cef.severity == "5"
    assert cef.ext["src"] == "192.0.2.1"
    assert cef.ext["msg"] == "a=b c"
    assert cef.ext["request"] == "http://x/?a=1&b=2"
    assert cef.ext["policy"] == "Default Web"
    assert cef.ext["path"] == "C:\\Temp\\x.exe"
    assert cef.ext["multi"] == "line\nbreak"


def test_r67_3_8_extension_values_with_spaces_run_to_the_next_key() -> None:
    assert parse_extension("msg=hello big world act=blocked") == {
        "msg": "hello big world",
        "act": "blocked",
    }
    assert parse_extension("") == {}


def test_r67_3_8_short_cef_header_is_malformed() -> None:
    with pytest.raises(Malformed):
        parse_cef("CEF:0|only|four|fields")


def test_r67_3_8_cef_lines_map_to_kinds_by_product() -> None:
    lines = (DATA / "cef.log").read_bytes().splitlines()
    results: list[list[Item] | Exception] = []
    for line in lines:
        try:
            results.append(mapped(line))
        except Malformed as exc:
            results.append(exc)
    pan, imperva, kaspersky, proofpoint, pipes, garbage, short = results
    ids = data_of(pan[0])  # type: ignore[index]
    assert ids["kind"] == "ids"
    assert ids["severity"] == "critical"  # CEF 9
    assert ids["observed_at"] == "2026-11-22T06:00:00+00:00"  # rt in ms
    assert (ids["src_ip"], ids["dst_port"], ids["action"]) == ("203.0.113.99", 8080, "reset-both")
    assert ids["sensor"] == "arcsight-conn-01"
    waf = data_of(imperva[0])  # type: ignore[index]
    assert waf["kind"] == "waf"
    assert waf["url"] == "https://ib.alataubank.kz/api/v1/accounts?id=1 OR 1=1"
    assert waf["method"] == "GET"
    assert waf["host"] == "ib.alataubank.kz"
    assert waf["severity"] == "high"
    assert waf["observed_at"] == "2026-11-22T10:21:00.000+06:00"  # RFC 3339 kept as sent
    malware = data_of(kaspersky[0])  # type: ignore[index]
    assert malware["kind"] == "endpoint"  # an endpoint product that found a file
    assert malware["host"] == "ws-hr-003"
    assert malware["file_name"] == "C:\\Users\\aibekova\\AppData\\Local\\Temp\\setup.exe"
    assert malware["md5"] == "44d88612fea8a8f36de82e1278abb02f"
    assert malware["user"] == "ALATAU\\aibekova"
    phishing = data_of(proofpoint[0])  # type: ignore[index]
    assert phishing["kind"] == "phishing"
    assert phishing["sender"] == "billing@evil-bank.example"
    assert phishing["recipient_count"] == 2
    assert phishing["subject"] == "Urgent: verify your account"
    assert phishing["urls"] == ["http://evil-bank.example/login"]
    assert pipes == []  # a vendor no rule knows: dropped and counted, never an attack
    assert parse_cef(lines[4].decode()).vendor == "Vendor|With|Pipes"
    assert isinstance(garbage, Malformed)
    assert isinstance(short, Malformed)


def test_r67_3_8_configured_rules_win_and_can_feed_the_detectors() -> None:
    line = (
        b"CEF:0|Fortinet|FortiGate|7.2|0100032002|admin login failed|5|src=203.0.113.5 duser=admin"
    )
    assert mapped(line) == []  # a FortiGate event record, not an attack: dropped, counted
    rules = [{"product": "fortigate", "name": "login failed", "kind": "auth_failure"}]
    [failure] = mapped(line, rules=rules)
    assert isinstance(failure, AuthFailure)
    assert (failure.account, failure.src_ip) == ("admin", "203.0.113.5")
    assert mapped(line, rules=[{"vendor": "fortinet", "kind": "ignore"}]) == []
    [waf] = mapped(line, rules=[{"vendor": "fortinet", "kind": "waf"}])
    assert data_of(waf)["url"] == "/"


def test_r67_3_8_tcp_framing_octet_counting_and_newlines() -> None:
    framer = Framer()
    first = b"<13>Nov 22 10:00:00 h CEF:0|a|b|c|d|e|1|x=1"
    data = f"{len(first)} ".encode() + first + b"<14>plain line\n<15>partial"
    assert framer.feed(data[:10]) == []
    assert framer.feed(data[10:]) == [first, b"<14>plain line"]
    assert framer.feed(b" end\n") == [b"<15>partial end"]
    assert framer.feed(b"12 <13>abc") == []
    assert framer.feed(b"defgh") == [b"<13>abcdefgh"]
    assert framer.finish() == []
