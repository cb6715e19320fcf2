"""SQLite: one writer thread per server process that stores the signal batches of all its request
threads, several batches per transaction, and a checkpointer beside it (decision 0051).

SQLite has one writer at a time, and a transaction per batch paid for the lock hand-over, the
commit's fsync and, every thousand pages, a checkpoint inside someone's commit. Here a request
thread hands its rows to the writer and waits; the writer takes every batch waiting, stores
them in one `BEGIN IMMEDIATE` transaction (services._insert_sqlite, batch after batch: each one
still learns which of its rows were new), commits (`synchronous=FULL`: on disk) and only then
wakes the requests, which answer. A group that fails is retried batch by batch, so one batch's
error is its own. Nothing is answered before its commit, so an acknowledged signal is durable.

The writer's connection never checkpoints (`wal_autocheckpoint=0`), so no request waits for a
checkpoint inside a commit. A checkpointer thread copies the WAL back with `PASSIVE` checkpoints,
which run beside the writer, every half second. Under steady writes those never catch the
writer, so SQLite never starts the WAL over and the file only grows; so after a commit that
leaves it past AIPS_SQLITE_WAL_MAX_MB, the writer itself runs a `TRUNCATE` checkpoint before its
next group (a checkpointer thread would wait for the lock forever: the writer takes it again at
once), which waits for the readers, copies back the little the PASSIVE ones left and empties the
file. The WAL stays bounded (the limit and one group), at the price of a short pause per
AIPS_SQLITE_WAL_MAX_MB written. Other connections keep SQLite's automatic checkpoints, so the WAL
is checkpointed also where no server runs.

PostgreSQL needs none of this: concurrent inserts there commit in groups by themselves."""

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from aips.core.logging import get_logger
from aips.core.metrics import process_counter

log = get_logger("aips.center.signals.sqlite_writer")
GROUPS = process_counter(
    "aips_signal_sqlite_groups",
    "SQLite: transactions of the signal writer, by outcome (committed, or failed and retried "
    "batch by batch).",
    ["outcome"],
)
BATCHES = process_counter(
    "aips_signal_sqlite_batches", "SQLite: signal batches committed by the signal writer.", []
)

# Rows per transaction at most: a larger group would keep the next requests waiting longer
# than it saves.
GROUP_ROWS = 5_000
CHECKPOINT_SECONDS = 0.5


@dataclass
class _Batch:
    rows: list[tuple[Any, ...]]
    done: threading.Event = field(default_factory=threading.Event)
    inserted: set[int] = field(default_factory=set)
    error: BaseException | None = None


class _Writer:
    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[_Batch] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.pid = 0

    def store(self, rows: list[tuple[Any, ...]]) -> set[int]:
        """Positions of the rows that were new, once their transaction is on disk."""
        self._ensure_started()
        batch = _Batch(rows)
        self.queue.put(batch)
        batch.done.wait()
        if batch.error is not None:
            raise batch.error
        return batch.inserted

    def _ensure_started(self) -> None:
        # Per process: gunicorn forks its workers after import, and threads do not survive it.
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid == os.getpid():
                return
            self.queue = queue.SimpleQueue()
            threading.Thread(target=self._run, name="aips-sqlite-writer", daemon=True).start()
            # A database in memory (the tests': Django names it file:…?mode=memory) has no WAL.
            if "mode=memory" not in str(settings.DATABASES["default"]["NAME"]):
                threading.Thread(
                    target=self._checkpoint, name="aips-sqlite-checkpoint", daemon=True
                ).start()
            self.pid = os.getpid()

    def _run(self) -> None:
        from aips.center.signals.services import _insert_sqlite

        prepared = False
        while True:
            group = take_group(self.queue)
            try:
                if not prepared:
                    with connection.cursor() as cursor:
                        cursor.execute("PRAGMA wal_autocheckpoint=0")
                    prepared = True
                commit_group(group, _insert_sqlite)
                if self._wal_over_limit():
                    self._truncate_wal()
            except Exception as exc:
                # Whatever went wrong (the database file gone, the connection broken), no request
                # is left waiting and the thread lives on, with a new connection next time.
                log.exception("signals.sqlite_writer_failed", batches=len(group))
                for batch in group:
                    if not batch.done.is_set():
                        batch.error = exc
                        batch.done.set()
                connection.close()
                prepared = False

    def _wal_over_limit(self) -> bool:
        try:
            size = os.path.getsize(f"{settings.DATABASES['default']['NAME']}-wal")
        except OSError:
            return False
        return size > settings.AIPS_SQLITE_WAL_MAX_MB * 1024 * 1024

    def _truncate_wal(self) -> None:
        # Between two groups, so the writer holds no lock: TRUNCATE waits for the readers,
        # copies back what the PASSIVE checkpoints have not, and empties the file.
        try:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:
            log.warning("signals.sqlite_checkpoint_failed", mode="TRUNCATE", exc_info=True)

    def _checkpoint(self) -> None:
        while True:
            time.sleep(CHECKPOINT_SECONDS)
            try:
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:
                log.warning("signals.sqlite_checkpoint_failed", mode="PASSIVE", exc_info=True)


def take_group(waiting: "queue.SimpleQueue[_Batch]") -> list[_Batch]:
    """The next batch (waiting for one) and every batch already waiting, up to GROUP_ROWS."""
    group = [waiting.get()]
    size = len(group[0].rows)
    while size < GROUP_ROWS:
        try:
            more = waiting.get_nowait()
        except queue.Empty:
            break
        group.append(more)
        size += len(more.rows)
    return group


def commit_group(group: list[_Batch], insert: Callable[[list[tuple[Any, ...]]], set[int]]) -> None:
    """Store the group in one transaction and wake its requests after the commit; if that fails,
    each batch in a transaction of its own, so that an error is only its batch's."""
    try:
        with transaction.atomic():
            found = [insert(batch.rows) for batch in group]
    except Exception:
        log.warning("signals.sqlite_group_failed", batches=len(group), exc_info=True)
        for batch in group:
            try:
                with transaction.atomic():
                    batch.inserted = insert(batch.rows)
            except Exception as exc:
                batch.error = exc
            batch.done.set()
        GROUPS.labels("failed").inc()
        return
    for batch, inserted in zip(group, found, strict=True):
        batch.inserted = inserted
        batch.done.set()
    GROUPS.labels("committed").inc()
    BATCHES.inc(len(group))


_writer = _Writer()


def store(rows: list[tuple[Any, ...]]) -> set[int]:
    return _writer.store(rows)
