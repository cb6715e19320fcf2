"""Signal API: the integration modules' batch endpoint (R67.7, R67.8), the signal feed, its
hourly histogram and the indicator pivot for people (an organization's own signals, the center's
all), and the center's correlation findings (`correlations_router`, mounted at /correlations)."""

from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from aips.center.integrations.auth import agent_auth
from aips.center.signals import schema, selectors, services
from aips.core.actors import acting
from aips.core.errors import ValidationFailed
from aips.core.moments import Moment
from aips.core.numbers import Id, PageLimit
from aips.core.pagination import Page, keyset_page
from aips.core.permissions import Perm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.sessions import acting_person

router = Router(tags=["signals"])

KindName = Literal[
    "ids", "waf", "endpoint", "malware", "phishing", "scan", "brute_force", "spraying"
]
_BATCH_SCHEMA = schema.json_schema()


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
    # Declared for the OpenAPI document only: `aips.wsgi.application` answers this operation
    # in `ingest_wsgi` before Django sees the request. One implementation, so reaching here
    # is a deployment that bypassed the dispatcher.
    raise RuntimeError(
        "POST /api/v1/signals is served by aips.center.signals.ingest_wsgi; "
        "serve aips.wsgi:application"
    )


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
    product_version: str
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
    first_seen: datetime | None
    last_seen: datetime | None
    ioc: str
    details: dict[str, Any]


class SignalPage(Schema):
    items: list[SignalOut]
    next_cursor: str | None


class SignalQuery(Schema):
    organization_id: Id | None = None
    kind: KindName | None = None
    since: Moment | None = None
    until: Moment | None = None
    indicator: str | None = None
    cursor: str | None = None
    limit: PageLimit = 50


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
        "product_version": signal.product_version,
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
        "first_seen": signal.first_seen,
        "last_seen": signal.last_seen,
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
    "/{int:seq}",
    auth=api_auth(Perm.SIGNAL_VIEW),
    response=SignalOut,
    operation_id="signals_get",
    summary="One signal",
)
def signals_get(request: HttpRequest, seq: Id) -> Any:
    return _signal_out(selectors.get_signal_for(request.user, seq))


# --- histogram and indicator pivot ------------------------------------------------------------


class HistogramQuery(Schema):
    since: Moment | None = None
    until: Moment | None = None
    organization_id: Id | None = None
    kind: KindName | None = None


class HistogramBucket(Schema):
    bucket: datetime
    count: int


class HistogramOut(Schema):
    since: datetime
    until: datetime
    buckets: list[HistogramBucket]


# The longest histogram: 31 days of hours (744 buckets) read from the rollups.
_HISTOGRAM_MAX = timedelta(days=31)


@router.get(
    "/histogram",
    auth=api_auth(Perm.SIGNAL_VIEW),
    response=HistogramOut,
    operation_id="signals_histogram",
    summary="Accepted signals per hour",
    description=(
        "Signals per hour of receipt from the hourly rollups (default: the last 24 hours; at "
        "most 31 days). An organization counts only its own signals; the center all, or one "
        "organization's with `organization_id`."
    ),
)
def signals_histogram(request: HttpRequest, query: Query[HistogramQuery]) -> Any:
    until = query.until or timezone.now()
    since = query.since or until - timedelta(hours=24)
    if since >= until:
        raise ValidationFailed.field("since", _("The start must be before the end."))
    if until - since > _HISTOGRAM_MAX:
        raise ValidationFailed.field("since", _("A histogram covers at most 31 days."))
    bars = selectors.histogram(
        request.user,
        since=since,
        until=until,
        organization_id=query.organization_id,
        kind=query.kind,
    )
    return {
        "since": since,
        "until": until,
        "buckets": [{"bucket": at, "count": n} for at, n in bars],
    }


class SightingOut(Schema):
    type: str
    value: str
    organization_id: int
    count: int
    first_seen: datetime
    last_seen: datetime


class IndicatorOut(Schema):
    value: str
    organizations: int
    signals: int
    first_seen: datetime | None
    last_seen: datetime | None
    sightings: list[SightingOut]


