"""Bids placed at once from several connections keep one order and one winner (PostgreSQL:
the auction's row lock; SQLite serializes whole transactions, so there is nothing to race)."""

import itertools
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from aips.etp.auctions.chain import verify_auction
from aips.etp.auctions.models import Auction, AuctionState, Bid
from aips.etp.auctions.services import BidRefused, auction_schedule, auction_tick, bid_place
from aips.etp.auctions.tests.conftest import Clock, make_procedure
from aips.shared.accounts.models import User

D = Decimal
THREADS = 8
ROUNDS = 6


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no row locks: BEGIN IMMEDIATE serializes whole transactions instead",
)
@pytest.mark.django_db(transaction=True)
def test_r57_17_concurrent_bids_keep_one_order_and_one_winner(
    personas: dict[str, User], at: Clock
) -> None:
    procedure = make_procedure(
        personas, admitted=("participant_person_1", "participant_company_1_rep")
    )
    auction = auction_schedule(
        actor=personas["operator_auctioneer"],
        procedure=procedure,
        rule="ascending",
        start_price=D("1000.00"),
        min_step=D("10.00"),
    )
    at.at(auction.starts_at)
    auction_tick(now=at.now)
    bidders = [personas["participant_person_1"], personas["participant_company_1_rep"]]
    start = threading.Barrier(THREADS)
    outcomes: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def bidder(n: int) -> None:
        person = bidders[n % 2]
        try:
            start.wait(timeout=30)
            for _ in range(ROUNDS):
                current = Auction.objects.get(pk=auction.pk)
                seen = (
                    current.best_amount + current.min_step
                    if current.best_amount is not None
                    else current.start_price
                )
                try:
                    bid = bid_place(actor=person, auction=current, amount=seen, seen_price=seen)
                    result: tuple[str, Any] = ("accepted", bid.sequence)
                except BidRefused as refused:
                    result = ("refused", refused.bid.sequence)
                with lock:
                    outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=bidder, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    bids = list(Bid.objects.filter(auction=auction).order_by("sequence"))
    # Every attempt is one bid, none lost or duplicated, in one gap-free order.
    assert len(outcomes) == THREADS * ROUNDS
    assert sorted(seq for _, seq in outcomes) == [b.sequence for b in bids]
    assert [b.sequence for b in bids] == list(range(1, THREADS * ROUNDS + 1))
    accepted = [b for b in bids if b.accepted]
    assert accepted, "some bids were accepted"
    # In that order each accepted bid beats the one before it by the step: no tie, no reorder.
    for earlier, later in itertools.pairwise(accepted):
        assert later.amount == earlier.amount + D("10.00")
    assert all(b.refusal == "stale_price" for b in bids if not b.accepted)
    auction.refresh_from_db()
    assert verify_auction(auction) is None
    at.at(auction.ends_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.state == AuctionState.CLOSED
    assert auction.winning_amount == accepted[-1].amount
    assert auction.winner_id == accepted[-1].application_id


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no row locks: BEGIN IMMEDIATE serializes whole transactions instead",
)
@pytest.mark.django_db(transaction=True)
def test_a_tick_skips_an_auction_another_worker_holds(personas: dict[str, User], at: Clock) -> None:
    from django.db import transaction

    procedure = make_procedure(
        personas, admitted=("participant_person_1", "participant_company_1_rep")
    )
    auction = auction_schedule(
        actor=personas["operator_auctioneer"], procedure=procedure, rule="ascending"
    )
    held = threading.Event()
    release = threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                Auction.objects.select_for_update().get(pk=auction.pk)
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(timeout=30)
        assert auction_tick(now=auction.starts_at) == "opened 0, ended 0"  # skipped, not waited
    finally:
        release.set()
        thread.join(timeout=30)
    assert auction_tick(now=auction.starts_at) == "opened 1, ended 0"
    auction.refresh_from_db()
    assert auction.state == AuctionState.RUNNING


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no row locks: BEGIN IMMEDIATE serializes whole transactions instead",
)
@pytest.mark.django_db(transaction=True)
def test_r57_17_the_results_job_skips_an_auction_another_worker_holds(
    personas: dict[str, User], at: Clock
) -> None:
    from django.db import transaction

    from aips.etp.auctions.models import AuctionResult
    from aips.etp.auctions.results import results_tick

    procedure = make_procedure(
        personas, admitted=("participant_person_1", "participant_company_1_rep")
    )
    auction = auction_schedule(
        actor=personas["operator_auctioneer"], procedure=procedure, rule="ascending"
    )
    at.at(auction.starts_at)
    auction_tick(now=at.now)
    bid_place(
        actor=personas["participant_person_1"],
        auction=auction,
        amount=auction.start_price,
        seen_price=auction.start_price,
    )
    auction.refresh_from_db()
    at.at(auction.ends_at)
    assert auction_tick(now=at.now) == "opened 0, ended 1"
    held = threading.Event()
    release = threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                Auction.objects.select_for_update().get(pk=auction.pk)
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(timeout=30)
        assert results_tick(now=at.now) == "results 0"  # skipped, not waited
    finally:
        release.set()
        thread.join(timeout=30)
    assert results_tick(now=at.now) == "results 1"
    assert results_tick(now=at.now) == "results 0"
    assert AuctionResult.objects.filter(auction=auction).count() == 1
