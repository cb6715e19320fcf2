"""Database guards for the journal: UPDATE and DELETE refused by triggers on SQLite and
PostgreSQL, so even code (or a person) with the application's credentials cannot rewrite
history. Entry content may be deleted only once it is sealed in an archive segment."""

from typing import Any

from aips.core import append_only

APPEND_ONLY = ["audit_auditentry", "audit_auditcheckpoint", "audit_auditsegment"]
CONTENT = "audit_auditevent"
HEAD = "audit_audithead"
ARCHIVED = (
    "EXISTS (SELECT 1 FROM audit_auditsegment s WHERE {old}.seq BETWEEN s.first_seq AND s.last_seq)"
)


def guard_statements(vendor: str) -> list[str]:
    message = "audit journal is append-only"
    statements: list[str] = []
    for table in APPEND_ONLY:
        statements += append_only.refuse(vendor, table, "UPDATE", message)
        statements += append_only.refuse(vendor, table, "DELETE", message)
    statements += append_only.refuse(vendor, CONTENT, "UPDATE", message)
    statements += append_only.refuse(vendor, CONTENT, "DELETE", message, ARCHIVED.format(old="OLD"))
    return statements


def unguard_statements(vendor: str) -> list[str]:
    return [s for table in [*APPEND_ONLY, CONTENT] for s in append_only.allow(vendor, table)]


def install_guards(connection: Any) -> None:
    append_only.run(connection, guard_statements(connection.vendor))


def remove_guards(connection: Any) -> None:
    append_only.run(connection, unguard_statements(connection.vendor))


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
