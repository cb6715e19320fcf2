"""The check records are evidence (R57.17): triggers on SQLite and PostgreSQL refuse UPDATE and
DELETE on them, and `aips db grants` gives the application role only SELECT and INSERT, so
neither code nor a person with the application's credentials can rewrite a result."""

from typing import Any

CHECKS = "biometrics_biometriccheck"


def _sqlite(action: str) -> list[str]:
    name = f"{CHECKS}_no_{action.lower()}"
    return [
        f"DROP TRIGGER IF EXISTS {name}",
        f"CREATE TRIGGER {name} BEFORE {action} ON {CHECKS} "
        f"BEGIN SELECT RAISE(ABORT, 'biometric checks are immutable: {action} refused'); END",
    ]


def _postgres(action: str) -> list[str]:
    name = f"{CHECKS}_no_{action.lower()}"
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"RAISE EXCEPTION 'biometric checks are immutable: {action} refused'; END $$",
        f"DROP TRIGGER IF EXISTS {name} ON {CHECKS}",
        f"CREATE TRIGGER {name} BEFORE {action} ON {CHECKS} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def guard_statements(vendor: str) -> list[str]:
    make = _postgres if vendor == "postgresql" else _sqlite
    return make("UPDATE") + make("DELETE")


def unguard_statements(vendor: str) -> list[str]:
    statements = []
    for action in ("update", "delete"):
        name = f"{CHECKS}_no_{action}"
        if vendor == "postgresql":
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {CHECKS}")
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
    """This app's part of `aips db grants` (aips.core.db_grants), registered by its AppConfig."""
    return [
        "-- Biometric check records (R57.9-R57.11): append and read only.",
        f"REVOKE ALL ON {CHECKS} FROM {app}",
        f"GRANT SELECT, INSERT ON {CHECKS} TO {app}",
    ]
