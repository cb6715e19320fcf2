"""Sightings and hourly rollups derived from committed signals by the worker (R67.8), off the
ingest path (decision 0051).

The server process only stores signals; the worker's `signal_counts` job reads the signals above
a stored position (`DerivePosition`, by `seq`), counts them with one grouped read per table (on
PostgreSQL the public IPv4 sources are grouped inside the sightings' upsert instead), and
writes one set-based upsert per table and the new position in one transaction (on SQLite the
reads come just before it, outside the write lock). A crash before the commit leaves the
position where it was and the counts untouched, so the next pass counts the same signals again:
each is counted exactly once. Several workers take turns on the position's row (PostgreSQL:
its row lock; SQLite: a pass writes nothing if the position moved since it read it).

The position may only pass a `seq` once no insert can still commit below it:
- PostgreSQL hands out `seq` from a sequence before the inserting statement commits, so a
  smaller `seq` can become visible after a larger one. The pass first takes `SHARE` on the
  partitioned parent (`LOCK TABLE ONLY`), which waits for the inserts under way (each holds
  `ROW EXCLUSIVE` on it) and reads the sequence; every `seq` up to that value is then committed
  or gone for good (a rolled-back insert, or a re-sent signal that `ON CONFLICT` skipped). The
  lock is held for one `SELECT` and released; partitions are not locked, so autovacuum never
  holds a pass (or the inserts queued behind it) up.
- SQLite has one writer at a time and `AUTOINCREMENT`, so the rows a read transaction sees are
  exactly those with `seq` up to the largest it sees.

Duplicates and rejected items leave no signal row; the ingest answer writes their counts itself,
only when there are any (services.signals_ingest)."""

import functools
import ipaddress
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from aips.center.signals.models import (
    DerivePosition,
    IndicatorSighting,
    IndicatorType,
    Signal,
    SignalRollup,
)

_json = msgspec.json.Encoder()

POSITION = "counts"
# Signals counted per transaction: a pass holds the position's row lock, and a smaller pass keeps
# its transaction (and what a crash would redo) short.
CHUNK = 50_000
# SQLite's upserts hold the database's one write lock, which ingest waits for.
SQLITE_CHUNK = 10_000
_TABLE = Signal._meta.db_table
_LOCK = f"LOCK TABLE ONLY {_TABLE} IN SHARE MODE"
_SEQUENCE = f"SELECT last_value, is_called FROM {_TABLE}_seq_seq"  # noqa: S608 - constant names
_NEWEST = f"SELECT COALESCE(MAX(seq), 0) FROM {_TABLE}"  # noqa: S608 - constant names


@dataclass(frozen=True)
class DerivePass:
    counted: int  # signals counted in this pass
    position: int  # the position after it
    behind: bool  # more was committed than one pass takes


# --- indicators -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def public_ip(value: str | None) -> str | None:
    # Attackers' addresses repeat a lot, and is_global walks a dozen networks: worth caching.
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return str(address) if address.is_global else None


def domain_of(url: str) -> str | None:
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:
        return None
    return host.lower().rstrip(".")[:255] if host else None


def indicators(
    *, kind: str, src_ip: str | None, ioc: str, urls: list[str], attachment_hashes: list[str]
) -> list[tuple[str, str]]:
    """The indicators a stored signal carries that other organizations might see too (R67.8):
    its source address if public (`src_ip` is None for internal traffic), the file hash or the
    phishing sender in `ioc` (services._ioc), the sender's domain, and a message's URLs, their
    domains and its attachments' hashes."""
    found: list[tuple[str, str]] = []
    ip = public_ip(src_ip)
    if ip:
        found.append((IndicatorType.IP, ip))
    if kind in ("malware", "endpoint"):
        if ioc:
            found.append((IndicatorType.HASH, ioc))
    elif kind == "phishing" and ioc:
        found.append((IndicatorType.EMAIL, ioc))
        found.append((IndicatorType.DOMAIN, ioc.rpartition("@")[2][:255]))
        for url in urls[:10]:
            found.append((IndicatorType.URL, url[:512]))
            domain = domain_of(url)
            if domain:
                found.append((IndicatorType.DOMAIN, domain))
        for digest in attachment_hashes[:10]:
            found.append((IndicatorType.HASH, digest.lower()))
    # Once each: a message from a domain that links to the same domain is one signal with it,
    # and the sightings' count is what the explorer's filter must find.
    return list(dict.fromkeys(found))


