"""Reads of signals, always through visible_to(): an organization's own, or all for the center.
Feeds page by keyset on (observed_at, seq), newest first, so any page costs one index range;
counts and histograms read the hourly rollups and the sightings, never raw signals.

Which index answers which read (PostgreSQL, partitioned by month; see docs/signals.md):
- an organization's feed: signal_org_feed (organization_id, observed_at DESC, seq DESC);
- the center's feed: signal_feed (observed_at DESC, seq DESC);
- a pivot on an address: signal_src_ip (src_ip, observed_at DESC); on a hash or a sender:
  signal_ioc (ioc, observed_at DESC). A pivot never ORs two columns: an OR over columns with
  different indexes becomes a bitmap scan of every match followed by a sort, which grows with
  the indicator's history instead of with the page."""

import base64
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Case, Count, IntegerField, Max, Min, Q, Sum, Value, When
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from aips.center.alerts.models import Alert
from aips.center.integrations.models import IntegrationModule
from aips.center.signals.models import (
    KIND_LABELS,
    CorrelationFinding,
    DerivePosition,
    FindingIndicator,
    FindingState,
    IndicatorSighting,
    IndicatorType,
    Signal,
    SignalRollup,
)
from aips.core.access import has_perm
from aips.core.actors import Actor, Viewer
from aips.core.errors import NotFound, ValidationFailed
from aips.core.indicators import normalize_indicator
from aips.core.permissions import Perm
from aips.core.search import Hit, HitGroup, Indicator, Sightings
from aips.core.worklist import Tile
from aips.shared.organizations.selectors import organization_list


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
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, int(seq)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed.field("cursor", "not a cursor from this API") from None


def canonical_indicator(value: str) -> str:
    """The form sightings and signals store an indicator in: an address as Python prints it
    (IPv6 compressed), a URL as sent, anything else (hash, sender, domain) lower-cased."""
    text = value.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    return text[:512] if "://" in text else text.lower()[:512]


_HASH_LENGTHS = frozenset({32, 40, 64})


def indicator_type(value: str) -> str:
    """The sighting type a canonical value can only be, so a lookup uses the sightings' unique
    index (type, value, organization) instead of scanning every sighting."""
    if _is_ip(value):
        return IndicatorType.IP
    if "://" in value:
        return IndicatorType.URL
    if "@" in value:
        return IndicatorType.EMAIL
    if len(value) in _HASH_LENGTHS and all(c in "0123456789abcdef" for c in value):
        return IndicatorType.HASH
    return IndicatorType.DOMAIN


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def signals_for(actor: Viewer, filters: SignalFilter) -> Any:
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
    if filters.indicator and filters.indicator.strip():
        qs = qs.filter(indicator_match(filters.indicator))
    return qs


# Domains and URLs reach the sightings only from phishing signals (the sender's domain, the
# message's URLs): see services.indicators_of.
_PHISHING = "phishing"


def indicator_match(indicator: str) -> Q:
    """The signals carrying an indicator, matched the way the sightings were counted, so the
    explorer finds the signals the correlation counted.

    An address is pivoted as the source only, like its sightings: the destination of an
    external attack is the organization's own host, and dst_ip has no index. A hash or a sender
    is the signal's `ioc` (indexed). A domain or a URL lives only inside a phishing signal's
    details (the sender's domain, the message's URLs), so it is matched in their JSON text; the
    sightings bound that scan to the organizations that saw it since they first did, and an
    indicator nobody sighted matches nothing without reading a signal. (A phishing attachment's
    hash is sighted but not matched here: an OR beside the `ioc` index would turn every hash
    pivot into a scan.)"""
    value = canonical_indicator(indicator)
    if _is_ip(value):
        return Q(src_ip=value)
    kind = indicator_type(value)
    if kind not in (IndicatorType.URL, IndicatorType.DOMAIN):
        return Q(ioc=value)
    seen = list(
        IndicatorSighting.objects.filter(type=kind, value=value).values_list(
            "organization_id", "first_seen"
        )
    )
    if not seen:
        return Q(pk__in=[])
    text = _json_escaped(value)
    if kind == IndicatorType.URL:
        # One JSON string of the `urls` list.
        texts = [f'"{text}"']
    else:
        # The sender's domain, or the host of one of the URLs (with a port, path, query or none).
        texts = [f'@{text}"'] + [f"://{text}{end}" for end in ("/", ":", "?", "#", '"')]
    match = Q()
    for t in texts:
        match |= Q(details__icontains=t)
    return (
        Q(
            kind=_PHISHING,
            organization_id__in=sorted({org for org, _first in seen}),
            observed_at__gte=min(first for _org, first in seen),
        )
        & match
    )


