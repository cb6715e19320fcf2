"""Signal retention (R57.17): the last AIPS_SIGNAL_RETENTION_MONTHS months (3) stay online; each
older month is written to `AIPS_DATA_DIR/signals-archive/YYYY-MM.jsonl.gz` and then leaves the
database (on PostgreSQL its partition is detached and dropped; on SQLite its rows are deleted).
Rollups and sightings stay: they are small, and dashboards and correlation read them.

Crash safety rests on one transaction per month. The file is written first (a temporary file,
fsync, rename, fsync of the directory), then, in the same transaction that read the rows, the
ArchivedMonth row, the audit event and the removal (PostgreSQL's DETACH and DROP are
transactional). A crash before the commit leaves the rows online and no ArchivedMonth, so the
next run exports the same rows again and overwrites the file with identical bytes (rows in seq
order, canonical JSON, gzip without a timestamp); a crash after it leaves nothing to do. Rows are
therefore never lost (nothing is removed before the file is durable and recorded) and never
doubled (a month has exactly one file, replaced whole). While the month is exported its rows are
locked against writes (a lock on its partition on PostgreSQL; on SQLite the job's transaction
already holds the database's write lock), so the file has exactly the rows that are removed."""

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from aips.center.signals import partitions
from aips.center.signals.models import ArchivedMonth, Signal
from aips.center.signals.schema import Severity
from aips.core.actors import Actor
from aips.core.db_locks import try_xact_lock
from aips.core.errors import Forbidden
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record

ARCHIVE_DIRNAME = "signals-archive"
_FIELDS = ("seq", *partitions.COLUMNS)
_SEVERITIES = list(Severity)
_CHUNK = 5000


@dataclass(frozen=True)
class MonthResult:
    month: date
    rows: int
    path: str
    sha256: str
    archived: bool  # False: recorded before; only an empty, re-created partition was removed


def archive_dir() -> Path:
    return Path(settings.DATA_DIR) / ARCHIVE_DIRNAME


def cutoff(today: date) -> date:
    """The first month kept online: months before it are archived. With 3 months, on 15 May
    February is the oldest online month, so every signal stays online at least 3 months."""
    return partitions.add_months(
        partitions.month_start(today), -settings.AIPS_SIGNAL_RETENTION_MONTHS
    )


