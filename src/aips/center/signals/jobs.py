"""Counting (sightings and rollups), correlation and the signal table's partitions and archive,
registered with the worker (aips.core.jobs) by SignalsConfig."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from aips.center.signals.archive import archive_run
from aips.center.signals.derive import counts_catch_up
from aips.center.signals.partitions import ensure_partitions
from aips.center.signals.services import correlate
from aips.core.actors import SystemActor
from aips.core.jobs import register_job


def signal_counts() -> str:
    return f"{counts_catch_up()} signals counted"


def _counts_period() -> timedelta:
    return timedelta(milliseconds=settings.AIPS_SIGNAL_DERIVE_MS)


def _counts_next() -> datetime:
    # Always soon: the worker's own interval (30 s by default) would leave the counts that far
    # behind; waking it shortens its wait to this moment.
    return timezone.now() + _counts_period()


def correlation() -> str:
    return f"{correlate()} correlation findings opened"


def signal_partitions() -> str:
    created = ensure_partitions(timezone.localdate())
    return ", ".join(created) or "partitions ready"


def signal_archive() -> str:
    done = archive_run(actor=SystemActor(label="worker"), limit=1)
    return ", ".join(f"{m.month:%Y-%m} ({m.rows} signals)" for m in done) or "nothing to archive"


def register_jobs() -> None:
    # Its own short transactions under the position's row lock: safe on several workers.
    register_job(
        "signal_counts", every=_counts_period, run=signal_counts, concurrent=True, wake=_counts_next
    )
    register_job("correlate", every=timedelta(minutes=1), run=correlation)
    # Partitions before the archive, so a month's partition exists before its signals do.
    register_job("signal_partitions", every=timedelta(days=1), run=signal_partitions)
    register_job("signal_archive", every=timedelta(days=1), run=signal_archive)
