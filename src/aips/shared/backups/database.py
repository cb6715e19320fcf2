"""The database's part of a backup: a dump taken from one consistent snapshot together with each
table's row count, the emptiness check before a restore, and the restore itself.

PostgreSQL: a REPEATABLE READ transaction exports its snapshot, counts the rows in it and keeps
it open while `pg_dump --format=custom --snapshot=…` (the client binaries on PATH) dumps exactly
that state, so the counts in the manifest describe the dump. Reading needs no more than the
application role's rights (SELECT on every table). Restore: `pg_restore --no-owner --no-acl
--single-transaction --exit-on-error`, connected as the role that is to own the objects; the
grants come afterwards from `aips db grants` (docs/deployment.md, "PostgreSQL roles").

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the live database in one step,
a consistent snapshot; the counts are read from the copy. A database is described by a settings
dict in Django's shape (`DATABASES["default"]`, or `dj_database_url.parse` of a URL)."""

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.db import connection as default_connection

from aips.shared.backups.crypto import BackupError

DbSettings = Mapping[str, Any]

_PG_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "options": "PGOPTIONS",
}


def engine(db: DbSettings) -> str:
    name = str(db["ENGINE"])
    if "postgresql" in name:
        return "postgresql"
    if "sqlite" in name:
        return "sqlite"
    raise BackupError(f"backups support PostgreSQL and SQLite, not {name}")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_environment(db: DbSettings) -> dict[str, str]:
    """The libpq variables for pg_dump / pg_restore: the password travels in the environment,
    never in the argument list (visible to every user in `ps`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {
        "PGDATABASE": db.get("NAME"),
        "PGUSER": db.get("USER"),
        "PGPASSWORD": db.get("PASSWORD"),
        "PGHOST": db.get("HOST"),
        "PGPORT": db.get("PORT"),
    }
    options = db.get("OPTIONS") or {}
    values.update({var: options.get(key) for key, var in _PG_OPTIONS.items()})
    env.update({k: str(v) for k, v in values.items() if v})
    return env


def pg_connect(db: DbSettings, **kwargs: Any) -> Any:
    import psycopg

    params = {
        "dbname": db.get("NAME"),
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": str(db["PORT"]) if db.get("PORT") else None,
    }
    options = db.get("OPTIONS") or {}
    params.update({key: options.get(key) for key in _PG_OPTIONS})
    conninfo = psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v})
    return psycopg.connect(conninfo, **kwargs)


def _pg_tables(cursor: Any) -> list[str]:
    # Partitions are counted through their parent (their rows are the parent's).
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition ORDER BY c.relname"
    )
    return [row[0] for row in cursor.fetchall()]


def _pg_counts(cursor: Any) -> dict[str, int]:
    counts = {}
    for table in _pg_tables(cursor):
        cursor.execute(f"SELECT count(*) FROM {_ident(table)}")  # noqa: S608 -- a catalog name
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not on PATH (Debian: apt install postgresql-client)")
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _dump_postgresql(db: DbSettings, out: Path) -> dict[str, int]:
    import psycopg

    with pg_connect(db) as conn:
        # Set before the first statement: psycopg opens the transaction with them.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with conn.cursor() as cursor:
            counts = _pg_counts(cursor)
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                f"--file={out}",
            ],
            pg_environment(db),
        )
        conn.rollback()
    return counts


def _pg_table_count(db: DbSettings) -> int:
    with pg_connect(db) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        ).fetchone()
    return int(row[0])


def clear_postgresql(db: DbSettings) -> None:
    """Empty a scratch database: its schema dropped and made again, owned by the connecting role
    (the owner of the database; PostgreSQL 15 gives `public` to the database's owner)."""
    with pg_connect(db, autocommit=True) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()[0] or "public"
        conn.execute(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE")
        conn.execute(f"CREATE SCHEMA {_ident(schema)}")


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
    ).fetchall()
    return [row[0] for row in rows]


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        table: int(conn.execute(f"SELECT count(*) FROM {_ident(table)}").fetchone()[0])  # noqa: S608
        for table in _sqlite_tables(conn)
    }


def _dump_sqlite(db: DbSettings, out: Path) -> dict[str, int]:
    """From Django's own connection when it is the live database (an in-memory test database is
    reachable only through it), outside any transaction: the backup API cannot copy a database
    its own connection is writing."""
    if db is default_connection.settings_dict:
        if default_connection.in_atomic_block:
            raise BackupError("an SQLite backup cannot run inside a transaction")
        default_connection.ensure_connection()
        source = default_connection.connection
        close = False
    else:
        source = sqlite3.connect(str(db["NAME"]))
        close = True
    target = sqlite3.connect(out)
    try:
        source.backup(target)
        return _sqlite_counts(target)
    finally:
        target.close()
        if close:
            source.close()


def _sqlite_path(db: DbSettings) -> Path:
    name = str(db["NAME"])
    if name.startswith("file:") or name == ":memory:":
        raise BackupError(f"cannot restore into an in-memory database ({name})")
    return Path(name)


# --- Both ---------------------------------------------------------------------------------


def dump(db: DbSettings, out: Path) -> tuple[dict[str, int], str]:
    """Write the database to `out`; returns the row count of every table and the format."""
    if engine(db) == "postgresql":
        return _dump_postgresql(db, out), "pg_dump-custom"
    return _dump_sqlite(db, out), "sqlite"


def table_count(db: DbSettings) -> int:
    """How many tables the database has (0 = empty; a restore goes only there)."""
    if engine(db) == "postgresql":
        return _pg_table_count(db)
    if db is default_connection.settings_dict:  # the live one may be in memory (tests)
        return len(default_connection.introspection.table_names())
    path = _sqlite_path(db)
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        return len(_sqlite_tables(conn))


def restore(db: DbSettings, dumped: Path, fmt: str) -> None:
    """Load a dump into an empty database (the caller checked it is empty)."""
    kind = engine(db)
    if (kind, fmt) not in {("postgresql", "pg_dump-custom"), ("sqlite", "sqlite")}:
        raise BackupError(f"a {fmt} dump cannot be restored into {kind}")
    if kind == "postgresql":
        _run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--no-acl",
                "--single-transaction",
                "--exit-on-error",
                "--no-password",
                f"--dbname={db.get('NAME')}",
                str(dumped),
            ],
            pg_environment(db),
        )
        return
    path = _sqlite_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dumped)
    target = sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def counts(db: DbSettings) -> dict[str, int]:
    """Every table's row count, as the manifest records them."""
    if engine(db) == "postgresql":
        with pg_connect(db) as conn, conn.cursor() as cursor:
            return _pg_counts(cursor)
    if db is default_connection.settings_dict:
        default_connection.ensure_connection()
        return _sqlite_counts(default_connection.connection)
    with sqlite3.connect(_sqlite_path(db)) as conn:
        return _sqlite_counts(conn)
