"""Reading stored files: where a row's bytes are, and whether they are still there."""

from pathlib import Path

from aips.shared.files.models import StoredFile
from aips.shared.files.services import attachment_path


def stored_path(stored: StoredFile) -> Path | None:
    """The file's place in the store, or None when its bytes are missing (a restored database
    without its files must answer 404, not 500)."""
    path = attachment_path(stored.sha256)
    return path if path.exists() else None
