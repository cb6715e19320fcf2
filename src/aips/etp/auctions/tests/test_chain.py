"""The bid chain is tamper-evident (R57.17): the database refuses changes to a bid, and a bid
changed, removed or inserted behind its back (by someone with the owner's rights who drops the
guards) is named by `etp auctions verify`."""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from aips.core.tests.pg_roles import owner_role
from aips.etp.applications.models import Procedure
from aips.etp.auctions import db
from aips.etp.auctions.chain import verify_auction
from aips.etp.auctions.models import Auction, Bid
from aips.etp.auctions.services import BidRefused, auction_schedule, auction_tick, bid_place
from aips.etp.auctions.tests.conftest import Clock
from aips.shared.accounts.models import User

pytestmark = pytest.mark.django_db
D = Decimal


@contextmanager
def guards_lifted() -> Iterator[None]:
    with owner_role():
        db.remove_guards(connection)
        yield
        db.install_guards(connection)


def auction_with_bids(personas: dict[str, User], procedure: Procedure, at: Clock) -> Auction:
    auction = auction_schedule(
        actor=personas["operator_auctioneer"],
        procedure=procedure,
        rule="ascending",
        start_price=D("1000.00"),
        min_step=D("50.00"),
    )
    at.at(auction.starts_at)
    auction_tick(now=at.now)
    p1, c1 = personas["participant_person_1"], personas["participant_company_1_rep"]
    bid_place(actor=p1, auction=auction, amount=D("1000.00"), seen_price=D("1000.00"))
    with pytest.raises(BidRefused):
        bid_place(actor=c1, auction=auction, amount=D("1000.00"), seen_price=D("1050.00"))
    bid_place(actor=c1, auction=auction, amount=D("1100.00"), seen_price=D("1050.00"))
    bid_place(actor=p1, auction=auction, amount=D("1150.00"), seen_price=D("1150.00"))
    auction.refresh_from_db()
    return auction


def verify() -> str:
    out = StringIO()
    call_command("auctions", "verify", stdout=out)
    return out.getvalue()


def test_r57_17_the_bid_chain_verifies(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = auction_with_bids(personas, procedure, at)
    bids = list(Bid.objects.filter(auction=auction).order_by("sequence"))
    assert [b.sequence for b in bids] == [1, 2, 3, 4]
    assert [b.accepted for b in bids] == [True, False, True, True]  # refused bids are kept
    assert bids[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(bids))
    assert auction.head_hash == bids[-1].hash
    assert auction.bid_count == 4
    assert verify_auction(auction) is None
    assert verify().startswith("ok: 1 auctions, 4 bids")


def test_r57_17_the_database_refuses_to_change_or_delete_a_bid(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = auction_with_bids(personas, procedure, at)
    for statement in (
        "UPDATE etp_auctions_bid SET amount = 1 WHERE auction_id = %s",
        "DELETE FROM etp_auctions_bid WHERE auction_id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [auction.pk])
    assert Bid.objects.filter(auction=auction).count() == 4


def test_r57_17_verify_names_a_changed_bid(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = auction_with_bids(personas, procedure, at)
    with guards_lifted(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE etp_auctions_bid SET amount = 1200 WHERE auction_id = %s AND sequence = 3",
            [auction.pk],
        )
    with pytest.raises(CommandError) as broken:
        verify()
    assert f"auction {auction.pk}: bid 3: content changed" in str(broken.value)


def test_r57_17_verify_names_a_removed_bid(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = auction_with_bids(personas, procedure, at)
    with guards_lifted(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM etp_auctions_bid WHERE auction_id = %s AND sequence = 2", [auction.pk]
        )
    with pytest.raises(CommandError) as broken:
        verify()
    assert f"auction {auction.pk}: bid 2: missing" in str(broken.value)


def test_r57_17_verify_names_a_removed_last_bid(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = auction_with_bids(personas, procedure, at)
    with guards_lifted(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM etp_auctions_bid WHERE auction_id = %s AND sequence = 4", [auction.pk]
        )
    broken = verify_auction(auction)
    assert broken is not None
    assert broken.sequence == 4
    assert "head" in broken.reason


def test_r57_17_verify_names_a_rehashed_bid(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    """A forger who changes a bid and recomputes its hash breaks the link of the next one."""
    from aips.etp.auctions.chain import bid_hash

    auction = auction_with_bids(personas, procedure, at)
    forged = Bid.objects.get(auction=auction, sequence=3)
    forged.amount = D("1400.00")
    with guards_lifted(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE etp_auctions_bid SET amount = 1400, hash = %s WHERE id = %s",
            [bid_hash(forged), forged.pk],
        )
    broken = verify_auction(auction)
    assert broken is not None
    assert broken.sequence == 4
