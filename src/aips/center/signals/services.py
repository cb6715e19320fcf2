"""Writes for signals: batch ingest (R67.3.6, R67.8) and cross-organization correlation (the
worker's job) with the center's decisions on its findings. The sightings and rollups are counted
from the stored signals by the worker (derive.py).

Ingest is the hot path (≥ 30k signals/s on PostgreSQL), so it talks SQL: on PostgreSQL one
INSERT … SELECT FROM jsonb_array_elements(…) ON CONFLICT DO NOTHING RETURNING per batch, which
stores the new rows and tells them from re-sent ones in one round trip. Nothing is answered
before the transaction commits, so an acknowledged signal is durable, and a re-send after a
lost answer is recognised by (organization, id, observed_at)."""

import uuid
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.center.alerts import services as alert_services
from aips.center.alerts.models import Alert
from aips.center.integrations.models import ModuleActor
from aips.center.integrations.services import module_seen
from aips.center.signals import derive, partitions, schema, selectors, sqlite_writer
from aips.center.signals.metrics import count_batch
from aips.center.signals.models import (
    CorrelationFinding,
    FindingIndicator,
    FindingState,
    IndicatorSighting,
    IndicatorType,
    Signal,
)
from aips.center.signals.notices import finding_opened
from aips.core.access import ensure_perm
from aips.core.actors import Actor, SystemActor
from aips.core.errors import AppError, Forbidden, ValidationFailed
from aips.core.indicators import normalize_indicator
from aips.core.logging import get_logger
from aips.core.permissions import Perm
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record

COLUMNS = partitions.COLUMNS
log = get_logger("aips.center.signals")
_json = msgspec.json.Encoder()


class ItemResult(msgspec.Struct, omit_defaults=True):
    """One item's answer; a struct, so the ingest answer encodes it in C, `errors` only when
    there are any."""

    index: int
    id: str | None
    status: str  # accepted | duplicate | rejected
    errors: dict[str, str] = {}


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    items: list[ItemResult] = field(default_factory=list)


class BatchTooLarge(AppError):
    status = 413
    code = "batch_too_large"


# --- indicators ---------------------------------------------------------------------------------


def indicators_of(item: Any) -> list[tuple[str, str]]:
    """The indicators a signal carries that other organizations might see too (R67.8): the
    worker counts them from the stored columns (derive.indicators); this reads them off an item."""
    urls: list[str] = []
    hashes: list[str] = []
    if isinstance(item, schema.PhishingSignal):
        urls, hashes = list(item.urls), list(item.attachment_hashes)
    return derive.indicators(
        kind=type(item).__struct_config__.tag,
        src_ip=None if item.direction == schema.Direction.INTERNAL else item.src_ip,
        ioc=_ioc(item),
        urls=urls,
        attachment_hashes=hashes,
    )


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
        item.id,
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
        # A dict: encoded with the batch's JSON as an object (PostgreSQL), as text for SQLite.
        schema.details_of(item),
    )


# The type of each of COLUMNS when read from a row of the batch's JSON array (details: r->23).
_PG_TYPES = (
    "bigint", "bigint", "uuid", "text", "timestamptz", "timestamptz", "smallint", "text", "text",
    "text", "text", "text", "text", "inet", "integer", "inet", "integer", "text", "text",
    "integer", "timestamptz", "timestamptz", "text",
)  # fmt: skip
_PG_BATCH = ", ".join(
    [
        f"(t.r->>{i})::{kind} AS {name}"
        for i, (name, kind) in enumerate(zip(COLUMNS[:-1], _PG_TYPES, strict=True))
    ]
    + [f"t.r->{len(_PG_TYPES)} AS details"]
)
# One statement, one round trip: the rows arrive as one JSON array (encoded by msgspec, parsed
# by PostgreSQL, both in C), the insert skips what the unique key already holds (re-sent, or a
# second copy in the batch: the first copy wins, by position), and the positions of the new
# rows come back as small integers. No staging table, nothing to create or truncate per batch.
_PG_INSERT = (
    f"WITH batch AS (SELECT t.n - 1 AS position, {_PG_BATCH} "  # noqa: S608 - constant names
    "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t(r, n)), "
    f"new AS (INSERT INTO signals_signal ({', '.join(COLUMNS)}) "
    f"SELECT {', '.join(COLUMNS)} FROM batch ORDER BY position "
    "ON CONFLICT DO NOTHING RETURNING signal_id, observed_at) "
    "SELECT b.position FROM batch b JOIN new USING (signal_id, observed_at)"
)
# The usual batch: every row new. A plain insert, whose unique index refuses a stored or
# repeated key by itself, costs the database less than ON CONFLICT's check before each row,
# the RETURNING and the join back to the positions.
_PG_INSERT_NEW = (
    f"INSERT INTO signals_signal ({', '.join(COLUMNS)}) "  # noqa: S608 - constant names
    f"SELECT {_PG_BATCH} FROM jsonb_array_elements(%s::jsonb) AS t(r)"
)


