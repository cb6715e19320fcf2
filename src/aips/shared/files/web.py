"""Serving a stored file: always a download, never rendered inline, so the browser does not
interpret it (a sandboxing CSP and nosniff on top of application/octet-stream), and only once
the anti-virus scan found it clean (R57.12). Every product serves files through
`download_response` or, when it transforms the bytes first (the data room's stamps),
`servable_path`: the gate is here, not in the products."""

from collections.abc import Callable
from pathlib import Path

from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string

from aips.shared.files.models import StoredFile
from aips.shared.files.selectors import NotServable, servable_path

__all__ = ["NotServable", "download_response", "not_served_response", "servable_path"]


def _sandboxed(response: HttpResponseBase) -> HttpResponseBase:
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def not_served_response(exc: NotServable) -> HttpResponse:
    """The answer instead of the file: 409 while it waits for the scan (or its retry) with
    Retry-After, 410 when it is quarantined. A small page of its own, sandboxed like a download,
    so that it needs no request and shows none of the file."""
    response = HttpResponse(
        render_to_string("files/not_served.html", {"message": exc.message, "status": exc.status}),
        status=exc.status,
        content_type="text/html; charset=utf-8",
    )
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    response["Cache-Control"] = "no-store"
    _sandboxed(response)
    return response


def download_response(stored: StoredFile, *, served: Callable[[], None]) -> HttpResponseBase:
    """`served` runs (typically the owner's audit event) only when the file is really sent."""
    try:
        path: Path | None = servable_path(stored)
    except NotServable as exc:
        return not_served_response(exc)
    if path is None:
        raise Http404
    served()
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=stored.file_name,
        content_type="application/octet-stream",
    )
    return _sandboxed(response)
