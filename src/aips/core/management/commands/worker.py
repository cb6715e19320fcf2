"""`aips worker`: AIPS's one background process. Database-backed, no broker: start as many as you
like, on one host or several, and they share the work through locks in the database.

Today it runs periodic jobs from JOBS. Each worker keeps its own schedule (every job is due at
start, then every `every`), so with N workers a daily job runs up to N times a day. That is safe
because every job is idempotent (a second checkpoint or archive run finds nothing new) and runs
under a lock taken in its transaction, so two runs of one job never overlap:

- PostgreSQL: pg_try_advisory_xact_lock(job); a worker that does not get it skips the job this
  tick. The lock goes with the transaction, also when the process dies.
- SQLite: settings open every transaction with BEGIN IMMEDIATE, which takes the database's single
  write lock, so a job's transaction already runs alone (others wait, up to the busy timeout).

The e-mail outbox is such a queue: the "outbox" job claims a batch of due messages with
SELECT ... FOR UPDATE SKIP LOCKED and sends them (aips.notifications.services.drain_outbox); the
"reminders" job sends deadline reminders once each (aips.notifications.reminders). More queues
plug in the same way: one more Job whose function claims and runs a batch.
"""

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection, transaction

from aips.core.logging import get_logger

log = get_logger("aips.worker")


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], str]  # does the work; returns a one-line summary for the log


def _audit_checkpoint() -> str:
    from aips.audit.services import checkpoint_create

    cp = checkpoint_create()
    return f"checkpoint at {cp.tree_size}" if cp else "nothing new to sign"


def _audit_anchor() -> str:
    from aips.audit.anchor import anchor_pending, witness_pending

    try:
        anchored = anchor_pending()
    finally:
        # Lines anchored earlier still reach the witnesses when this anchor is refused.
        sent = witness_pending()
    parts = [f"anchored {anchored.tree_size}" if anchored else "nothing new to anchor"]
    parts += [f"{count} lines to {witness}" for witness, count in sent.items()]
    return ", ".join(parts)


def _audit_archive() -> str:
    from aips.audit.archive import archive_run

    sealed = archive_run()
    return ", ".join(f"{s.first_seq}-{s.last_seq}" for s in sealed) or "nothing to archive"


def _audit_prune() -> str:
    from aips.audit.archive import archive_prune

    removed = archive_prune()
    return f"removed {len(removed)} expired segment files" if removed else "nothing expired"


def _reminders() -> str:
    from aips.notifications.reminders import send_deadline_reminders

    return f"{send_deadline_reminders()} deadline reminders"


def _outbox() -> str:
    from aips.notifications.services import drain_outbox

    return f"{drain_outbox(limit=50)} e-mails sent"


def _outbox_purge() -> str:
    from aips.notifications.services import outbox_purge

    return f"{outbox_purge()} old sent e-mails removed"


def _correlate() -> str:
    from aips.signals.services import correlate

    return f"{correlate()} correlation findings opened"


def _signal_partitions() -> str:
    from django.utils import timezone

    from aips.signals.partitions import ensure_partitions

    created = ensure_partitions(timezone.localdate())
    return ", ".join(created) or "partitions ready"


def _signal_archive() -> str:
    from aips.core.actors import SystemActor
    from aips.signals.archive import archive_run

    done = archive_run(actor=SystemActor(label="worker"), limit=1)
    return ", ".join(f"{m.month:%Y-%m} ({m.rows} signals)" for m in done) or "nothing to archive"


def jobs() -> list[Job]:
    """The job table, read at start so settings apply (and tests can replace it)."""
    return [
        Job(
            "audit.checkpoint",
            timedelta(minutes=settings.AIPS_AUDIT_CHECKPOINT_MINUTES),
            _audit_checkpoint,
        ),
        # Right after the checkpoint, so a tick anchors what it signed; every minute, so an
        # anchor or a witness that failed is caught up soon.
        Job("audit.anchor", timedelta(minutes=1), _audit_anchor),
        Job("audit.archive", timedelta(days=1), _audit_archive),
        Job("audit.archive_prune", timedelta(days=1), _audit_prune),
        # Reminders before the outbox, so one `--once` run also sends the reminders' e-mails.
        Job("reminders", timedelta(minutes=5), _reminders),
        Job("outbox", timedelta(seconds=15), _outbox),
        Job("outbox.purge", timedelta(days=1), _outbox_purge),
        Job("correlate", timedelta(minutes=1), _correlate),
        # Partitions before the archive, so a month's partition exists before its signals do.
        Job("signal_partitions", timedelta(days=1), _signal_partitions),
        Job("signal_archive", timedelta(days=1), _signal_archive),
    ]


def _drop_stale_connections() -> None:
    # A long-lived process must not keep a connection the server dropped or that outlived
    # CONN_MAX_AGE. Not inside a caller's transaction (a test's): that would close it mid-way.
    if not connection.in_atomic_block:
        close_old_connections()


def run_job(job: Job) -> bool:
    """Run one job under its lock; log the outcome. False if it failed (never raises)."""
    from aips.audit.archive import try_xact_lock

    started = time.monotonic()
    _drop_stale_connections()
    try:
        with transaction.atomic():
            if not try_xact_lock(f"aips.worker.{job.name}"):
                log.info("worker.job_skipped", job=job.name, reason="running elsewhere")
                return True
            summary = job.run()
    except Exception:
        # One job's failure (a full disk, a tampered archive) must not stop the others.
        log.exception("worker.job_failed", job=job.name)
        return False
    finally:
        _drop_stale_connections()
    log.info(
        "worker.job_done",
        job=job.name,
        result=summary,
        seconds=round(time.monotonic() - started, 3),
    )
    return True


class Command(BaseCommand):
    help = (
        "The background worker: signed audit checkpoints, daily archiving of the audit journal "
        "(R57.17), deadline reminders (R67.15) and the e-mail outbox. --once runs every job once "
        "(cron, tests)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")
        parser.add_argument(
            "--interval",
            type=float,
            default=30.0,
            help="seconds between looks at the job table (default 30)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        table = jobs()
        if options["once"]:
            failed = [job.name for job in table if not run_job(job)]
            if failed:
                raise CommandError(f"failed: {', '.join(failed)} (see the log)")
            return
        interval = max(0.01, float(options["interval"]))
        stop = threading.Event()

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            # The job under way finishes (its transaction commits or rolls back); then we exit.
            log.info("worker.stopping", signal=signal.Signals(signum).name)
            stop.set()

        previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
        log.info("worker.started", jobs=[job.name for job in table], interval=interval)
        due = dict.fromkeys((job.name for job in table), 0.0)
        try:
            while not stop.is_set():
                for job in table:
                    if stop.is_set():
                        break
                    if time.monotonic() >= due[job.name]:
                        run_job(job)
                        due[job.name] = time.monotonic() + job.every.total_seconds()
                stop.wait(interval)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log.info("worker.stopped")