# --- writing counts ---------------------------------------------------------------------------


def _json_rows(sql_types: tuple[str, ...]) -> str:
    """SELECT of one JSON array of rows (each itself an array) as typed columns. The rows are
    encoded by msgspec and parsed by the database, both in C; psycopg's Python array dumper
    cost more than the upsert itself."""
    columns = ", ".join(f"(r->>{i})::{t}" for i, t in enumerate(sql_types))
    return f"SELECT {columns} FROM jsonb_array_elements(%s::jsonb) AS r "  # noqa: S608


_SIGHTINGS = IndicatorSighting._meta.db_table
_SIGHTING_CONFLICT = (
    "ON CONFLICT (type, value, organization_id) DO UPDATE "
    f"SET count = {_SIGHTINGS}.count + excluded.count, "
    f"first_seen = CASE WHEN excluded.first_seen < {_SIGHTINGS}.first_seen "
    f"THEN excluded.first_seen ELSE {_SIGHTINGS}.first_seen END, "
    f"last_seen = CASE WHEN excluded.last_seen > {_SIGHTINGS}.last_seen "
    f"THEN excluded.last_seen ELSE {_SIGHTINGS}.last_seen END"
)


def _upsert_sightings(
    sightings: dict[tuple[str, str, int], list[Any]], ipv4: tuple[int, int] | None = None
) -> None:
    """One upsert: the sightings found in Python and, on PostgreSQL with `ipv4` (a `seq` range),
    the public IPv4 sources of those signals grouped by the database itself (_IPV4_SIGHTINGS_PG;
    their keys, type 'ip' with a dotted address, are never among the first)."""
    if not sightings and ipv4 is None:
        return
    table = _SIGHTINGS
    conflict = _SIGHTING_CONFLICT
    # Sorted, so concurrent flushes lock rows in one order (no deadlock).
    keys = sorted(sightings)
    insert = f"INSERT INTO {table} (type, value, organization_id, count, first_seen, last_seen) "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            select = _json_rows(("text", "text", "bigint", "bigint", "timestamptz", "timestamptz"))
            params: list[Any] = [_json.encode([(*k, *sightings[k]) for k in keys]).decode()]
            if ipv4 is not None:
                select = f"{_IPV4_SIGHTINGS_PG} UNION ALL {select}"
                params = [*ipv4, *_NOT_GLOBAL, *params]
            cursor.execute(insert + select + "ORDER BY 1, 2, 3 " + conflict, params)
        else:
            cursor.executemany(
                insert + "VALUES (%s, %s, %s, %s, %s, %s) " + conflict,
                [(*k, *sightings[k]) for k in keys],
            )


def _upsert_rollups(rollups: dict[tuple[datetime, int, int, str], list[int]]) -> None:
    if not rollups:
        return
    table = SignalRollup._meta.db_table
    insert = (
        f"INSERT INTO {table} (bucket, organization_id, module_id, kind, accepted, duplicates, "
        "rejected) "
    )
    conflict = (
        "ON CONFLICT (bucket, organization_id, module_id, kind) DO UPDATE SET "
        f"accepted = {table}.accepted + excluded.accepted, "
        f"duplicates = {table}.duplicates + excluded.duplicates, "
        f"rejected = {table}.rejected + excluded.rejected"
    )
    keys = sorted(rollups)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            select = _json_rows(
                ("timestamptz", "bigint", "bigint", "text", "bigint", "bigint", "bigint")
            )
            cursor.execute(
                insert + select + "ORDER BY 1, 2, 3, 4 " + conflict,
                [_json.encode([(*k, *rollups[k]) for k in keys]).decode()],
            )
        else:
            cursor.executemany(
                insert + "VALUES (%s, %s, %s, %s, %s, %s, %s) " + conflict,
                [(*k, *rollups[k]) for k in keys],
            )


