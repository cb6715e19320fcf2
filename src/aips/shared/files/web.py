"""Serving a stored file: always a download, never rendered inline, so the browser does not
interpret it (a sandboxing CSP and nosniff on top of application/octet-stream)."""

from collections.abc import Callable

from django.http import FileResponse, Http404, HttpResponseBase

from aips.shared.files.models import StoredFile
from aips.shared.files.selectors import stored_path


def download_response(stored: StoredFile, *, served: Callable[[], None]) -> HttpResponseBase:
    """`served` runs (typically the owner's audit event) only when the file is really sent."""
    path = stored_path(stored)
    if path is None:
        raise Http404
    served()
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=stored.file_name,
        content_type="application/octet-stream",
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response