def _pg_execute(sql: str, data: str) -> list[tuple[Any, ...]]:
    """A prepared statement, on a cursor of psycopg's own with the parameter bound by the server:
    the statement is planned once per connection rather than once per batch (Django's cursor
    binds on the client and cannot prepare), which saved about 2 µs of the database's time per
    signal. The database's errors are still Django's."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, [data], prepare=True)
        return cursor.fetchall() if cursor.description else []


def _insert_postgres(rows: list[tuple[Any, ...]]) -> set[int] | None:
    """Positions of the rows that were new (the rest were already stored), or None when the
    plain insert stored every row: then no key was stored before or came twice.

    The batch is first inserted whole by one plain statement (outside a transaction PostgreSQL
    commits it before it answers: one round trip). If a key is already stored (a batch re-sent
    after a lost answer) or comes twice in the batch, the unique index makes that statement
    fail whole, storing nothing, and the batch goes again through the statement that skips
    stored keys and later copies."""
    data = _json.encode(rows).decode()
    try:
        # Inside a caller's transaction, a savepoint keeps that transaction usable.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            _pg_execute(_PG_INSERT_NEW, data)
        return None
    except IntegrityError as exc:
        if not isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
            raise
    return {position for (position,) in _pg_execute(_PG_INSERT, data)}


def _insert_sqlite(rows: list[tuple[Any, ...]]) -> set[int]:
    """SQLite: the transaction began IMMEDIATE, so this process is the only writer until it
    commits, and the rows with a sequence above the old maximum are exactly the new ones. (One
    `INSERT … SELECT FROM json_each(…)` statement, as on PostgreSQL, measured slower: SQLite 3.40
    parses the row's JSON again for each of its 24 columns.)"""
    sql = (
        f"INSERT INTO signals_signal ({', '.join(COLUMNS)}) "  # noqa: S608 - constant names
        f"VALUES ({', '.join(['%s'] * len(COLUMNS))}) ON CONFLICT DO NOTHING"
    )
    adapted = []
    for row in rows:
        values = list(row)
        values[2] = row[2].hex  # Django stores UUIDs as 32 hex characters on SQLite
        values[23] = _json.encode(row[23]).decode()
        for i in (4, 5, 20, 21):
            if values[i] is not None:
                values[i] = values[i].astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        adapted.append(values)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM signals_signal")
        (before,) = cursor.fetchone()
        cursor.executemany(sql, adapted)
        cursor.execute("SELECT signal_id, observed_at FROM signals_signal WHERE seq > %s", [before])
        new = {(sid, str(at)) for sid, at in cursor.fetchall()}
    return {p for p, values in enumerate(adapted) if (values[2], values[4]) in new}


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
    scan = schema.needs_text_scan(body)
    # The usual batch is a JSON array of valid items: decoded whole, in one pass. NDJSON, a body
    # that may hold unsafe text, or any item msgspec refuses takes the item-by-item way, which
    # answers each item on its own; both give the same answer for the same body.
    whole = None if ndjson or scan else schema.decode_batch(body)
    if whole is None:
        try:
            raws: list[Any] = schema.split_batch(body, ndjson=ndjson)
        except schema.BatchError as exc:
            raise ValidationFailed.field(
                "body", _("Send a JSON array of signals, or one signal per line (NDJSON).")
            ) from exc
    else:
        raws = whole
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
            if whole is None:
                item = schema.decode_item(raw, now=now, max_age=max_age, scan=scan)
            else:
                item = raw
                errors = schema.check(item, now=now, max_age=max_age)
                if errors:
                    raise schema.ItemInvalid(errors, signal_id=str(item.id))
        except schema.ItemInvalid as exc:
            result.items.append(ItemResult(index, exc.signal_id, "rejected", exc.fields))
            continue
        valid.append((index, item))
    rows = [_row(item, actor, now) for _index, item in valid]
    org, module = actor.organization_id, actor.module_id
    bucket = _hour(now)
    # Accepted signals are counted by the worker from the stored rows (derive.py); what leaves
    # no row is counted here: rejected items, and duplicates by kind.
    unstored: dict[tuple[datetime, int, int, str], list[int]] = {}
    if result.items:
        unstored[(bucket, org, module, "")] = [0, 0, len(result.items)]
    # None: every row stored and each key once (PostgreSQL's plain insert succeeded). Otherwise
    # the positions whose key was stored now; a key that came twice has both positions there.
    inserted: set[int] | None = set()
    if rows and connection.vendor == "postgresql":
        # One statement is atomic by itself; outside a transaction PostgreSQL commits it before
        # it answers, so the batch costs one round trip (no BEGIN, no COMMIT).
        inserted = _insert_postgres(rows)
    elif rows and settings.AIPS_SIGNAL_SQLITE_WRITER and not connection.in_atomic_block:
        # SQLite: the process's writer thread commits this batch with those of the other
        # requests waiting (sqlite_writer); inside a caller's transaction, in that transaction.
        inserted = sqlite_writer.store(rows)
    elif rows:
        with transaction.atomic():
            inserted = _insert_sqlite(rows)
    if inserted is None:
        # The usual batch: each valid item accepted.
        result.items.extend(ItemResult(index, str(item.id), "accepted") for index, item in valid)
    else:
        stored: set[tuple[uuid.UUID, datetime]] = set()
        for position, ((index, item), row) in enumerate(zip(valid, rows, strict=True)):
            key = (row[2], item.observed_at)
            if position in inserted and key not in stored:
                stored.add(key)  # a second copy in the same batch is a duplicate
                result.items.append(ItemResult(index, str(item.id), "accepted"))
            else:
                unstored.setdefault((bucket, org, module, row[3]), [0, 0, 0])[1] += 1
                result.items.append(ItemResult(index, str(item.id), "duplicate"))
    if unstored:
        # After the signals' commit: a crash in between loses no signal, and the agent, left
        # without an answer, re-sends the batch, whose items are then counted as duplicates.
        derive.counts_write(sightings={}, rollups=unstored)
    derive.derive_inline()
    module_seen(actor=actor, address=address)
    result.items.sort(key=lambda r: r.index)
    tally = Counter(r.status for r in result.items)
    result.accepted, result.duplicates, result.rejected = (
        tally["accepted"],
        tally["duplicate"],
        tally["rejected"],
    )
    count_batch(accepted=result.accepted, duplicates=result.duplicates, rejected=result.rejected)
    return result


# --- correlation ----------------------------------------------------------------------------


# Signals read per crossing indicator to find which other crossing indicators arrived with it.
_GROUP_SIGNALS = 200
# Findings hold one indicator type before another as their lead when counts tie: the most
# specific first (a sender names a campaign better than the domain it shares with others).
_LEAD_ORDER: dict[str, int] = {
    IndicatorType.EMAIL.value: 0,
    IndicatorType.HASH.value: 1,
    IndicatorType.URL.value: 2,
    IndicatorType.IP.value: 3,
    IndicatorType.DOMAIN.value: 4,
}


def _companions(type_: str, value: str, since: datetime, until: datetime) -> set[str]:
    """Values carried by the recent signals that carry this indicator (through the indexed
    `src_ip` or `ioc` column; a domain or URL is found from the other side of the pair)."""
    matching = Signal.objects.filter(observed_at__gte=since, observed_at__lte=until)
    if type_ == IndicatorType.IP:
        matching = matching.filter(src_ip=value)
    elif type_ in (IndicatorType.HASH, IndicatorType.EMAIL):
        matching = matching.filter(ioc=value)
    else:
        return set()
    rows = matching.order_by("-observed_at").values("src_ip", "direction", "ioc", "details")
    found: set[str] = set()
    for row in rows[:_GROUP_SIGNALS]:
        found.update(_candidates_of(row))
    return found


def _group(keys: list[tuple[str, str]], since: datetime, until: datetime) -> list[list[Any]]:
    """Union-find over the crossing indicators, joined when one's signals carry the other."""
    parent = {key: key for key in keys}

    def root(key: tuple[str, str]) -> tuple[str, str]:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    by_value: dict[str, list[tuple[str, str]]] = {}
    for key in keys:
        by_value.setdefault(key[1], []).append(key)
    for key in keys:
        for value in _companions(key[0], key[1], since, until):
            for other in by_value.get(value, ()):
                a, b = root(key), root(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    components: dict[tuple[str, str], list[Any]] = {}
    for key in keys:
        components.setdefault(root(key), []).append(key)
    return sorted(components.values())


def correlate(*, now: datetime | None = None) -> int:
    """Find indicators seen at ≥ N organizations within the window, group those that arrived
    together (in the same signals) and open one finding per group, or grow and refresh the
    open finding that already holds part of the group; returns how many findings were opened.
    The worker runs this every minute under its job lock, so two runs never race.

    Idempotent: an indicator that already belongs to a finding within the window (open,
    promoted, dismissed or linked) is not raised again while it keeps being seen; once it has
    been quiet for a whole window, a new sighting opens a new finding. New indicators that join
    a group whose finding was decided open a new finding holding the whole group, so its page
    shows the alert the earlier one became and the analyst can link it there."""
    from django.db.models import Count, Max, Min, Sum

    now = now or timezone.now()
    threshold = settings.AIPS_CORRELATION_MIN_ORGS
    since = now - timedelta(hours=settings.AIPS_CORRELATION_WINDOW_HOURS)
    until = now + schema.MAX_FUTURE
    # Bounded above too, so a run "as of" a past moment (a test, a replay) ignores later ones.
    window = {"last_seen__gte": since, "last_seen__lte": until}
    crossing: dict[tuple[str, str], dict[str, Any]] = {
        (g["type"], g["value"]): dict(g)
        for g in IndicatorSighting.objects.filter(**window)
        .values("type", "value")
        .annotate(
            orgs=Count("organization_id", distinct=True),
            signals=Sum("count"),
            first=Min("first_seen"),
            last=Max("last_seen"),
        )
        .filter(orgs__gte=threshold)
        .order_by("type", "value")
    }
    if not crossing:
        return 0
    org_sets: dict[tuple[str, str], set[int]] = {key: set() for key in crossing}
    values = sorted({value for _type, value in crossing})
    for start in range(0, len(values), 500):
        for type_, value, org in IndicatorSighting.objects.filter(
            value__in=values[start : start + 500], **window
        ).values_list("type", "value", "organization_id"):
            if (type_, value) in org_sets:
                org_sets[(type_, value)].add(org)
    opened = 0
    for members in _group(list(crossing), since, until):
        with transaction.atomic():
            opened += _correlate_group(members, crossing, org_sets, since=since, now=now)
    return opened


def _correlate_group(
    members: list[tuple[str, str]],
    crossing: dict[tuple[str, str], dict[str, Any]],
    org_sets: dict[tuple[str, str], set[int]],
    *,
    since: datetime,
    now: datetime,
) -> int:
    from django.db.models import Q

    match = Q()
    for type_, value in members:
        match |= Q(type=type_, value=value)
    held = list(
        FindingIndicator.objects.filter(match, finding__last_seen__gte=since).values_list(
            "finding_id", "finding__state", "type", "value"
        )
    )
    covered = {(type_, value) for _pk, _state, type_, value in held}
    open_ids = sorted({pk for pk, state, _t, _v in held if state == FindingState.OPEN})
    if open_ids:
        # Ids grow with time, so the first is the oldest: it survives and absorbs the others.
        finding = CorrelationFinding.objects.select_for_update().get(pk=open_ids[0])
        for newer in CorrelationFinding.objects.select_for_update().filter(pk__in=open_ids[1:]):
            _merge(finding, newer, now)
        finding.refresh_from_db()
        mine = set(finding.indicators.values_list("type", "value"))
        joining = [key for key in members if key not in mine and key not in covered]
        _refresh(finding, sorted(mine | set(joining)), joining, crossing, org_sets, now)
        return 0
    joining = [key for key in members if key not in covered]
    if not joining:
        # Every indicator of the group is already in a decided finding: bookkeeping only.
        for pk in sorted({pk for pk, _s, _t, _v in held}):
            finding = CorrelationFinding.objects.select_for_update().get(pk=pk)
            held_here = list(finding.indicators.values_list("type", "value"))
            _refresh(finding, held_here, [], crossing, org_sets, now)
        return 0
    lead = min(
        members,
        key=lambda k: (
            -crossing[k]["orgs"],
            -crossing[k]["signals"],
            _LEAD_ORDER.get(k[0], 9),
            k[1],
        ),
    )
    orgs = sorted(set().union(*(org_sets[k] for k in members)))
    finding = CorrelationFinding.objects.create(
        type=lead[0],
        value=lead[1],
        organization_count=len(orgs),
        organization_ids=orgs,
        signal_count=sum(crossing[k]["signals"] for k in members),
        first_seen=min(crossing[k]["first"] for k in members),
        last_seen=max(crossing[k]["last"] for k in members),
    )
    FindingIndicator.objects.bulk_create(
        FindingIndicator(
            finding=finding,
            type=k[0],
            value=k[1],
            organization_count=len(org_sets[k]),
            signal_count=crossing[k]["signals"],
        )
        for k in members
    )
    record(
        actor=SystemActor(label="correlation"),
        event=EventType.CORRELATION_FOUND,
        target=finding,
        details={
            "type": finding.type,
            "value": finding.value,
            "indicators": len(members),
            "organizations": len(orgs),
        },
    )
    finding_opened(finding)
    return 1


def _merge(survivor: CorrelationFinding, newer: CorrelationFinding, now: datetime) -> None:
    """Two open findings whose indicators turned out to travel together (a later signal carried
    both) are one campaign: the older one takes the newer's indicators, organizations, signal
    count and time span; the newer is closed as merged into it, which the journal records.
    Runs inside the correlation step's transaction with both rows locked; a merged finding is
    no longer open, so a later run never merges it again."""
    mine = set(survivor.indicators.values_list("type", "value"))
    moved = [i for i in newer.indicators.all() if (i.type, i.value) not in mine]
    FindingIndicator.objects.filter(pk__in=[i.pk for i in moved]).update(finding=survivor)
    # What the survivor already held stays with the merged finding, for its page's history.
    orgs = sorted(set(survivor.organization_ids or []) | set(newer.organization_ids or []))
    CorrelationFinding.objects.filter(pk=survivor.pk).update(
        organization_count=len(orgs),
        organization_ids=orgs,
        signal_count=survivor.signal_count + newer.signal_count,
        first_seen=min(survivor.first_seen, newer.first_seen),
        last_seen=max(survivor.last_seen, newer.last_seen),
        updated_at=now,
    )
    CorrelationFinding.objects.filter(pk=newer.pk).update(
        state=FindingState.MERGED, merged_into=survivor, updated_at=now
    )
    record(
        actor=SystemActor(label="correlation"),
        event=EventType.CORRELATION_MERGED,
        target=newer,
        details={
            "into": survivor.pk,
            "type": newer.type,
            "value": newer.value,
            "indicators": [f"{i.type}:{i.value}" for i in moved][:50],
        },
    )
    survivor.refresh_from_db()


def _refresh(
    finding: CorrelationFinding,
    group: list[tuple[str, str]],
    joining: list[tuple[str, str]],
    crossing: dict[tuple[str, str], dict[str, Any]],
    org_sets: dict[tuple[str, str], set[int]],
    now: datetime,
) -> None:
    """Bookkeeping on an existing finding (its opening was audited): counts over the group's
    indicators that are still crossing, and the indicators that joined it."""
    current = [k for k in group if k in crossing]
    if not current:
        return
    FindingIndicator.objects.bulk_create(
        FindingIndicator(
            finding=finding,
            type=k[0],
            value=k[1],
            organization_count=len(org_sets[k]),
            signal_count=crossing[k]["signals"],
        )
        for k in joining
    )
    for k in current:
        if k not in joining:
            FindingIndicator.objects.filter(finding=finding, type=k[0], value=k[1]).update(
                organization_count=len(org_sets[k]), signal_count=crossing[k]["signals"]
            )
    orgs = sorted(set(finding.organization_ids or []).union(*(org_sets[k] for k in current)))
    CorrelationFinding.objects.filter(pk=finding.pk).update(
        organization_count=len(orgs),
        organization_ids=orgs,
        signal_count=max(finding.signal_count, sum(crossing[k]["signals"] for k in current)),
        last_seen=max(finding.last_seen, *(crossing[k]["last"] for k in current)),
        updated_at=now,
    )


def _locked_open(finding: CorrelationFinding) -> CorrelationFinding:
    locked = CorrelationFinding.objects.select_for_update().get(pk=finding.pk)
    if locked.state != FindingState.OPEN:
        raise AppError(
            _("This finding has already been decided."), code="invalid_transition", status=409
        )
    return locked


# Signals read to find an indicator's companions, and companions offered to the alert at most.
_RELATED_SIGNALS = 500
_RELATED_MAX = 50


def _candidates_of(row: Any) -> list[str]:
    found: list[str] = []
    if row["direction"] != schema.Direction.INTERNAL:
        ip = derive.public_ip(row["src_ip"])
        if ip:
            found.append(ip)
    if row["ioc"]:
        found.append(row["ioc"])
    details = row["details"] or {}
    sender = details.get("sender")
    if isinstance(sender, str):
        found.append(sender.lower()[:512])
        found.append(sender.lower().rpartition("@")[2][:255])
    for name in ("sha256", "sha1", "md5"):
        if isinstance(details.get(name), str):
            found.append(details[name].lower())
    for url in (details.get("urls") or [])[:10]:
        if isinstance(url, str):
            found.append(url[:512])
            domain = derive.domain_of(url)
            if domain:
                found.append(domain)
    for digest in (details.get("attachment_hashes") or [])[:10]:
        if isinstance(digest, str):
            found.append(digest.lower())
    return found


def related_indicators(finding: CorrelationFinding) -> list[str]:
    """The finding's indicator first, then the indicators that travelled with it in the same
    signals (the sender's domain, the message's URLs and attachments, the source address) —
    but only those that were themselves seen at ≥ N organizations in the window. One bank's
    signal can carry details of that bank alone (a URL with its customer's token); a sector-
    wide alert must carry only what the sector saw. Values an alert cannot hold (a URL without
    a scheme) are left out rather than failing the promotion."""
    from django.db.models import Count

    since = finding.last_seen - timedelta(hours=settings.AIPS_CORRELATION_WINDOW_HOURS)
    candidates: list[str] = []
    if finding.type == IndicatorType.URL:
        domain = derive.domain_of(finding.value)
        if domain:
            candidates.append(domain)
    elif finding.type == IndicatorType.EMAIL:
        candidates.append(finding.value.rpartition("@")[2])
    matching = Signal.objects.filter(observed_at__gte=since)
    if finding.type == IndicatorType.IP:
        matching = matching.filter(src_ip=finding.value)
    elif finding.type in (IndicatorType.HASH, IndicatorType.EMAIL):
        matching = matching.filter(ioc=finding.value)
    else:
        matching = matching.none()
    recent = matching.order_by("-observed_at").values("src_ip", "direction", "ioc", "details")
    for row in recent[:_RELATED_SIGNALS]:
        candidates.extend(_candidates_of(row))
    wanted = [c for c in dict.fromkeys(candidates) if c and c != finding.value][:500]
    shared = set(
        IndicatorSighting.objects.filter(value__in=wanted, last_seen__gte=since)
        .values("value")
        .annotate(orgs=Count("organization_id", distinct=True))
        .filter(orgs__gte=settings.AIPS_CORRELATION_MIN_ORGS)
        .values_list("value", flat=True)
    )
    out: list[str] = []
    for value in [finding.value, *(c for c in wanted if c in shared)]:
        try:
            normal = normalize_indicator(value)["value"]
        except ValueError:
            continue
        if normal not in out:
            out.append(normal)
    return out[: _RELATED_MAX + 1]


def _alert_indicators(finding: CorrelationFinding) -> list[str]:
    """The lead indicator, the rest of the finding's group, then the related ones the sector
    saw with the lead; those an alert cannot hold are left out."""
    out = related_indicators(finding)
    group = [finding.value, *finding.indicators.values_list("value", flat=True)]
    for value in group:
        try:
            normal = normalize_indicator(value)["value"]
        except ValueError:
            continue
        if normal not in out:
            out.append(normal)
    lead = out[:1]
    rest = sorted(out[1:], key=lambda v: v not in group)
    return (lead + rest)[: _RELATED_MAX + 1]


@transaction.atomic
def finding_promote(*, actor: User, finding: CorrelationFinding) -> Any:
    """Turn a finding into the center's draft threat alert carrying its indicator and the
    related ones, in one action (R67.8, R67.10); the analyst completes and publishes it."""
    ensure_perm(actor, Perm.CORRELATION_PROMOTE)
    if not actor.is_center:
        # A draft alert belongs to the author's organization: only a person of the center can
        # own the sector-wide one.
        raise Forbidden()
    locked = _locked_open(finding)
    alert = alert_services.alert_draft_from_correlation(
        actor=actor,
        indicator_type=locked.type,
        indicator=locked.value,
        organization_count=locked.organization_count,
        first_seen=locked.first_seen,
        last_seen=locked.last_seen,
        indicators=_alert_indicators(locked),
    )
    locked.state = FindingState.PROMOTED
    locked.alert = alert
    locked.decided_by = actor
    locked.save(update_fields=["state", "alert", "decided_by", "updated_at"])
    record(
        actor=actor,
        event=EventType.CORRELATION_PROMOTED,
        target=locked,
        details={"alert": alert.pk, "indicators": len(alert.indicators)},
    )
    return alert


@transaction.atomic
def finding_link(*, actor: User, finding: CorrelationFinding, alert: Alert | None) -> None:
    """Decide a finding by pointing it at an alert that already holds its indicators, instead
    of drafting a duplicate. The alert must be one the center sees and must hold at least one
    of the finding's indicators."""
    ensure_perm(actor, Perm.CORRELATION_PROMOTE)
    if not actor.is_center:
        raise Forbidden()
    locked = _locked_open(finding)
    if alert is None or alert.pk not in {a.pk for a in selectors.alerts_holding(actor, locked)}:
        message = _("Choose an alert that holds this finding's indicators.")
        raise ValidationFailed(message, fields={"alert": [message]})
    locked.state = FindingState.LINKED
    locked.alert = alert
    locked.decided_by = actor
    locked.save(update_fields=["state", "alert", "decided_by", "updated_at"])
    record(
        actor=actor,
        event=EventType.CORRELATION_LINKED,
        target=locked,
        details={"alert": alert.pk, "reference": alert.reference},
    )


@transaction.atomic
def finding_dismiss(*, actor: Actor, finding: CorrelationFinding, reason: str = "") -> None:
    """Close a finding without an alert (a CDN address, a scanner everyone sees); the reason is
    kept in the audit journal."""
    ensure_perm(actor, Perm.CORRELATION_PROMOTE)
    if not actor.is_center:
        raise Forbidden()
    locked = _locked_open(finding)
    locked.state = FindingState.DISMISSED
    # The system (no account) dismisses without a name; the journal still says who it was.
    locked.decided_by_id = actor.pk
    locked.save(update_fields=["state", "decided_by", "updated_at"])
    record(
        actor=actor,
        event=EventType.CORRELATION_DISMISSED,
        target=locked,
        details={"reason": reason.strip()[:500]},
    )


__all__ = [
    "Signal",
    "correlate",
    "finding_dismiss",
    "finding_link",
    "finding_promote",
    "signals_ingest",
]