def _json_escaped(value: str) -> str:
    return json.dumps(value)[1:-1]


def signal_page(
    actor: Viewer, filters: SignalFilter, *, cursor: str | None, limit: int
) -> tuple[list[Signal], str | None]:
    """One page of the feed, newest first, and the cursor of the next page (or None).

    The cursor is the last row's (observed_at, seq). `observed_at <= at` bounds the index range
    scan; the OR only drops the few rows of that same instant already shown."""
    qs = signals_for(actor, filters).order_by("-observed_at", "-seq")
    if cursor:
        at, seq = decode_cursor(cursor)
        qs = qs.filter(observed_at__lte=at).filter(
            Q(observed_at__lt=at) | Q(observed_at=at, seq__lt=seq)
        )
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


def get_signal_for(actor: Viewer, seq: int) -> Signal:
    signal = Signal.objects.visible_to(actor).filter(seq=seq).first()
    if signal is None:
        raise NotFound()
    return signal


# --- how far behind the counts are -------------------------------------------------------------


@dataclass(frozen=True)
class CountsLag:
    """Signals stored but not yet counted in the sightings and rollups (derive.py)."""

    signals: int  # at most LAG_CAP: a count over a larger backlog would cost a scan of it
    oldest: datetime | None  # when the oldest of them was received

    def seconds(self, now: datetime) -> float:
        return 0.0 if self.oldest is None else max(0.0, (now - self.oldest).total_seconds())


LAG_CAP = 1_000_000
# The worker counts every second or so; a page says the counts are behind past this.
LAG_SHOWN_SECONDS = 15


def counts_lag() -> CountsLag:
    """Carries no content (how many, since when), so it is the same for every viewer."""
    position = DerivePosition.objects.filter(name="counts").values_list("seq", flat=True).first()
    pending = Signal.objects.filter(seq__gt=position or 0)
    oldest = pending.order_by("seq").values_list("received_at", flat=True).first()
    if oldest is None:
        return CountsLag(signals=0, oldest=None)
    return CountsLag(signals=pending.order_by()[:LAG_CAP].count(), oldest=oldest)


def counts_lag_shown(now: datetime) -> CountsLag | None:
    """The lag, if a page should say the counts are behind."""
    lag = counts_lag()
    return lag if lag.seconds(now) >= LAG_SHOWN_SECONDS else None


# --- rollups: histograms and dashboards -------------------------------------------------------


def rollups_for(
    actor: Viewer,
    *,
    since: datetime,
    until: datetime | None = None,
    organization_id: int | None = None,
    kind: str | None = None,
) -> Any:
    # Rejected items (kind "") are counted in the rollups too; only signals are charted.
    qs = SignalRollup.objects.visible_to(actor).filter(bucket__gte=since).exclude(kind="")
    if until is not None:
        qs = qs.filter(bucket__lt=until)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def histogram(
    actor: Viewer,
    *,
    since: datetime,
    until: datetime | None = None,
    organization_id: int | None = None,
    kind: str | None = None,
    indicator: str | None = None,
) -> list[tuple[datetime, int]]:
    """Accepted signals per hour from `since` up to `until` (default: now), every hour present
    (zero when quiet), oldest first. Read from the rollups, so a week costs 168 × kinds rows,
    whatever the number of signals; buckets are hours of receipt. The rollups know no
    indicators: with one, the signals that carry it are counted per hour of observation, the
    same signals the feed lists."""
    from django.utils import timezone

    end = until or timezone.now()
    if indicator and indicator.strip():
        counts = _indicator_hourly_counts(
            actor,
            SignalFilter(
                organization_id=organization_id,
                kind=kind,
                since=_hour(since),
                until=end,
                indicator=indicator,
            ),
        )
    else:
        counts = _hourly_counts(actor, _hour(since), end, organization_id, kind)
    out: list[tuple[datetime, int]] = []
    hour = _hour(since)
    while hour < end:
        out.append((hour, counts.get(hour, 0)))
        hour += timedelta(hours=1)
    return out


