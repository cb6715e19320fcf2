"""Writes for signals: batch ingest (R67.3.6, R67.8), the indicator sightings and rollups it keeps
in the same transaction, and cross-organization correlation (the worker's job) with the center's
decisions on its findings.

Ingest is the hot path (≥ 30k signals/s on PostgreSQL), so it talks SQL: COPY into a per-
connection staging table, then one INSERT … ON CONFLICT DO NOTHING RETURNING that tells new
from re-sent. Nothing is answered before the transaction commits, so an acknowledged signal is
durable, and a re-send after a lost answer is recognised by (organization, id, observed_at)."""

import ipaddress
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import msgspec
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.audit.models import EventType
from aips.audit.services import record
from aips.core.access import ensure_perm
from aips.core.errors import AppError
from aips.core.permissions import Perm
from aips.integrations.models import ModuleActor
from aips.integrations.services import module_seen
from aips.signals import schema
from aips.signals.models import (
    CorrelationFinding,
    FindingState,
    IndicatorSighting,
    IndicatorType,
    Signal,
    SignalRollup,
)

COLUMNS = (
    "organization_id",
    "module_id",
    "signal_id",
    "kind",
    "observed_at",
    "received_at",
    "severity",
    "product",
    "vendor",
    "product_version",
    "sensor",
    "rule_id",
    "rule_name",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "protocol",
    "direction",
    "count",
    "first_seen",
    "last_seen",
    "ioc",
    "details",
)
_STAGE = "signal_stage"
_json = msgspec.json.Encoder()


@dataclass
class ItemResult:
    index: int
    id: str | None
    status: str  # accepted | duplicate | rejected
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    items: list[ItemResult] = field(default_factory=list)


class BatchTooLarge(AppError):
    status = 413
    code = "batch_too_large"


# --- indicators -----------------------------------------------------------------------------


def _public_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return str(address) if address.is_global else None


def _domain(url: str) -> str | None:
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:
        return None
    return host.lower().rstrip(".")[:255] if host else None


def indicators_of(item: Any) -> list[tuple[str, str]]:
    """The indicators a signal carries that other organizations might see too: the external
    source address, file hashes, a phishing sender, its domain and URLs (R67.8)."""
    found: list[tuple[str, str]] = []
    if item.direction != schema.Direction.INTERNAL:
        ip = _public_ip(item.src_ip)
        if ip:
            found.append((IndicatorType.IP, ip))
    if isinstance(item, schema.MalwareSignal | schema.EndpointSignal):
        best = item.sha256 or item.sha1 or item.md5
        if best:
            found.append((IndicatorType.HASH, best.lower()))
    elif isinstance(item, schema.PhishingSignal):
        sender = item.sender.lower()
        found.append((IndicatorType.EMAIL, sender[:512]))
        found.append((IndicatorType.DOMAIN, sender.rpartition("@")[2][:255]))
        for url in item.urls[:10]:
            found.append((IndicatorType.URL, url[:512]))
            domain = _domain(url)
            if domain:
                found.append((IndicatorType.DOMAIN, domain))
        for digest in item.attachment_hashes[:10]:
            found.append((IndicatorType.HASH, digest.lower()))
    return found


def _ioc(item: Any) -> str:
    if isinstance(item, schema.MalwareSignal | schema.EndpointSignal):
        return str(item.sha256 or item.sha1 or item.md5 or "").lower()
    if isinstance(item, schema.PhishingSignal):
        return str(item.sender.lower()[:512])
    return ""


# --- ingest ---------------------------------------------------------------------------------


def _row(item: Any, actor: ModuleActor, now: datetime) -> tuple[Any, ...]:
    kind = type(item).__struct_config__.tag
    return (
        actor.organization_id,
        actor.module_id,
        uuid.UUID(item.id),
        kind,
        item.observed_at,
        now,
        schema.SEVERITY_RANK[item.severity],
        item.product,
        item.vendor,
        item.product_version or "",
        item.sensor or "",
        item.rule_id or "",
        item.rule_name or "",
        item.src_ip,
        item.src_port,
        item.dst_ip,
        item.dst_port,
        item.protocol or "",
        item.direction or "",
        item.count,
        item.first_seen,
        item.last_seen,
        _ioc(item),
        _json.encode(schema.details_of(item)).decode(),
    )


