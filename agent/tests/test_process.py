"""R67.3.8, R67.7: the real `aips-agent run` process — killed with SIGKILL while shipping and
restarted, every line arrives exactly once (re-sends carry the same ids); malformed lines are
counted and skipped; syslog over UDP and TCP; status and graceful stop."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_config
from tests.pki import TestCA
from tests.stub import StubServer, free_port

pytestmark = pytest.mark.slow


def eve_alert(n: int) -> str:
    stamp = datetime.now(UTC).isoformat()
    return json.dumps(
        {
            "timestamp": stamp,
            "event_type": "alert",
            "src_ip": f"203.0.113.{n % 250 + 1}",
            "src_port": 40000 + n % 20000,
            "dest_ip": "10.1.2.3",
            "dest_port": 443,
            "proto": "TCP",
            "alert": {"signature_id": 2000000 + n, "signature": f"line {n}", "severity": 2},
        }
    )


def start_agent(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "aips_agent", "--config", str(config), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def agent_status(config: Path) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "--config", str(config), "status", "--json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def stop_agent(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def test_r67_7_r67_3_8_kill_9_while_shipping_then_restart_every_signal_arrives_exactly_once(
    tmp_path: Path, stub: StubServer, ca: TestCA
) -> None:
    eve = tmp_path / "eve.json"
    first, second = 3000, 1000
    eve.write_text("".join(eve_alert(n) + "\n" for n in range(first)))
    config = write_config(
        tmp_path,
        url=stub.url,
        ca_file=ca.cert_path,
        server={"batch_size": 50},
        inputs=[{"name": "eve", "type": "suricata_eve", "path": str(eve), "start_at": "beginning"}],
    )
    stub.delay = 0.01
    log = tmp_path / "agent.log"
    proc = start_agent(config, log)
    try:
        assert stub.wait_for(lambda: len(stub.items) >= 500, timeout=60), log.read_text()
        proc.send_signal(signal.SIGKILL)  # mid-shipping: no flush, no goodbye
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert len(stub.items) < first  # it really was interrupted
    with eve.open("a") as f:  # the source keeps writing while the agent is down
        f.write("".join(eve_alert(n) + "\n" for n in range(first, first + second)))
    proc = start_agent(config, log)
    try:
        total = first + second
        assert stub.wait_for(lambda: len(stub.items) >= total, timeout=90), log.read_text()
        time.sleep(0.5)  # anything extra would show up now
        status = agent_status(config)
        assert stop_agent(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = Counter(item["rule_name"] for item in stub.items.values())
    assert len(stub.items) == total  # unique ids == lines written
    assert set(lines) == {f"line {n}" for n in range(total)}  # no line missing
    assert max(lines.values()) == 1  # no line became two signals
    resent = sum(stub.received.values()) - len(stub.received)
    assert resent >= 0  # re-sends, if any, carried ids the server already had
    assert status["queue_depth"] == 0
    assert status["inputs"]["eve"]["read"] == total
    assert status["inputs"]["eve"]["errors"] == 0
    assert status["positions"]["eve"]["offset"] == eve.stat().st_size


def test_r67_3_8_malformed_lines_are_counted_and_skipped_and_syslog_cef_arrives(
    tmp_path: Path, stub: StubServer, ca: TestCA
) -> None:
    eve = tmp_path / "eve.json"
    eve.write_text(
        eve_alert(1)
        + "\n"
        + "garbage {\n"
        + '{"event_type": 5}\n'
        + "\x00\xff\n"
        + eve_alert(2)
        + "\n"
    )
    udp, tcp = free_port(), free_port()
    config = write_config(
        tmp_path,
        url=stub.url,
        ca_file=ca.cert_path,
        inputs=[
            {"name": "eve", "type": "suricata_eve", "path": str(eve), "start_at": "beginning"},
            {
                "name": "siem",
                "type": "syslog",
                "udp": f"127.0.0.1:{udp}",
                "tcp": f"127.0.0.1:{tcp}",
            },
        ],
    )
    log = tmp_path / "agent.log"
    proc = start_agent(config, log)
    try:
        assert stub.wait_for(lambda: len(stub.items) >= 2, timeout=30), log.read_text()
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        cef = (
            f"<134>1 {now} kuma KUMA - - - CEF:0|Imperva|SecureSphere WAF|14|1|SQLi|8|"
            "src=198.51.100.23 request=/login?u\\=1 requestMethod=POST"
        ).encode()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the listener may still be starting
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(cef, ("127.0.0.1", udp))
            if stub.wait_for(lambda: len(stub.items) >= 3, timeout=1):
                break
        with socket.create_connection(("127.0.0.1", tcp), timeout=5) as sock:
            framed = cef.replace(b"SQLi", b"XSS")
            sock.sendall(f"{len(framed)} ".encode() + framed + b"<13>not cef at all\n")
        assert stub.wait_for(
            lambda: {i.get("rule_name") for i in stub.items.values()} >= {"SQLi", "XSS"},
            timeout=20,
        ), log.read_text()
        assert stub.wait_for(lambda: len(stub.heartbeats) >= 1, timeout=10)
        time.sleep(0.5)
        status = agent_status(config)
        assert stop_agent(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert status["inputs"]["eve"]["read"] == 5
    assert status["inputs"]["eve"]["errors"] == 3
    assert status["inputs"]["eve"]["signals"] == 2
    assert status["inputs"]["siem"]["errors"] == 1  # the non-CEF TCP message
    waf = [i for i in stub.items.values() if i["kind"] == "waf"]
    assert {w["url"] for w in waf} == {"/login?u=1"}
    text = log.read_text()
    entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    warnings = [e for e in entries if e["msg"] == "malformed record skipped"]
    assert warnings
    assert warnings[0]["input"] == "eve"
    assert warnings[0]["level"] == "warning"
    assert any(e["msg"] == "aips-agent stopped" for e in entries)
    human = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "--config", str(config), "status"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "queue depth:      0" in human
    assert "eve: errors=3" in human


def test_r67_9_test_connection_reports_tls_and_the_module(
    tmp_path: Path, stub: StubServer, ca: TestCA
) -> None:
    config = write_config(
        tmp_path,
        url=stub.url,
        ca_file=ca.cert_path,
        inputs=[{"name": "eve", "type": "suricata_eve", "path": str(tmp_path / "x.json")}],
    )
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "--config", str(config), "test-connection"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "HTTPS_PROXY": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "TLS OK: TLSv1.3" in result.stdout
    assert (
        'authenticated: module "SIEM connector" (id 1), organization "АО «Алатау Банк»" (id 2)'
        in result.stdout
    )
    check = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "--config", str(config), "check-config"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert "does not exist (yet)" in check.stdout
