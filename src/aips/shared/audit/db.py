"""Database guards for the journal: UPDATE and DELETE refused by triggers on SQLite and
PostgreSQL, so even code (or a person) with the application's credentials cannot rewrite
history. Entry content may be deleted only once it is sealed in an archive segment."""

from typing import Any

APPEND_ONLY = ["audit_auditentry", "audit_auditcheckpoint", "audit_auditsegment"]
CONTENT = "audit_auditevent"
HEAD = "audit_audithead"
ARCHIVED = (
    "EXISTS (SELECT 1 FROM audit_auditsegment s WHERE {old}.seq BETWEEN s.first_seq AND s.last_seq)"
)


def _sqlite(table: str, action: str, condition: str = "") -> list[str]:
    name = f"{table}_no_{action.lower()}"
    when = f" WHEN NOT ({condition})" if condition else ""
    return [
        f"DROP TRIGGER IF EXISTS {name}",
        f"CREATE TRIGGER {name} BEFORE {action} ON {table}{when} "
        f"BEGIN SELECT RAISE(ABORT, 'audit journal is append-only: {action} refused'); END",
    ]


def _postgres(table: str, action: str, condition: str = "") -> list[str]:
    name = f"{table}_no_{action.lower()}"
    check = f"IF {condition} THEN RETURN OLD; END IF; " if condition else ""
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{check}RAISE EXCEPTION 'audit journal is append-only: {action} refused'; END $$",
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"CREATE TRIGGER {name} BEFORE {action} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def guard_statements(vendor: str) -> list[str]:
    make = _postgres if vendor == "postgresql" else _sqlite
    statements: list[str] = []
    for table in APPEND_ONLY:
        statements += make(table, "UPDATE") + make(table, "DELETE")
    statements += make(CONTENT, "UPDATE")
    statements += make(CONTENT, "DELETE", ARCHIVED.format(old="OLD"))
    return statements


def unguard_statements(vendor: str) -> list[str]:
    statements = []
    for table in [*APPEND_ONLY, CONTENT]:
        for action in ("update", "delete"):
            name = f"{table}_no_{action}"
            if vendor == "postgresql":
                statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            else:
                statements.append(f"DROP TRIGGER IF EXISTS {name}")
    return statements


def install_guards(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in guard_statements(connection.vendor):
            cursor.execute(statement)


def remove_guards(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in unguard_statements(connection.vendor):
            cursor.execute(statement)


def app_role_grants(app: str) -> list[str]:
    """The journal's part of `aips db grants` (aips.core.db_grants), registered by AuditConfig."""
    journal = ", ".join([CONTENT, *APPEND_ONLY, HEAD])
    return [
        "-- The audit journal (R57.17): append and read. No UPDATE, no TRUNCATE, no DELETE on the",
        "-- chain, the checkpoints or the segments.",
        f"REVOKE ALL ON {journal} FROM {app}",
        f"GRANT SELECT, INSERT ON {', '.join(APPEND_ONLY)} TO {app}",
        "-- DELETE only for the archiver, which removes content it has sealed; the trigger refuses",
        "-- any row outside a recorded archive segment.",
        f"GRANT SELECT, INSERT, DELETE ON {CONTENT} TO {app}",
        "-- The head row (last sequence number and chain hash) moves with every append.",
        f"GRANT SELECT, INSERT, UPDATE ON {HEAD} TO {app}",
    ]
