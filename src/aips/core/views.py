import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.translation import gettext as _

from aips.core import worklist
from aips.core.access import require
from aips.core.actors import acting
from aips.core.api_errors import error_response
from aips.core.permissions import Perm

log = logging.getLogger("aips.web")


@require(Perm.DASHBOARD_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    """My work: what waits for my next step, overdue first, and what the center watches."""
    actor = acting(request)
    since = worklist.mark_home_seen(actor=actor)
    return render(request, "core/home.html", {"home": worklist.home_for(actor, since=since)})


def _error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    # Users see the request id and nothing else; the details are in the server log (R57.26.5).
    if request.path.startswith("/api/"):
        return error_response(request, status, message)
    return render(request, f"core/{status}.html", {"status": status}, status=status)


def handler403(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _error_page(request, 403, _("You do not have permission to do this."))


def handler404(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _error_page(request, 404, _("Not found."))


def handler500(request: HttpRequest) -> HttpResponse:
    try:
        return _bare_500(request) if _database_down() else _full_500(request)
    except Exception:  # the error page itself must never fail
        log.exception("error page failed")
        return _bare_500(request)


def _database_down() -> bool:
    from django.db import connection

    try:
        connection.ensure_connection()
    except Exception:
        return True
    return False


def _bare_500(request: HttpRequest) -> HttpResponse:
    rid = escape(getattr(request, "request_id", ""))
    body = f"<!DOCTYPE html><title>500</title><h1>500</h1><p>Request id: <code>{rid}</code></p>"
    return HttpResponse(body, status=500)


def _full_500(request: HttpRequest) -> HttpResponse:
    return _error_page(
        request, 500, _("Internal error. Give the request id to the center's support.")
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    log.warning("csrf failure", extra={"reason": reason})
    return _error_page(request, 403, _("The form expired; reload the page and try again."))
