"""The bids are evidence (R57.17): triggers on SQLite and PostgreSQL refuse UPDATE and DELETE on
them, and `etp db grants` gives the application role only SELECT and INSERT."""

from typing import Any

from aips.core import append_only

BIDS = "etp_auctions_bid"


def guard_statements(vendor: str) -> list[str]:
    message = "auction bids are append-only"
    return append_only.refuse(vendor, BIDS, "UPDATE", message) + append_only.refuse(
        vendor, BIDS, "DELETE", message
    )


def unguard_statements(vendor: str) -> list[str]:
    return append_only.allow(vendor, BIDS)


def install_guards(connection: Any) -> None:
    append_only.run(connection, guard_statements(connection.vendor))


def remove_guards(connection: Any) -> None:
    append_only.run(connection, unguard_statements(connection.vendor))


def app_role_grants(app: str) -> list[str]:
    """This app's part of `aips db grants` (aips.core.db_grants), registered by its AppConfig."""
    return [
        "-- Auction bids (R57.17): append and read only.",
        f"REVOKE ALL ON {BIDS} FROM {app}",
        f"GRANT SELECT, INSERT ON {BIDS} TO {app}",
    ]