def _ensure_stage(cursor: Any) -> None:
    # Asked every batch: a temporary table vanishes with a rolled-back transaction, so no flag
    # kept on the connection could be trusted.
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} "  # noqa: S608 - constant names
        f"(LIKE signals_signal INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )


def _insert_postgres(rows: list[tuple[Any, ...]]) -> set[tuple[str, datetime]]:
    cols = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        _ensure_stage(cursor)
        with cursor.cursor.copy(f"COPY {_STAGE} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO signals_signal ({cols}) SELECT {cols} FROM {_STAGE} "  # noqa: S608
            "ON CONFLICT DO NOTHING RETURNING signal_id, observed_at"
        )
        inserted = {(str(sid), at) for sid, at in cursor.fetchall()}
        cursor.execute(f"TRUNCATE {_STAGE}")
    return inserted


def _insert_sqlite(rows: list[tuple[Any, ...]]) -> set[tuple[str, datetime]]:
    sql = (
        f"INSERT INTO signals_signal ({', '.join(COLUMNS)}) "  # noqa: S608 - constant names
        f"VALUES ({', '.join(['%s'] * len(COLUMNS))}) ON CONFLICT DO NOTHING"
    )
    inserted = set()
    with connection.cursor() as cursor:
        for row in rows:
            adapted = list(row)
            adapted[2] = row[2].hex  # Django stores UUIDs as 32 hex characters on SQLite
            for i in (4, 5, 20, 21):
                if adapted[i] is not None:
                    adapted[i] = adapted[i].astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            cursor.execute(sql, adapted)
            if cursor.rowcount == 1:
                inserted.add((str(row[2]), row[4]))
    return inserted


