"""R67.3.8, R67.7, R67.9 end to end: this repository's real server (`aips serve` with TLS from a
test CA, SQLite in a temp dir), an organization with a registered integration module and its
agent token, and the real agent process reading EVE, ModSecurity and CEF lines the test writes.
The signals must show up in that organization's signal feed (`GET /api/v1/signals` with a
personal token of one of its people), and a re-run of the same spool must not duplicate them.

The agent talks to the server only over HTTPS; the server side is driven as the operator would,
through its `aips` command. Skipped when the server package is not installed next to the agent."""

import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_config
from tests.pki import TestCA
from tests.stub import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_spec("aips") is None, reason="the AIPS server is not installed"),
]
BOOT_SECONDS = 60

SETUP = """
import json
from aips.accounts.models import User
from aips.accounts.services import token_create
from aips.core.actors import SystemActor
from aips.integrations.services import module_register, token_issue
actor = SystemActor(label="agent-e2e")
user = User.objects.get(email="head@alataubank.example.kz")
module = module_register(actor=actor, organization=user.organization, name="agent-e2e")
module, raw = token_issue(actor=actor, module=module)
_token, personal = token_create(actor=user, name="agent e2e")
print(json.dumps({"agent_token": raw, "user_token": personal,
                  "organization_id": user.organization_id, "module_id": module.pk}))
"""


@dataclass(frozen=True)
class Server:
    port: int
    ca: Path
    agent_token: str
    user_token: str
    organization_id: int
    module_id: int
    log: Path


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIPS_")}
    env.update({"AIPS_DATA_DIR": str(data_dir), "AIPS_DATABASE_URL": "", **extra})
    return env