def counts_write(
    *,
    sightings: dict[tuple[str, str, int], list[Any]],
    rollups: dict[tuple[datetime, int, int, str], list[int]],
    ipv4: tuple[int, int] | None = None,
) -> None:
    """Add to the sightings and rollups: one upsert per table, keys sorted so that concurrent
    writers lock rows in one order. `ipv4`: the `seq` range whose public IPv4 sources the
    database groups itself (PostgreSQL)."""
    _upsert_sightings(sightings, ipv4)
    _upsert_rollups(rollups)


# --- the worker's pass -----------------------------------------------------------------------


def _horizon_postgres() -> int:
    """The largest `seq` no insert under way can still commit below."""
    with transaction.atomic(), connection.cursor() as cursor:
        # A pass that cannot get the lock quickly (a long migration) waits for the next run,
        # rather than holding the inserts that queue behind its request.
        cursor.execute("SET LOCAL lock_timeout = '2s'")
        cursor.execute(_LOCK)
        cursor.execute(_SEQUENCE)
        last, called = cursor.fetchone()
    return int(last) if called else 0


def _parse_sqlite_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _rollups(low: int, high: int) -> dict[tuple[datetime, int, int, str], list[int]]:
    if connection.vendor == "postgresql":
        hour = "date_trunc('hour', received_at, 'UTC')"
    else:
        hour = "substr(received_at, 1, 13)"  # 'YYYY-MM-DD HH' of the stored UTC time
    sql = (
        f"SELECT {hour}, organization_id, module_id, kind, count(*) FROM {_TABLE} "  # noqa: S608
        "WHERE seq > %s AND seq <= %s GROUP BY 1, 2, 3, 4"
    )
    found: dict[tuple[datetime, int, int, str], list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [low, high])
        for bucket, org, module, kind, n in cursor.fetchall():
            if isinstance(bucket, str):
                bucket = _parse_sqlite_time(bucket + ":00:00")
            found[(bucket.astimezone(UTC), org, module, kind)] = [n, 0, 0]
    return found


# Only rows that can carry an indicator (indicators above): an external source address, a
# file hash, a phishing message. Grouped before Python sees them: attackers' addresses repeat.
# On PostgreSQL the times come back as fixed-width UTC text, which orders as the times do and goes
# back into the upsert's JSON as it is: turning 40,000 timestamps a pass into datetimes (Django's
# loader is Python) took a third of the pass.
_UTC_TEXT = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''
_SIGHTINGS_PG = (
    "SELECT organization_id, kind, CASE WHEN family(src_ip) = 6 THEN host(src_ip) END, "  # noqa: S608
    "direction = 'internal', ioc, "
    "CASE WHEN kind = 'phishing' THEN details->'urls' END, "
    "CASE WHEN kind = 'phishing' THEN details->'attachment_hashes' END, "
    f"sum(count), to_char(min(observed_at) AT TIME ZONE 'UTC', {_UTC_TEXT}), "
    f"to_char(max(observed_at) AT TIME ZONE 'UTC', {_UTC_TEXT}) "
    f"FROM {_TABLE} WHERE seq > %s AND seq <= %s "
    "AND ((src_ip IS NOT NULL AND direction <> 'internal' AND family(src_ip) = 6) OR ioc <> '') "
    "GROUP BY 1, 2, 3, 4, 5, 6, 7"
)


