"""The auction's protocol is evidence (R57.17): once written, the database refuses to change or
delete it, whoever holds the application's credentials, and (PostgreSQL) even the tables' owner
meets the triggers. The one change it lets through is the EDS signature's, its three columns
going from empty to set, once, with nothing else changed (protocol.py::protocol_sign). The
signed protocol's PDF row changes only its anti-virus scan status."""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction

from aips.core.tests.pg_roles import owner_role
from aips.etp.applications.models import Application
from aips.etp.auctions import db
from aips.etp.auctions.models import Auction, Protocol, ProtocolFile
from aips.etp.auctions.tests.conftest import Clock, make_procedure
from aips.etp.auctions.tests.test_results_contracting import C1, P1, P2, closed
from aips.shared.accounts.models import User
from aips.shared.files.services import stored_fields

pytestmark = pytest.mark.django_db
REFUSED = "auction protocols are written once and signed once"
# Who tampers: the application's role (PostgreSQL: its grants refuse first) and the tables'
# owner (only the triggers stand in its way). One and the same connection on SQLite.
WHO = ["app", "owner"]


def role(who: str) -> AbstractContextManager[None]:
    return owner_role() if who == "owner" else nullcontext()


def run(sql: str, params: list[Any]) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


@contextmanager
def refused(who: str) -> Iterator[None]:
    """The statement in the block is refused: by the trigger (its own message), or on
    PostgreSQL as the application's role already by its grants."""
    with role(who), pytest.raises(DatabaseError) as error:
        yield
    messages = [REFUSED, "append-only"]
    if who == "app" and connection.vendor == "postgresql":
        messages.append("permission denied")
    assert any(message in str(error.value) for message in messages), error.value


def moment(value: Any) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


@pytest.fixture
def auction(personas: dict[str, User], at: Clock) -> Auction:
    return closed(personas, make_procedure(personas, admitted=(P1, C1, P2)), at)


def signing(personas: dict[str, User], auction: Auction) -> list[Any]:
    """What the signature sets: a stored signature, the auctioneer, a moment after the close."""
    application = Application.objects.filter(procedure_id=auction.procedure_id).first()
    assert application is not None
    assert auction.closed_at is not None
    return [
        application.signature.pk,
        personas["operator_auctioneer"].pk,
        moment(auction.closed_at + timedelta(minutes=5)),
    ]


SIGN = (
    "UPDATE etp_auctions_protocol SET signature_id = %s, signed_by_id = %s, signed_at = %s "
    "WHERE id = %s"
)


def test_r57_17_the_guard_names_every_column_of_the_protocol() -> None:
    """A column added to the protocol later must be placed in SIGNATURE or FROZEN, or the
    trigger would let it change."""
    columns = {field.column for field in Protocol._meta.concrete_fields}
    assert columns == set(db.SIGNATURE) | set(db.FROZEN)
    files = {field.column for field in ProtocolFile._meta.concrete_fields}
    assert files == {db.FILE_SCAN, *db.FILE_FROZEN}
    # The statements below name the tables as they are.
    assert Protocol._meta.db_table == db.PROTOCOLS == "etp_auctions_protocol"
    assert ProtocolFile._meta.db_table == db.PROTOCOL_FILES == "etp_auctions_protocolfile"


@pytest.mark.parametrize("who", WHO)
def test_r57_17_a_written_protocol_refuses_raw_sql_tampering(
    personas: dict[str, User], auction: Auction, who: str
) -> None:
    protocol = Protocol.objects.get(auction=auction)
    document, sha = bytes(protocol.document), protocol.sha256
    for sql, params in [
        (
            "UPDATE etp_auctions_protocol SET document = %s WHERE id = %s",
            [b'{"winner":"me"}', protocol.pk],
        ),
        ("UPDATE etp_auctions_protocol SET sha256 = %s WHERE id = %s", ["f" * 64, protocol.pk]),
        (
            "UPDATE etp_auctions_protocol SET created_at = %s WHERE id = %s",
            [moment(auction.starts_at), protocol.pk],
        ),
        ("UPDATE etp_auctions_protocol SET auction_id = auction_id WHERE id = %s", [protocol.pk]),
        ("DELETE FROM etp_auctions_protocol WHERE id = %s", [protocol.pk]),
        # Half a signature, or a signature smuggling a change in: refused.
        (
            "UPDATE etp_auctions_protocol SET signed_at = %s WHERE id = %s",
            [moment(auction.starts_at), protocol.pk],
        ),
        (
            "UPDATE etp_auctions_protocol SET signature_id = %s, signed_by_id = %s, "
            "signed_at = %s, sha256 = %s WHERE id = %s",
            [*signing(personas, auction), "f" * 64, protocol.pk],
        ),
    ]:
        with refused(who):
            run(sql, params)
    protocol.refresh_from_db()
    assert (bytes(protocol.document), protocol.sha256) == (document, sha)
    assert protocol.signature_id is None


