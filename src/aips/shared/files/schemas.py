"""The API shape of a stored file, whatever its owner."""

from datetime import datetime

from ninja import Schema


class AttachmentOut(Schema):
    id: int
    file_name: str
    content_type: str
    size: int
    sha256: str
    scan_status: str
    uploaded_at: datetime