def _ipv4_not_global() -> tuple[list[str], list[str]]:
    """Python's own rule for a non-global IPv4 address (`IPv4Address.is_global`, which
    `public_ip` applies), as networks for SQL: in one of the private networks and in none of
    their exceptions (Python 3.11.10 and later make two addresses of 192.0.0.0/29 global), or in
    the shared 100.64.0.0/10. Read from the running Python, so both databases keep its rule;
    `test_r67_8_the_database_tells_public_ipv4_addresses_as_python_does` holds them together."""
    constants = ipaddress.IPv4Address._constants  # type: ignore[attr-defined]
    private = [str(n) for n in constants._private_networks]
    exceptions = [str(n) for n in getattr(constants, "_private_networks_exceptions", [])]
    return [*private, "100.64.0.0/10"], exceptions


_V4_NOT_GLOBAL = (
    "(src_ip <<= ANY(%s::inet[]) AND NOT src_ip <<= ANY(%s::inet[]) "
    "OR src_ip <<= '100.64.0.0/10'::inet)"
)
# The public source addresses of IPv4 signals, grouped by the database itself and added to the
# sightings in the same upsert as the rest (_upsert_sightings): nothing of them read into Python.
# They are most of the sightings (an attacker's address on every kind of signal), and turning
# each into JSON for the upsert and back cost the worker more than the upsert. IPv6 sources go
# the Python way (_SIGHTINGS_PG).
_IPV4_SIGHTINGS_PG = (
    "SELECT 'ip'::text, host(src_ip), organization_id, sum(count), "  # noqa: S608
    "min(observed_at), max(observed_at) "
    f"FROM {_TABLE} WHERE seq > %s AND seq <= %s AND family(src_ip) = 4 "
    f"AND direction <> 'internal' AND NOT {_V4_NOT_GLOBAL} "
    "GROUP BY 2, 3"
)
_NOT_GLOBAL = _ipv4_not_global()


_SIGHTINGS_SQLITE = (
    "SELECT organization_id, kind, src_ip, direction = 'internal', ioc, "  # noqa: S608
    "CASE WHEN kind = 'phishing' THEN json_extract(details, '$.urls') END, "
    "CASE WHEN kind = 'phishing' THEN json_extract(details, '$.attachment_hashes') END, "
    "sum(count), min(observed_at), max(observed_at) "
    f"FROM {_TABLE} WHERE seq > %s AND seq <= %s "
    "AND ((src_ip IS NOT NULL AND direction <> 'internal') OR ioc <> '') "
    "GROUP BY 1, 2, 3, 4, 5, 6, 7"
)


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # SQLite hands JSON back as text
        value = json.loads(value)
    return [str(v) for v in value] if isinstance(value, list) else []


