"""Correlation and the signal table's partitions and archive, registered with the worker
(aips.core.jobs) by SignalsConfig."""

from datetime import timedelta

from django.utils import timezone

from aips.center.signals.archive import archive_run
from aips.center.signals.partitions import ensure_partitions
from aips.center.signals.services import correlate
from aips.core.actors import SystemActor
from aips.core.jobs import register_job


def correlation() -> str:
    return f"{correlate()} correlation findings opened"


def signal_partitions() -> str:
    created = ensure_partitions(timezone.localdate())
    return ", ".join(created) or "partitions ready"


def signal_archive() -> str:
    done = archive_run(actor=SystemActor(label="worker"), limit=1)
    return ", ".join(f"{m.month:%Y-%m} ({m.rows} signals)" for m in done) or "nothing to archive"


def register_jobs() -> None:
    register_job("correlate", every=timedelta(minutes=1), run=correlation)
    # Partitions before the archive, so a month's partition exists before its signals do.
    register_job("signal_partitions", every=timedelta(days=1), run=signal_partitions)
    register_job("signal_archive", every=timedelta(days=1), run=signal_archive)
