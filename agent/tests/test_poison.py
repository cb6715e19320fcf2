"""R67.7 (issue 13): one signal the server refuses never blocks the others. A rejected item goes
to the dead-letter table with its origin — the input, the file (or syslog peer), the line's byte
offset and the line itself — and the rest of its batch is delivered exactly once; a batch the
server refuses as a whole is halved until the one bad signal is alone and dead-lettered. Also:
an old spool gains the origin columns, and after an outage a line says delivery resumed and
`status` drops the old error."""

import json
import logging
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aips_agent.agent import make_mapper
from aips_agent.config import Config, load
from aips_agent.inputs import FileInput
from aips_agent.shipper import Shipper
from aips_agent.signals import Networks
from aips_agent.spool import Spool, read_dead_letters, read_status
from tests.conftest import write_config
from tests.pki import TestCA
from tests.stub import StubServer


def eve(n: int, signature: str | None = None) -> str:
    return json.dumps(
        {
            "timestamp": datetime.now(UTC).isoformat(),
            "event_type": "alert",
            "src_ip": "203.0.113.9",
            "dest_ip": "10.1.2.3",
            "proto": "TCP",
            "alert": {"signature_id": 100 + n, "signature": signature or f"rule {n}"},
        }
    )


@pytest.fixture
def setup(tmp_path: Path, stub: StubServer, ca: TestCA) -> Iterator[tuple[Config, Spool, Path]]:
    log = tmp_path / "eve.json"
    config = load(
        write_config(
            tmp_path,
            url=stub.url,
            ca_file=ca.cert_path,
            inputs=[
                {"name": "eve", "type": "suricata_eve", "path": str(log), "start_at": "beginning"}
            ],
        )
    )
    spool = Spool(config.spool.path)
    yield config, spool, log
    spool.close()


def read_file(config: Config, spool: Spool, path: Path) -> None:
    item = config.inputs[0]
    mapper = make_mapper(config, item, Networks())
    reader = FileInput(
        item.name, path, mapper, spool, detectors=None, stop=threading.Event(), start_at="beginning"
    )
    while reader.step():
        pass
    reader.tailer.close()


def drain(shipper: Shipper, rounds: int = 40) -> None:
    for _ in range(rounds):
        batch = shipper.spool.batch(shipper.batch_size, 1 << 22)
        if not batch:
            return
        shipper.ship(batch)