# The sector-wide histogram sums every organization's rollups (hundreds of thousands of rows
# for a week): the center's is kept this long in the shared cache. An organization's own is
# small and always read fresh.
HISTOGRAM_CACHE_SECONDS = 60


def _hourly_counts(
    actor: Viewer, since: datetime, end: datetime, organization_id: int | None, kind: str | None
) -> dict[datetime, int]:
    from django.core.cache import cache

    key = None
    if getattr(actor, "is_center", False) and organization_id is None:
        # Rounded to the minute, so every page view within it shares one computation.
        key = f"signals:histogram:{since:%Y%m%d%H}:{end:%Y%m%d%H%M}:{kind or '*'}"
        cached = cache.get(key)
        if cached is not None:
            return {datetime.fromisoformat(k): v for k, v in cached.items()}
    counts: dict[datetime, int] = {}
    rows = (
        rollups_for(actor, since=since, until=end, organization_id=organization_id, kind=kind)
        .values("bucket")
        .annotate(n=Sum("accepted"))
        .order_by("bucket")
    )
    for row in rows:
        counts[_hour(row["bucket"])] = int(row["n"] or 0)
    if key is not None:
        cache.set(key, {k.isoformat(): v for k, v in counts.items()}, HISTOGRAM_CACHE_SECONDS)
    return counts


def _indicator_hourly_counts(actor: Viewer, filters: SignalFilter) -> dict[datetime, int]:
    rows = (
        signals_for(actor, filters)
        .annotate(hour=TruncHour("observed_at", tzinfo=UTC))
        .values("hour")
        .annotate(n=Count("seq"))
        .order_by("hour")
    )
    return {_hour(row["hour"]): int(row["n"]) for row in rows}


def totals_by_kind(actor: Viewer, *, since: datetime) -> list[dict[str, Any]]:
    return list(
        rollups_for(actor, since=since)
        .values("kind")
        .annotate(n=Sum("accepted"))
        .order_by("-n", "kind")
    )


def totals_by_organization(
    actor: Viewer, *, since: datetime, limit: int = 50
) -> list[dict[str, Any]]:
    return list(
        rollups_for(actor, since=since)
        .values("organization_id")
        .annotate(n=Sum("accepted"))
        .order_by("-n", "organization_id")[:limit]
    )


