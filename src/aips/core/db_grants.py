"""The application role's rights on PostgreSQL: the one source for `aips db grants`, the
deployment guide and the PostgreSQL test run (which connects as the role these statements
make). See docs/deployment.md ("PostgreSQL roles") and
docs/decisions/0001-postgresql-roles-and-partition-functions.md.

Run as the owner role (it owns the database, the schema's objects and the tables), after every
`aips migrate`. Idempotent: every statement can be repeated."""

import re
from collections.abc import Callable
from typing import Any

# An app's own part: given the application role (quoted), statements that narrow the general
# grants for its tables or grant what they leave out. Apps register it from AppConfig.ready()
# (audit: the journal; signals: the partition functions), so core names no app above it.
GrantPart = Callable[[str], list[str]]
_PARTS: dict[str, GrantPart] = {}


def register_grants(name: str, part: GrantPart) -> None:
    """Idempotent: registering a name again replaces its part and keeps its place."""
    _PARTS[name] = part


_ROLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class GrantError(Exception):
    """The setup would not give the documented separation (wrong role, missing role)."""


def valid_role(name: str) -> bool:
    return bool(_ROLE.fullmatch(name))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def statements(*, app_role: str, owner_role: str, database: str, schema: str) -> list[str]:
    """The SQL, in order. Later statements narrow earlier ones (the journal after all tables)."""
    for role in (app_role, owner_role):
        if not valid_role(role):
            raise GrantError(f"not a plain role name: {role!r}")
    app, owner, db, ns = _ident(app_role), _ident(owner_role), _ident(database), _ident(schema)
    general = [
        "-- Only the owner creates objects; the application connects and uses temporary tables",
        "-- (ingest stages each batch in one).",
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {app}",
        f"REVOKE CREATE ON SCHEMA {ns} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {ns} TO {app}",
        "-- Ordinary tables: read and write, never TRUNCATE.",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {ns} TO {app}",
        "-- Sequences: signals_signal_seq_seq is a plain sequence (the partitioned signal table",
        "-- cannot use an identity column), and INSERT alone does not cover nextval().",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {ns} TO {app}",
        "-- The same for what the owner creates later: new monthly partitions, new tables of a",
        "-- migration (until this command runs again and narrows the journal's).",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {ns} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {ns} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ]
    # Registered parts run after the general grants, which they narrow.
    return general + [statement for part in _PARTS.values() for statement in part(app)]


def script(statements_: list[str]) -> str:
    """As a psql script (comments kept, one statement a line)."""
    return "\n".join(s if s.startswith("--") else f"{s};" for s in statements_) + "\n"


def prepare(connection: Any, *, app_role: str) -> list[str]:
    """Check the roles against the database and return the statements for it."""
    if connection.vendor != "postgresql":
        raise GrantError("roles and grants exist only on PostgreSQL")
    if not valid_role(app_role):
        raise GrantError(f"not a plain role name: {app_role!r}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, current_database(), current_schema(), "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = %s), "
            "(SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass(%s))",
            [app_role, "django_migrations"],
        )
        row = cursor.fetchone()
    user, database, schema, app_super, tables_owner = row
    if app_super is None:
        raise GrantError(f"role {app_role} does not exist (create it first: createuser)")
    if app_super:
        raise GrantError(f"role {app_role} is a superuser, which passes every guard")
    if tables_owner is None:
        raise GrantError("the database's tables are missing: run `aips migrate` first")
    if app_role == tables_owner:
        raise GrantError(
            f"role {app_role} owns the tables; the application must connect as a role that "
            "owns nothing"
        )
    if app_role == user:
        raise GrantError(
            f"connected as {app_role} itself: run this with the owner role's "
            "AIPS_DATABASE_URL (/etc/aips/migrate.env)"
        )
    return statements(app_role=app_role, owner_role=tables_owner, database=database, schema=schema)


def apply(connection: Any, *, app_role: str) -> list[str]:
    """Check the roles, then run the statements in one transaction; returns them."""
    from django.db import transaction

    sql = prepare(connection, app_role=app_role)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in sql:
            if not statement.startswith("--"):
                cursor.execute(statement)
    return sql
