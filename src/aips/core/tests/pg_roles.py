"""The PostgreSQL test run under the documented roles (docs/deployment.md, "PostgreSQL roles").

For the test database `<name>` (AIPS_TEST_DATABASE_NAME), the user of AIPS_DATABASE_URL (the
server's superuser in CI and in scripts/postgres-tests.sh) creates two login roles,
`<name>_owner` and `<name>_app`, neither a superuser nor able to create roles or databases, and
the database, owned by the first. Then, as the owner: `migrate`, and `aips db grants --app-role
<name>_app`, the deployment's own command. The tests then connect as the app role, so ingest,
the demo data, partition creation, the journal and its archive all run with exactly the rights
the deployment guide gives. At the end the superuser drops the database and both roles.

Only the harness goes beyond the app role, always with an explicit SET ROLE to the owner:
pytest-django's flush after a transactional test (TRUNCATE of every table), and tests that play
an intruder with the owner's rights (`owner_role()`, `guards_lifted()`). For that one thing the
app role is a NOINHERIT member of the owner role in the test run: it inherits none of the
owner's rights (a statement without the SET ROLE gets the app role's own), and a deployment has
no such membership."""

import io
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.management import call_command
from django.db import DatabaseError, connection, connections
from django.db.transaction import TransactionManagementError
from django.test import TransactionTestCase


@dataclass(frozen=True)
class Roles:
    owner: str
    app: str


_active: Roles | None = None


def active() -> Roles | None:
    """The roles of this run, or None (SQLite, or PostgreSQL before the test database exists)."""
    return _active


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def owner_role() -> Iterator[None]:
    """Run the block as the owner role (the test run only; a no-op on SQLite)."""
    if _active is None:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {_ident(_active.owner)}")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET ROLE")
        except (DatabaseError, TransactionManagementError):
            # The block's transaction failed; its rollback also undoes the SET ROLE in it.
            pass


@contextmanager
def guards_lifted() -> Iterator[None]:
    """An intruder with the owner's rights: the journal's triggers dropped for the block."""
    from aips.shared.audit.db import install_guards, remove_guards

    with owner_role():
        remove_guards(connection)
        yield
        install_guards(connection)


def _admin(settings: dict[str, Any]) -> Any:
    import psycopg

    params: dict[str, Any] = {
        "dbname": "postgres",
        "user": settings.get("USER") or None,
        "password": settings.get("PASSWORD") or None,
        "host": settings.get("HOST") or None,
        "port": str(settings["PORT"]) if settings.get("PORT") else None,
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


def _exists(admin: Any, query: str, name: str) -> bool:
    return admin.execute(query, [name]).fetchone() is not None


def _drop(admin: Any, name: str, roles: Roles) -> None:
    admin.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
    for role in (roles.app, roles.owner):
        admin.execute(f"DROP ROLE IF EXISTS {_ident(role)}")


def _create(admin: Any, name: str, roles: Roles, passwords: dict[str, str], keep: bool) -> None:
    from psycopg import sql

    if not keep:
        _drop(admin, name, roles)
    for role in (roles.owner, roles.app):
        verb = (
            "ALTER"
            if _exists(admin, "SELECT 1 FROM pg_roles WHERE rolname = %s", role)
            else "CREATE"
        )
        admin.execute(
            sql.SQL(
                "{} ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD {}"
            ).format(sql.SQL(verb), sql.Identifier(role), sql.Literal(passwords[role]))
        )
    admin.execute(f"ALTER ROLE {_ident(roles.app)} NOINHERIT")
    if not _exists(admin, "SELECT 1 FROM pg_database WHERE datname = %s", name):
        admin.execute(f"CREATE DATABASE {_ident(name)} OWNER {_ident(roles.owner)}")
    admin.execute(f"GRANT {_ident(roles.owner)} TO {_ident(roles.app)}")


def _flush_as_owner(original: Any) -> Any:
    def _fixture_teardown(self: TransactionTestCase) -> None:
        with owner_role():
            original(self)

    return _fixture_teardown


def run(*, verbosity: int, keepdb: bool) -> Iterator[None]:
    """Set up the roles and the test database, yield while the tests run, tear down."""
    global _active
    settings = connection.settings_dict
    admin_settings = dict(settings)
    old_name = settings["NAME"]
    name: str = connection.creation._get_test_db_name()  # type: ignore[attr-defined]
    roles = Roles(owner=f"{name}_owner", app=f"{name}_app")
    if len(roles.owner) > 63:
        raise RuntimeError(f"test database name too long for its role names: {name}")
    passwords = {role: secrets.token_urlsafe(24) for role in (roles.owner, roles.app)}
    with _admin(admin_settings) as admin:
        _create(admin, name, roles, passwords, keep=keepdb)

    connections.close_all()
    settings["USER"], settings["PASSWORD"] = roles.owner, passwords[roles.owner]
    # The database exists: Django's keepdb path only migrates it (as the owner).
    connection.creation.create_test_db(
        verbosity=verbosity, autoclobber=True, serialize=False, keepdb=True
    )
    call_command("db", "grants", "--app-role", roles.app, stdout=io.StringIO())
    connections.close_all()
    settings["USER"], settings["PASSWORD"] = roles.app, passwords[roles.app]
    # Django's private hook for the flush after a committing test; setattr keeps it untyped.
    original = getattr(TransactionTestCase, "_fixture_teardown")  # noqa: B009
    setattr(TransactionTestCase, "_fixture_teardown", _flush_as_owner(original))  # noqa: B010
    _active = roles
    try:
        yield
    finally:
        _active = None
        setattr(TransactionTestCase, "_fixture_teardown", original)  # noqa: B010
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=verbosity, keepdb=True)
        settings["USER"], settings["PASSWORD"] = admin_settings["USER"], admin_settings["PASSWORD"]
        if not keepdb:
            with _admin(admin_settings) as admin:
                _drop(admin, name, roles)
