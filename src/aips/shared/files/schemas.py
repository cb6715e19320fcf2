"""The API shapes of a stored file, whatever its owner: the upload in and the row out."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ninja import Schema
from ninja.files import UploadedFile


class NonEmptyFile(UploadedFile):
    """An uploaded file as a request parameter. `store_upload` and the importers refuse a
    zero-byte file with a field error (as the web forms do), so the schema says so (R57.28.4)."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: Any, handler: Callable[..., Any]
    ) -> dict[str, Any]:
        return {
            "type": "string",
            "format": "binary",
            "minLength": 1,
            "description": "A file of at least one byte; an empty file is a field error.",
        }


class AttachmentOut(Schema):
    id: int
    file_name: str
    content_type: str
    size: int
    sha256: str
    scan_status: str
    uploaded_at: datetime