def _aware(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def due_months(today: date) -> list[date]:
    """Months older than the retention that still have rows or a partition, oldest first."""
    limit = cutoff(today)
    months: set[date] = set()
    oldest = Signal.objects.filter(observed_at__lt=_aware(limit)).order_by("observed_at").first()
    if oldest is not None:
        month = partitions.month_start(oldest.observed_at.astimezone(UTC).date())
        while month < limit:
            if Signal.objects.filter(
                observed_at__gte=_aware(month),
                observed_at__lt=_aware(partitions.add_months(month, 1)),
            ).exists():
                months.add(month)
            month = partitions.add_months(month, 1)
    if connection.vendor == "postgresql":
        for name in partitions.existing_partitions():
            named = _partition_month(name)
            if named is not None and named < limit:
                months.add(named)
    return sorted(months)


def _partition_month(name: str) -> date | None:
    prefix = f"{partitions.TABLE}_p"
    if not name.startswith(prefix) or len(name) != len(prefix) + 6:
        return None
    digits = name[len(prefix) :]
    if not digits.isdigit():
        return None
    return date(int(digits[:4]), int(digits[4:]), 1)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _line(row: dict[str, Any]) -> bytes:
    out = dict(row)
    out["signal_id"] = str(row["signal_id"])
    for name in ("observed_at", "received_at", "first_seen", "last_seen"):
        out[name] = _iso(row[name])
    out["severity"] = _SEVERITIES[row["severity"]].value
    return (
        json.dumps(out, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _export(rows: Any, target: Path) -> tuple[int, str]:
    """Write the rows to `target` durably; returns (rows, SHA-256 of the file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp")
    count = 0
    with open(temp, "wb") as raw:
        # No file name and mtime 0 in the gzip header: the same rows give the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            for row in rows:
                gz.write(_line(row))
                count += 1
        raw.flush()
        os.fsync(raw.fileno())
    digest = hashlib.sha256()
    with open(temp, "rb") as done:
        for block in iter(lambda: done.read(1 << 20), b""):
            digest.update(block)
    os.replace(temp, target)
    _fsync_dir(target.parent)
    return count, digest.hexdigest()


def _month_rows(start: date, end: date) -> Any:
    return (
        Signal.objects.filter(observed_at__gte=_aware(start), observed_at__lt=_aware(end))
        .order_by("seq")
        .values(*_FIELDS)
        .iterator(chunk_size=_CHUNK)
    )


def _remove_postgres(month: date, start: date, end: date) -> None:
    # Detached and dropped by the owner's function: the application role owns no table.
    partitions.drop_partition(month)
    with connection.cursor() as cursor:
        # Rows of the month that found no partition (it did not exist yet) sit in the default.
        cursor.execute(
            f"DELETE FROM {partitions.TABLE}_default "  # noqa: S608 - constant table name
            "WHERE observed_at >= %s AND observed_at < %s",
            [_aware(start), _aware(end)],
        )


def _lock_month(month: date, start: date, end: date) -> None:
    """Keep writers out of the month while it is exported (PostgreSQL; SQLite's job transaction
    already holds the one write lock)."""
    if connection.vendor != "postgresql":
        return
    name = partitions.partition_name(month)
    with connection.cursor() as cursor:
        if name in partitions.existing_partitions():
            cursor.execute(f"LOCK TABLE {name} IN SHARE MODE")
        cursor.execute(f"LOCK TABLE {partitions.TABLE}_default IN SHARE MODE")


def _remove(month: date, start: date, end: date) -> None:
    if connection.vendor == "postgresql":
        _remove_postgres(month, start, end)
    else:
        # One DELETE: nothing refers to a signal, so Django collects nothing first.
        Signal.objects.filter(observed_at__gte=_aware(start), observed_at__lt=_aware(end)).delete()


@transaction.atomic
def archive_month(*, actor: Actor, month: date) -> MonthResult:
    """Archive one month (see the module's docstring). Idempotent: a month already recorded
    is not exported again; an empty partition that was re-created for it is dropped."""
    if getattr(actor, "actor_kind", "") != "system":
        # Retention is the system's duty (the worker, or an operator's `aips signals archive`),
        # never a person's action in the UI or the API.
        raise Forbidden()
    # The worker's job lock (re-entrant within the worker's own transaction), so an operator's
    # run and the worker's never export the same month at once.
    if not try_xact_lock("aips.worker.signal_archive"):
        raise RuntimeError("the signal archive is running elsewhere; try again later")
    start = partitions.month_start(month)
    end = partitions.add_months(start, 1)
    done = ArchivedMonth.objects.select_for_update().filter(month=start).first()
    if done is not None:
        left = Signal.objects.filter(
            observed_at__gte=_aware(start), observed_at__lt=_aware(end)
        ).exists()
        if left:
            # Signals that arrived for a month after it was archived: never delete a row that
            # no file holds. Ingest refuses signals older than AIPS_SIGNAL_MAX_AGE_DAYS, so
            # this needs a configuration error; the operator decides.
            raise RuntimeError(f"{start:%Y-%m} was archived, yet signals of it are online")
        _remove(start, start, end)
        return MonthResult(start, done.rows, done.path, done.sha256, archived=False)
    _lock_month(start, start, end)
    target = archive_dir() / f"{start:%Y-%m}.jsonl.gz"
    rows, sha256 = _export(_month_rows(start, end), target)
    archived = ArchivedMonth.objects.create(month=start, path=str(target), rows=rows, sha256=sha256)
    record(
        actor=actor,
        event=EventType.SIGNALS_ARCHIVED,
        target=archived,
        details={"month": f"{start:%Y-%m}", "rows": rows, "sha256": sha256, "file": target.name},
    )
    _remove(start, start, end)
    return MonthResult(start, rows, str(target), sha256, archived=True)


def archive_run(
    *, actor: Actor, today: date | None = None, limit: int | None = None
) -> list[MonthResult]:
    """Archive the months older than the retention, oldest first (at most `limit`).

    The worker passes limit=1: its whole job is one transaction, and DETACH holds the parent
    table's lock until the commit, so a second month's export would keep ingest waiting. In the
    usual course one month falls due per month anyway; `aips signals archive` catches up on a
    backlog with one transaction per month."""
    today = today or timezone.localdate()
    months = due_months(today)
    if limit is not None:
        months = months[:limit]
    return [archive_month(actor=actor, month=month) for month in months]


def read_archive(path: Path) -> list[dict[str, Any]]:
    """The rows of an archive file (for checks and restores)."""
    with gzip.open(path, "rb") as gz:
        return [json.loads(line) for line in gz if line.strip()]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
