"""Writes: the worker's record of each job run (`core.health.job_done` observer). Bookkeeping,
not a user's action, so no actor and no audit event, like the integration modules' heartbeats."""

from django.db import transaction
from django.utils import timezone

from aips.shared.observability.models import JobRun

_MAX_NAME = 100


@transaction.atomic
def job_run_record(name: str, ok: bool, seconds: float) -> None:
    """Upsert the job's row: one statement, safe with several workers at once."""
    now = timezone.now()
    fields = ["last_run_at", "last_ok", "last_seconds"]
    if ok:
        fields.append("last_success_at")
    JobRun.objects.bulk_create(
        [
            JobRun(
                name=name[:_MAX_NAME],
                last_run_at=now,
                last_ok=ok,
                last_seconds=round(max(0.0, seconds), 3),
                last_success_at=now if ok else None,
            )
        ],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=fields,
    )