def _sightings(low: int, high: int) -> dict[tuple[str, str, int], list[Any]]:
    sql = _SIGHTINGS_PG if connection.vendor == "postgresql" else _SIGHTINGS_SQLITE
    found: dict[tuple[str, str, int], list[Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [low, high])
        rows = cursor.fetchall()
    sqlite = connection.vendor != "postgresql"
    for org, kind, ip, internal, ioc, urls, hashes, n, first, last in rows:
        if sqlite:
            first, last = _parse_sqlite_time(first), _parse_sqlite_time(last)
        found_in = indicators(
            kind=kind,
            src_ip=None if internal else ip,
            ioc=ioc,
            urls=_listed(urls),
            attachment_hashes=_listed(hashes),
        )
        for type_, value in found_in:
            seen = found.get((type_, value, org))
            if seen is None:
                found[(type_, value, org)] = [int(n), first, last]
            else:
                seen[0] += int(n)
                seen[1] = min(seen[1], first)
                seen[2] = max(seen[2], last)
    return found


def counts_derive(*, chunk: int = CHUNK, safe_horizon: bool = True) -> DerivePass:
    """Count the signals above the stored position, up to `chunk` of them, exactly once.

    `safe_horizon=False` is for the tests' inline mode only (AIPS_SIGNAL_DERIVE_INLINE): one
    connection, nothing else inserting, so the sequence is read without the lock."""
    if connection.vendor == "postgresql":
        return _derive_postgres(chunk=chunk, safe_horizon=safe_horizon)
    return _derive_sqlite(chunk=min(chunk, SQLITE_CHUNK))


def _derive_postgres(*, chunk: int, safe_horizon: bool) -> DerivePass:
    horizon = _horizon_postgres() if safe_horizon else None
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT seq FROM signals_deriveposition WHERE name = %s FOR UPDATE SKIP LOCKED",
                [POSITION],
            )
            row = cursor.fetchone()
            if row is None:  # another worker's pass holds it (or a flushed database lost it)
                return DerivePass(counted=0, position=0, behind=_ensure_position())
            (low,) = row
            if horizon is None:
                cursor.execute(_SEQUENCE)
                last, called = cursor.fetchone()
                horizon = int(last) if called else 0
        if horizon <= low:
            return DerivePass(counted=0, position=low, behind=False)
        # `seq` is dense but for gaps (re-sent signals, rolled-back inserts), so a range of
        # `chunk` numbers holds at most `chunk` signals.
        high = min(horizon, low + chunk)
        rollups = _rollups(low, high)
        counts_write(sightings=_sightings(low, high), rollups=rollups, ipv4=(low, high))
        DerivePosition.objects.filter(name=POSITION).update(seq=high, updated_at=timezone.now())
    counted = sum(counts[0] for counts in rollups.values())
    return DerivePass(counted=counted, position=high, behind=high < horizon)


def _ensure_position() -> bool:
    """The migration makes the row; an emptied database (`flush`) has none, and then counting
    starts from the first signal. True if it was made here."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO signals_deriveposition (name, seq, updated_at) VALUES (%s, 0, %s) "
            "ON CONFLICT (name) DO NOTHING",
            [POSITION, timezone.now()],
        )
        return bool(cursor.rowcount)


def _position() -> int:
    found = DerivePosition.objects.filter(name=POSITION).values_list("seq", flat=True).first()
    if found is None:
        _ensure_position()
        return 0
    return int(found)


def _derive_sqlite(*, chunk: int) -> DerivePass:
    """The reads run before the write lock is taken (every transaction here begins IMMEDIATE,
    and ingest waits for that lock); the lock is held for the upserts alone. Rows up to the
    largest `seq` seen are committed, and a later read sees them too."""
    low = _position()
    with connection.cursor() as cursor:
        cursor.execute(_NEWEST)
        (horizon,) = cursor.fetchone()
    if horizon <= low:
        return DerivePass(counted=0, position=low, behind=False)
    high = min(horizon, low + chunk)
    rollups = _rollups(low, high)
    sightings = _sightings(low, high)
    with transaction.atomic():
        if _position() != low:  # another worker counted these meanwhile; write nothing
            return DerivePass(counted=0, position=low, behind=True)
        counts_write(sightings=sightings, rollups=rollups)
        DerivePosition.objects.filter(name=POSITION).update(seq=high, updated_at=timezone.now())
    counted = sum(counts[0] for counts in rollups.values())
    return DerivePass(counted=counted, position=high, behind=high < horizon)


def counts_catch_up(*, seconds: float = 5.0) -> int:
    """Passes until the counts are current or `seconds` have gone by: the worker's job."""
    started = time.monotonic()
    counted = 0
    while True:
        done = counts_derive()
        counted += done.counted
        if not done.behind or time.monotonic() - started > seconds:
            return counted


def derive_inline() -> None:
    """The tests' mode: count right after each batch, so a test reads counts at once."""
    if settings.AIPS_SIGNAL_DERIVE_INLINE:
        while counts_derive(safe_horizon=False).behind:
            pass
