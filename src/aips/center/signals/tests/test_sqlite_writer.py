"""SQLite's signal writer (sqlite_writer.py, R67.3.6, R67.8): concurrent requests' batches
committed together, each answered after its commit, one batch's failure its own, and on a real
server killed with SIGKILL under load: every acknowledged signal kept, a re-send stored nothing
twice, and the WAL bounded by background checkpoints."""

import http.client
import json
import os
import queue
import re
import signal as signals
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from aips.center.signals import schema, services, sqlite_writer
from aips.center.signals.models import Signal
from aips.center.signals.tests.conftest import signal
from aips.conftest import server_env

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL commits concurrent inserts in groups itself"
)


def test_r67_3_6_a_group_is_every_batch_waiting_up_to_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sqlite_writer, "GROUP_ROWS", 250)
    waiting: queue.SimpleQueue[Any] = queue.SimpleQueue()
    batches = [sqlite_writer._Batch(rows=[()] * 100) for _ in range(4)]
    for batch in batches:
        waiting.put(batch)
    assert sqlite_writer.take_group(waiting) == batches[:3]  # 300 rows: past 250, no more
    assert sqlite_writer.take_group(waiting) == batches[3:]


@pytest.mark.django_db
def test_r67_3_6_one_batch_failing_in_a_group_fails_alone(module_a: tuple[Any, str]) -> None:
    from aips.center.integrations.models import ModuleActor

    module, _token = module_a
    actor = ModuleActor(module_id=module.pk, organization_id=module.organization_id, name="a")
    now = timezone.now()

    def rows(kind: str) -> list[tuple[Any, ...]]:
        items = schema.decode_batch(json.dumps([signal(kind) for _ in range(5)]).encode())
        assert items is not None
        return [services._row(item, actor, now) for item in items]

    def refuse_the_waf(batch: list[tuple[Any, ...]]) -> set[int]:
        if any(row[3] == "waf" for row in batch):
            raise sqlite3.OperationalError("disk I/O error")
        return services._insert_sqlite(batch)

    group = [sqlite_writer._Batch(rows=rows(kind)) for kind in ("ids", "waf", "scan")]
    sqlite_writer.commit_group(group, refuse_the_waf)
    assert all(batch.done.is_set() for batch in group)
    assert [batch.inserted for batch in group] == [set(range(5)), set(), set(range(5))]
    assert [type(batch.error) for batch in group] == [
        type(None),
        sqlite3.OperationalError,
        type(None),
    ]
    assert Signal.objects.filter(organization_id=module.organization_id).count() == 10


@pytest.mark.django_db(transaction=True)
def test_r67_3_6_a_writer_that_fails_answers_every_waiting_request_and_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error outside the insert (the connection broken, say) fails the group's requests at
    once, with the error; the thread lives on and stores the next batch."""
    calls: list[int] = []

    def commit(group: list[Any], insert: Any) -> None:
        calls.append(len(group))
        if len(calls) == 1:
            raise sqlite3.OperationalError("unable to open database file")
        for batch in group:
            batch.inserted = set(range(len(batch.rows)))
            batch.done.set()

    monkeypatch.setattr(sqlite_writer, "commit_group", commit)
    writer = sqlite_writer._Writer()
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        writer.store([(), ()])
    assert writer.store([(), (), ()]) == {0, 1, 2}
    assert calls == [1, 1]


# --- a real server, killed under load -----------------------------------------------------------

SETUP = """
import json
from aips.center.integrations.services import module_register, token_issue
from aips.core.actors import SystemActor
from aips.shared.organizations.models import Organization
from aips.core.identifiers import bin_check_digit
from aips.shared.organizations.services import organization_create
actor = SystemActor(label="writer-test")
stem = next(s for s in (f"99064{n:06d}" for n in range(100)) if bin_check_digit(s) is not None)
org = organization_create(actor=actor, name="Writer bank", bin=stem + str(bin_check_digit(stem)),
                          email="w@bank.example.kz", kind="bank")
