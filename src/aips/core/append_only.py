"""Append-only tables by database triggers, on SQLite and PostgreSQL alike: a row once written
cannot be updated or deleted by anyone holding the application's credentials (R57.17). Used by
the audit journal and the biometric check records; each names its tables and its message."""

from typing import Any


def refuse(vendor: str, table: str, action: str, message: str, condition: str = "") -> list[str]:
    """Statements installing a trigger that refuses `action` (UPDATE or DELETE) on `table`,
    unless `condition` (SQL over OLD) holds. Re-running them replaces the trigger."""
    name = f"{table}_no_{action.lower()}"
    text = f"{message}: {action} refused"
    if vendor == "postgresql":
        # A BEFORE trigger lets the row through by returning it: OLD for a DELETE, but NEW for
        # an UPDATE (returning OLD would silently write the old values back).
        row = "NEW" if action.upper() == "UPDATE" else "OLD"
        check = f"IF {condition} THEN RETURN {row}; END IF; " if condition else ""
        return [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{check}RAISE EXCEPTION '{text}'; END $$",
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} BEFORE {action} ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION {name}()",
        ]
    when = f" WHEN NOT ({condition})" if condition else ""
    return [
        f"DROP TRIGGER IF EXISTS {name}",
        f"CREATE TRIGGER {name} BEFORE {action} ON {table}{when} "
        f"BEGIN SELECT RAISE(ABORT, '{text}'); END",
    ]


def allow(vendor: str, table: str) -> list[str]:
    """Statements removing both of `table`'s guards (tests that empty the database, reversal)."""
    statements = []
    for action in ("update", "delete"):
        name = f"{table}_no_{action}"
        on = f" ON {table}" if vendor == "postgresql" else ""
        statements.append(f"DROP TRIGGER IF EXISTS {name}{on}")
    return statements


def run(connection: Any, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