@router.get(
    "/indicators/{path:value}",
    auth=api_auth(Perm.SIGNAL_VIEW),
    response=IndicatorOut,
    operation_id="signals_indicator",
    summary="Who saw an indicator",
    description=(
        "The sightings of an indicator (IP address, file hash, sender, URL, domain) with counts "
        "and first/last seen: every organization's for the center, only its own for an "
        "organization. The matching signals are `GET /signals?indicator=…`."
    ),
)
def signals_indicator(request: HttpRequest, value: str) -> Any:
    sightings = list(selectors.sightings_for(request.user, value=value)[:1000])
    return {
        "value": selectors.canonical_indicator(value),
        "organizations": len({s.organization_id for s in sightings}),
        "signals": sum(s.count for s in sightings),
        "first_seen": min((s.first_seen for s in sightings), default=None),
        "last_seen": max((s.last_seen for s in sightings), default=None),
        "sightings": [
            {
                "type": s.type,
                "value": s.value,
                "organization_id": s.organization_id,
                "count": s.count,
                "first_seen": s.first_seen,
                "last_seen": s.last_seen,
            }
            for s in sightings
        ],
    }


# --- correlation findings (mounted at /correlations) ------------------------------------------

correlations_router = Router(tags=["correlations"])

FindingStateName = Literal["open", "promoted", "dismissed", "linked", "merged"]


class FindingOut(Schema):
    id: int
    type: str
    value: str
    state: FindingStateName
    organization_count: int
    signal_count: int
    organization_ids: list[int]
    first_seen: datetime
    last_seen: datetime
    created_at: datetime
    alert_id: int | None
    # A merged finding (state "merged") names the older finding that took its indicators.
    merged_into_id: int | None = None


class FindingQuery(Schema):
    state: FindingStateName | None = None
    after: Id | None = None
    limit: PageLimit = 50


class DismissIn(Schema):
    reason: str = ""


class PromoteOut(Schema):
    finding: FindingOut
    alert_id: int


def _finding_out(finding: Any) -> dict[str, Any]:
    return {
        "id": finding.pk,
        "type": finding.type,
        "value": finding.value,
        "state": finding.state,
        "organization_count": finding.organization_count,
        "signal_count": finding.signal_count,
        "organization_ids": list(finding.organization_ids or []),
        "first_seen": finding.first_seen,
        "last_seen": finding.last_seen,
        "created_at": finding.created_at,
        "alert_id": finding.alert_id,
        "merged_into_id": finding.merged_into_id,
    }


@correlations_router.get(
    "",
    auth=api_auth(Perm.CORRELATION_VIEW),
    response=Page[FindingOut],
    operation_id="correlations_list",
    summary="Correlation findings (the center's)",
)
def correlations_list(request: HttpRequest, query: Query[FindingQuery]) -> Any:
    page = keyset_page(
        selectors.findings_for(request.user, state=query.state),
        after=query.after,
        limit=query.limit,
    )
    page["items"] = [_finding_out(f) for f in page["items"]]
    return page


@correlations_router.get(
    "/{finding_id}",
    auth=api_auth(Perm.CORRELATION_VIEW),
    response=FindingOut,
    operation_id="correlations_get",
    summary="One correlation finding",
)
def correlations_get(request: HttpRequest, finding_id: Id) -> Any:
    return _finding_out(selectors.get_finding_for(request.user, finding_id))


@correlations_router.post(
    "/{finding_id}/promote",
    auth=api_auth(Perm.CORRELATION_PROMOTE),
    response=PromoteOut,
    operation_id="correlations_promote",
    summary="Turn a finding into the center's draft threat alert",
)
def correlations_promote(request: HttpRequest, finding_id: Id) -> Any:
    finding = selectors.get_finding_for(request.user, finding_id)
    alert = services.finding_promote(actor=acting_person(request), finding=finding)
    finding = selectors.get_finding_for(request.user, finding_id)
    return {"finding": _finding_out(finding), "alert_id": alert.pk}


@correlations_router.post(
    "/{finding_id}/dismiss",
    auth=api_auth(Perm.CORRELATION_PROMOTE),
    response=FindingOut,
    operation_id="correlations_dismiss",
    summary="Dismiss a finding",
)
def correlations_dismiss(request: HttpRequest, finding_id: Id, payload: DismissIn) -> Any:
    finding = selectors.get_finding_for(request.user, finding_id)
    services.finding_dismiss(actor=acting(request), finding=finding, reason=payload.reason[:500])
    return _finding_out(selectors.get_finding_for(request.user, finding_id))
