"""Reads of signals, always through visible_to(): an organization's own, or all for the center.
Feeds page by keyset on (observed_at, seq), newest first, so any page costs one index range;
counts and histograms read the hourly rollups, never raw signals."""

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, Sum

from aips.core.errors import NotFound, ValidationFailed
from aips.signals.models import (
    CorrelationFinding,
    IndicatorSighting,
    Signal,
    SignalRollup,
)


@dataclass(frozen=True)
class SignalFilter:
    organization_id: int | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    indicator: str | None = None
    module_id: int | None = None


def encode_cursor(signal: Signal) -> str:
    raw = f"{signal.observed_at.isoformat()}|{signal.seq}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, _, seq = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        return datetime.fromisoformat(at), int(seq)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed.field("cursor", "not a cursor from this API") from None


def signals_for(actor: Any, filters: SignalFilter) -> Any:
    qs = Signal.objects.visible_to(actor)
    if filters.organization_id is not None:
        qs = qs.filter(organization_id=filters.organization_id)
    if filters.module_id is not None:
        qs = qs.filter(module_id=filters.module_id)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.since is not None:
        qs = qs.filter(observed_at__gte=filters.since)
    if filters.until is not None:
        qs = qs.filter(observed_at__lt=filters.until)
    if filters.indicator:
        value = filters.indicator.strip()
        match = Q(ioc=value.lower())
        if _is_ip(value):
            match |= Q(src_ip=value) | Q(dst_ip=value)
        qs = qs.filter(match)
    return qs


def _is_ip(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def signal_page(
    actor: Any, filters: SignalFilter, *, cursor: str | None, limit: int
) -> tuple[list[Signal], str | None]:
    """One page of the feed, newest first, and the cursor of the next page (or None)."""
    qs = signals_for(actor, filters).order_by("-observed_at", "-seq")
    if cursor:
        at, seq = decode_cursor(cursor)
        qs = qs.filter(Q(observed_at__lt=at) | Q(observed_at=at, seq__lt=seq))
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


def get_signal_for(actor: Any, seq: int) -> Signal:
    signal = Signal.objects.visible_to(actor).filter(seq=seq).first()
    if signal is None:
        raise NotFound()
    return signal


def rollups_for(actor: Any, *, since: datetime, organization_id: int | None = None) -> Any:
    qs = SignalRollup.objects.visible_to(actor).filter(bucket__gte=since)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return qs


def histogram(actor: Any, *, since: datetime, organization_id: int | None = None) -> list[Any]:
    """Accepted signals per hour and kind from the rollups."""
    return list(
        rollups_for(actor, since=since, organization_id=organization_id)
        .values("bucket", "kind")
        .annotate(n=Sum("accepted"))
        .order_by("bucket", "kind")
    )


def sightings_for(actor: Any, *, value: str) -> Any:
    return IndicatorSighting.objects.visible_to(actor).filter(value=value.strip().lower())


def findings_for(actor: Any) -> Any:
    return CorrelationFinding.objects.visible_to(actor)


def get_finding_for(actor: Any, pk: int) -> CorrelationFinding:
    finding = CorrelationFinding.objects.visible_to(actor).filter(pk=pk).first()
    if finding is None:
        raise NotFound()
    return finding
