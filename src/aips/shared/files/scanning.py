"""The worker's anti-virus job (R57.12): scan the contents waiting for it, then settle every
owner's rows by their content's verdict.

1. `scan_due`: each `ContentScan` that is pending, or failed and due again, is streamed to clamd
   (`antivirus.py`). OK → clean. FOUND → infected: the bytes move to quarantine
   (`services.quarantine_path`). No answer, an ERROR answer or missing bytes → failed, retried
   with backoff (1 min doubling to 1 h, without end: a file is never served unscanned, so giving
   up would only hide it). Without `AIPS_CLAMD_SOCKET` / `AIPS_CLAMD_ADDRESS` nothing is scanned
   and files stay pending.
2. `settle_rows`: the rows of every `StoredFile` subclass (the platform finds them in the app
   registry, naming no product) whose status is not final take their content's: clean, failed,
   or infected. An infected row is journaled (`file:quarantined`) and its uploader and the
   center's administrators (the product's system role) are notified, once per row, because a
   row is settled once.

The job is "concurrent" (core/jobs.py): it opens its own short transactions and is safe on
several workers at once. A content is claimed with SKIP LOCKED and a lease (its next attempt
moved 10 minutes ahead), scanned with no transaction open, and its verdict written in another;
infected rows are settled under SKIP LOCKED too, so each is told and journaled once."""

import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from django.apps import apps
from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aips.core.actors import SystemActor
from aips.core.logging import get_logger
from aips.core.permissions import active_table
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.files import antivirus
from aips.shared.files.models import UNSETTLED, ContentScan, ScanStatus, StoredFile
from aips.shared.files.services import attachment_path, content_scan_for, quarantine_path
from aips.shared.notifications.services import Text, notify

log = get_logger("aips.shared.files")

SCAN_BACKOFF_BASE: Final = timedelta(minutes=1)
SCAN_BACKOFF_CAP: Final = timedelta(hours=1)
# A tick stops taking new contents after this many seconds; the rest wait for the next one.
SCAN_TIME_BUDGET: Final = 20.0
# How long a claimed content is left to the worker scanning it before another may take it.
SCAN_LEASE: Final = timedelta(minutes=10)
READ_BYTES: Final = 256 * 1024
WORKER = SystemActor(label="worker")


def backoff(attempts: int) -> timedelta:
    """After failure n (1, 2, …): 1 min · 2^(n-1), at most an hour."""
    delay: timedelta = SCAN_BACKOFF_BASE * 2 ** max(attempts - 1, 0)
    return min(delay, SCAN_BACKOFF_CAP)


def stored_file_models() -> list[type[StoredFile]]:
    """Every concrete owner of stored files in this deployment (incident attachments, a lot's
    files...), found in the app registry so the platform imports no product."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, StoredFile) and not model._meta.abstract
    ]


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(READ_BYTES):
            yield chunk


def _quarantine(sha256: str) -> None:
    """Move the bytes out of the served store (nothing is deleted: evidence for the center)."""
    target = quarantine_path(sha256)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    source = attachment_path(sha256)
    if source.exists():
        os.replace(source, target)
        target.chmod(0o600)


def _fail(scan: ContentScan, error: str, now: datetime) -> None:
    scan.status = ScanStatus.FAILED
    scan.attempts += 1
    scan.last_error = error[:500]
    scan.next_attempt_at = now + backoff(scan.attempts)
    scan.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
    log.warning("files.scan_failed", sha256=scan.sha256, attempts=scan.attempts, error=error[:200])
    if scan.attempts == 1:  # journaled once, not at every retry of a long outage
        record(
            actor=WORKER,
            event=EventType.FILE_SCAN_FAILED,
            target=scan,
            details={"sha256": scan.sha256, "error": error[:200]},
        )


def _due_ids(limit: int) -> list[int]:
    return list(
        ContentScan.objects.filter(
            status__in=(ScanStatus.PENDING, ScanStatus.FAILED),
            next_attempt_at__lte=timezone.now(),
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def _claim(pk: int) -> ContentScan | None:
    """Take one due content for this worker: its next attempt moves a lease ahead, so other
    workers pass it by while this one scans, and take it again if this one dies."""
    now = timezone.now()
    scan = (
        ContentScan.objects.select_for_update(skip_locked=True)
        .filter(pk=pk, status__in=(ScanStatus.PENDING, ScanStatus.FAILED), next_attempt_at__lte=now)
        .first()
    )
    if scan is not None:
        scan.next_attempt_at = now + SCAN_LEASE
        scan.save(update_fields=["next_attempt_at"])
    return scan


@transaction.atomic
def _record_verdict(
    pk: int, verdict: antivirus.Verdict | None, error: str, engine: str
) -> str | None:
    """Write what the scan found (None and an error: it failed); the outcome written, or None
    when another worker already decided this content."""
    scan = ContentScan.objects.select_for_update().get(pk=pk)
    if scan.status in (ScanStatus.CLEAN, ScanStatus.INFECTED):
        return None
    now = timezone.now()
    if verdict is None:
        _fail(scan, error, now)
        return ScanStatus.FAILED
    if verdict.infected:
        _quarantine(scan.sha256)
        scan.status = ScanStatus.INFECTED
        scan.signature = verdict.signature
        log.warning("files.infected", sha256=scan.sha256, signature=verdict.signature)
    else:
        scan.status = ScanStatus.CLEAN
    scan.engine = engine[:255]
    scan.scanned_at = now
    scan.last_error = ""
    scan.save(update_fields=["status", "signature", "engine", "scanned_at", "last_error"])
    return scan.status


def scan_due(*, limit: int = 50) -> Counter[str]:
    """Scan the contents that are due; returns how many ended clean, infected or failed. No
    transaction is open while clamd reads a file: each content is claimed, then scanned, then
    its verdict written, each step short (on SQLite a transaction holds the whole database)."""
    outcomes: Counter[str] = Counter()
    scanner = antivirus.client()
    if scanner is None:
        return outcomes
    started = time.monotonic()
    engine = ""
    for pk in _due_ids(limit):
        if time.monotonic() - started > SCAN_TIME_BUDGET:
            break  # still due: the next tick takes it
        scan = _claim(pk)
        if scan is None:
            continue  # another worker has it
        path = attachment_path(scan.sha256)
        verdict: antivirus.Verdict | None = None
        error = ""
        if not path.exists():
            # Restored without its files, or removed by hand: not known to be clean.
            error = "the stored file's bytes are missing"
        else:
            try:
                engine = engine or scanner.version()
                verdict = scanner.scan(_chunks(path))
            except antivirus.ScannerUnavailable as exc:
                error = str(exc)
        outcome = _record_verdict(pk, verdict, error, engine)
        if outcome is not None:
            outcomes[outcome] += 1
    return outcomes


def _center_admins() -> list[User]:
    """Who speaks for the center about malware: the product's system role (AIPS's center
    administrators, the ETP's operator administrators)."""
    return list(User.objects.filter(role=active_table().system_role, is_active=True))


