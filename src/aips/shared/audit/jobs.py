"""The audit journal's periodic work, registered with the worker (aips.core.jobs) by AuditConfig."""

from datetime import timedelta

from django.conf import settings

from aips.core.jobs import register_job
from aips.shared.audit.anchor import anchor_pending, witness_pending
from aips.shared.audit.archive import archive_prune, archive_run
from aips.shared.audit.services import checkpoint_create


def checkpoint() -> str:
    cp = checkpoint_create()
    return f"checkpoint at {cp.tree_size}" if cp else "nothing new to sign"


def anchor() -> str:
    try:
        anchored = anchor_pending()
    finally:
        # Lines anchored earlier still reach the witnesses when this anchor is refused.
        sent = witness_pending()
    parts = [f"anchored {anchored.tree_size}" if anchored else "nothing new to anchor"]
    parts += [f"{count} lines to {witness}" for witness, count in sent.items()]
    return ", ".join(parts)


def archive() -> str:
    sealed = archive_run()
    return ", ".join(f"{s.first_seq}-{s.last_seq}" for s in sealed) or "nothing to archive"


def prune() -> str:
    removed = archive_prune()
    return f"removed {len(removed)} expired segment files" if removed else "nothing expired"


def register_jobs() -> None:
    register_job(
        "audit.checkpoint",
        every=lambda: timedelta(minutes=settings.AIPS_AUDIT_CHECKPOINT_MINUTES),
        run=checkpoint,
    )
    # Right after the checkpoint, so a tick anchors what it signed; every minute, so an anchor or
    # a witness that failed is caught up soon.
    register_job("audit.anchor", every=timedelta(minutes=1), run=anchor)
    register_job("audit.archive", every=timedelta(days=1), run=archive)
    register_job("audit.archive_prune", every=timedelta(days=1), run=prune)
