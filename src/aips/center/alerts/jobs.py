"""The CSAF batches' fetching, registered with the worker (aips.core.jobs) by AlertsConfig."""

from datetime import timedelta

from aips.core.jobs import register_job


def csaf_batches() -> str:
    # Imported when run: the job table is built before the models may be imported.
    from aips.center.alerts import csaf_batch

    return csaf_batch.run()


def register_jobs() -> None:
    # Concurrent: it claims rows itself and keeps each write short (csaf_batch's docstring).
    register_job(
        "alerts.csaf_batches", every=timedelta(seconds=30), run=csaf_batches, concurrent=True
    )
