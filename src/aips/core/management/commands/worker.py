"""`aips worker`: AIPS's one background process. Database-backed, no broker: start as many as you
like, on one host or several, and they share the work through locks in the database.

It runs the periodic jobs that the apps register from their AppConfig.ready() (aips.core.jobs:
audit, signals, notifications). Each worker keeps its own schedule (every job is due at start,
then every `every`), so with N workers a daily job runs up to N times a day. That is safe because
every job is idempotent (a second checkpoint or archive run finds nothing new) and runs under a
lock taken in its transaction, so two runs of one job never overlap:

- PostgreSQL: pg_try_advisory_xact_lock(job); a worker that does not get it skips the job this
  tick. The lock goes with the transaction, also when the process dies.
- SQLite: settings open every transaction with BEGIN IMMEDIATE, which takes the database's single
  write lock, so a job's transaction already runs alone (others wait, up to the busy timeout).

The e-mail outbox is such a queue: the "outbox" job claims a batch of due messages with
SELECT ... FOR UPDATE SKIP LOCKED and sends them
(aips.shared.notifications.services.drain_outbox); the "reminders" job sends deadline reminders
once each (aips.shared.notifications.reminders); both are registered in
aips/shared/notifications/jobs.py. More queues plug in the same way: one more registered job
whose function claims and runs a batch.
"""

import signal
import threading
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from aips.core.db_locks import try_xact_lock
from aips.core.health import job_done
from aips.core.jobs import Job, registered_jobs
from aips.core.logging import get_logger

# Job is re-exported: tests build their own tables with worker.Job.
__all__ = ["Command", "Job", "jobs", "run_job"]

log = get_logger("aips.worker")


def jobs() -> list[Job]:
    """The job table, read at start so settings apply (and tests can replace it)."""
    return registered_jobs()


def _drop_stale_connections() -> None:
    # A long-lived process must not keep a connection the server dropped or that outlived
    # CONN_MAX_AGE. Not inside a caller's transaction (a test's): that would close it mid-way.
    if not connection.in_atomic_block:
        close_old_connections()


# A job whose wake moment has already passed (more due work than one run takes) runs again
# after this pause, not in a busy loop; and it runs this late after its moment, so the moment
# has passed on the database's clock too.
WAKE_SLACK_SECONDS = 0.02
WAKE_PAUSE_SECONDS = 0.05


def next_due(job: Job, now: float) -> float:
    """When (monotonic) to run the job next: `every` after now, or its wake moment if sooner."""
    due = now + job.every.total_seconds()
    if job.wake is None:
        return due
    _drop_stale_connections()
    try:
        moment = job.wake()
    except Exception:
        log.exception("worker.wake_failed", job=job.name)
        return due
    if moment is None:
        return due
    ahead = (moment - timezone.now()).total_seconds()
    if ahead <= 0:
        return min(due, now + WAKE_PAUSE_SECONDS)
    return min(due, now + ahead + WAKE_SLACK_SECONDS)


def run_job(job: Job) -> bool:
    """Run one job under its lock; log the outcome. False if it failed (never raises). The
    outcome goes to `core.health`'s observers (the heartbeat and job lag in /metrics)."""
    started = time.monotonic()
    ok = _run_job(job, started)
    job_done(job.name, ok=ok, seconds=time.monotonic() - started)
    return ok


def _run_job(job: Job, started: float) -> bool:
    _drop_stale_connections()
    try:
        if job.concurrent:
            summary = job.run()  # its own short transactions, safe beside other workers
        else:
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
        parser.add_argument(
            "--job",
            action="append",
            default=[],
            metavar="NAME",
            help="run only this job (repeatable), e.g. a worker of its own for signal_counts",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        table = jobs()
        if options["job"]:
            unknown = set(options["job"]) - {job.name for job in table}
            if unknown:
                raise CommandError(f"no such job: {', '.join(sorted(unknown))}")
            table = [job for job in table if job.name in options["job"]]
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
        waking = [job.name for job in table if job.wake is not None]
        try:
            while not stop.is_set():
                for job in table:
                    if stop.is_set():
                        break
                    if time.monotonic() >= due[job.name]:
                        run_job(job)
                        due[job.name] = next_due(job, time.monotonic())
                # A job that knows its next moment shortens the wait to it.
                pause = interval
                if waking:
                    soonest = min(due[name] for name in waking) - time.monotonic()
                    pause = max(0.0, min(interval, soonest))
                stop.wait(pause)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log.info("worker.stopped")
