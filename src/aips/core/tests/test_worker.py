"""`aips worker`: the periodic jobs (R57.17 checkpoints and archiving), one failure never stops
the others, SIGTERM ends it cleanly, and a job locked by another worker is skipped."""

import logging
import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from aips.core.actors import SystemActor
from aips.core.management.commands import worker
from aips.shared.audit.archive import lock_key
from aips.shared.audit.models import AuditCheckpoint, AuditEvent, AuditSegment, EventType
from aips.shared.audit.services import record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def archive_dir(settings: Any, tmp_path: Path) -> Path:
    settings.AIPS_AUDIT_KEY_FILE = str(tmp_path / "audit.key")
    settings.AIPS_AUDIT_ARCHIVE_DIR = str(tmp_path / "archive")
    return tmp_path / "archive"


def _entries(count: int, *, days_ago: int, monkeypatch: pytest.MonkeyPatch) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    with monkeypatch.context() as patch:
        patch.setattr("aips.shared.audit.services.timezone.now", lambda: at)
        with transaction.atomic():
            for _ in range(count):
                record(actor=SystemActor(label="test"), event=EventType.USER_UPDATED)


def test_r57_17_worker_once_checkpoints_and_archives(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _entries(8, days_ago=120, monkeypatch=monkeypatch)
    _entries(2, days_ago=1, monkeypatch=monkeypatch)

    call_command("worker", "--once")

    assert AuditCheckpoint.objects.get().tree_size == 10
    segment = AuditSegment.objects.get()
    assert (segment.first_seq, segment.last_seq) == (1, 8)
    assert (archive_dir / segment.file_name).exists()
    assert AuditEvent.objects.filter(event=EventType.AUDIT_ARCHIVED).count() == 1

    # Run again: the archive's own event gets a checkpoint; nothing else is due.
    call_command("worker", "--once")
    assert max(AuditCheckpoint.objects.values_list("tree_size", flat=True)) == 11
    assert AuditSegment.objects.count() == 1


def test_r57_17_worker_once_checkpoints_a_young_journal(monkeypatch: pytest.MonkeyPatch) -> None:
    _entries(3, days_ago=0, monkeypatch=monkeypatch)
    call_command("worker", "--once")
    assert AuditCheckpoint.objects.get().tree_size == 3
    assert not AuditSegment.objects.exists()
    assert AuditEvent.objects.count() == 3


def test_worker_keeps_going_when_a_job_fails(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def broken() -> str:
        raise OSError("disk full")

    def fine() -> str:
        ran.append("fine")
        return "done"

    monkeypatch.setattr(
        worker,
        "jobs",
        lambda: [
            worker.Job("broken", timedelta(minutes=1), broken),
            worker.Job("fine", timedelta(minutes=1), fine),
        ],
    )
    with caplog.at_level(logging.INFO, logger="aips.worker"), pytest.raises(CommandError) as caught:
        call_command("worker", "--once")
    assert "failed: broken" in str(caught.value)
    assert ran == ["fine"]
    logged = " ".join(str(r.msg) for r in caplog.records)
    assert "worker.job_failed" in logged
    assert "worker.job_done" in logged


class _Runaway(BaseException):
    """Raised if the loop goes on after SIGTERM; not an Exception, so run_job lets it out."""


def test_worker_loop_stops_on_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def stop_me() -> str:
        if calls:
            raise _Runaway
        calls.append("stop_me")
        os.kill(os.getpid(), signal.SIGTERM)
        return "sent SIGTERM"

    def after() -> str:
        calls.append("after")
        return "should not run"

    monkeypatch.setattr(
        worker,
        "jobs",
        lambda: [
            worker.Job("stop_me", timedelta(0), stop_me),
            worker.Job("after", timedelta(0), after),
        ],
    )
    before = signal.getsignal(signal.SIGTERM)
    call_command("worker", "--interval", "0.01")
    # The job under way finished; the loop ran nothing more and put the handlers back.
    assert calls == ["stop_me"]
    assert signal.getsignal(signal.SIGTERM) == before


def test_worker_job_table_has_a_seam_for_more_jobs(settings: Any) -> None:
    settings.AIPS_AUDIT_CHECKPOINT_MINUTES = 7
    table = {job.name: job.every for job in worker.jobs()}
    assert table == {
        "audit.checkpoint": timedelta(minutes=7),
        "audit.anchor": timedelta(minutes=1),
        "audit.archive": timedelta(days=1),
        "audit.archive_prune": timedelta(days=1),
        "backups.backup": timedelta(hours=1),
        "backups.drill": timedelta(hours=1),
        "files.scan": timedelta(seconds=15),
        "reminders": timedelta(minutes=5),
        "outbox": timedelta(seconds=15),
        "outbox.purge": timedelta(days=1),
        "signal_counts": timedelta(seconds=1),
        "correlate": timedelta(minutes=1),
        "signal_partitions": timedelta(days=1),
        "signal_archive": timedelta(days=1),
        "exchange.partner_poll": timedelta(minutes=1),
        "alerts.csaf_batches": timedelta(seconds=30),
        "eds.crl_refresh": timedelta(minutes=60),
    }


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no advisory locks: BEGIN IMMEDIATE already runs one transaction at a time",
)
def test_worker_skips_a_job_another_worker_is_running(monkeypatch: pytest.MonkeyPatch) -> None:
    _entries(3, days_ago=0, monkeypatch=monkeypatch)
    table = worker.jobs()
    monkeypatch.setattr(worker, "jobs", lambda: [j for j in table if j.name == "audit.checkpoint"])
    other = connections.create_connection("default")  # another worker's session
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(%s)", [lock_key("aips.worker.audit.checkpoint")]
            )
        call_command("worker", "--once")
        assert not AuditCheckpoint.objects.exists()
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        call_command("worker", "--once")
        assert AuditCheckpoint.objects.get().tree_size == 3
    finally:
        other.close()


