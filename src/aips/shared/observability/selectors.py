"""Reads behind /metrics and the health check: counts and ages only, across all tenants (the
figures name no organization). Not through `visible_to`: no person reads these, the scraper does,
and what it gets is a number per kind of thing."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from aips.shared.audit.models import AuditCheckpoint, AuditHead
from aips.shared.notifications.models import OutboxMessage, OutboxStatus
from aips.shared.notifications.reminders import sources
from aips.shared.observability.models import JobRun


def job_runs() -> list[JobRun]:
    return list(JobRun.objects.all())


def last_heartbeat() -> datetime | None:
    latest: datetime | None = JobRun.objects.aggregate(latest=Max("last_run_at"))["latest"]
    return latest


@dataclass(frozen=True)
class OutboxStats:
    queued: int  # waiting to be sent, due or retrying later
    due: int  # queued and due now: the worker's queue
    failed: int  # gave up after the retries
    oldest_queued_at: datetime | None


def outbox_stats(now: datetime) -> OutboxStats:
    queued = Q(status=OutboxStatus.QUEUED)
    row = OutboxMessage.objects.aggregate(
        queued=Count("id", filter=queued),
        due=Count("id", filter=queued & Q(next_attempt_at__lte=now)),
        failed=Count("id", filter=Q(status=OutboxStatus.FAILED)),
        oldest=Min("created_at", filter=queued),
    )
    return OutboxStats(row["queued"], row["due"], row["failed"], row["oldest"])


@dataclass(frozen=True)
class CheckpointStats:
    signed_at: datetime | None  # the newest checkpoint's signing time
    unsigned: int  # journal entries after the newest checkpoint


def checkpoint_stats() -> CheckpointStats:
    head = AuditHead.objects.filter(pk=1).first()
    last = AuditCheckpoint.objects.order_by("-tree_size", "-id").first()
    seq = head.seq if head is not None else 0
    if last is None:
        return CheckpointStats(None, seq)
    signed_at = datetime.strptime(last.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return CheckpointStats(signed_at, max(0, seq - last.tree_size))


def overdue_counts(now: datetime | None = None) -> dict[str, int]:
    """Items past their deadline with someone still to act, per registered deadline source."""
    moment = now or timezone.now()
    return {
        source.name: source.queryset().filter(deadline_at__lt=moment).count()
        for source in sources()
    }
