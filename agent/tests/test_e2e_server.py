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
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
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
from aips.shared.accounts.models import User
from aips.shared.accounts.services import token_create
from aips.core.actors import SystemActor
from aips.center.integrations.services import module_register, token_issue
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
        # The worker, as deployed: it counts the sightings the indicator page reads.
        worker = subprocess.Popen(
            [sys.executable, "-m", "aips", "worker", "--interval", "1"],
            env=_env(data_dir, AIPS_SIGNAL_DERIVE_MS="200"),
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
        for running in (proc, worker):
            if running.poll() is None:
                running.send_signal(signal.SIGINT)
                try:
                    running.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(running.pid, signal.SIGKILL)
                    running.wait(timeout=10)


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
    assert f"(id {server.module_id}), organization" in check.stdout
    assert f"(id {server.organization_id})" in check.stdout
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
    # "not a record": unreadable as EVE JSON or CEF (errors); in the ModSecurity input a line
    # that is not JSON is read as an error-log line, and one without "ModSecurity:" is not an
    # attack (not_attacks).
    assert {name: c["errors"] for name, c in status["inputs"].items()} == {
        "eve": 1,
        "waf": 0,
        "siem": 1,
    }
    assert status["inputs"]["waf"]["not_attacks"] == 1
    # A second read of the feed: still exactly one signal per line written.
    _status, again = _get(server, "/api/v1/signals?limit=50", context)
    mine = [i for i in again["items"] if i["module_id"] == server.module_id]
    assert len(mine) == 3  # exactly once each


def test_r67_8_the_center_sees_the_whole_scan_reported_at_the_agents_stop(
    server: Server, tmp_path: Path
) -> None:
    """A 1,000-port scan: the early report at the threshold (100 ports) while the agent runs,
    then, on SIGTERM, the final one with all 1,000 ports under the same id; the center's sum of
    `count` for the address is the 1,000 flows, not the early report's 100 on top."""
    src = "5.188.10.99"  # a public address: documentation ranges get no sightings
    start = datetime.now(UTC).timestamp() - 60
    flows = tmp_path / "flows.json"
    flows.write_text(
        "".join(
            json.dumps(
                {
                    "timestamp": datetime.fromtimestamp(start + i / 100, UTC).isoformat(),
                    "event_type": "flow",
                    "src_ip": src,
                    "src_port": 40000,
                    "dest_ip": "10.1.2.3",
                    "dest_port": i + 1,
                    "proto": "TCP",
                }
            )
            + "\n"
            for i in range(1000)
        )
    )
    token_file = tmp_path / "token"
    token_file.write_text(server.agent_token + "\n")
    config = write_config(
        tmp_path,
        url=f"https://localhost:{server.port}",
        ca_file=server.ca,
        server={"token": None, "token_file": str(token_file)},
        detectors=(
            "[detectors.scan]\nthreshold = 100\nwindow_seconds = 60\n"
            "quiet_seconds = 600\nupdate_seconds = 0"
        ),
        inputs=[
            {"name": "flows", "type": "suricata_eve", "path": str(flows), "start_at": "beginning"}
        ],
    )
    context = _client(server.ca)

    def scans() -> list[dict[str, Any]]:
        status, page = _get(server, "/api/v1/signals?kind=scan&limit=50", context)
        assert status == 200, page
        return sorted(
            (i for i in page["items"] if i["src_ip"] == src), key=lambda i: i["observed_at"]
        )

    log = tmp_path / "agent.log"
    with log.open("wb") as out:
        agent = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "aips_agent", "--config", str(config), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not scans():
            time.sleep(0.3)
        early = scans()
        assert [s["details"]["port_count"] for s in early] == [100], log.read_text()
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
    reports = scans()
    assert len(reports) == 2, log.read_text()
    assert len({r["signal_id"] for r in reports}) == 1
    final = reports[-1]["details"]
    assert final["port_count"] == 1000
    assert len(final["ports"]) == 1000
    assert final["target_count"] == 1
    assert sum(r["count"] for r in reports) == 1000
    assert "ended" in reports[-1]["rule_name"]
    # Counted by the worker from the stored signals, within about a second.
    deadline = time.monotonic() + 30
    while True:
        status, seen = _get(server, f"/api/v1/signals/indicators/{src}", context)
        if (status == 200 and seen["signals"] == 1000) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert status == 200, seen
    assert seen["signals"] == 1000


def _agent(config: Path, *args: str, user: int | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "aips_agent", "--config", str(config), *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        command, capture_output=True, text=True, timeout=60, check=False
    )


def _eve(signature: str, n: int) -> str:
    return json.dumps(
        {
            "timestamp": datetime.now(UTC).isoformat(),
            "event_type": "alert",
            "src_ip": "203.0.113.61",
            "dest_ip": "10.1.2.3",
            "proto": "TCP",
            "alert": {"signature_id": 3100000 + n, "signature": signature, "severity": 2},
        }
    )


def test_r67_7_r57_28_4_a_poisoned_batch_ships_the_rest_and_dead_letters_the_poison(
    server: Server, tmp_path: Path
) -> None:
    """Issue 13, finding 3: valid signals around a NUL, a lone surrogate and a field over its
    bound are stored exactly once; each poisoned one is a dead letter with its input, file,
    position and line; the agent does not send anything again."""
    from aips_agent.signals import new_id
    from aips_agent.spool import Spool

    eve_lines = [
        _eve("poison e2e valid 1", 1),
        _eve("poison e2e NUL \x00 here", 2),  # json.dumps writes \u0000
        _eve("poison e2e valid 2", 3),
        _eve("poison e2e valid 3", 4).replace('"severity": 2', '"x": "\\ud800", "severity": 2'),
    ]
    eve = tmp_path / "eve.json"
    eve.write_text("\n".join(eve_lines) + "\n")
    offsets = [sum(len(x.encode()) + 1 for x in eve_lines[:i]) for i in range(len(eve_lines))]
    mail_lines = [
        json.dumps({"from": "a@evil.example", "rcpt": 5_000_000, "subject": "poison e2e big"}),
        json.dumps({"from": "b@evil.example", "rcpt": 3, "subject": "poison e2e ok"}),
    ]
    mail = tmp_path / "mail.jsonl"
    mail.write_text("\n".join(mail_lines) + "\n")
    token_file = tmp_path / "token"
    token_file.write_text(server.agent_token + "\n")
    config = write_config(
        tmp_path,
        url=f"https://localhost:{server.port}",
        ca_file=server.ca,
        server={"token": None, "token_file": str(token_file)},
        inputs=[
            {"name": "eve", "type": "suricata_eve", "path": str(eve), "start_at": "beginning"},
            {
                "name": "mail",
                "type": "jsonl",
                "path": str(mail),
                "start_at": "beginning",
                "kind": "phishing",
                "fields": {"sender": "from", "recipient_count": "rcpt", "subject": "subject"},
                "constants": {"product": "Mail gateway", "vendor": "Example"},
            },
        ],
    )
    # The agent's own readers cannot make a signal with a lone surrogate (its JSON reader
    # refuses the line above), so one is queued directly, as a foreign or damaged producer
    # could: the server must refuse that item alone, and the agent keep it with its origin.
    surrogate_id = new_id()
    now = datetime.now(UTC).isoformat()
    body = (
        f'{{"kind":"ids","id":"{surrogate_id}","observed_at":"{now}","product":"Suricata",'
        '"vendor":"OISF","rule_name":"poison e2e \\ud800 surrogate"}'
    )
    Spool(tmp_path / "spool.db").close()
    db = sqlite3.connect(tmp_path / "spool.db")
    db.execute(
        "INSERT INTO queue (id, body, created, input, source, position, raw) "
        "VALUES (?, ?, 0, 'injected', 'test', 7, ?)",
        (surrogate_id, body.encode(), body.encode()),
    )
    db.commit()
    db.close()
    log = tmp_path / "agent.log"
    with log.open("wb") as out:
        agent = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "aips_agent", "--config", str(config), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    status: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = json.loads(_agent(config, "status", "--json").stdout)
            if status["queue_depth"] == 0 and status["dead_letters"] >= 4:
                break
            time.sleep(0.5)
        time.sleep(1.0)  # one more round: nothing is sent again
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
    assert status["queue_depth"] == 0, log.read_text()
    context = _client(server.ca)
    _code, page = _get(server, "/api/v1/signals?limit=200", context)
    mine = [item for item in page["items"] if "poison e2e" in json.dumps(item, ensure_ascii=False)]
    names = sorted(i["rule_name"] or i["details"].get("subject", "") for i in mine)
    assert names == [
        "poison e2e ok",
        "poison e2e valid 1",
        "poison e2e valid 2",
    ], names  # stored exactly once each
    dead = json.loads(_agent(config, "dead-letters", "--json").stdout)
    by_what = {(d["input"], d["position"]): d for d in dead}
    nul = by_what[("eve", offsets[1])]
    assert nul["source"] == str(eve)
    assert nul["record"] == eve_lines[1]
    assert "NUL" in nul["errors"]["rule_name"]
    unreadable = by_what[("eve", offsets[3])]
    assert unreadable["record"] == eve_lines[3]
    assert unreadable["id"] == ""
    big = by_what[("mail", 0)]
    assert big["record"] == mail_lines[0]
    assert "1000000" in big["errors"]["recipient_count"]
    injected = by_what[("injected", 7)]
    assert injected["id"] == surrogate_id
    # The server answers in its default language; the escape is in every translation.
    assert "\\ud800" in injected["errors"]["rule_name"]
    assert status["rejected"] == 3
    text = _agent(config, "dead-letters").stdout
    assert f"from:     eve: {eve} byte {offsets[1]}" in text


INSTALL_UID = 64123  # the packaged unit's `aips-agent` user, by number (no passwd entry needed)


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root to create files owned by the service user",
)
def test_r67_7_installed_as_the_readme_says_the_service_user_reads_its_configuration(
    server: Server,
) -> None:
    """The equivalent of installing on a systemd machine (issue 13, finding 10): the owners and
    modes agent/README.md prescribes, the agent run as the unit's unprivileged user and group
    (User=/Group= aips-agent, no supplementary groups), check-config and test-connection against
    the real server succeed; with the old layout (a root-owned 0750 directory) they fail with one
    line naming the file."""
    uid = gid = INSTALL_UID
    root = Path(tempfile.mkdtemp(prefix="aips-agent-install-"))
    try:
        os.chmod(root, 0o755)  # noqa: S103 - stands for /, which everybody traverses
        etc, state = root / "etc" / "aips-agent", root / "var" / "lib" / "aips-agent"
        etc.mkdir(parents=True)
        state.mkdir(parents=True)
        for directory in (root / "etc", root / "var", root / "var" / "lib"):
            directory.chmod(0o755)
        ca = etc / "center-ca.pem"
        ca.write_bytes(server.ca.read_bytes())
        token = etc / "token"
        token.write_text(server.agent_token + "\n")
        config = etc / "agent.toml"
        config.write_text(
            "[agent]\n"
            f'state_dir = "{state}"\n\n'
            "[server]\n"
            f'url = "https://localhost:{server.port}"\n'
            f'ca_file = "{ca}"\n'
            f'token_file = "{token}"\n\n'
            "[[inputs]]\n"
            'name = "eve"\ntype = "suricata_eve"\npath = "/var/log/suricata/eve.json"\n'
        )
        # agent/README.md, "Files, owners and modes":
        os.chown(etc, 0, gid)
        etc.chmod(0o750)
        for path, mode in ((config, 0o640), (token, 0o640)):
            os.chown(path, 0, gid)
            path.chmod(mode)
        os.chown(ca, 0, 0)
        ca.chmod(0o644)
        os.chown(state, uid, gid)
        state.chmod(0o700)
        check = _agent(config, "check-config", user=uid)
        assert check.returncode == 0, check.stdout + check.stderr
        connect = _agent(config, "test-connection", user=uid)
        assert connect.returncode == 0, connect.stdout + connect.stderr
        assert f"(id {server.module_id})" in connect.stdout
        assert '"agent-e2e"' in connect.stdout
        # The layout the old unit had (root-owned 0750, DynamicUser in no group): refused clearly.
        os.chown(etc, 0, 0)
        broken = _agent(config, "test-connection", user=uid)
        assert broken.returncode == 2
        assert f"{config}: cannot be read by uid {uid}: permission denied" in broken.stderr
        assert "Traceback" not in broken.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)