def _upsert_sightings(
    sightings: dict[tuple[str, str], list[Any]], organization_id: int
) -> None:
    if not sightings:
        return
    table = IndicatorSighting._meta.db_table
    sql = (
        f"INSERT INTO {table} (type, value, organization_id, count, first_seen, last_seen) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (type, value, organization_id) DO UPDATE "
        f"SET count = {table}.count + excluded.count, "
        f"first_seen = CASE WHEN excluded.first_seen < {table}.first_seen "
        f"THEN excluded.first_seen ELSE {table}.first_seen END, "
        f"last_seen = CASE WHEN excluded.last_seen > {table}.last_seen "
        f"THEN excluded.last_seen ELSE {table}.last_seen END"
    )
    # Sorted, so concurrent batches of one organization lock rows in one order (no deadlock).
    params = [
        (kind, value, organization_id, n, first, last)
        for (kind, value), (n, first, last) in sorted(sightings.items())
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _upsert_rollup(
    counts: dict[tuple[datetime, str], list[int]], actor: ModuleActor
) -> None:
    table = SignalRollup._meta.db_table
    sql = (
        f"INSERT INTO {table} (bucket, organization_id, module_id, kind, accepted, duplicates, "  # noqa: S608
        "rejected) VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (bucket, organization_id, module_id, kind) DO UPDATE SET "
        f"accepted = {table}.accepted + excluded.accepted, "
        f"duplicates = {table}.duplicates + excluded.duplicates, "
        f"rejected = {table}.rejected + excluded.rejected"
    )
    params = [
        (bucket, actor.organization_id, actor.module_id, kind, a, d, r)
        for (bucket, kind), (a, d, r) in sorted(counts.items())
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def signals_ingest(
    *, actor: ModuleActor, body: bytes, ndjson: bool = False, address: str | None = None
) -> BatchResult:
    """Validate a batch item by item, store the valid ones exactly once, and say what became of
    each. Raises BatchTooLarge (413) or ValidationFailed (422) for the batch as a whole."""
    ensure_perm(actor, Perm.SIGNAL_INGEST)
    if len(body) > schema.MAX_BATCH_BYTES:
        raise BatchTooLarge(
            _("A batch may be at most %(n)d bytes.") % {"n": schema.MAX_BATCH_BYTES}
        )
    try:
        raws = schema.split_batch(body, ndjson=ndjson)
    except schema.BatchError as exc:
        from aips.core.errors import ValidationFailed

        raise ValidationFailed.field(
            "body", _("Send a JSON array of signals, or one signal per line (NDJSON).")
        ) from exc
    if len(raws) > schema.MAX_BATCH_ITEMS:
        raise BatchTooLarge(
            _("A batch may hold at most %(n)d signals.") % {"n": schema.MAX_BATCH_ITEMS}
        )
    now = timezone.now()
    max_age = timedelta(days=settings.AIPS_SIGNAL_MAX_AGE_DAYS)
    result = BatchResult()
    valid: list[tuple[int, Any]] = []
    for index, raw in enumerate(raws):
        try:
            item = schema.decode_item(raw, now=now, max_age=max_age)
        except schema.ItemInvalid as exc:
            result.items.append(ItemResult(index, exc.signal_id, "rejected", exc.fields))
            continue
        valid.append((index, item))
    rows = [_row(item, actor, now) for _index, item in valid]
    rollup: dict[tuple[datetime, str], list[int]] = {}
    bucket = _hour(now)
    if result.items:
        rollup[(bucket, "")] = [0, 0, len(result.items)]
    with transaction.atomic():
        inserted: set[tuple[str, datetime]] = set()
        if rows:
            inserted = (
                _insert_postgres(rows) if connection.vendor == "postgresql" else _insert_sqlite(rows)
            )
        sightings: dict[tuple[str, str], list[Any]] = {}
        for (index, item), row in zip(valid, rows, strict=True):
            key = (str(row[2]), item.observed_at)
            kind = row[3]
            counts = rollup.setdefault((bucket, kind), [0, 0, 0])
            if key in inserted:
                inserted.discard(key)  # a second copy in the same batch is a duplicate
                counts[0] += 1
                result.items.append(ItemResult(index, item.id, "accepted"))
                for indicator in indicators_of(item):
                    seen = sightings.get(indicator)
                    at = item.observed_at
                    if seen is None:
                        sightings[indicator] = [item.count, at, at]
                    else:
                        seen[0] += item.count
                        seen[1] = min(seen[1], at)
                        seen[2] = max(seen[2], at)
            else:
                counts[1] += 1
                result.items.append(ItemResult(index, item.id, "duplicate"))
        _upsert_sightings(sightings, actor.organization_id)
        _upsert_rollup(rollup, actor)
    module_seen(actor=actor, address=address)
    result.items.sort(key=lambda r: r.index)
    tally = Counter(r.status for r in result.items)
    result.accepted, result.duplicates, result.rejected = (
        tally["accepted"],
        tally["duplicate"],
        tally["rejected"],
    )
    return result


# --- correlation ----------------------------------------------------------------------------


def correlate(*, now: datetime | None = None) -> int:
    """Find indicators seen at ≥ N organizations within the window and open (or refresh) a
    finding for each; returns how many findings were opened. The worker runs this."""
    now = now or timezone.now()
    threshold = settings.AIPS_CORRELATION_MIN_ORGS
    since = now - timedelta(hours=settings.AIPS_CORRELATION_WINDOW_HOURS)
    from django.db.models import Count, Max, Min, Sum

    groups = (
        IndicatorSighting.objects.filter(last_seen__gte=since)
        .values("type", "value")
        .annotate(
            orgs=Count("organization_id", distinct=True),
            signals=Sum("count"),
            first=Min("first_seen"),
            last=Max("last_seen"),
        )
        .filter(orgs__gte=threshold)
    )
    opened = 0
    for group in groups:
        with transaction.atomic():
            org_ids = sorted(
                IndicatorSighting.objects.filter(
                    type=group["type"], value=group["value"], last_seen__gte=since
                ).values_list("organization_id", flat=True)
            )
            finding = (
                CorrelationFinding.objects.select_for_update()
                .filter(type=group["type"], value=group["value"], last_seen__gte=since)
                .first()
            )
            if finding is not None:
                # Bookkeeping on an existing finding; its opening was audited.
                CorrelationFinding.objects.filter(pk=finding.pk).update(
                    organization_count=len(org_ids),
                    organization_ids=org_ids,
                    signal_count=group["signals"],
                    last_seen=group["last"],
                    updated_at=now,
                )
                continue
            finding = CorrelationFinding.objects.create(
                type=group["type"],
                value=group["value"],
                organization_count=len(org_ids),
                organization_ids=org_ids,
                signal_count=group["signals"],
                first_seen=group["first"],
                last_seen=group["last"],
            )
            from aips.core.actors import SystemActor

            record(
                actor=SystemActor(label="correlation"),
                event=EventType.CORRELATION_FOUND,
                target=finding,
                details={
                    "type": finding.type,
                    "value": finding.value,
                    "organizations": len(org_ids),
                },
            )
            _notify_center(finding)
            opened += 1
    return opened


def _notify_center(finding: CorrelationFinding) -> None:
    from django.urls import reverse
    from django.utils.translation import gettext_lazy

    from aips.core.permissions import Role
    from aips.notifications.services import active_people, notify

    notify(
        users=active_people(role__in=[Role.CENTER_ANALYST, Role.CENTER_ADMIN]),
        kind="correlation",
        subject=gettext_lazy("Indicator seen at several organizations"),
        text=gettext_lazy(
            "An indicator was seen at several organizations within the correlation window. "
            "Review the finding and turn it into a threat alert if it is a threat."
        ),
        link=reverse("signals:finding", kwargs={"pk": finding.pk}),
        email=True,
        target=finding,
    )


def _locked_open(finding: CorrelationFinding) -> CorrelationFinding:
    locked = CorrelationFinding.objects.select_for_update().get(pk=finding.pk)
    if locked.state != FindingState.OPEN:
        raise AppError(
            _("This finding has already been decided."), code="invalid_transition", status=409
        )
    return locked


@transaction.atomic
def finding_promote(*, actor: Any, finding: CorrelationFinding) -> Any:
    """Turn a finding into the center's draft threat alert carrying its indicator(s)."""
    ensure_perm(actor, Perm.CORRELATION_PROMOTE)
    locked = _locked_open(finding)
    from aips.alerts import services as alert_services

    alert = alert_services.alert_draft_from_correlation(
        actor=actor,
        indicator_type=locked.type,
        indicator=locked.value,
        organization_count=locked.organization_count,
        first_seen=locked.first_seen,
        last_seen=locked.last_seen,
    )
    locked.state = FindingState.PROMOTED
    locked.alert = alert
    locked.decided_by = actor
    locked.save(update_fields=["state", "alert", "decided_by", "updated_at"])
    record(
        actor=actor,
        event=EventType.CORRELATION_PROMOTED,
        target=locked,
        details={"alert": alert.pk},
    )
    return alert


@transaction.atomic
def finding_dismiss(*, actor: Any, finding: CorrelationFinding, reason: str = "") -> None:
    ensure_perm(actor, Perm.CORRELATION_PROMOTE)
    locked = _locked_open(finding)
    locked.state = FindingState.DISMISSED
    locked.decided_by = actor
    locked.save(update_fields=["state", "decided_by", "updated_at"])
    record(
        actor=actor,
        event=EventType.CORRELATION_DISMISSED,
        target=locked,
        details={"reason": reason.strip()[:500]},
    )


__all__ = ["Signal", "signals_ingest", "correlate", "finding_promote", "finding_dismiss"]
