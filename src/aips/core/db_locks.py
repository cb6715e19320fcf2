"""Cluster-wide locks for jobs that must not run twice at once (the worker, archivers)."""

import hashlib

from django.db import connection


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_try_advisory_xact_lock."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def try_xact_lock(name: str) -> bool:
    """Take a cluster-wide lock until the current transaction ends; False if someone holds it.

    PostgreSQL: a transaction-scoped advisory lock, released by COMMIT or ROLLBACK, also when the
    process dies. SQLite: nothing to do: settings open every transaction with BEGIN IMMEDIATE,
    which takes the database's single write lock, so transactions already run one at a time."""
    if not connection.in_atomic_block:
        raise RuntimeError("try_xact_lock must run inside a transaction")
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key(name)])
        row = cursor.fetchone()
    return bool(row and row[0])
