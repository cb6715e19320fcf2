"""Reading stored files: where a row's bytes are, whether they may be served (the anti-virus
gate, R57.12), and the scanner's state for the pages' banner."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from aips.core.errors import AppError
from aips.shared.files import antivirus
from aips.shared.files.models import ContentScan, ScanStatus, StoredFile
from aips.shared.files.services import attachment_path


class NotServable(AppError):
    """The file exists but may not be served: not scanned clean (yet, or ever)."""

    status = 409
    code = "file_not_scanned"
    default_message = _("This file is waiting for the anti-virus scan; try again later.")
    retry_after = 60

    @classmethod
    def for_status(cls, status: str) -> "NotServable":
        if status == ScanStatus.INFECTED:
            error = cls(
                _("Malware was found in this file. It is quarantined and cannot be downloaded."),
                code="file_quarantined",
                status=410,
            )
            error.retry_after = 0
            return error
        if status == ScanStatus.FAILED:
            return cls(_("The anti-virus scan of this file failed; it will be retried."))
        if not antivirus.is_configured():
            return cls(
                _(
                    "Anti-virus scanning is not configured, so files cannot be downloaded until "
                    "an administrator enables it."
                )
            )
        return cls()


def stored_path(stored: StoredFile) -> Path | None:
    """The file's place in the store, or None when its bytes are missing (a restored database
    without its files must answer 404, not 500). Not a permission to serve: see
    `servable_path`."""
    path = attachment_path(stored.sha256)
    return path if path.exists() else None


def scan_status_of(sha256: str) -> str:
    """The content's verdict; a content with no scan row (stored before scanning existed) has
    not been scanned, which is "pending"."""
    status = ContentScan.objects.filter(sha256=sha256).values_list("status", flat=True).first()
    return status or ScanStatus.PENDING


def servable_path(stored: StoredFile) -> Path | None:
    """The path to send, after the gate: `NotServable` unless the content was scanned clean
    (read from `ContentScan` itself, not from the row's copy, which the worker updates later);
    None when the bytes are missing."""
    status = scan_status_of(stored.sha256)
    if stored.scan_status == ScanStatus.INFECTED:
        status = ScanStatus.INFECTED
    if status != ScanStatus.CLEAN:
        raise NotServable.for_status(status)
    return stored_path(stored)


def scanning_configured() -> bool:
    return antivirus.is_configured()
