"""Monthly partitions of the signal table on PostgreSQL (R57.17: 3 months online, then archived).

The worker keeps partitions ready two months ahead; signals outside every monthly partition
(old, or in a frozen-time test) land in the default partition, so an insert never fails for
want of one."""

from datetime import date

from django.db import connection

TABLE = "signals_signal"
AHEAD_MONTHS = 2

# Built from Django's own DDL for the model (sqlmigrate), changed only where partitioning needs:
# no single-column primary key (the key must include observed_at) and no foreign keys, whose
# per-row checks would cost more than the insert itself; organizations and modules are never
# deleted (PROTECT everywhere else).
_PARTITIONED_DDL = """
CREATE SEQUENCE IF NOT EXISTS {TABLE}_seq_seq AS bigint;
CREATE TABLE {TABLE} (
    "seq" bigint NOT NULL DEFAULT nextval('{TABLE}_seq_seq'),
    "signal_id" uuid NOT NULL,
    "kind" varchar(16) NOT NULL,
    "observed_at" timestamp with time zone NOT NULL,
    "received_at" timestamp with time zone NOT NULL,
    "severity" smallint NOT NULL CHECK ("severity" >= 0),
    "product" varchar(128) NOT NULL,
    "vendor" varchar(128) NOT NULL,
    "product_version" varchar(128) NOT NULL,
    "sensor" varchar(128) NOT NULL,
    "rule_id" varchar(128) NOT NULL,
    "rule_name" varchar(512) NOT NULL,
    "src_ip" inet NULL,
    "src_port" integer NULL CHECK ("src_port" >= 0),
    "dst_ip" inet NULL,
    "dst_port" integer NULL CHECK ("dst_port" >= 0),
    "protocol" varchar(16) NOT NULL,
    "direction" varchar(8) NOT NULL,
    "count" integer NOT NULL CHECK ("count" >= 0),
    "first_seen" timestamp with time zone NULL,
    "last_seen" timestamp with time zone NULL,
    "ioc" varchar(512) NOT NULL,
    "details" jsonb NOT NULL,
    "module_id" bigint NOT NULL,
    "organization_id" bigint NOT NULL,
    PRIMARY KEY ("seq", "observed_at"),
    CONSTRAINT "signal_idempotency" UNIQUE ("organization_id", "signal_id", "observed_at")
) PARTITION BY RANGE ("observed_at");
ALTER SEQUENCE {TABLE}_seq_seq OWNED BY {TABLE}."seq";
CREATE INDEX "signal_org_feed" ON {TABLE} ("organization_id", "observed_at" DESC, "seq" DESC);
CREATE INDEX "signal_feed" ON {TABLE} ("observed_at" DESC, "seq" DESC);
CREATE INDEX "signal_src_ip" ON {TABLE} ("src_ip", "observed_at" DESC);
CREATE INDEX "signal_ioc" ON {TABLE} ("ioc", "observed_at" DESC);
CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT;
-- Sightings and rollups are counters updated in place by every batch: room on each page lets
-- PostgreSQL update them as heap-only tuples.
ALTER TABLE signals_indicatorsighting SET (fillfactor = 70);
ALTER TABLE signals_signalrollup SET (fillfactor = 70);
"""
CREATE_PARTITIONED = _PARTITIONED_DDL.replace("{TABLE}", TABLE)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def existing_partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        return {row[0] for row in cursor.fetchall()}


def ensure_partitions(today: date, *, behind: int = 3, ahead: int = AHEAD_MONTHS) -> list[str]:
    """Create the monthly partitions from `behind` months ago to `ahead` months on; returns
    the names created. Does nothing on other databases."""
    if connection.vendor != "postgresql":
        return []
    have = existing_partitions()
    created = []
    first = add_months(month_start(today), -behind)
    for offset in range(behind + ahead + 1):
        start = add_months(first, offset)
        name = partition_name(start)
        if name in have:
            continue
        end = add_months(start, 1)
        with connection.cursor() as cursor:
            # Names and bounds come from dates formatted here, never from input.
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {TABLE} "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        created.append(name)
    return created