def test_a_concurrent_job_runs_outside_the_workers_transaction() -> None:
    """A job that opens its own short transactions (the ETP's auction tick) is run without the
    worker's per-job transaction, so what it commits is visible at once; an ordinary job runs
    inside one."""
    from aips.core.jobs import Job

    depth: dict[str, int] = {}

    def probe(name: str) -> Any:
        def run() -> str:
            depth[name] = len(connection.atomic_blocks)
            return "ok"

        return run

    # pytest-django wraps the test in a transaction: compare with the depth the test runs at.
    base = len(connection.atomic_blocks)
    assert worker.run_job(Job("t.ordinary", timedelta(seconds=1), probe("ordinary")))
    assert worker.run_job(Job("t.concurrent", timedelta(seconds=1), probe("concurrent"), True))
    assert depth == {"ordinary": base + 1, "concurrent": base}


def _job(wake: Any = None) -> worker.Job:
    return worker.Job("waking", timedelta(seconds=1), lambda: "ok", wake=wake)


def test_a_job_without_a_wake_is_due_every_period() -> None:
    assert worker.next_due(_job(), 100.0) == 101.0


def test_a_job_is_woken_at_its_next_moment_when_that_is_sooner() -> None:
    soon = _job(lambda: timezone.now() + timedelta(milliseconds=300))
    assert 100.25 < worker.next_due(soon, 100.0) < 100.35
    later = _job(lambda: timezone.now() + timedelta(seconds=5))
    assert worker.next_due(later, 100.0) == 101.0  # never later than every
    idle = _job(lambda: None)
    assert worker.next_due(idle, 100.0) == 101.0


def test_a_wake_moment_already_past_pauses_instead_of_spinning() -> None:
    past = _job(lambda: timezone.now() - timedelta(seconds=3))
    assert worker.next_due(past, 100.0) == 100.0 + worker.WAKE_PAUSE_SECONDS


def test_a_failing_wake_falls_back_to_the_period(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise RuntimeError("no database")

    assert worker.next_due(_job(broken), 100.0) == 101.0


def test_the_loop_waits_only_until_a_woken_job_is_due(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a 30 s interval, a job whose wake is 0.2 s away still runs within a moment."""
    runs: list[float] = []
    moment = [timezone.now() + timedelta(milliseconds=200)]

    def run() -> str:
        runs.append(time.monotonic())
        if len(runs) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return "ok"

    table = [worker.Job("waking", timedelta(minutes=5), run, wake=lambda: moment[0])]
    monkeypatch.setattr(worker, "jobs", lambda: table)
    started = time.monotonic()
    call_command("worker", "--interval", "30")
    assert len(runs) == 2
    assert runs[1] - started < 2.0


def test_worker_runs_only_the_jobs_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--job NAME`: a worker of its own for one job (the signal counts, say)."""
    calls: list[str] = []

    def job(name: str) -> worker.Job:
        def run() -> str:
            calls.append(name)
            return "ok"

        return worker.Job(name, timedelta(0), run)

    monkeypatch.setattr(worker, "jobs", lambda: [job("mine"), job("other")])
    call_command("worker", "--once", "--job", "mine")
    assert calls == ["mine"]
    with pytest.raises(CommandError, match="no such job: nope"):
        call_command("worker", "--once", "--job", "nope")
