"""Reminders and the e-mail outbox, registered with the worker (aips.core.jobs) by
NotificationsConfig. notifications is listed last in INSTALLED_APPS, so the outbox runs after
every other app's jobs and one `aips worker --once` also sends the e-mails they queued."""

from datetime import timedelta

from aips.core.jobs import register_job
from aips.shared.notifications.reminders import send_deadline_reminders
from aips.shared.notifications.services import drain_outbox, outbox_purge


def reminders() -> str:
    return f"{send_deadline_reminders()} deadline reminders"


def outbox() -> str:
    return f"{drain_outbox(limit=50)} e-mails sent"


def purge() -> str:
    return f"{outbox_purge()} old sent e-mails removed"


def register_jobs() -> None:
    # Reminders before the outbox, so one `--once` run also sends the reminders' e-mails.
    register_job("reminders", every=timedelta(minutes=5), run=reminders)
    register_job("outbox", every=timedelta(seconds=15), run=outbox)
    register_job("outbox.purge", every=timedelta(days=1), run=purge)
