"""Storing an upload: the allowed types and size, the SHA-256 name, the atomic move into the
store, and the content's place in the anti-virus queue (`ContentScan`, R57.12). The owner's
service checks its item, calls `stored_fields` and writes its row; the worker scans the content
(`scanning.py`) before anyone may download it (`web.py`)."""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from aips.core.errors import ValidationFailed
from aips.shared.files.models import ContentScan, ScanStatus

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ALLOWED_EXTENSIONS = frozenset(
    {".pdf", ".txt", ".log", ".csv", ".json", ".xml", ".png", ".jpg", ".jpeg", ".docx",
     ".xlsx", ".zip", ".7z", ".pcap", ".pcapng", ".eml", ".msg"}
)  # fmt: skip


def storage_dir() -> Path:
    path = Path(settings.AIPS_ATTACHMENT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def attachment_path(sha256: str) -> Path:
    return storage_dir() / sha256[:2] / sha256


def quarantine_path(sha256: str) -> Path:
    """Where infected content is moved: inside the store's directory but out of the paths
    `attachment_path` gives, so nothing that serves files can reach it."""
    return storage_dir() / "quarantine" / sha256


def _first_status() -> str:
    """The verdict a content new to the store starts with: pending until the worker scans it.
    (The test suite's conftest replaces this with "clean" for tests that are not about
    anti-virus, so they can download what they upload; the R57.12 tests restore it.)"""
    return ScanStatus.PENDING


def content_scan_for(sha256: str) -> ContentScan:
    """The content's scan row, made "pending" the first time the content is stored."""
    scan, _created = ContentScan.objects.get_or_create(
        sha256=sha256, defaults={"status": _first_status()}
    )
    return scan


def store_upload(upload: "UploadedFile[Any]") -> tuple[str, int, str]:
    """Check an upload (allowed extension, not empty, size) and store it outside the web root
    under its SHA-256 (R57.3.2); returns (file name, size, sha256). Identical content is stored
    once."""
    name = Path(upload.name or "file").name[:255]
    if Path(name).suffix.lower() not in ALLOWED_EXTENSIONS:
        raise ValidationFailed.field("file", _("This type of file is not accepted."))
    if (upload.size or 0) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed.field(
            "file", _("The file is larger than %(mb)d MB.") % {"mb": MAX_ATTACHMENT_BYTES // 2**20}
        )
    digest = hashlib.sha256()
    size = 0
    fd, temp = tempfile.mkstemp(dir=storage_dir())
    try:
        with os.fdopen(fd, "wb") as out:
            # The declared size can lie: the limit is checked again on the bytes received.
            for chunk in upload.chunks():
                size += len(chunk)
                if size > MAX_ATTACHMENT_BYTES:
                    raise ValidationFailed.field("file", _("The file is too large."))
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            # Nothing to keep or to scan; the web forms refuse an empty file the same way.
            raise ValidationFailed.field("file", _("The file is empty."))
        target = attachment_path(digest.hexdigest())
        if quarantine_path(digest.hexdigest()).exists():
            # Known malware: the row is still written (so the worker tells the uploader and
            # the center), but the bytes stay in quarantine only.
            return name, size, digest.hexdigest()
        target.parent.mkdir(exist_ok=True)
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return name, size, digest.hexdigest()


def stored_fields(upload: "UploadedFile[Any]") -> dict[str, Any]:
    """Store an upload and return the `StoredFile` fields for the owner's row. Runs in the
    owner's transaction: the content's scan row commits or rolls back with the owner's row. A
    content already scanned clean is clean at once; anything else starts "pending" and the
    worker settles it (an infected re-upload too, so that it is told and journaled)."""
    name, size, sha256 = store_upload(upload)
    scan = content_scan_for(sha256)
    return {
        "file_name": name,
        "content_type": (upload.content_type or "application/octet-stream")[:100],
        "size": size,
        "sha256": sha256,
        "scan_status": ScanStatus.CLEAN if scan.status == ScanStatus.CLEAN else ScanStatus.PENDING,
    }
