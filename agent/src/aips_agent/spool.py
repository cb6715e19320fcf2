"""The durable spool (R67.7): a local SQLite queue in WAL mode between the inputs and the
shipper.

- Every signal is written here before its input's position moves, in the SAME transaction as
  that position: after a crash the file is re-read from exactly where the queue stops, so a line
  becomes a signal once, with one id, never zero or two times.
- `synchronous=FULL`: a commit is on disk before `put` returns. With NORMAL, WAL mode can lose the
  last commits on power loss while the shipper has already sent them; the lines would then be
  re-read with new ids and the server would count them twice. Inputs commit in batches, so the
  fsync is paid per batch, not per line.
- A signal leaves only when the server has answered for it (accepted, duplicate, or rejected —
  the rejected go to a small dead-letter table that `status` shows).
- Disk use is bounded (max_bytes of signal bodies, max_items, and a floor of free disk). When
  full, `put` blocks — back-pressure to the inputs — and says so loudly; an input that cannot
  wait (syslog over UDP) counts what it drops.

One connection, one lock: the inputs and the shipper take turns in short transactions.
`status` reads the same file from another process (WAL readers never block the writer)."""

import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aips_agent import signals as s

log = logging.getLogger("aips_agent.spool")

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    body BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (input TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS input_stats (input TEXT PRIMARY KEY, counters TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dead (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    body BLOB NOT NULL,
    errors TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
DEAD_KEEP = 1000
_INSERT = "INSERT INTO queue (id, body, created) VALUES (?, ?, ?)"
# Rows per multi-row INSERT (3 parameters each, well under SQLite's 999-parameter floor). One
# statement step instead of one per signal: sqlite3 releases the GIL around every step, and with
# several busy input threads each release is a thread switch.
_INSERT_ROWS = 100
_VALUES = ", ".join(["(?, ?, ?)"] * _INSERT_ROWS)
_INSERT_MANY = "INSERT INTO queue (id, body, created) VALUES " + _VALUES  # noqa: S608 - only ?
FULL_LOG_EVERY = 30.0


@dataclass
class Queued:
    seq: int
    id: str
    body: bytes


class Stopped(Exception):
    """put() gave up waiting for room because the agent is stopping."""


class Spool:
    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = 1 << 30,
        max_items: int = 2_000_000,
        min_free_bytes: int = 64 << 20,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.max_items = max_items
        self.min_free_bytes = min_free_bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        os.chmod(path, 0o600)
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        row = self._db.execute(
            "SELECT count(*), coalesce(sum(length(body)), 0) FROM queue"
        ).fetchone()
        self.items, self.bytes = int(row[0]), int(row[1])
        self.stats: dict[str, dict[str, int]] = {
            name: json.loads(counters)
            for name, counters in self._db.execute("SELECT input, counters FROM input_stats")
        }
        self._full = False
        self._full_logged = 0.0
        self._disk_checked = 0.0
        self._disk_low = False

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- room -------------------------------------------------------------------------------

    def _disk_is_low(self) -> bool:
        now = time.monotonic()
        if now - self._disk_checked > 1.0:
            self._disk_checked = now
            try:
                free = shutil.disk_usage(self.path.parent).free
            except OSError:
                free = self.min_free_bytes
            self._disk_low = free < self.min_free_bytes
        return self._disk_low

    def _is_full(self) -> bool:
        return self.items >= self.max_items or self.bytes >= self.max_bytes or self._disk_is_low()

    def _note_full(self, full: bool) -> None:
        if full and (not self._full or time.monotonic() - self._full_logged > FULL_LOG_EVERY):
            self._full_logged = time.monotonic()
            log.error(
                "spool is full: inputs are held back until the server takes signals",
                extra={
                    "queue_items": self.items,
                    "queue_bytes": self.bytes,
                    "max_items": self.max_items,
                    "max_bytes": self.max_bytes,
                    "disk_low": self._disk_low,
                },
            )
        if full != self._full:
            self._full = full
            self._set_meta_locked("disk_full", "1" if full else "0")
            if not full:
                log.warning(
                    "spool has room again: inputs resume", extra={"queue_items": self.items}
                )

    @property
    def full(self) -> bool:
        return self._full

    # --- inputs -----------------------------------------------------------------------------

    def put(
        self,
        input_name: str,
        signals: Sequence[s.Signal],
        *,
        position: str | None = None,
        counters: dict[str, int] | None = None,
        block: bool = True,
        stop: threading.Event | None = None,
    ) -> bool:
        """Enqueue signals and, in the same transaction, the input's new position and counters.
        Blocks while the spool is full (back-pressure); with block=False answers False instead.
        Raises Stopped when `stop` is set while waiting."""
        encode = s.encode
        now = time.time()
        rows = [(sig.id, encode(sig), now) for sig in signals]
        size = sum(len(r[1]) for r in rows)
        with self._room:
            while rows and self._is_full():
                self._note_full(True)
                if not block:
                    return False
                if stop is not None and stop.is_set():
                    raise Stopped
                self._room.wait(timeout=0.5)
            if self._full and not self._is_full():
                self._note_full(False)
            stats = self.stats.setdefault(input_name, {})
            for key, value in (counters or {}).items():
                stats[key] = stats.get(key, 0) + value
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                if rows:
                    _insert(db, rows)
                if position is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO positions (input, state) VALUES (?, ?)",
                        (input_name, position),
                    )
                if counters:
                    db.execute(
                        "INSERT OR REPLACE INTO input_stats (input, counters) VALUES (?, ?)",
                        (input_name, json.dumps(stats)),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self.items += len(rows)
            self.bytes += size
        return True

    def count(self, input_name: str, counters: dict[str, int]) -> None:
        """Counters without signals (e.g. drops while full), persisted for `status`."""
        with self._lock:
            stats = self.stats.setdefault(input_name, {})
            for key, value in counters.items():
                stats[key] = stats.get(key, 0) + value
            self._db.execute(
                "INSERT OR REPLACE INTO input_stats (input, counters) VALUES (?, ?)",
                (input_name, json.dumps(stats)),
            )

    def position(self, input_name: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM positions WHERE input = ?", (input_name,)
            ).fetchone()
        return None if row is None else str(row[0])

    # --- shipper ----------------------------------------------------------------------------

    def batch(self, limit: int, max_bytes: int) -> list[Queued]:
        """The oldest signals, at most `limit` of them and about `max_bytes` together."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, id, body FROM queue ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        out: list[Queued] = []
        total = 0
        for seq, sid, body in rows:
            total += len(body) + 1
            if out and total > max_bytes:
                break
            out.append(Queued(seq, sid, bytes(body)))
        return out

    def ack(
        self,
        done: Iterable[Queued],
        dead: Iterable[tuple[Queued, dict[str, Any]]] = (),
        *,
        meta: dict[str, str] | None = None,
    ) -> None:
        """Remove what the server answered for; the rejected go to the dead-letter table."""
        done = list(done)
        dead = list(dead)
        now = time.time()
        with self._room:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                seqs = sorted([q.seq for q in done] + [q.seq for q, _e in dead])
                if seqs and seqs[-1] - seqs[0] + 1 == len(seqs):
                    # The usual case: the whole batch, one contiguous range of the queue.
                    db.execute("DELETE FROM queue WHERE seq BETWEEN ? AND ?", (seqs[0], seqs[-1]))
                else:
                    db.executemany("DELETE FROM queue WHERE seq = ?", [(q,) for q in seqs])
                if dead:
                    db.executemany(
                        "INSERT INTO dead (id, body, errors, at) VALUES (?, ?, ?, ?)",
                        [(q.id, q.body, json.dumps(e), now) for q, e in dead],
                    )
                    db.execute(
                        "DELETE FROM dead WHERE seq <= (SELECT max(seq) FROM dead) - ?",
                        (DEAD_KEEP,),
                    )
                for key, value in (meta or {}).items():
                    self._set_meta_locked(key, value)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self.items -= len(seqs)
            self.bytes -= sum(len(q.body) for q in done) + sum(len(q.body) for q, _e in dead)
            if self._full and not self._is_full():
                self._note_full(False)
            self._room.notify_all()

    def _set_meta_locked(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def set_meta(self, values: dict[str, str]) -> None:
        with self._lock:
            for key, value in values.items():
                self._set_meta_locked(key, value)

    def add_meta_counter(self, key: str, n: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                "SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT)",
                (key, str(n), n),
            )

    def oldest_age(self) -> float:
        with self._lock:
            row = self._db.execute("SELECT min(created) FROM queue").fetchone()
        return 0.0 if row is None or row[0] is None else max(0.0, time.time() - float(row[0]))

    def meta(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT key, value FROM meta").fetchall())


def _insert(db: sqlite3.Connection, rows: list[tuple[str, bytes, float]]) -> None:
    """The rows in their order (seq follows it), _INSERT_ROWS to a statement."""
    whole = len(rows) - len(rows) % _INSERT_ROWS
    for start in range(0, whole, _INSERT_ROWS):
        db.execute(_INSERT_MANY, [v for row in rows[start : start + _INSERT_ROWS] for v in row])
    if whole < len(rows):
        db.executemany(_INSERT, rows[whole:])


def read_status(path: Path) -> dict[str, Any]:
    """What `aips-agent status` shows, read from the spool file (the agent may be running)."""
    if not path.exists():
        raise FileNotFoundError(f"no spool at {path}: has the agent run yet?")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        items, size, oldest = db.execute(
            "SELECT count(*), coalesce(sum(length(body)), 0), min(created) FROM queue"
        ).fetchone()
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        inputs = {
            name: json.loads(counters)
            for name, counters in db.execute("SELECT input, counters FROM input_stats")
        }
        positions = {
            name: json.loads(state)
            for name, state in db.execute("SELECT input, state FROM positions")
        }
        dead_count = db.execute("SELECT count(*) FROM dead").fetchone()[0]
        dead = [
            {"id": sid, "errors": json.loads(errors), "at": s_time(at)}
            for sid, errors, at in db.execute(
                "SELECT id, errors, at FROM dead ORDER BY seq DESC LIMIT 5"
            )
        ]
    finally:
        db.close()
    return {
        "queue_depth": items,
        "queue_bytes": size,
        "oldest_queued_seconds": round(time.time() - oldest, 1) if oldest else 0.0,
        "last_shipped_at": meta.get("last_shipped_at"),
        "last_error": meta.get("last_error"),
        "last_error_at": meta.get("last_error_at"),
        "disk_full": meta.get("disk_full") == "1",
        "shipped": int(meta.get("shipped", 0)),
        "duplicates": int(meta.get("duplicates", 0)),
        "rejected": int(meta.get("rejected", 0)),
        "inputs": inputs,
        "positions": positions,
        "dead_letters": dead_count,
        "recent_dead_letters": dead,
    }


def s_time(at: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at, UTC).isoformat()
