"""R67.8.2: a request ModSecurity intercepted is a blocked WAF signal whatever the response said,
and ModSecurity's own version is the signal's product_version — in both JSON audit layouts.
The records follow ModSecurity's JSON writers (v2 `apache2/msc_logging.c`, v3
`src/transaction.cc`) with values of our own."""

import json
from typing import Any

from aips_agent import signals as s
from aips_agent.events import Dropped, NoEventTime
from aips_agent.mappers import FACTORIES, MapContext


def _waf(record: dict[str, Any]) -> dict[str, Any]:
    mapper = FACTORIES["modsecurity"](MapContext(sensor="agent-1"))
    made = [
        i for i in mapper(json.dumps(record).encode()) if not isinstance(i, Dropped | NoEventTime)
    ]
    assert len(made) == 1, made
    data: dict[str, Any] = json.loads(s.encode(made[0]))
    return data


def _v2(
    *,
    status: int,
    messages: list[str],
    action: dict[str, Any] | None = None,
    producer: Any = None,
) -> dict[str, Any]:
    audit: dict[str, Any] = {"messages": messages, "server": "Apache/2.4.62 (Debian)"}
    if action is not None:
        audit["action"] = action
    if producer is not None:
        audit["producer"] = producer
    return {
        "transaction": {
            "time": "05/Dec/2026:09:14:07.118204 +0500",
            "transaction_id": "Z1Fq3wAAQBAAAB9kX2sAAAAB",
            "remote_address": "192.0.2.44",
            "remote_port": 50112,
            "local_address": "10.20.0.5",
            "local_port": 443,
        },
        "request": {
            "request_line": "GET /account/export?file=../../etc/shadow HTTP/1.1",
            "headers": {"Host": "portal.example.kz"},
        },
        "response": {"protocol": "HTTP/1.1", "status": status},
        "audit_data": audit,
    }


DENIED_930110 = (
    'Access denied with code 403 (phase 2). Matched phrase "../" at ARGS:file. '
    '[file "/usr/share/modsecurity-crs/rules/REQUEST-930-APPLICATION-ATTACK-LFI.conf"] '
    '[line "52"] [id "930110"] [msg "Path Traversal Attack (/../)"] [severity "CRITICAL"]'
)
WARNING_930110 = DENIED_930110.replace("Access denied with code 403 (phase 2)", "Warning")
PRODUCER_V2 = ["ModSecurity for Apache/2.9.8 (http://www.modsecurity.org/)", "OWASP_CRS/3.3.7"]


def test_r67_8_2_modsecurity_v2_intercepted_is_blocked_even_when_the_response_says_otherwise() -> (
    None
):
    """An ErrorDocument redirect makes the response a 302; ModSecurity's action says 403."""
    record = _v2(
        status=302,
        messages=[DENIED_930110],
        action={"intercepted": True, "phase": 2, "message": DENIED_930110},
        producer=PRODUCER_V2,
    )
    data = _waf(record)
    assert data["status"] == 403
    assert data["rule_id"] == "930110"
    assert data["product_version"] == "ModSecurity for Apache/2.9.8"


def test_r67_8_2_modsecurity_v2_intercepted_by_connection_close_or_a_status_of_its_own() -> None:
    closed = DENIED_930110.replace(
        "Access denied with code 403", "Access denied with connection close"
    )
    assert _waf(_v2(status=200, messages=[closed], action={"intercepted": True}))["status"] == 403
    assert (
        _waf(_v2(status=406, messages=[WARNING_930110], action={"intercepted": True}))["status"]
        == 406
    )


def test_r67_8_2_modsecurity_v2_detection_only_keeps_the_response_status() -> None:
    data = _waf(_v2(status=200, messages=[WARNING_930110], producer="ModSecurity for Apache/2.9.8"))
    assert data["status"] == 200
    assert data["product_version"] == "ModSecurity for Apache/2.9.8"


def _v3(*, http_code: int, message: str, match: str) -> dict[str, Any]:
    return {
        "transaction": {
            "client_ip": "198.51.100.23",
            "time_stamp": "Sat Dec  5 09:20:41 2026",
            "server_id": "4c1d2e8f0a9b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
            "client_port": 61234,
            "host_ip": "10.20.0.6",
            "host_port": 443,
            "unique_id": "176491204166.512839",
            "request": {
                "method": "POST",
                "http_version": 1.1,
                "uri": "/api/login",
                "headers": {"Host": "api.example.kz"},
            },
            "response": {"http_code": http_code, "headers": {}},
            "producer": {
                "modsecurity": "ModSecurity v3.0.14 (Linux)",
                "connector": "ModSecurity-nginx v1.0.4",
                "secrules_engine": "Enabled",
                "components": ["OWASP_CRS/4.8.0"],
            },
            "messages": [
                {
                    "message": message,
                    "details": {
                        "match": match,
                        "reference": "o0,8v21,8",
                        "ruleId": "942100",
                        "file": "/etc/nginx/crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf",
                        "lineNumber": "46",
                        "data": "Matched Data: s&sos found within ARGS:user",
                        "severity": "2",
                        "ver": "OWASP_CRS/4.8.0",
                        "rev": "",
                        "tags": ["attack-sqli"],
                        "maturity": "0",
                        "accuracy": "0",
                    },
                }
            ],
        }
    }


def test_r67_8_2_modsecurity_v3_access_denied_in_a_message_is_blocked() -> None:
    denied = "Access denied with code 403 (phase 2). detected SQLi using libinjection."
    data = _waf(
        _v3(http_code=200, message="SQL Injection Attack Detected via libinjection", match=denied)
    )
    assert data["status"] == 403
    assert data["product_version"] == "ModSecurity v3.0.14 (Linux)"


def test_r67_8_2_modsecurity_v3_without_words_of_interception_keeps_http_code() -> None:
    """libmodsecurity 3 writes no interception field; its connectors put the intervention's
    status in `http_code`, which the signal keeps."""
    data = _waf(
        _v3(
            http_code=403,
            message="SQL Injection Attack Detected via libinjection",
            match="detected SQLi using libinjection.",
        )
    )
    assert data["status"] == 403


def test_r67_8_2_modsecurity_v3_version_falls_back_to_the_connector() -> None:
    record = _v3(http_code=403, message="SQLi", match="detected SQLi using libinjection.")
    record["transaction"]["producer"] = {"connector": "ModSecurity-nginx v1.0.4"}
    assert _waf(record)["product_version"] == "ModSecurity-nginx v1.0.4"
    # The general path (a record the fast path does not fit) decides the same.
    record["transaction"]["messages"].append("a stray string")  # not the fast path's shape
    record["transaction"]["messages"][0]["details"]["match"] = (
        "Access denied with code 406 (phase 1)."
    )
    data = _waf(record)
    assert data["status"] == 406
    assert data["product_version"] == "ModSecurity-nginx v1.0.4"
