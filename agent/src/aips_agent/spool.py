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
  the rejected go to a small dead-letter table that `status` and `dead-letters` show).
- Each queued signal keeps its origin: the input, the source (the file it was read from, or the
  syslog peer) and the position there (the line's byte offset, or the message's number since
  the listener started). A syslog message is kept itself (its first RAW_KEEP bytes); a file's
  line is not copied — that would cost about a sixth of the agent's throughput — but its length
  and CRC-32 are, and when the server refuses the signal the line is read back from the file
  (or from a rotated sibling holding the same bytes) into the dead-letter table. Only a dead
  letter ever reads any of this, so an administrator can find the line the server refused.
- Disk use is bounded (max_bytes of signal bodies, max_items, and a floor of free disk). When
  full, `put` blocks — back-pressure to the inputs — and says so loudly; an input that cannot
  wait (syslog over UDP) counts what it drops.

One connection, one lock: the inputs and the shipper take turns in short transactions.
`status` reads the same file from another process (WAL readers never block the writer)."""

import glob
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import zlib
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
    created REAL NOT NULL,
    input TEXT,
    source TEXT,
    position INTEGER,
    raw BLOB
);
CREATE TABLE IF NOT EXISTS positions (input TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS input_stats (input TEXT PRIMARY KEY, counters TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dead (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    body BLOB NOT NULL,
    errors TEXT NOT NULL,
    at REAL NOT NULL,
    input TEXT,
    source TEXT,
    position INTEGER,
    raw BLOB
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Spools written before origins were kept get the columns (NULL for what they hold already).
_ORIGIN_COLUMNS = (
    ("input", "TEXT"),
    ("source", "TEXT"),
    ("position", "INTEGER"),
    ("raw", "BLOB"),
    ("line", "INTEGER"),  # a file line's length << 32 | its CRC-32, to read it back
)
DEAD_KEEP = 1000
RAW_KEEP = 4096  # bytes of the original record kept (or read back) for a dead letter
_COLUMNS = "id, body, created, input, source, position, raw, line"
_INSERT = f"INSERT INTO queue ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608 - only ?
# Rows per multi-row INSERT (8 parameters each, under SQLite's 999-parameter floor). One
# statement step instead of one per signal: sqlite3 releases the GIL around every step, and with
# several busy input threads each release is a thread switch.
_INSERT_ROWS = 100
_VALUES = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * _INSERT_ROWS)
_INSERT_MANY = f"INSERT INTO queue ({_COLUMNS}) VALUES " + _VALUES  # noqa: S608 - only ?
_DEAD_FROM_QUEUE = (
    "INSERT INTO dead (id, body, errors, at, input, source, position, raw) "
    "SELECT id, body, ?, ?, input, source, position, ? FROM queue WHERE seq = ?"
)
FULL_LOG_EVERY = 30.0


@dataclass
class Queued:
    seq: int
    id: str
    body: bytes


# Where a signal came from: (the file or syslog peer, the position there — byte offset of the
# line or the message's number —, the record itself (syslog) or None (a file), and for a file
# line its length << 32 | CRC-32). A plain tuple: one is made per signal on the hot path.
Origin = tuple[str, int, bytes | None, int | None]
_NO_ORIGIN = (None, None, None, None)


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
        _migrate(self._db)
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
        origins: Sequence[Origin | None] | None = None,
        unreadable: Sequence[tuple[Origin, str]] = (),
    ) -> bool:
        """Enqueue signals and, in the same transaction, the input's new position and counters.
        `origins`, when given, runs parallel to `signals`; `unreadable` records (origin,
        reason) go straight to the dead-letter table. Blocks while the spool is full
        (back-pressure); with block=False answers False instead. Raises Stopped when `stop` is
        set while waiting."""
        encode = s.encode
        now = time.time()
        rows: list[tuple[Any, ...]]
        if origins is None:
            rows = [
                (sig.id, encode(sig), now, input_name, None, None, None, None) for sig in signals
            ]
        else:
            rows = [
                (sig.id, encode(sig), now, input_name, *(o or _NO_ORIGIN))
                for sig, o in zip(signals, origins, strict=True)
            ]
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
                if unreadable:
                    db.executemany(
                        "INSERT INTO dead (id, body, errors, at, input, source, position, raw) "
                        "VALUES ('', x'', ?, ?, ?, ?, ?, ?)",
                        [
                            (json.dumps({"": why}), now, input_name, *o[:2], _record_of(*o))
                            for o, why in unreadable
                        ],
                    )
                    db.execute(
                        "DELETE FROM dead WHERE seq <= (SELECT max(seq) FROM dead) - ?",
                        (DEAD_KEEP,),
                    )
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
    ) -> list[dict[str, Any]]:
        """Remove what the server answered for; the rejected go to the dead-letter table with
        their origin, which is answered (input, source, position) for the log."""
        done = list(done)
        dead = list(dead)
        now = time.time()
        origins: list[dict[str, Any]] = []
        with self._room:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for q, e in dead:
                    row = db.execute(
                        "SELECT input, source, position, raw, line FROM queue WHERE seq = ?",
                        (q.seq,),
                    ).fetchone()
                    input_name, source, position, raw, line = row or (None,) * 5
                    origins.append({"input": input_name, "source": source, "position": position})
                    db.execute(
                        _DEAD_FROM_QUEUE,
                        (
                            json.dumps(e, ensure_ascii=False),
                            now,
                            _record_of(source, position, raw, line),
                            q.seq,
                        ),
                    )
                if dead:
                    db.execute(
                        "DELETE FROM dead WHERE seq <= (SELECT max(seq) FROM dead) - ?",
                        (DEAD_KEEP,),
                    )
                seqs = sorted([q.seq for q in done] + [q.seq for q, _e in dead])
                if seqs and seqs[-1] - seqs[0] + 1 == len(seqs):
                    # The usual case: the whole batch, one contiguous range of the queue.
                    db.execute("DELETE FROM queue WHERE seq BETWEEN ? AND ?", (seqs[0], seqs[-1]))
                else:
                    db.executemany("DELETE FROM queue WHERE seq = ?", [(q,) for q in seqs])
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
        return origins

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


def _record_of(
    source: str | None, position: int | None, raw: bytes | None, line: int | None
) -> bytes | None:
    """The record a signal was made from: kept (syslog), or read back from its file by offset,
    length and CRC-32 — from the file itself or a rotated sibling (`eve.json.1`) holding the
    same bytes; None when no file holds them any more."""
    if raw is not None or line is None or not source or position is None:
        return raw
    length, crc = line >> 32, line & 0xFFFFFFFF
    for candidate in [source, *sorted(glob.glob(glob.escape(source) + "?*"))]:
        try:
            with open(candidate, "rb") as handle:
                handle.seek(position)
                data = handle.read(length)
        except OSError:
            continue
        if len(data) == length and zlib.crc32(data) == crc:
            return data[:RAW_KEEP]
    return None


def _migrate(db: sqlite3.Connection) -> None:
    """Add the origin columns to a spool made by an earlier version (its rows keep NULLs)."""
    for table in ("queue", "dead"):
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in _ORIGIN_COLUMNS:
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def _insert(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
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
    finally:
        db.close()
    dead = read_dead_letters(path, limit=5)
    return {
        "queue_depth": items,
        "queue_bytes": size,
        "oldest_queued_seconds": round(time.time() - oldest, 1) if oldest else 0.0,
        "last_shipped_at": meta.get("last_shipped_at"),
        "last_error": meta.get("last_error"),
        "last_error_at": meta.get("last_error_at"),
        "resumed_at": meta.get("resumed_at"),
        "disk_full": meta.get("disk_full") == "1",
        "shipped": int(meta.get("shipped", 0)),
        "duplicates": int(meta.get("duplicates", 0)),
        "rejected": int(meta.get("rejected", 0)),
        "inputs": inputs,
        "positions": positions,
        "dead_letters": dead_count,
        "recent_dead_letters": dead,
    }


def read_dead_letters(path: Path, *, limit: int = 20) -> list[dict[str, Any]]:
    """The newest dead letters: the signal, the server's reasons, and where it came from."""
    if not path.exists():
        raise FileNotFoundError(f"no spool at {path}: has the agent run yet?")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        have = {row[1] for row in db.execute("PRAGMA table_info(dead)")}
        origin = "input, source, position, raw" if "raw" in have else "NULL, NULL, NULL, NULL"
        rows = db.execute(
            f"SELECT id, errors, at, body, {origin} FROM dead "  # noqa: S608 - fixed columns
            "ORDER BY seq DESC LIMIT ?",
            (limit,),
        ).fetchall()
    finally:
        db.close()
    out: list[dict[str, Any]] = []
    for sid, errors, at, body, input_name, source, position, raw in rows:
        try:
            reasons = json.loads(errors)
        except ValueError:
            reasons = {"": str(errors)}
        out.append(
            {
                "id": sid,
                "at": s_time(at),
                "errors": reasons if isinstance(reasons, dict) else {"": str(reasons)},
                "input": input_name,
                "source": source,
                "position": position,
                "record": None if raw is None else _text(raw),
                "signal": _text(body),
            }
        )
    return out


def _text(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    return bytes(value).decode("utf-8", "backslashreplace")


def s_time(at: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at, UTC).isoformat()
