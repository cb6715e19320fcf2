"""R67.8: records as the vendors' products write them (fixtures/: captured ones and ones written
to the documented formats, which fixtures/SOURCES.md tells apart)
become the signal kind of what they are — or nothing, counted — by the shipped rules; one row
per fixture line with its expected outcome. R67.8.1 IDS, .2 WAF, .3 endpoint, .4 malware,
.7 brute force; a Wazuh vulnerability-detector finding is inventory (R67.3.5 vulnerability
alerts are the center's), never a signal."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aips_agent import signals as s
from aips_agent.cef import cef_mapper
from aips_agent.events import AuthFailure, Connection, Dropped, NoEventTime
from aips_agent.inputs import _Counting, map_records
from aips_agent.mappers import FACTORIES, MapContext

FIXTURES = Path(__file__).parent / "fixtures"

# (file, input type, line number, expected kind or None for dropped, fields the signal has)
EXPECTED: list[tuple[str, str, int, str | None, dict[str, Any]]] = [
    # Trend Micro Deep Security (SC4S test messages)
    ("cef_sc4s.log", "cef", 1, None, {}),  # Manager: User Signed In (audit)
    (
        "cef_sc4s.log",
        "cef",
        2,
        "malware",
        {
            "file_name": "C:\\Users\\trend\\Desktop\\eicar.exe",
            "detection": "Eicar_test_file",
            "sha1": "3395856ce81f2b7382dee72602f798b642f14140",
            "sha256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
            "host": "dsa-host-01",
        },
    ),
    ("cef_sc4s.log", "cef", 3, None, {}),  # application control detectOnly
    ("cef_sc4s.log", "cef", 4, None, {}),  # firewall "Log for TCP Port 80"
    ("cef_sc4s.log", "cef", 5, None, {}),  # integrity monitoring
    ("cef_sc4s.log", "cef", 6, "ids", {"rule_id": "1001111", "action": "IDS:Reset"}),
    ("cef_sc4s.log", "cef", 7, "endpoint", {"detection": "Microsoft Windows Events"}),
    ("cef_sc4s.log", "cef", 8, "ids", {"rule_name": "WebReputation"}),
    # Citrix NetScaler APPFW (SC4S, Azure Sentinel samples)
    (
        "cef_sc4s.log",
        "cef",
        9,
        "waf",
        {
            "url": "http://10.160.0.10/test/file/jsonchecks.php",
            "method": "GET",
            "product_version": "NS13.0",
        },
    ),
    ("cef_azure_sentinel_citrix.log", "cef", 1, "waf", {"method": "GET"}),
    ("cef_azure_sentinel_citrix.log", "cef", 2, "waf", {}),
    (
        "cef_azure_sentinel_citrix.log",
        "cef",
        3,
        "waf",
        {"url": "http://test.example.com/css/login_post.html?usr=admin"},
    ),
    ("cef_azure_sentinel_citrix.log", "cef", 4, "waf", {}),
    ("cef_azure_sentinel_citrix.log", "cef", 5, "waf", {}),
    ("cef_azure_sentinel_citrix.log", "cef", 6, "waf", {"rule_name": "APPFW_SIGNATURE_MATCH"}),
    # Imperva SecureSphere and Incapsula (SC4S)
    ("cef_sc4s.log", "cef", 10, "ids", {"rule_name": "Web Worm"}),
    ("cef_sc4s.log", "cef", 11, "ids", {}),
    ("cef_sc4s.log", "cef", 12, "ids", {"observed_at": "2020-01-30T04:50:35+00:00"}),
    ("cef_sc4s.log", "cef", 13, "ids", {"dst_port": 1521}),
    (
        "cef_sc4s.log",
        "cef",
        14,
        "waf",
        {"url": "/cdblog/wp-trackback.php", "method": "GET", "product_version": "13.5.0.10_0"},
    ),
    ("cef_sc4s.log", "cef", 15, "waf", {"url": "/uploads/dede/sys_verifies.php", "method": "POST"}),
    ("cef_sc4s.log", "cef", 16, "waf", {"url": "site123.abcd.info/", "method": "GET"}),
    # Check Point and Forcepoint (written to their documented CEF layouts): connection, e-mail
    # and system records are not attacks; an IPS protection or an inspection situation is.
    *[("cef_checkpoint_format.log", "cef", n, None, {}) for n in (1, 2, 3)],
    (
        "cef_checkpoint_format.log",
        "cef",
        4,
        "ids",
        {
            "rule_id": "Command Injection",
            "rule_name": "Shell Command Injection Over HTTP",
            "src_ip": "203.0.113.61",
            "dst_port": 80,
        },
    ),
    *[("cef_forcepoint_format.log", "cef", n, None, {}) for n in range(1, 11)],
    (
        "cef_forcepoint_format.log",
        "cef",
        11,
        "ids",
        {
            "rule_id": "1051206",
            "rule_name": "HTTP_CS-Shell-Command-Injection",
            "product_version": "6.10.3",
            "observed_at": "2026-11-24T10:03:51+00:00",
        },
    ),
    # Fortinet, PAN-OS, Cisco ASA, F5 ASM, Sophos Central (vendor-documented formats)
    (
        "cef_vendor_formats.log",
        "cef",
        1,
        "ids",
        {"rule_name": "Apache.Log4j.Error.Log.Remote.Code.Execution", "action": "dropped"},
    ),
    ("cef_vendor_formats.log", "cef", 2, None, {}),
    (
        "cef_vendor_formats.log",
        "cef",
        3,
        "malware",
        {"file_name": "eicar.com", "detection": "EICAR_TEST_FILE"},
    ),
    (
        "cef_vendor_formats.log",
        "cef",
        4,
        "ids",
        {"rule_name": "Apache Log4j Remote Code Execution Vulnerability(91991)"},
    ),
    ("cef_vendor_formats.log", "cef", 5, None, {}),
    ("cef_vendor_formats.log", "cef", 6, "malware", {"file_name": "eicar.com"}),
    ("cef_vendor_formats.log", "cef", 7, None, {}),  # ASA 106023 deny
    ("cef_vendor_formats.log", "cef", 8, None, {}),  # ASA 302013 built
    ("cef_vendor_formats.log", "cef", 9, "ids", {"rule_id": "733100"}),
    ("cef_vendor_formats.log", "cef", 10, "ids", {"rule_id": "400013"}),
    (
        "cef_vendor_formats.log",
        "cef",
        11,
        "waf",
        {"url": "/login.php?id=1' OR '1'='1", "method": "GET", "rule_name": "SQL-Injection"},
    ),
    ("cef_vendor_formats.log", "cef", 12, None, {}),  # F5 request passed, no violation
    (
        "cef_vendor_formats.log",
        "cef",
        13,
        "malware",
        {"detection": "EICAR-AV-Test", "file_name": "C:\\Users\\user1\\Downloads\\eicar.com"},
    ),
    ("cef_vendor_formats.log", "cef", 14, None, {}),
    # Wazuh (written to the documented alerts.json layout: Defender, FIM, VirusTotal)
    (
        "wazuh_defender_virustotal_format.json",
        "wazuh",
        1,
        "malware",
        {
            "detection": "Trojan:Win32/Wacatac.B!ml",
            "file_name": "C:\\Users\\d.nurlanov\\Downloads\\invoice_2026_11.pdf.exe",
            "product_version": "4.18.25100.9",
            "host": "FIN-WS-0142",
            "observed_at": "2026-11-24T10:15:42.318000+05:00",
        },
    ),
    ("wazuh_defender_virustotal_format.json", "wazuh", 2, None, {}),  # protection disabled
    ("wazuh_defender_virustotal_format.json", "wazuh", 3, None, {}),  # FIM: a file was added
    ("wazuh_defender_virustotal_format.json", "wazuh", 4, None, {}),  # VT: credentials error
    ("wazuh_defender_virustotal_format.json", "wazuh", 5, None, {}),  # VT: rate limit
    ("wazuh_defender_virustotal_format.json", "wazuh", 6, None, {}),  # VT: no positives
    (
        "wazuh_defender_virustotal_format.json",
        "wazuh",
        7,
        "malware",
        {
            "file_name": "/srv/share/incoming/setup_helper.exe",
            "md5": "5d41f2a9c0e7b38a61f4c9d2e8b07a13",
            "sha1": "9b2e6c41d07f83a5e1c2b4f60d9a8e37c5b1f024",
            "host": "srv-files-02",
        },
    ),
    # Wazuh (alerts shaped after the stock ruleset's rules)
    (
        "wazuh_shaped_alerts.json",
        "wazuh",
        1,
        "brute_force",
        {"target_account": "root", "attempts": 8, "src_ip": "45.155.205.9"},
    ),
    ("wazuh_shaped_alerts.json", "wazuh", 2, "auth_failure", {"account": "root"}),
    ("wazuh_shaped_alerts.json", "wazuh", 3, None, {}),  # vulnerability-detector
    ("wazuh_shaped_alerts.json", "wazuh", 4, "endpoint", {"file_name": "/usr/bin/top"}),
    (
        "wazuh_shaped_alerts.json",
        "wazuh",
        5,
        "waf",
        {"url": "/login.php?id=1%27%20UNION%20SELECT%201,2--", "method": "GET"},
    ),
    # ModSecurity Apache and nginx error-log lines (written to the layout ModSecurity logs)
    (
        "modsec_error_format.log",
        "modsecurity",
        1,
        "waf",
        {
            "status": 403,
            "rule_id": "960009",
            "rule_name": "Request Missing a User Agent Header",
            "url": "/login",
            "host": "online.example.kz",
            "src_ip": "203.0.113.87",
            "severity": "info",
            "observed_at": "2026-11-24T09:58:14+00:00",
        },
    ),
    (
        "modsec_error_format.log",
        "modsecurity",
        2,
        "waf",
        {
            "status": 403,
            "rule_id": "932160",
            "url": "/cgi-bin/status",
            "method": "GET",
            "src_ip": "198.51.100.140",
            "severity": "critical",
        },
    ),
]


def _mapper(input_type: str, **options: Any) -> Any:
    ctx = MapContext(options=options)
    return cef_mapper(ctx) if input_type == "cef" else FACTORIES[input_type](ctx)


def _line(file: str, number: int) -> bytes:
    return (FIXTURES / file).read_bytes().splitlines()[number - 1]


def _outcome(items: list[Any]) -> tuple[str | None, dict[str, Any]]:
    made = [i for i in items if not isinstance(i, Dropped | NoEventTime)]
    if not made:
        assert any(isinstance(i, Dropped) for i in items), "a dropped record is counted"
        return None, {}
    [item] = made
    if isinstance(item, AuthFailure):
        return "auth_failure", {"account": item.account, "src_ip": item.src_ip}
    assert not isinstance(item, Connection)
    data: dict[str, Any] = json.loads(s.encode(item))
    return data["kind"], data


@pytest.mark.parametrize(
    ("file", "input_type", "number", "kind", "fields"),
    EXPECTED,
    ids=[f"{f}:{n}" for f, _t, n, _k, _x in EXPECTED],
)
def test_r67_8_vendor_records_become_what_they_are(
    file: str, input_type: str, number: int, kind: str | None, fields: dict[str, Any]
) -> None:
    got, data = _outcome(_mapper(input_type)(_line(file, number)))
    assert got == kind
    for key, value in fields.items():
        assert data.get(key) == value, key


def test_r67_8_every_fixture_line_has_an_expected_outcome() -> None:
    listed = {(f, n) for f, _t, n, _k, _x in EXPECTED}
    for path in FIXTURES.iterdir():
        if path.suffix in (".log", ".json"):
            count = len(path.read_bytes().splitlines())
            missing = {(path.name, n) for n in range(1, count + 1)} - listed
            # wazuh_shaped_alerts.json line 6 is the time-warning row below.
            assert missing <= {("wazuh_shaped_alerts.json", 6)}, missing


def test_r67_8_1_no_unknown_cef_record_becomes_an_attack() -> None:
    """The old default turned anything unknown into IDS: now it is dropped and counted."""
    line = b"CEF:0|Acme|Gadget|1.0|42|Something happened|5|src=203.0.113.1 dst=10.0.0.1"
    items = _mapper("cef")(line)
    assert [type(i) for i in items] == [Dropped]
    assert "no rule" in items[0].why
    counters = map_records([line], _mapper("cef"), None, _Counting("t"))[1]
    assert counters == {"read": 1, "errors": 0, "signals": 0, "not_attacks": 1}


def test_r67_8_bank_admin_rules_come_first_and_can_map_what_no_shipped_rule_knows() -> None:
    line = b"CEF:0|Acme|Gadget|1.0|42|Exploit blocked|8|src=203.0.113.1 rt=1795314000000"
    line += b" act=blocked"
    rules = [{"vendor": "^acme$", "name": "exploit", "kind": "ids", "label": "Acme exploits"}]
    [signal] = _mapper("cef", rules=rules)(line)
    assert json.loads(s.encode(signal))["kind"] == "ids"
    # An admin rule overrides a shipped one (here: Citrix APPFW ignored on purpose).
    citrix = _line("cef_azure_sentinel_citrix.log", 1)
    ignore = [{"vendor": "citrix", "kind": "ignore"}]
    assert [type(i) for i in _mapper("cef", rules=ignore)(citrix)] == [Dropped]
    # Without the shipped rules nothing is known.
    assert [type(i) for i in _mapper("cef", default_rules=False)(citrix)] == [Dropped]
    # Extension conditions and field locations.
    ext_rule = [
        {"vendor": "acme", "ext": {"act": "^blocked$"}, "kind": "waf", "fields": {"url": "cs9"}}
    ]
    [waf] = _mapper("cef", rules=ext_rule)(line + b" cs9=/admin")
    assert json.loads(s.encode(waf))["url"] == "/admin"


def test_r67_8_a_missing_or_unreadable_event_time_is_counted_never_silent() -> None:
    citrix = _line("cef_azure_sentinel_citrix.log", 1)  # no rt/end/start, no syslog header
    items = _mapper("cef")(citrix)
    assert [type(i) for i in items] == [NoEventTime, s.WafSignal]
    bad = citrix + b" rt=yesterday-ish"
    assert "yesterday-ish" in next(i.why for i in _mapper("cef")(bad) if isinstance(i, NoEventTime))
    wazuh = _line("wazuh_shaped_alerts.json", 6)
    items = _mapper("wazuh")(wazuh)
    assert [type(i) for i in items] == [NoEventTime, s.MalwareSignal]
    counters = map_records([citrix, citrix], _mapper("cef"), None, _Counting("t"))[1]
    assert counters["no_event_time"] == 2
    assert counters["signals"] == 2
    dated = _line("cef_sc4s.log", 14)  # rt=Nov 15 2019 15:45:42
    assert not any(isinstance(i, NoEventTime) for i in _mapper("cef")(dated))


def test_r67_8_7_wazuh_level_alone_decides_nothing() -> None:
    """A critical vulnerability finding (level 10) is inventory; a level-5 authentication
    failure still reaches the brute-force detector."""
    vuln = _line("wazuh_shaped_alerts.json", 3)
    assert [type(i) for i in _mapper("wazuh")(vuln)] == [Dropped]
    single = _line("wazuh_shaped_alerts.json", 2)
    assert [type(i) for i in _mapper("wazuh")(single)] == [AuthFailure]


def test_r67_8_explain_prints_one_json_object_per_line() -> None:
    path = FIXTURES / "cef_vendor_formats.log"
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "explain", "--input", "cef", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AIPS_AGENT_CONFIG": "/nonexistent/agent.toml"},
    )
    # An explicitly named configuration that does not exist is an error…
    assert result.returncode == 2
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "explain", "--input", "cef", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    # …without one, the shipped rules explain the file.
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in rows] == list(range(1, 15))
    assert all(set(r) == {"line", "kind", "why", "signal"} for r in rows)
    assert rows[0]["kind"] == "ids"
    assert rows[0]["signal"]["kind"] == "ids"
    assert "FortiGate IPS" in rows[0]["why"]
    assert rows[1]["kind"] is None
    assert rows[1]["signal"] is None
    assert "not an attack" in rows[1]["why"]


def test_r67_8_2_modsecurity_error_log_detection_only_and_other_lines() -> None:
    """A `ModSecurity: Warning.` match is a detection without a block (no status); an Apache
    error that is not ModSecurity's is not an attack (dropped, counted)."""
    warning = (
        b"[Wed Oct 11 14:32:52.123456 2017] [:error] [pid 1234] [client 203.0.113.9:51514] "
        b'[client 203.0.113.9] ModSecurity: Warning. Matched phrase "/etc/passwd" at ARGS:f. '
        b'[file "/etc/crs/rules/REQUEST-930-APPLICATION-ATTACK-LFI.conf"] [line "97"] '
        b'[id "930120"] [msg "OS File Access Attempt"] [severity "CRITICAL"] '
        b'[hostname "ib.example.kz"] [uri "/download"] [unique_id "WdPVdH8AAQEAAAc1Ao0AAAAB"]'
    )
    [waf] = _mapper("modsecurity")(warning)
    data = json.loads(s.encode(waf))
    assert data["rule_id"] == "930120"
    assert data["severity"] == "high"
    assert data["src_ip"] == "203.0.113.9"
    assert data["src_port"] == 51514
    assert data["observed_at"].startswith("2017-10-11T14:32:52.123456")
    assert "status" not in data
    other = b"[Wed Oct 11 14:32:53 2017] [:error] [pid 1234] AH00037: Symbolic link not allowed"
    assert [type(i) for i in _mapper("modsecurity")(other)] == [Dropped]
