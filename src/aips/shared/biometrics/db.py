"""The check records are evidence (R57.17): triggers on SQLite and PostgreSQL refuse UPDATE and
DELETE on them, and `aips db grants` gives the application role only SELECT and INSERT, so
neither code nor a person with the application's credentials can rewrite a result."""

from typing import Any

from aips.core import append_only

CHECKS = "biometrics_biometriccheck"


def guard_statements(vendor: str) -> list[str]:
    message = "biometric checks are immutable"
    return append_only.refuse(vendor, CHECKS, "UPDATE", message) + append_only.refuse(
        vendor, CHECKS, "DELETE", message
    )


def unguard_statements(vendor: str) -> list[str]:
    return append_only.allow(vendor, CHECKS)


def install_guards(connection: Any) -> None:
    append_only.run(connection, guard_statements(connection.vendor))


def remove_guards(connection: Any) -> None:
    append_only.run(connection, unguard_statements(connection.vendor))


def app_role_grants(app: str) -> list[str]:
    """This app's part of `aips db grants` (aips.core.db_grants), registered by its AppConfig."""
    return [
        "-- Biometric check records (R57.9-R57.11): append and read only.",
        f"REVOKE ALL ON {CHECKS} FROM {app}",
        f"GRANT SELECT, INSERT ON {CHECKS} TO {app}",
    ]
