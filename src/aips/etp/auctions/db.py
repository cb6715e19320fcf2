"""The bids and the protocols are evidence (R57.17), guarded in the database on SQLite and
PostgreSQL alike, so even code (or a person) holding the application's credentials cannot
rewrite them:

- bids: triggers refuse UPDATE and DELETE; `etp db grants` gives the application role only
  SELECT and INSERT;
- protocols: written once at the results; the one change allowed is the auctioneer's EDS
  signature, its three columns (`SIGNATURE`) going from all empty to all set, once, with every
  other column (`FROZEN`) unchanged. Any other UPDATE, and every DELETE, is refused by trigger;
  the application role gets SELECT, INSERT and UPDATE of those three columns only. The signed
  protocol's PDF row (`ProtocolFile`) refuses DELETE and every UPDATE but that of its
  `scan_status`, the anti-virus worker's copy of the content's verdict
  (shared/files/scanning.py; docs/decisions/0047).

The bids' guards came with migration 0002 (`install_guards`), the protocols' with 0004
(`install_protocol_guards`); each pair removes only its own."""

from typing import Any

from aips.core import append_only

BIDS = "etp_auctions_bid"
PROTOCOLS = "etp_auctions_protocol"
PROTOCOL_FILES = "etp_auctions_protocolfile"
# The protocol's columns: those the signature sets once, and those never changed.
SIGNATURE = ("signature_id", "signed_by_id", "signed_at")
FROZEN = ("id", "auction_id", "document", "sha256", "created_at")
# The PDF's row: only the scanner's copy of its verdict moves.
FILE_SCAN = "scan_status"
FILE_FROZEN = (
    "id",
    "protocol_id",
    "file_name",
    "content_type",
    "size",
    "sha256",
    "uploaded_at",
    "uploaded_by_id",
)


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


def _unchanged(vendor: str, columns: tuple[str, ...]) -> list[str]:
    """Null-safe comparisons, so a NULL can never make a changed column look unchanged."""
    same = "IS" if vendor != "postgresql" else "IS NOT DISTINCT FROM"
    return [f"NEW.{column} {same} OLD.{column}" for column in columns]


def signing_only(vendor: str) -> str:
    """SQL over OLD and NEW: true only for the signature's first and only setting."""
    return " AND ".join(
        [
            *(f"OLD.{column} IS NULL" for column in SIGNATURE),
            *(f"NEW.{column} IS NOT NULL" for column in SIGNATURE),
            *_unchanged(vendor, FROZEN),
        ]
    )


def scan_only(vendor: str) -> str:
    """SQL over OLD and NEW: true when nothing but the PDF's scan status changes."""
    return " AND ".join(_unchanged(vendor, FILE_FROZEN))


def _refuse_update_unless(vendor: str, table: str, condition: str, message: str) -> list[str]:
    """Refuse UPDATE on `table` unless `condition` (over OLD and NEW) holds. On PostgreSQL the
    allowed row is NEW (append_only.refuse returns OLD, right for a DELETE it lets through, but
    it would silently undo an UPDATE); the trigger keeps append_only's name, so its `allow`
    removes it."""
    if vendor != "postgresql":
        return append_only.refuse(vendor, table, "UPDATE", message, condition)
    name = f"{table}_no_update"
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF {condition} THEN RETURN NEW; END IF; "
        f"RAISE EXCEPTION '{message}: UPDATE refused'; END $$",
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def protocol_guard_statements(vendor: str) -> list[str]:
    message = "auction protocols are written once and signed once"
    files = "auction protocol files are append-only"
    return [
        *_refuse_update_unless(vendor, PROTOCOLS, signing_only(vendor), message),
        *append_only.refuse(vendor, PROTOCOLS, "DELETE", message),
        *_refuse_update_unless(vendor, PROTOCOL_FILES, scan_only(vendor), files),
        *append_only.refuse(vendor, PROTOCOL_FILES, "DELETE", files),
    ]


def protocol_unguard_statements(vendor: str) -> list[str]:
    return append_only.allow(vendor, PROTOCOLS) + append_only.allow(vendor, PROTOCOL_FILES)


def install_protocol_guards(connection: Any) -> None:
    append_only.run(connection, protocol_guard_statements(connection.vendor))


def remove_protocol_guards(connection: Any) -> None:
    append_only.run(connection, protocol_unguard_statements(connection.vendor))


def app_role_grants(app: str) -> list[str]:
    """This app's part of `aips db grants` (aips.core.db_grants), registered by its AppConfig."""
    signature = ", ".join(SIGNATURE)
    return [
        "-- Auction bids (R57.17): append and read only.",
        f"REVOKE ALL ON {BIDS} FROM {app}",
        f"GRANT SELECT, INSERT ON {BIDS} TO {app}",
        "-- Auction protocols (R57.17): written once; only the signature's columns are ever",
        "-- updated (the trigger lets them go from empty to set once). The PDF: append and read,",
        "-- and the anti-virus worker's copy of its verdict.",
        f"REVOKE ALL ON {PROTOCOLS}, {PROTOCOL_FILES} FROM {app}",
        f"GRANT SELECT, INSERT ON {PROTOCOLS}, {PROTOCOL_FILES} TO {app}",
        f"GRANT UPDATE ({signature}) ON {PROTOCOLS} TO {app}",
        f"GRANT UPDATE ({FILE_SCAN}) ON {PROTOCOL_FILES} TO {app}",
    ]
