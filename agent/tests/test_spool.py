"""R67.7: the spool keeps every signal on disk until the server answers for it; positions move in
the same transaction; a full spool holds the inputs back instead of dropping."""

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from aips_agent import signals as s
from aips_agent.spool import Spool, Stopped, read_status


def sig(n: int = 0) -> s.IdsSignal:
    return s.IdsSignal(
        id=s.new_id(),
        observed_at="2026-11-22T10:00:00+00:00",
        product="p",
        vendor="v",
        rule_name=f"r{n}",
    )


def test_r67_7_signals_and_position_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    spool = Spool(path)
    batch = [sig(i) for i in range(3)]
    spool.put(
        "eve", batch, position='{"inode": 1, "offset": 300, "path": "x"}', counters={"read": 3}
    )
    spool.close()
    again = Spool(path)
    assert again.items == 3
    assert [q.id for q in again.batch(10, 1 << 20)] == [b.id for b in batch]
    assert again.position("eve") == '{"inode": 1, "offset": 300, "path": "x"}'
    assert again.stats["eve"] == {"read": 3}
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_r67_7_large_puts_keep_every_signal_in_order(tmp_path: Path) -> None:
    # More than one multi-row INSERT plus a remainder: the queue order is the order of the put.
    spool = Spool(tmp_path / "spool.db")
    batch = [sig(i) for i in range(257)]
    spool.put("eve", batch, position="{}")
    queued = spool.batch(1000, 1 << 30)
    assert [q.id for q in queued] == [b.id for b in batch]
    assert [q.body for q in queued] == [s.encode(b) for b in batch]
    assert spool.items == 257
    assert spool.bytes == sum(len(s.encode(b)) for b in batch)


def test_r67_7_ack_removes_and_dead_letters_are_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.put("eve", [sig(i) for i in range(4)])
    queued = spool.batch(10, 1 << 20)
    spool.ack(queued[:2], [(queued[2], {"src_ip": "not an IP address"})], meta={"shipped": "2"})
    assert spool.items == 1
    assert [q.id for q in spool.batch(10, 1 << 20)] == [queued[3].id]
    status = read_status(tmp_path / "spool.db")
    assert status["queue_depth"] == 1
    assert status["dead_letters"] == 1
    assert status["recent_dead_letters"][0]["errors"] == {"src_ip": "not an IP address"}
    assert status["shipped"] == 2


def test_r67_7_batches_respect_the_byte_limit(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.put("eve", [sig(i) for i in range(10)])
    one = len(spool.batch(1, 1 << 20)[0].body)
    assert len(spool.batch(10, one * 3 + 3)) == 3
    assert len(spool.batch(10, 1)) == 1  # never an empty batch


def test_r67_7_full_spool_blocks_inputs_until_the_shipper_makes_room(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "spool.db", max_items=5)
    spool.put("eve", [sig(i) for i in range(5)])
    done = threading.Event()

    def producer() -> None:
        spool.put("eve", [sig(99)])
        done.set()

    thread = threading.Thread(target=producer)
    thread.start()
    time.sleep(0.5)
    assert not done.is_set()  # back-pressure: the input waits
    assert spool.full
    assert any("spool is full" in r.message and r.levelname == "ERROR" for r in caplog.records)
    assert read_status(tmp_path / "spool.db")["disk_full"] is True
    spool.ack(spool.batch(2, 1 << 20))
    assert done.wait(5)
    thread.join()
    assert spool.items == 4
    assert not spool.full
    assert spool.put("eve", [sig(1)], block=False) is True  # 5 of 5
    assert spool.put("eve", [sig(3)], block=False) is False  # UDP: the caller counts a drop


def test_r67_7_a_waiting_input_gives_up_when_the_agent_stops(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db", max_bytes=10)
    spool.put("eve", [sig()])
    stop = threading.Event()
    stop.set()
    with pytest.raises(Stopped):
        spool.put("eve", [sig()], stop=stop)


def test_r67_7_max_bytes_bounds_disk_use(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db", max_bytes=2000)
    while spool.put("eve", [sig()], block=False):
        pass
    assert 2000 <= spool.bytes < 2300


def test_r67_7_status_reads_while_another_connection_writes(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.put("eve", [sig()], counters={"read": 1, "errors": 2})
    status = read_status(tmp_path / "spool.db")
    assert status["inputs"] == {"eve": {"read": 1, "errors": 2}}
    assert status["queue_depth"] == 1
    assert status["oldest_queued_seconds"] >= 0