module = module_register(actor=actor, organization=org, name="agent")
module, raw = token_issue(actor=actor, module=module)
print(json.dumps({"token": raw}))
"""


def _aips(data_dir: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "aips", *args],
        env=server_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aips", "serve"],
        env=server_env(data_dir, AIPS_BIND=f"127.0.0.1:{port}", AIPS_SQLITE_WAL_MAX_MB="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, "aips serve exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            assert time.monotonic() < deadline, "aips serve did not start"
            time.sleep(0.2)


def _sample(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, name
    return float(match.group(1))


def _post(port: int, token: str, items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The answer, or None when the server went away before answering."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST",
            "/api/v1/signals",
            json.dumps(items),
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        response = conn.getresponse()
        body = response.read()
        conn.close()
    except (OSError, http.client.HTTPException):
        return None
    assert response.status == 200, body
    answer: dict[str, Any] = json.loads(body)
    return answer


def test_r67_3_6_kill_9_under_load_keeps_every_acknowledged_signal(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _aips(data_dir, "migrate", "--no-input")
    token = json.loads(_aips(data_dir, "shell", "-c", SETUP).strip().splitlines()[-1])["token"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    batches = [[signal("ids") for _ in range(100)] for _ in range(240)]
    acknowledged: set[str] = set()
    lock = threading.Lock()
    wal_sizes: list[int] = []
    database = data_dir / "aips.sqlite3"

    def client(part: list[list[dict[str, Any]]]) -> None:
        for batch in part:
            answer = _post(port, token, batch)
            if answer is None:
                return
            with lock:
                acknowledged.update(i["id"] for i in answer["items"] if i["status"] == "accepted")

    server = _serve(data_dir, port)
    try:
        clients = [threading.Thread(target=client, args=(batches[c::6],)) for c in range(6)]
        for thread in clients:
            thread.start()
        # Let about half go in, watching the WAL, then kill the server where it stands.
        while len(acknowledged) < 10_000:
            wal = Path(f"{database}-wal")
            wal_sizes.append(wal.stat().st_size if wal.exists() else 0)
            time.sleep(0.05)
        os.killpg(server.pid, signals.SIGKILL)
        server.wait(timeout=10)
        for thread in clients:
            thread.join(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signals.SIGKILL)
    with sqlite3.connect(database) as db:
        stored = {row[0] for row in db.execute("SELECT signal_id FROM signals_signal")}
    as_stored = {item.replace("-", "") for item in acknowledged}
    assert as_stored <= stored  # every acknowledged signal survived the kill
    # The agent's way: every batch again, by six clients at once. Nothing is stored twice.
    server = _serve(data_dir, port)
    answers: list[Any] = []

    def resend(part: list[list[dict[str, Any]]]) -> None:
        answers.extend(_post(port, token, batch) for batch in part)

    try:
        clients = [threading.Thread(target=resend, args=(batches[c::6],)) for c in range(6)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=120)
        assert len(answers) == len(batches)
        assert all(a is not None and a["rejected"] == 0 for a in answers)
        # Their batches were committed in fewer transactions than there were batches.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/metrics")
        metrics = conn.getresponse().read().decode()
        conn.close()
    finally:
        os.killpg(server.pid, signals.SIGKILL)
        server.wait(timeout=10)
    committed = _sample(metrics, 'aips_signal_sqlite_groups_total{outcome="committed"}')
    assert 0 < committed < _sample(metrics, "aips_signal_sqlite_batches_total") == len(batches)
    with sqlite3.connect(database) as db:
        (rows,) = db.execute("SELECT count(*) FROM signals_signal").fetchone()
    assert rows == 240 * 100
    # The WAL stayed near its bound (1 MB here, and one group's pages): past it, the writer
    # empties it before its next group.
    assert max(wal_sizes) < 16 * 1024 * 1024, wal_sizes