def test_r67_7_a_rejected_item_is_dead_lettered_with_its_line_and_the_rest_ships_once(
    setup: tuple[Config, Spool, Path], stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    config, spool, path = setup
    lines = [eve(1), eve(2, "NUL \x00 here"), eve(3), eve(4, "x" * 600), eve(5)]
    path.write_text("\n".join(lines) + "\n")
    offsets = [sum(len(x.encode()) + 1 for x in lines[:i]) for i in range(len(lines))]

    def reject(item: dict[str, Any]) -> dict[str, str] | None:
        if "\x00" in item.get("rule_name", ""):
            return {"rule_name": "Text may not contain the NUL character (\\u0000)."}
        return None

    stub.reject = reject
    read_file(config, spool, path)
    shipper = Shipper(spool, config.server)
    with caplog.at_level(logging.ERROR):
        drain(shipper)
    assert spool.items == 0
    assert len(stub.items) == 4  # the four others, delivered
    assert set(stub.received.values()) == {1}  # each sent once: never re-sent, never duplicated
    [dead] = read_dead_letters(config.spool.path)
    assert dead["input"] == "eve"
    assert dead["source"] == str(path)
    assert dead["position"] == offsets[1]
    assert dead["record"] == lines[1]
    assert dead["errors"] == {"rule_name": "Text may not contain the NUL character (\\u0000)."}
    [logged] = [r for r in caplog.records if "rejected a signal" in r.getMessage()]
    assert f"from {path} at {offsets[1]}" in logged.getMessage()
    drain(shipper)
    assert set(stub.received.values()) == {1}


def test_r67_7_a_batch_refused_whole_is_halved_until_the_bad_signal_is_alone(
    setup: tuple[Config, Spool, Path], stub: StubServer
) -> None:
    config, spool, path = setup
    lines = [eve(n, "POISON" if n == 5 else None) for n in range(12)]
    path.write_text("\n".join(lines) + "\n")
    stub.refuse_batch = lambda items: (
        422 if any(i.get("rule_name") == "POISON" for i in items) else 0
    )
    read_file(config, spool, path)
    shipper = Shipper(spool, config.server)
    drain(shipper)
    assert spool.items == 0
    assert len(stub.items) == 11
    assert stub.refused_batches[0] == 12
    assert stub.refused_batches[-1] == 1
    [dead] = read_dead_letters(config.spool.path)
    assert dead["record"] == lines[5]
    assert dead["errors"] == {"": "refused"}


def test_r67_7_a_spool_from_an_earlier_version_gains_origins_and_still_ships(
    tmp_path: Path, stub: StubServer, ca: TestCA
) -> None:
    path = tmp_path / "spool.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,
            body BLOB NOT NULL, created REAL NOT NULL);
        CREATE TABLE dead (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,
            body BLOB NOT NULL, errors TEXT NOT NULL, at REAL NOT NULL);
        """
    )
    body = json.dumps(
        {
            "kind": "ids",
            "id": "0b6f4e0e-8d1e-4a36-9f41-1f2b7b0c9a11",
            "observed_at": "2026-11-22T10:00:00+00:00",
            "product": "Suricata",
            "vendor": "OISF",
            "rule_name": "old",
        }
    )
    old.execute("INSERT INTO queue (id, body, created) VALUES ('x', ?, 0)", (body.encode(),))
    old.execute("INSERT INTO dead (id, body, errors, at) VALUES ('y', '{}', '{\"a\": \"b\"}', 0)")
    old.commit()
    old.close()
    assert read_dead_letters(path)[0]["source"] is None  # readable before the migration too
    spool = Spool(path)
    try:
        columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(queue)")}
        assert {"input", "source", "position", "raw"} <= columns
        assert [q.body for q in spool.batch(10, 1 << 20)] == [body.encode()]
    finally:
        spool.close()


def test_r67_7_after_an_outage_delivery_resumed_is_logged_and_status_clears_the_error(
    setup: tuple[Config, Spool, Path],
    stub: StubServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config, spool, path = setup
    path.write_text(eve(1) + "\n" + eve(2) + "\n")
    read_file(config, spool, path)
    shipper = Shipper(spool, config.server)
    stub.fail_status = 503
    for _ in range(3):
        assert shipper.ship(spool.batch(10, 1 << 22)) > 0
    assert "HTTP 503: down" in (read_status(config.spool.path)["last_error"] or "")
    shown = _status_text(config)
    assert "last error:       HTTP 503: down" in shown
    stub.fail_status = 0
    with caplog.at_level(logging.INFO):
        assert shipper.ship(spool.batch(10, 1 << 22)) == 0.0
    [line] = [r.getMessage() for r in caplog.records if "delivery resumed" in r.getMessage()]
    assert "3 failed attempt(s)" in line
    assert "0 signal(s) still queued" in line
    status = read_status(config.spool.path)
    assert not status["last_error"]
    assert status["resumed_at"]
    shown = _status_text(config)
    assert "last error" not in shown
    assert "working again since" in shown


def _status_text(config: Config) -> str:
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "--config", str(config.source), "status"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


def test_r67_7_dead_letters_command_shows_the_line_file_offset_and_reasons(
    setup: tuple[Config, Spool, Path], stub: StubServer
) -> None:
    config, spool, path = setup
    path.write_text(eve(1, "bad \x00 rule") + "\n")
    stub.reject = lambda item: {
        "rule_name": "Text may not contain the NUL character (\\u0000).",
        "src_port": "Expected `int` <= 65535",
    }
    read_file(config, spool, path)
    drain(Shipper(spool, config.server))
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "aips_agent", "--config", str(config.source), "dead-letters"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    out = result.stdout
    assert f"from:     eve: {path} byte 0" in out
    assert "refused:  rule_name: Text may not contain the NUL character (\\u0000)." in out
    assert "refused:  src_port: Expected `int` <= 65535" in out
    assert "record:   {" in out
    assert "bad \\u0000 rule" in out  # the line as written
    assert "{'" not in out  # not a Python dict
    status = _status_text(config)
    assert f"eve: {path} byte 0: rule_name: Text may not contain" in status


def test_r67_7_a_line_the_agent_cannot_read_is_dead_lettered_with_its_offset(
    setup: tuple[Config, Spool, Path], stub: StubServer
) -> None:
    """A lone surrogate cannot be carried by any signal (the server refuses it too): the agent's
    JSON reader refuses the line, counts it and keeps it as a dead letter with its origin."""
    config, spool, path = setup
    surrogate = eve(2).replace('"rule 2"', '"x\\ud800y"')
    lines = [eve(1), surrogate, eve(3)]
    path.write_text("\n".join(lines) + "\n")
    read_file(config, spool, path)
    drain(Shipper(spool, config.server))
    assert len(stub.items) == 2
    [dead] = read_dead_letters(config.spool.path)
    assert dead["id"] == ""
    assert dead["record"] == surrogate
    assert dead["position"] == len(lines[0]) + 1
    assert dead["source"] == str(path)
    assert dead["errors"][""].startswith("the agent cannot read this record")
    assert read_status(config.spool.path)["inputs"]["eve"]["errors"] == 1


def test_r67_7_the_refused_line_is_found_again_after_the_file_was_rotated(
    setup: tuple[Config, Spool, Path], stub: StubServer
) -> None:
    """A file's line is not copied into the spool; a dead letter reads it back by offset, length
    and CRC-32, from the rotated file when the path now holds another one."""
    config, spool, path = setup
    lines = [eve(1), eve(2, "refuse me")]
    path.write_text("\n".join(lines) + "\n")
    read_file(config, spool, path)
    path.rename(path.with_name(path.name + ".1"))
    path.write_text(eve(7) + "\n" + eve(8) + "\n")  # the new file: other bytes at that offset
    stub.reject = lambda item: {"rule_name": "no"} if item.get("rule_name") == "refuse me" else None
    drain(Shipper(spool, config.server))
    [dead] = read_dead_letters(config.spool.path)
    assert dead["source"] == str(path)
    assert dead["position"] == len(lines[0]) + 1
    assert dead["record"] == lines[1]


def test_r67_7_a_refused_syslog_message_is_kept_with_its_peer_and_number(
    tmp_path: Path, stub: StubServer, ca: TestCA
) -> None:
    from aips_agent.inputs import SyslogInput
    from tests.stub import free_port

    port = free_port()
    config = load(
        write_config(
            tmp_path,
            url=stub.url,
            ca_file=ca.cert_path,
            inputs=[{"name": "siem", "type": "syslog", "udp": f"127.0.0.1:{port}"}],
        )
    )
    spool = Spool(config.spool.path)
    stop = threading.Event()
    item = config.inputs[0]
    listener = SyslogInput(
        item.name,
        make_mapper(config, item, Networks()),
        spool,
        detectors=None,
        stop=stop,
        udp=item.udp,
        tcp=None,
    )
    listener.start()
    message = (
        b"<134>1 2026-11-22T10:00:00Z kuma KUMA - - - CEF:0|Kaspersky Lab|Kaspersky Endpoint "
        b"Security|12|HEUR:Trojan|Trojan poison|8|dhost=ws-1 fname=a.exe src=10.2.0.3"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.bind(("127.0.0.1", 0))
        sender.sendto(message, ("127.0.0.1", port))
        sender_port = sender.getsockname()[1]
    try:
        assert stub.wait_for(lambda: spool.items == 1, timeout=10)
    finally:
        stop.set()
        listener.join(5)
    stub.reject = lambda item: {"host": "refused for the test"}
    drain(Shipper(spool, config.server))
    spool.close()
    [dead] = read_dead_letters(config.spool.path)
    assert dead["source"] == f"udp:127.0.0.1:{sender_port}"
    assert dead["position"] == 1
    assert dead["record"] == message.decode()
