"""The platform's figures for /metrics (registered in `apps.py`) and the worker's health check."""

from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from aips.core.health import CheckResult
from aips.core.jobs import registered_jobs
from aips.shared.observability import selectors


def _stale_after() -> float:
    return float(getattr(settings, "AIPS_WORKER_STALE_SECONDS", 300))


def worker_check() -> CheckResult:
    """The worker's heartbeat: a job run ended within AIPS_WORKER_STALE_SECONDS."""
    latest = selectors.last_heartbeat()
    if latest is None:
        return CheckResult("no heartbeat", healthy=False)
    if (timezone.now() - latest).total_seconds() > _stale_after():
        return CheckResult("stale", healthy=False)
    return CheckResult("ok", healthy=True)


def worker_metrics() -> Iterator[Metric]:
    now = timezone.now()
    runs = {run.name: run for run in selectors.job_runs()}
    heartbeat = GaugeMetricFamily(
        "aips_worker_heartbeat_age_seconds",
        "Seconds since a worker last finished a job (absent until a worker has run).",
    )
    if runs:
        latest = max(run.last_run_at for run in runs.values())
        heartbeat.add_metric([], max(0.0, (now - latest).total_seconds()))
    yield heartbeat
    age = GaugeMetricFamily(
        "aips_worker_job_last_success_age_seconds",
        "Seconds since the job last ran successfully.",
        labels=["job"],
    )
    lag = GaugeMetricFamily(
        "aips_worker_job_lag_seconds",
        "How late the job is: seconds since its last success beyond its period (0 = on time).",
        labels=["job"],
    )
    ok = GaugeMetricFamily(
        "aips_worker_job_last_ok",
        "1 when the job's last run succeeded, 0 when it failed.",
        labels=["job"],
    )
    duration = GaugeMetricFamily(
        "aips_worker_job_last_duration_seconds", "How long the job's last run took.", labels=["job"]
    )
    for job in registered_jobs():
        run = runs.get(job.name)
        if run is None:
            continue
        ok.add_metric([job.name], 1 if run.last_ok else 0)
        duration.add_metric([job.name], run.last_seconds)
        if run.last_success_at is not None:
            since = max(0.0, (now - run.last_success_at).total_seconds())
            age.add_metric([job.name], since)
            lag.add_metric([job.name], max(0.0, since - job.every.total_seconds()))
    yield from (age, lag, ok, duration)


def outbox_metrics() -> Iterator[Metric]:
    now = timezone.now()
    stats = selectors.outbox_stats(now)
    depth = GaugeMetricFamily(
        "aips_worker_queue_depth",
        "Rows due for the worker's queues now (the e-mail outbox).",
        labels=["queue"],
    )
    depth.add_metric(["outbox"], stats.due)
    yield depth
    yield GaugeMetricFamily(
        "aips_outbox_backlog", "E-mails queued and not yet sent (due or retrying).", stats.queued
    )
    yield GaugeMetricFamily(
        "aips_outbox_failed", "E-mails given up after their retries.", stats.failed
    )
    oldest = GaugeMetricFamily(
        "aips_outbox_oldest_age_seconds", "Age of the oldest queued e-mail (0 when none)."
    )
    since = (now - stats.oldest_queued_at).total_seconds() if stats.oldest_queued_at else 0.0
    oldest.add_metric([], max(0.0, since))
    yield oldest


def audit_metrics() -> Iterator[Metric]:
    stats = selectors.checkpoint_stats()
    age = GaugeMetricFamily(
        "aips_audit_checkpoint_age_seconds",
        "Seconds since the newest signed audit checkpoint (absent until the first one).",
    )
    if stats.signed_at is not None:
        age.add_metric([], max(0.0, (timezone.now() - stats.signed_at).total_seconds()))
    yield age
    yield GaugeMetricFamily(
        "aips_audit_unsigned_entries",
        "Audit journal entries not yet covered by a signed checkpoint.",
        stats.unsigned,
    )


def overdue_metrics() -> Iterator[Metric]:
    overdue = GaugeMetricFamily(
        "aips_overdue_items",
        "Items past their deadline with someone still to act, by kind (deadline source).",
        labels=["source"],
    )
    for name, count in selectors.overdue_counts().items():
        overdue.add_metric([name], count)
    yield overdue
