"""The worker's backups and restore drills (aips.core.jobs), on the operator's schedule (R57.16):
AIPS_BACKUP_EVERY_HOURS and AIPS_BACKUP_DRILL_EVERY_HOURS (0 = off); off as well while no backup
key is configured.

Both jobs look every hour and act when the newest archive (report) in the backup directory is
older than the interval, so the schedule survives restarts and several workers make one backup,
not one each. They are `concurrent` jobs: SQLite's backup API cannot run inside the worker's
job transaction, so on PostgreSQL each takes its own advisory lock for its whole run."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from aips.core.actors import SystemActor
from aips.core.db_locks import try_xact_lock
from aips.core.jobs import register_job
from aips.shared.backups import services

_LOOK = timedelta(hours=1)
_ACTOR = SystemActor(label="worker")


def _off(hours: int) -> str | None:
    if hours <= 0:
        return "off (interval 0)"
    if not settings.AIPS_BACKUP_KEY_FILE:
        return "off (AIPS_BACKUP_KEY_FILE is not set)"
    return None


def _exclusive(name: str, run: Callable[[], tuple[str, bool]]) -> str:
    """Run under the job's lock (PostgreSQL); raise after the lock's transaction committed when
    the run failed, so the failure's journal entry stays and the worker logs the job as failed."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            if not try_xact_lock(f"aips.worker.{name}"):
                return "running elsewhere"
            summary, ok = run()
    else:
        summary, ok = run()
    if not ok:
        raise RuntimeError(summary)
    return summary


def _due(newest: datetime | None, hours: int) -> bool:
    # A little early rather than a whole look late: "daily" stays daily.
    return newest is None or datetime.now(tz=UTC) - newest >= timedelta(hours=hours) - _LOOK / 2


def backup() -> str:
    hours = settings.AIPS_BACKUP_EVERY_HOURS
    if off := _off(hours):
        return off

    def run() -> tuple[str, bool]:
        found = services.archives()
        if not _due(found[0][0] if found else None, hours):
            return f"newest backup {found[0][1].name} is recent", True
        result = services.backup_create(actor=_ACTOR)
        removed = f", removed {len(result.removed)} expired" if result.removed else ""
        return f"wrote {result.path.name} ({result.path.stat().st_size} bytes){removed}", True

    return _exclusive("backups.backup", run)


def drill() -> str:
    hours = settings.AIPS_BACKUP_DRILL_EVERY_HOURS
    if off := _off(hours):
        return off

    def run() -> tuple[str, bool]:
        last = services.last_report("drill")
        if last is not None and not _due(last[0], hours):
            # A failed drill keeps failing the job (and the alert on it) until one passes.
            if not last[2]:
                return f"the last restore drill FAILED: see {last[1]}", False
            return "the last restore drill is recent", True
        if not services.archives():
            return "no backup to drill yet", True
        report = services.drill_run(actor=_ACTOR)
        return report.text().replace("\n", "; "), report.ok

    return _exclusive("backups.drill", run)


def register_jobs() -> None:
    register_job("backups.backup", every=_LOOK, run=backup, concurrent=True)
    register_job("backups.drill", every=_LOOK, run=drill, concurrent=True)
