"""Storing an upload: the allowed types and size, the SHA-256 name, the atomic move into the
store. The owner's service checks its item, calls `store_upload` and writes its row."""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from aips.core.errors import ValidationFailed

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
        target.parent.mkdir(exist_ok=True)
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return name, size, digest.hexdigest()


def stored_fields(upload: "UploadedFile[Any]") -> dict[str, Any]:
    """Store an upload and return the `StoredFile` fields for the owner's row."""
    name, size, sha256 = store_upload(upload)
    return {
        "file_name": name,
        "content_type": (upload.content_type or "application/octet-stream")[:100],
        "size": size,
        "sha256": sha256,
    }
