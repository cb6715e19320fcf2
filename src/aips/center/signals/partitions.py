"""Monthly partitions of the signal table on PostgreSQL (R57.17: 3 months online, then archived).

The worker keeps partitions ready two months ahead; signals outside every monthly partition
(old, or in a frozen-time test) land in the default partition, so an insert never fails for
want of one.

The application's role may not create tables (no CREATE on the schema, docs/deployment.md), and
only a table's owner may detach or drop it. So partitions are made and removed by two
SECURITY DEFINER functions that belong to the owner role (migration signals/0004), and the
application role may only EXECUTE them (`aips db grants`). See
docs/decisions/0001-postgresql-roles-and-partition-functions.md."""

from datetime import date

from django.db import connection

TABLE = "signals_signal"
AHEAD_MONTHS = 2
# The columns a signal is written with (the bulk insert) and read back with (the monthly
# archive, which adds "seq"): one list, so a new column cannot be stored but not archived.
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


CREATE_FUNCTION = "signals_month_partition_create"
DROP_FUNCTION = "signals_month_partition_drop"

# The month's first day is computed without time zones (date arithmetic), and the bounds are
# written as UTC instants, so the session's TimeZone and DateStyle cannot shift a partition.
# search_path is pinned: a SECURITY DEFINER function must not resolve names through a schema
# the caller controls (pg_temp last).
_FUNCTIONS_DDL = """
CREATE OR REPLACE FUNCTION {CREATE}(in_month date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $fn$
DECLARE
    month_start date := in_month - (extract(day FROM in_month)::int - 1);
    month_end date := (month_start + interval '1 month')::date;
    part text := '{TABLE}_p' || to_char(month_start, 'YYYYMM');
BEGIN
    IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = '{TABLE}'::regclass AND c.relname = part) THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF {TABLE} FOR VALUES FROM (%L) TO (%L)', part,
                   to_char(month_start, 'YYYY-MM-DD') || ' 00:00:00+00',
                   to_char(month_end, 'YYYY-MM-DD') || ' 00:00:00+00');
    RETURN true;
END $fn$;
CREATE OR REPLACE FUNCTION {DROP}(in_month date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $fn$
DECLARE
    month_start date := in_month - (extract(day FROM in_month)::int - 1);
    part text := '{TABLE}_p' || to_char(month_start, 'YYYYMM');
BEGIN
    -- Only a month the archive has recorded (in the caller's transaction) may leave.
    IF NOT EXISTS (SELECT 1 FROM signals_archivedmonth a WHERE a.month = month_start) THEN
        RAISE EXCEPTION 'signals of % are not archived; their partition stays', month_start;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                   WHERE i.inhparent = '{TABLE}'::regclass AND c.relname = part) THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE {TABLE} DETACH PARTITION %I', part);
    EXECUTE format('DROP TABLE %I', part);
    RETURN true;
END $fn$;
REVOKE ALL ON FUNCTION {CREATE}(date), {DROP}(date) FROM PUBLIC;
"""


def functions_ddl(schema: str) -> str:
    """The two partition functions, for the schema the signal table lives in."""
    return (
        _FUNCTIONS_DDL.replace("{TABLE}", TABLE)
        .replace("{CREATE}", CREATE_FUNCTION)
        .replace("{DROP}", DROP_FUNCTION)
        .replace("{SCHEMA}", schema)
    )


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
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {CREATE_FUNCTION}(%s)", [start])
            made = cursor.fetchone()
        if made and made[0]:
            created.append(name)
    return created


def drop_partition(month: date) -> bool:
    """Detach and drop the month's partition (PostgreSQL); False if it has none. The month must
    be recorded as archived in the caller's transaction: the function refuses otherwise."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {DROP_FUNCTION}(%s)", [month_start(month)])
        row = cursor.fetchone()
    return bool(row and row[0])


def app_role_grants(app: str) -> list[str]:
    """The partition functions' part of `aips db grants` (aips.core.db_grants), registered by
    SignalsConfig."""
    functions = f"{CREATE_FUNCTION}(date), {DROP_FUNCTION}(date)"
    return [
        "-- Monthly signal partitions: made and dropped by the owner's SECURITY DEFINER functions",
        "-- (migration signals/0004), the application may only call them.",
        f"REVOKE ALL ON FUNCTION {functions} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {functions} TO {app}",
    ]
