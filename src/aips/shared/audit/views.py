"""The journal screen (issue 4, item 5): auditors and the center's administrators see everything,
an organization's head its own organization's entries (AuditEventQuerySet.visible_to)."""

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TypeVar

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from aips.core.access import has_perm, require
from aips.core.actors import acting
from aips.core.csv_export import csv_safe, csv_writer
from aips.core.permissions import Perm
from aips.shared.audit import selectors, services
from aips.shared.audit.forms import LOCAL_TIME_ZONE, AuditExportForm, AuditFilterForm
from aips.shared.audit.models import AuditEvent
from aips.shared.organizations.selectors import organization_list

PAGE_SIZE = 50
CSV_COLUMNS = [
    "seq",
    "at_utc",
    "at_local",
    "event",
    "event_label",
    "actor_kind",
    "actor_id",
    "actor_label",
    "organization_id",
    "organization",
    "target_type",
    "target_id",
    "ip",
    "user_agent",
    "request_id",
    "details",
]
FormT = TypeVar("FormT", bound=AuditFilterForm)


def _filter_form(request: HttpRequest, form_class: type[FormT]) -> FormT:
    organizations = (
        [(o.pk, o.display_name) for o in organization_list(actor=request.user)]
        if getattr(request.user, "is_center", False)
        else None
    )
    return form_class(request.GET, organizations=organizations)


def _positive_int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


def _query(request: HttpRequest, **changes: str) -> str:
    """The current filter as a query string, without the page cursor, plus `changes`."""
    params = request.GET.copy()
    for key in ("before", "format"):
        params.pop(key, None)
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


def _render_list(
    request: HttpRequest,
    form: AuditFilterForm,
    entries: list[AuditEvent],
    older: int | None,
) -> HttpResponse:
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "entries": entries,
            "targets": selectors.target_labels(entries),
            "paged": "before" in request.GET,
            "newest_query": _query(request),
            "older_query": _query(request, before=str(older)) if older is not None else "",
            "csv_query": _query(request, format="csv"),
            "jsonl_query": _query(request, format="jsonl"),
            "can_export": has_perm(request.user, Perm.AUDIT_EXPORT),
            "export_limit": selectors.EXPORT_MAX_ROWS,
        },
        status=422 if form.errors else 200,
    )


@require(Perm.AUDIT_VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request, AuditFilterForm)
    entries: list[AuditEvent] = []
    older: int | None = None
    if form.is_valid():
        queryset = selectors.event_search(actor=request.user, **form.filters())
        entries, older = selectors.event_page(
            queryset, before=_positive_int(request.GET.get("before")), limit=PAGE_SIZE
        )
    return _render_list(request, form, entries, older)


@require(Perm.AUDIT_VIEW)
def audit_detail(request: HttpRequest, seq: int) -> HttpResponse:
    entry = selectors.get_event_for(request.user, seq)
    details = json.dumps(entry.details, indent=2, sort_keys=True, ensure_ascii=False)
    return render(
        request,
        "audit/detail.html",
        {
            "entry": entry,
            "target": selectors.target_labels([entry]).get(entry.seq, ""),
            "details_json": details,
            "chain": selectors.chain_entry_for(entry),
        },
    )


# --- export ------------------------------------------------------------------------------------


class _Echo:
    """csv.writer's file: hands each formatted line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _local(at: datetime) -> str:
    return at.astimezone(LOCAL_TIME_ZONE).isoformat(timespec="seconds")


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _csv_lines(entries: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv_writer(_Echo())
    # The byte-order mark lets spreadsheet programs read Kazakh and Russian text as UTF-8.
    yield "\ufeff" + str(writer.writerow(CSV_COLUMNS))
    for e in entries:
        cells = [
            e.seq,
            _utc(e.at),
            _local(e.at),
            e.event,
            e.event_label,
            e.actor_kind,
            e.actor_id,
            e.actor_label,
            e.organization_id,
            e.organization.display_name if e.organization else "",
            e.target_type,
            e.target_id,
            e.ip,
            e.user_agent,
            e.request_id,
            json.dumps(e.details, sort_keys=True, ensure_ascii=False),
        ]
        yield str(writer.writerow([csv_safe(c) for c in cells]))


def _jsonl_lines(entries: Iterable[AuditEvent]) -> Iterator[str]:
    for e in entries:
        line = {
            **e.payload(),
            "event_label": e.event_label,
            "organization_name": e.organization.display_name if e.organization else None,
        }
        yield json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n"


def _in_language(language: str, lines: Iterator[str]) -> Iterator[str]:
    """The body is produced after the view returns; keep the request's language for labels."""
    with translation.override(language):
        yield from lines


@require(Perm.AUDIT_EXPORT, fresh=True)
def audit_export(request: HttpRequest) -> HttpResponseBase:
    form = _filter_form(request, AuditExportForm)
    if not form.is_valid():
        return _render_list(request, form, [], None)
    export_format = form.export_format()
    upto = selectors.head_seq()
    queryset = selectors.event_search(actor=request.user, **form.filters(), upto_seq=upto)
    limit = selectors.EXPORT_MAX_ROWS
    matching = selectors.count_capped(queryset, cap=limit + 1)
    rows, truncated = min(matching, limit), matching > limit
    # On the record before the first byte is sent, committed on its own.
    services.export_recorded(
        actor=acting(request),
        filters=form.filters_for_record(),
        export_format=export_format,
        upto_seq=upto,
        rows=rows,
        truncated=truncated,
    )
    entries = selectors.export_rows(queryset, limit=limit)
    lines = _csv_lines(entries) if export_format == "csv" else _jsonl_lines(entries)
    content_type = (
        "text/csv; charset=utf-8"
        if export_format == "csv"
        else "application/x-ndjson; charset=utf-8"
    )
    response = StreamingHttpResponse(
        _in_language(translation.get_language() or "en", lines), content_type=content_type
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="aips-audit-{stamp}.{export_format}"'
    response["X-AIPS-Export-Rows"] = str(rows)
    response["X-AIPS-Export-Truncated"] = "true" if truncated else "false"
    add_never_cache_headers(response)
    return response