def _aips(data_dir: Path, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _get(server: Server, path: str, context: ssl.SSLContext) -> tuple[int, Any]:
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {server.user_token}"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def _client(ca: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(ca))
    return context


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("e2e")
    ca = TestCA(root / "ca")
    cert = ca.issue("localhost")
    data_dir = root / "data"
    _aips(data_dir, "migrate", "--no-input")
    _aips(data_dir, "demo", "load")
    made = json.loads(_aips(data_dir, "shell", "-c", SETUP).strip().splitlines()[-1])
    port = free_port()
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aips", "serve"],
            env=_env(
                data_dir,
                AIPS_BIND=f"127.0.0.1:{port}",
                AIPS_WORKERS="1",
                AIPS_TLS_CERT=str(cert.cert),
                AIPS_TLS_KEY=str(cert.key),
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(
        port=port,
        ca=ca.cert_path,
        agent_token=made["agent_token"],
        user_token=made["user_token"],
        organization_id=made["organization_id"],
        module_id=made["module_id"],
        log=log,
    )
    try:
        context = _client(ca.cert_path)
        deadline = time.monotonic() + BOOT_SECONDS
        while True:
            assert proc.poll() is None, f"aips serve exited:\n{log.read_text()}"
            try:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"not ready:\n{log.read_text()}"
            time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _lines() -> dict[str, str]:
    now = datetime.now(UTC)
    eve = json.dumps(
        {
            "timestamp": now.isoformat(),
            "event_type": "alert",
            "src_ip": "203.0.113.77",
            "src_port": 51000,
            "dest_ip": "10.1.2.3",
            "dest_port": 443,
            "proto": "TCP",
            "alert": {
                "action": "blocked",
                "signature_id": 2024897,
                "signature": "ET EXPLOIT e2e Struts OGNL",
                "category": "Attempted Administrator Privilege Gain",
                "severity": 1,
            },
        }
    )
    modsec = json.dumps(
        {
            "transaction": {
                "client_ip": "198.51.100.78",
                "time_stamp": now.strftime("%a %b %d %H:%M:%S %Y"),
                "client_port": 54022,
                "host_ip": "10.1.2.10",
                "host_port": 443,
                "request": {
                    "method": "GET",
                    "uri": "/search?q=<script>e2e</script>",
                    "headers": {"Host": "ib.alataubank.kz"},
                },
                "response": {"http_code": 403},
                "producer": {"modsecurity": "ModSecurity v3.0.12 (Linux)"},
                "messages": [
                    {"message": "XSS e2e", "details": {"ruleId": "941100", "severity": "2"}}
                ],
            }
        }
    )
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    cef = (
        f"<134>1 {stamp} kuma-01 KUMA - - - CEF:0|Kaspersky Lab|Kaspersky Endpoint Security|"
        "12.3|HEUR:Trojan.Win32.Generic|Trojan e2e|8|dhost=ws-hr-003 "
        "fname=C:\\\\Temp\\\\setup.exe fileHash=44d88612fea8a8f36de82e1278abb02f src=10.2.0.3"
    )
    return {"eve": eve, "modsec": modsec, "cef": cef}


def test_r67_3_8_r67_7_r67_9_eve_modsecurity_and_cef_reach_the_organizations_signals(
    server: Server, tmp_path: Path
) -> None:
    lines = _lines()
    paths = {}
    for name, line in lines.items():
        paths[name] = tmp_path / f"{name}.log"
        paths[name].write_text("not a record\n" + line + "\n")
    token_file = tmp_path / "token"
    token_file.write_text(server.agent_token + "\n")
    config = write_config(
        tmp_path,
        url=f"https://localhost:{server.port}",
        ca_file=server.ca,
        server={"token": None, "token_file": str(token_file)},
        inputs=[
            {
                "name": "eve",
                "type": "suricata_eve",
                "path": str(paths["eve"]),
                "start_at": "beginning",
            },
            {
                "name": "waf",
                "type": "modsecurity",
                "path": str(paths["modsec"]),
                "start_at": "beginning",
            },
            {"name": "siem", "type": "cef", "path": str(paths["cef"]), "start_at": "beginning"},
        ],
    )
    check = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "--config", str(config), "test-connection"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"module {server.module_id}, organization {server.organization_id}" in check.stdout
    log = tmp_path / "agent.log"
    with log.open("wb") as out:
        agent = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "aips_agent", "--config", str(config), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    context = _client(server.ca)
    found: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(found) < 3:
            status, page = _get(server, "/api/v1/signals?limit=50", context)
            assert status == 200, page
            found = {
                item["kind"]: item
                for item in page["items"]
                if item["module_id"] == server.module_id
            }
            time.sleep(0.5)
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
    assert set(found) == {"ids", "waf", "endpoint"}, (
        log.read_text() + server.log.read_text()[-3000:]
    )
    ids, waf, endpoint = found["ids"], found["waf"], found["endpoint"]
    assert all(item["organization_id"] == server.organization_id for item in found.values())
    assert ids["rule_name"] == "ET EXPLOIT e2e Struts OGNL"
    assert ids["src_ip"] == "203.0.113.77"
    assert ids["severity"] == "high"
    assert ids["direction"] == "external"
    assert waf["details"]["url"] == "/search?q=<script>e2e</script>"
    assert waf["details"]["host"] == "ib.alataubank.kz"
    assert endpoint["details"]["host"] == "ws-hr-003"
    assert endpoint["details"]["md5"] == "44d88612fea8a8f36de82e1278abb02f"
    assert endpoint["ioc"] == "44d88612fea8a8f36de82e1278abb02f"
    status_out = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "--config", str(config), "status", "--json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    status = json.loads(status_out)
    assert status["queue_depth"] == 0
    assert status["rejected"] == 0
    assert status["shipped"] == 3
    assert {name: c["errors"] for name, c in status["inputs"].items()} == {
        "eve": 1,
        "waf": 1,
        "siem": 1,
    }
    # A second read of the feed: still exactly one signal per line written.
    _status, again = _get(server, "/api/v1/signals?limit=50", context)
    mine = [i for i in again["items"] if i["module_id"] == server.module_id]
    assert len(mine) == 3  # exactly once each
