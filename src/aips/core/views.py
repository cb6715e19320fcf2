import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from aips.core import search, worklist
from aips.core.access import require
from aips.core.actors import acting
from aips.core.api_errors import error_response
from aips.core.branding import site_text
from aips.core.indicators import type_label
from aips.core.permissions import Perm
from aips.core.text import unsafe_text_message

log = logging.getLogger("aips.web")


@require(Perm.DASHBOARD_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    """My work: what waits for my next step, overdue first, and what the center watches."""
    actor = acting(request)
    since = worklist.mark_home_seen(actor=actor)
    return render(request, "core/home.html", {"home": worklist.home_for(actor, since=since)})


@require(Perm.DASHBOARD_VIEW)
def search_page(request: HttpRequest) -> HttpResponse:
    """The header's box: a reference opens the item, an indicator lists what holds it, any other
    text matches titles and bodies. Only what the reader may see; a reference to an item they
    may not see gives the same empty result as one that does not exist."""
    actor = acting(request)
    raw = request.GET.get("q") or ""
    error = unsafe_text_message(raw) or ""
    parsed = search.parse("" if error else raw)
    groups: list[search.HitGroup] = []
    if parsed.reference is not None:
        url = search.resolve_reference(actor, *parsed.reference)
        if url:
            return redirect(url)
    elif parsed.indicator is not None:
        groups = search.occurrences(actor, parsed.indicator)
    elif parsed.text:
        groups = search.search_text(actor, parsed.text)
    indicator_url = ""
    if parsed.indicator is not None:
        indicator_url = f"?{urlencode({'value': parsed.indicator.value})}"
    return render(
        request,
        "core/search.html",
        {
            "q": parsed.text,
            "parsed": parsed,
            "groups": [g for g in groups if g.count],
            "total": sum(g.count for g in groups),
            "indicator_url": indicator_url,
            "error": error,
        },
        status=422 if error else 200,
    )


def _indicator_label(indicator: search.Indicator | None) -> str:
    if indicator is None:
        return ""
    return _("CVE id") if indicator.type == "cve" else type_label(indicator.type)


@require(Perm.DASHBOARD_VIEW)
def indicator_page(request: HttpRequest) -> HttpResponse:
    """One page per indicator: every card, alert, request, signal and finding that holds it,
    with counts; first and last seen; the organizations that reported it (the center only)."""
    actor = acting(request)
    raw = (request.GET.get("value") or "").strip()
    error = unsafe_text_message(raw) or ""
    indicator = None if error or not raw else search.parse_indicator(raw)
    if raw and not error and indicator is None:
        error = _(
            "This is not an IP address, network, domain, URL, hash, e-mail address or CVE id."
        )
    groups: list[search.HitGroup] = []
    seen = None
    if indicator is not None:
        groups = search.occurrences(actor, indicator)
        seen = search.sightings(actor, indicator)
    dates = [h.at for g in groups for h in g.hits if h.at is not None]
    if seen is not None:
        dates += [d for d in (seen.first, seen.last) if d is not None]
    return render(
        request,
        "core/indicator.html",
        {
            "value": raw[:2048] if not error else "",
            "indicator": indicator,
            "type_label": _indicator_label(indicator),
            "groups": groups,
            "seen": seen,
            "first": min(dates) if dates else None,
            "last": max(dates) if dates else None,
            "error": error,
        },
        status=422 if error else 200,
    )


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
    return _error_page(request, 500, site_text("internal_error"))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    log.warning("csrf failure", extra={"reason": reason})
    return _error_page(request, 403, _("The form expired; reload the page and try again."))