@pytest.mark.parametrize("who", WHO)
def test_r57_17_the_signature_is_set_once_and_then_the_protocol_is_frozen(
    personas: dict[str, User], auction: Auction, who: str
) -> None:
    protocol = Protocol.objects.get(auction=auction)
    # The legitimate write path: the three signature columns from empty to set, nothing else
    # (what protocol_sign's save(update_fields=...) sends), as the application's role.
    with role(who):
        assert run(SIGN, [*signing(personas, auction), protocol.pk]) == 1
    protocol.refresh_from_db()
    assert protocol.signed
    other = personas["operator_admin"].pk
    for sql, params in [
        (SIGN, [*signing(personas, auction)[:1], other, moment(auction.starts_at), protocol.pk]),
        ("UPDATE etp_auctions_protocol SET signed_by_id = %s WHERE id = %s", [other, protocol.pk]),
        (
            "UPDATE etp_auctions_protocol SET signature_id = NULL, signed_by_id = NULL, "
            "signed_at = NULL WHERE id = %s",
            [protocol.pk],
        ),
        ("UPDATE etp_auctions_protocol SET document = document WHERE id = %s", [protocol.pk]),
        ("DELETE FROM etp_auctions_protocol WHERE id = %s", [protocol.pk]),
    ]:
        with refused(who):
            run(sql, params)
    protocol.refresh_from_db()
    assert protocol.signed_by_id == personas["operator_auctioneer"].pk


@pytest.mark.parametrize("who", WHO)
def test_r57_17_the_protocols_pdf_row_changes_only_its_scan_status(
    personas: dict[str, User], auction: Auction, who: str
) -> None:
    protocol = Protocol.objects.get(auction=auction)
    pdf = ProtocolFile.objects.create(
        protocol=protocol,
        uploaded_by=personas["operator_auctioneer"],
        **stored_fields(SimpleUploadedFile("protocol.pdf", b"%PDF-1.4 guarded")),
    )
    # The anti-virus worker's copy of the content's verdict moves (shared/files/scanning.py).
    with role(who):
        assert run(
            "UPDATE etp_auctions_protocolfile SET scan_status = %s WHERE id = %s", ["clean", pdf.pk]
        )
    for sql, params in [
        ("UPDATE etp_auctions_protocolfile SET sha256 = %s WHERE id = %s", ["f" * 64, pdf.pk]),
        (
            "UPDATE etp_auctions_protocolfile SET scan_status = %s, file_name = %s WHERE id = %s",
            ["pending", "other.pdf", pdf.pk],
        ),
        ("DELETE FROM etp_auctions_protocolfile WHERE id = %s", [pdf.pk]),
    ]:
        with refused(who):
            run(sql, params)
    stored = ProtocolFile.objects.get(pk=pdf.pk)
    assert (stored.sha256, stored.file_name, stored.scan_status) == (
        pdf.sha256,
        pdf.file_name,
        "clean",
    )


def test_r57_17_the_application_role_may_update_only_the_signature_columns() -> None:
    grants = db.app_role_grants('"etp_app"')
    assert f'REVOKE ALL ON {db.PROTOCOLS}, {db.PROTOCOL_FILES} FROM "etp_app"' in grants
    assert f'GRANT SELECT, INSERT ON {db.PROTOCOLS}, {db.PROTOCOL_FILES} TO "etp_app"' in grants
    assert (
        f'GRANT UPDATE (signature_id, signed_by_id, signed_at) ON {db.PROTOCOLS} TO "etp_app"'
        in grants
    )
    assert f'GRANT UPDATE (scan_status) ON {db.PROTOCOL_FILES} TO "etp_app"' in grants
    assert not [g for g in grants if "DELETE" in g]