def _owner_label(row: StoredFile) -> str:
    return str(row._meta.verbose_name)


def _infected(row: StoredFile, scan: ContentScan) -> None:
    row.scan_status = ScanStatus.INFECTED
    row.save(update_fields=["scan_status"])
    uploader = row.uploaded_by
    record(
        actor=WORKER,
        event=EventType.FILE_QUARANTINED,
        target=row,
        organization_id=uploader.organization_id,
        details={
            "file_name": row.file_name,
            "sha256": row.sha256,
            "signature": scan.signature,
            "engine": scan.engine,
            "uploaded_by": uploader.pk,
        },
    )
    params = {
        "name": row.file_name,
        "signature": scan.signature,
        "owner": lambda: _owner_label(row),
        "uploader": uploader.full_name or uploader.email,
    }
    # The platform does not know the owner item's TLP marking, so the e-mails carry no file
    # name (as for TLP:AMBER): only "sign in to read"; the in-app notices say everything.
    notify(
        users=[uploader],
        kind="file.quarantined",
        subject=Text(_("Malware found in your file"), params),
        text=Text(
            _(
                "Malware (%(signature)s) was found in the file “%(name)s” you uploaded "
                "(%(owner)s). The file is quarantined and nobody can download it."
            ),
            params,
        ),
        link="",
        email=True,
        target=row,
        tlp="AMBER",
    )
    notify(
        users=[u for u in _center_admins() if u.pk != uploader.pk],
        kind="file.quarantined",
        subject=Text(_("Malware found in an uploaded file"), params),
        text=Text(
            _(
                "Malware (%(signature)s) was found in the file “%(name)s” (%(owner)s) uploaded "
                "by %(uploader)s. The file is quarantined and nobody can download it."
            ),
            params,
        ),
        link="",
        email=True,
        target=row,
        tlp="AMBER",
    )


def _settle_model(model: type[StoredFile], limit: int) -> int:
    manager: models.Manager[StoredFile] = model._base_manager
    # Only rows whose status differs from their content's verdict (or with no verdict yet), so
    # a long queue of pending contents cannot hide the ones already decided.
    same = ContentScan.objects.filter(sha256=OuterRef("sha256"), status=OuterRef("scan_status"))
    shas = list(
        manager.filter(scan_status__in=UNSETTLED)
        .exclude(Exists(same))
        .order_by()
        .values_list("sha256", flat=True)
        .distinct()[:limit]
    )
    settled = 0
    scans = {s.sha256: s for s in ContentScan.objects.filter(sha256__in=shas)}
    for sha in shas:
        # Rows stored before scanning existed have no scan row yet: they join the queue.
        scan = scans.get(sha) or content_scan_for(sha)
        rows = manager.filter(sha256=sha, scan_status__in=UNSETTLED)
        if scan.status == ScanStatus.INFECTED:
            for row in rows.select_for_update(skip_locked=True).select_related("uploaded_by"):
                _infected(row, scan)
                settled += 1
        else:
            settled += rows.exclude(scan_status=scan.status).update(scan_status=scan.status)
    return settled


@transaction.atomic
def settle_rows(*, limit: int = 500) -> int:
    """Give every owner's unsettled rows their content's verdict; returns how many changed."""
    return sum(_settle_model(model, limit) for model in stored_file_models())


def run_scan_job() -> str:
    """The worker's "files.scan" job: scan, then settle; one line for the log."""
    outcomes = scan_due()
    settled = settle_rows()
    if not antivirus.is_configured():
        return f"scanning not configured; {settled} rows settled"
    summary = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "none due"
    return f"scanned: {summary}; {settled} rows settled"
