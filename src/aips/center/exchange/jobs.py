"""The exchange's periodic work, registered with the worker (aips.core.jobs) by the AppConfig."""

from datetime import timedelta

from aips.core.jobs import register_job


def partner_poll() -> str:
    from aips.center.exchange.polling import poll_due

    return poll_due()


def register_jobs() -> None:
    # Concurrent: it opens its own short transactions and fetches between them (SKIP LOCKED
    # keeps two workers off one source), so no lock is held while a partner answers.
    register_job(
        "exchange.partner_poll", every=timedelta(minutes=1), run=partner_poll, concurrent=True
    )
