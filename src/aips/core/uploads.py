"""The size limit for multipart requests (uploads), checked before any part is parsed.

Django limits a JSON body (DATA_UPLOAD_MAX_MEMORY_SIZE) and the form fields of a multipart
request, but not its files: without this handler a client could stream any amount to a temporary
file before the service refuses an attachment over its 20 MiB. The API answers 413
(`aips.core.api_errors`); a web page answers Django's 400."""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler


class LimitedUploadHandler(FileUploadHandler):
    def handle_raw_input(
        self,
        input_data: Any,
        META: Any,
        content_length: int,
        boundary: Any,
        encoding: Any = None,
    ) -> None:
        if content_length > settings.AIPS_UPLOAD_MAX_BYTES:
            raise RequestDataTooBig("The request is larger than AIPS_UPLOAD_MAX_BYTES.")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
