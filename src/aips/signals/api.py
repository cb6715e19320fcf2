"""Signal API: the integration modules' batch endpoint (R67.7, R67.8) and the signal feed for
people (an organization's own signals, the center's all)."""

import zlib
from datetime import datetime
from typing import Any, Literal

import msgspec
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from aips.accounts.api_auth import api_auth
from aips.core import ratelimit
from aips.core.errors import ValidationFailed
from aips.core.permissions import Perm
from aips.core.request_context import client_ip
from aips.integrations.auth import agent_auth
from aips.signals import schema, selectors, services

router = Router(tags=["signals"])

KindName = Literal[
    "ids", "waf", "endpoint", "malware", "phishing", "scan", "brute_force", "spraying"
]
_BATCH_SCHEMA = schema.json_schema()
_encoder = msgspec.json.Encoder()


class ItemResultOut(Schema):
    index: int
    id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    errors: dict[str, str] = {}


class BatchResultOut(Schema):
    accepted: int
    duplicates: int
    rejected: int
    items: list[ItemResultOut]


def _read_body(request: HttpRequest) -> bytes:
    limit = schema.MAX_BATCH_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise services.BatchTooLarge(_("A batch may be at most %(n)d bytes.") % {"n": limit})
    body = request.read(limit + 1)
    if len(body) > limit:
        raise services.BatchTooLarge(_("A batch may be at most %(n)d bytes.") % {"n": limit})
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise ValidationFailed.field("Content-Encoding", _("Only gzip is accepted."))
    # Inflate with a ceiling, so a small compressed body cannot expand without bound.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise ValidationFailed.field("body", _("The gzip data is damaged.")) from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise services.BatchTooLarge(
            _("A batch may be at most %(n)d bytes uncompressed.") % {"n": limit}
        )
    return data


@router.post(
    "",
    auth=agent_auth(Perm.SIGNAL_INGEST),
    throttle=[],
    response={200: BatchResultOut, 413: Any, 422: Any, 429: Any},
    operation_id="signals_ingest",
    summary="Send a batch of signals",
    description=(
        "A JSON array (`application/json`) or one signal per line (`application/x-ndjson`), "
        "optionally `Content-Encoding: gzip`; at most 1000 signals and 4 MiB. Each item is "
        "answered in order: `accepted`, `duplicate` (this organization already has a signal "
        "with this id and observed_at — a safe re-send) or `rejected` with field errors. "
        "Everything accepted is committed before the answer. Schema version "
        f"{schema.SCHEMA_VERSION}; see docs/signals.md."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _BATCH_SCHEMA["items"]},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
def signals_ingest(request: HttpRequest) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    body = _read_body(request)
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    ratelimit.hit("signals", str(actor.module_id), settings.AIPS_SIGNAL_RATE)
    result = services.signals_ingest(
        actor=actor,
        body=body,
        ndjson=content_type in ("application/x-ndjson", "application/ndjson"),
        address=client_ip(request),
    )
    payload = {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": result.rejected,
        "items": [
            {"index": r.index, "id": r.id, "status": r.status, "errors": r.errors}
            if r.errors
            else {"index": r.index, "id": r.id, "status": r.status}
            for r in result.items
        ],
    }
    # Answered directly: the per-item list is already plain data, and this is the hot path.
    return HttpResponse(_encoder.encode(payload), content_type="application/json")


class SignalOut(Schema):
    seq: int
    organization_id: int
    module_id: int
    signal_id: str
    kind: KindName
    observed_at: datetime
    received_at: datetime
    severity: str
    product: str
    vendor: str
    sensor: str
    rule_id: str
    rule_name: str
    src_ip: str | None
    src_port: int | None
    dst_ip: str | None
    dst_port: int | None
    protocol: str
    direction: str
    count: int
    ioc: str
    details: dict[str, Any]


class SignalPage(Schema):
    items: list[SignalOut]
    next_cursor: str | None


class SignalQuery(Schema):
    organization_id: int | None = None
    kind: KindName | None = None
    since: datetime | None = None
    until: datetime | None = None
    indicator: str | None = None
    cursor: str | None = None
    limit: int = 50


def _signal_out(signal: Any) -> dict[str, Any]:
    return {
        "seq": signal.seq,
        "organization_id": signal.organization_id,
        "module_id": signal.module_id,
        "signal_id": str(signal.signal_id),
        "kind": signal.kind,
        "observed_at": signal.observed_at,
        "received_at": signal.received_at,
        "severity": list(schema.Severity)[signal.severity].value,
        "product": signal.product,
        "vendor": signal.vendor,
        "sensor": signal.sensor,
        "rule_id": signal.rule_id,
        "rule_name": signal.rule_name,
        "src_ip": signal.src_ip,
        "src_port": signal.src_port,
        "dst_ip": signal.dst_ip,
        "dst_port": signal.dst_port,
        "protocol": signal.protocol,
        "direction": signal.direction,
        "count": signal.count,
        "ioc": signal.ioc,
        "details": signal.details,
    }


@router.get(
    "",
    auth=api_auth(Perm.SIGNAL_VIEW),
    response=SignalPage,
    operation_id="signals_list",
    summary="Signals, newest first",
)
def signals_list(request: HttpRequest, query: Query[SignalQuery]) -> Any:
    filters = selectors.SignalFilter(
        organization_id=query.organization_id,
        kind=query.kind,
        since=query.since,
        until=query.until,
        indicator=query.indicator,
    )
    limit = max(1, min(query.limit, settings.AIPS_API_PAGE_MAX))
    rows, cursor = selectors.signal_page(request.user, filters, cursor=query.cursor, limit=limit)
    return {"items": [_signal_out(s) for s in rows], "next_cursor": cursor}


@router.get(
    "/{seq}",
    auth=api_auth(Perm.SIGNAL_VIEW),
    response=SignalOut,
    operation_id="signals_get",
    summary="One signal",
)
def signals_get(request: HttpRequest, seq: int) -> Any:
    return _signal_out(selectors.get_signal_for(request.user, seq))