def top_indicators(actor: Viewer, *, since: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """The indicators that matter most recently. For the center: those seen by the most
    organizations, read from the correlation findings, which the worker aggregates from the
    sightings every minute (only indicators at >= AIPS_CORRELATION_MIN_ORGS organizations
    appear); grouping every recent sighting of the sector on each page view would cost a scan
    of hundreds of thousands of rows. For an organization: its own sightings, by count."""
    if actor is not None and getattr(actor, "is_center", False):
        findings = (
            CorrelationFinding.objects.visible_to(actor)
            .filter(last_seen__gte=since)
            .order_by("-organization_count", "-signal_count", "value")[:limit]
        )
        return [
            {
                "type": f.type,
                "value": f.value,
                "orgs": f.organization_count,
                "signals": f.signal_count,
                "last": f.last_seen,
            }
            for f in findings
        ]
    rows: Any = (
        IndicatorSighting.objects.visible_to(actor)
        .filter(last_seen__gte=since)
        .order_by("-count", "value")
        .values("type", "value", "count", "last_seen")[:limit]
    )
    return [
        {
            "type": r["type"],
            "value": r["value"],
            "orgs": 1,
            "signals": r["count"],
            "last": r["last_seen"],
        }
        for r in rows
    ]


# --- indicators and findings ------------------------------------------------------------------


def sightings_for(actor: Viewer, *, value: str) -> Any:
    """Who saw this indicator (the center: every organization; an organization: itself)."""
    canonical = canonical_indicator(value)
    return (
        IndicatorSighting.objects.visible_to(actor)
        .filter(type=indicator_type(canonical), value=canonical)
        .order_by("-count", "organization_id")
    )


def sighting_summary(actor: Viewer, *, value: str) -> dict[str, Any]:
    return dict(
        sightings_for(actor, value=value).aggregate(
            organizations=Count("organization_id"),
            signals=Sum("count"),
            first=Min("first_seen"),
            last=Max("last_seen"),
        )
    )


def findings_for(actor: Viewer, *, state: str | None = None) -> Any:
    """Open findings first, then the most recently seen."""
    qs = CorrelationFinding.objects.visible_to(actor)
    if state:
        qs = qs.filter(state=state)
    return qs.annotate(
        open_first=Case(
            When(state=FindingState.OPEN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("open_first", "-last_seen", "-pk")


def findings_merged_into(actor: Viewer, finding: CorrelationFinding) -> list[CorrelationFinding]:
    """The newer findings the correlation merged into this one, oldest first."""
    return list(
        CorrelationFinding.objects.visible_to(actor).filter(merged_into=finding).order_by("pk")[:50]
    )


def get_finding_for(actor: Viewer, pk: int) -> CorrelationFinding:
    finding = CorrelationFinding.objects.visible_to(actor).filter(pk=pk).first()
    if finding is None:
        raise NotFound()
    return finding


def finding_sightings(actor: Viewer, finding: CorrelationFinding) -> list[IndicatorSighting]:
    """The organizations behind a finding, with their counts: the center's view alone
    (findings are invisible to everyone else, and so is this list)."""
    if not CorrelationFinding.objects.visible_to(actor).filter(pk=finding.pk).exists():
        raise NotFound()
    return list(
        IndicatorSighting.objects.visible_to(actor)
        .filter(type=finding.type, value=finding.value)
        .select_related("organization")
        .order_by("-count", "organization_id")
    )


# Alerts offered for linking a finding, at most.
_HOLDING_MAX = 20


def finding_indicators(actor: Viewer, finding: CorrelationFinding) -> list[FindingIndicator]:
    """The finding's group, most widely seen first (a group of one for a finding of one)."""
    if not CorrelationFinding.objects.visible_to(actor).filter(pk=finding.pk).exists():
        raise NotFound()
    return list(finding.indicators.all())


def alerts_holding(actor: Viewer, finding: CorrelationFinding) -> list[Alert]:
    """Alerts the actor sees that hold any of the finding's indicators, newest first: what the
    analyst links the finding to instead of drafting a duplicate. Alerts keep indicators in a
    JSON list with no index, so the database narrows by text (the same on both engines) and
    the exact match is made here; the center's alerts number in the thousands, not millions."""

    values = [finding.value, *finding.indicators.values_list("value", flat=True)]
    wanted: set[str] = set()
    for value in values:
        wanted.add(value.lower())
        try:
            wanted.add(normalize_indicator(value)["value"].lower())
        except ValueError:
            continue
    if not wanted:
        return []
    match = Q()
    for value in sorted(wanted)[:50]:
        match |= Q(indicators__icontains=value)
    found: list[Alert] = []
    candidates = Alert.objects.visible_to(actor).filter(match).order_by("-pk")
    for alert in candidates[:200]:
        held = {
            str(i.get("value", "")).lower() for i in alert.indicators or [] if isinstance(i, dict)
        }
        shared = sorted(held & wanted)
        if shared:
            alert.shared_indicators = shared  # type: ignore[attr-defined]
            found.append(alert)
            if len(found) >= _HOLDING_MAX:
                break
    return found


def organization_names(actor: Viewer, ids: set[int]) -> dict[int, str]:
    """Display names of the organizations the actor may see, for labelling rows."""
    if not ids:
        return {}
    return {o.pk: o.display_name for o in organization_list(actor=actor).filter(pk__in=ids)}


def module_name(signal: Signal) -> str:
    """The name of the module that sent a signal the caller already may see (modules are
    otherwise an integration:view matter, which a viewer lacks)."""
    name = (
        IntegrationModule.objects.filter(
            pk=signal.module_id, organization_id=signal.organization_id
        )
        .values_list("name", flat=True)
        .first()
    )
    return name or f"#{signal.module_id}"


# --- the home page's tiles (core.worklist) ------------------------------------------------------


def home_tiles(actor: Actor) -> list[Tile]:
    """Signal activity over the last 24 hours (the rollups, cached for the center) and, for the
    center, the open correlation findings."""
    if not has_perm(actor, Perm.SIGNAL_VIEW) and not has_perm(actor, Perm.CORRELATION_VIEW):
        return []
    tiles: list[Tile] = []
    if has_perm(actor, Perm.SIGNAL_VIEW):
        since = timezone.now() - timedelta(hours=24)
        tiles.append(
            Tile(
                key="signals.activity",
                title=_("Signals in the last 24 hours"),
                value=sum(n for _hour, n in histogram(actor, since=since)),
                url=reverse("signals:dashboard"),
                order=40,
            )
        )
    if actor.is_center and has_perm(actor, Perm.CORRELATION_VIEW):
        tiles.append(
            Tile(
                key="signals.findings",
                title=_("Open correlation findings"),
                value=CorrelationFinding.objects.visible_to(actor)
                .filter(state=FindingState.OPEN)
                .count(),
                url=f"{reverse('signals:findings')}?state={FindingState.OPEN}",
                order=50,
            )
        )
    return tiles


# --- search (core.search) -----------------------------------------------------------------------

# core.indicators' types as the sightings and findings store them (any digest is a "hash").
_SIGHTING_TYPES = {
    "ip": IndicatorType.IP,
    "domain": IndicatorType.DOMAIN,
    "url": IndicatorType.URL,
    "md5": IndicatorType.HASH,
    "sha1": IndicatorType.HASH,
    "sha256": IndicatorType.HASH,
    "email": IndicatorType.EMAIL,
}


def _signal_hit(signal: Signal, organization: str) -> Hit:
    kind = KIND_LABELS.get(signal.kind, signal.kind)  # type: ignore[call-overload]
    return Hit(
        ref=f"#{signal.seq}",
        title=f"{kind} · {signal.rule_name or signal.product}",
        url=reverse("signals:detail", args=[signal.seq]),
        organization=organization,
        at=signal.observed_at,
    )


def _finding_hit(finding: CorrelationFinding) -> Hit:
    return Hit(
        ref=f"#{finding.pk}",
        title=f"{finding.value} · {finding.organization_count}",
        url=reverse("signals:finding", args=[finding.pk]),
        state=str(FindingState(finding.state).label),
        at=finding.last_seen,
    )


def search_indicator(actor: Actor, indicator: Indicator, limit: int) -> list[HitGroup]:
    """The newest signals carrying the indicator (matched as the explorer matches them; the
    count is the sightings' total) and the correlation findings holding it."""
    kind = _SIGHTING_TYPES.get(indicator.type)
    if kind is None:
        return []
    value = canonical_indicator(indicator.value)
    groups: list[HitGroup] = []
    if has_perm(actor, Perm.SIGNAL_VIEW):
        rows, _cursor = signal_page(actor, SignalFilter(indicator=value), cursor=None, limit=limit)
        names = organization_names(actor, {s.organization_id for s in rows})
        total = sighting_summary(actor, value=value).get("signals") or 0
        groups.append(
            HitGroup(
                key="signals",
                label=_("Signals"),
                count=max(total, len(rows)),
                hits=[_signal_hit(s, names.get(s.organization_id, "")) for s in rows],
                url=reverse("signals:indicator") + "?" + urlencode({"value": value}),
                more=total > len(rows),
            )
        )
    if has_perm(actor, Perm.CORRELATION_VIEW):
        in_group = FindingIndicator.objects.filter(type=kind, value=value).values("finding_id")
        findings = (
            CorrelationFinding.objects.visible_to(actor)
            .filter(Q(type=kind, value=value) | Q(pk__in=in_group))
            .order_by("-last_seen", "-pk")
        )
        rows_f = list(findings[: limit + 1])
        groups.append(
            HitGroup(
                key="findings",
                label=_("Correlation findings"),
                count=findings.count() if len(rows_f) > limit else len(rows_f),
                hits=[_finding_hit(f) for f in rows_f[:limit]],
                url=reverse("signals:findings"),
                more=len(rows_f) > limit,
            )
        )
    return groups


def search_sightings(actor: Actor, indicator: Indicator) -> Sightings | None:
    """First and last seen in the signals, and (the center's view) who reported it."""
    if indicator.type not in _SIGHTING_TYPES or not has_perm(actor, Perm.SIGNAL_VIEW):
        return None
    value = canonical_indicator(indicator.value)
    summary = sighting_summary(actor, value=value)
    organizations: list[tuple[str, int]] = []
    if actor.is_center:
        organizations = [
            (s.organization.display_name, s.count)
            for s in sightings_for(actor, value=value).select_related("organization")[:300]
        ]
    return Sightings(
        first=summary.get("first"),
        last=summary.get("last"),
        signals=summary.get("signals") or 0,
        organizations=organizations,
    )
