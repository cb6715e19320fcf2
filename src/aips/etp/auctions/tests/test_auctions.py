"""Scheduling, bidding and the worker's tick on the server's clock (controlled by `at`)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import TestCase

from aips.core.errors import Conflict, Forbidden, ValidationFailed
from aips.core.ratelimit import RateLimited
from aips.etp.applications.models import Procedure
from aips.etp.auctions import selectors, services
from aips.etp.auctions.models import Auction, AuctionState, Bid
from aips.etp.auctions.services import BidRefused, auction_tick, bid_place
from aips.etp.auctions.tests.conftest import START, Clock, make_procedure
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
D = Decimal
P1, C1, P2 = "participant_person_1", "participant_company_1_rep", "participant_person_2"


def schedule(personas: dict[str, User], procedure: Procedure, **kw: Any) -> Auction:
    kw.setdefault("start_price", D("1000.00"))
    kw.setdefault("min_step", D("50.00"))
    kw.setdefault("rule", "ascending")
    return services.auction_schedule(
        actor=personas["operator_auctioneer"], procedure=procedure, **kw
    )


def running(personas: dict[str, User], procedure: Procedure, at: Clock, **kw: Any) -> Auction:
    auction = schedule(personas, procedure, **kw)
    at.at(auction.starts_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.state == AuctionState.RUNNING
    return auction


def bid(personas: dict[str, User], who: str, auction: Auction, amount: str, seen: str) -> Bid:
    """One bid, and what runs once it commits (the live notices): the test's transaction never
    commits, so the callbacks are run here."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return bid_place(actor=personas[who], auction=auction, amount=D(amount), seen_price=D(seen))


def test_only_the_auctioneer_schedules_and_only_once(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    with pytest.raises(Forbidden):
        services.auction_schedule(actor=personas[P1], procedure=procedure)
    auction = schedule(personas, procedure)
    assert auction.starts_at == START
    assert auction.ends_at == START + timedelta(minutes=60)
    assert AuditEvent.objects.filter(event="auction:scheduled", target_id=str(auction.pk)).exists()
    with pytest.raises(Conflict):
        schedule(personas, procedure)


def test_schedule_refuses_a_past_start_and_bad_amounts(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    with pytest.raises(ValidationFailed) as past:
        schedule(personas, procedure, starts_at=at.now - timedelta(minutes=1))
    assert "starts_at" in past.value.fields
    with pytest.raises(ValidationFailed) as step:
        schedule(personas, procedure, min_step=D("0.001"))
    assert "min_step" in step.value.fields
    with pytest.raises(ValidationFailed) as floor:
        schedule(personas, procedure, rule="descending", floor_price=D("2000.00"))
    assert "floor_price" in floor.value.fields


def test_ascending_bids_extend_and_the_best_wins_at_the_close(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at)
    at.move(minutes=10)
    bid(personas, P1, auction, "1000.00", "1000.00")
    with pytest.raises(BidRefused) as below:
        bid(personas, C1, auction, "1049.99", "1050.00")
    assert below.value.code == "below_minimum"
    assert below.value.status == 409
    # A bid in the last second moves the end to now + 5 minutes.
    at.at(auction.ends_at - timedelta(seconds=1))
    bid(personas, C1, auction, "1050.00", "1050.00")
    auction.refresh_from_db()
    assert auction.ends_at == at.now + timedelta(minutes=5)
    # The window passes without a bid: the tick closes it; a bid after the end is refused.
    at.at(auction.ends_at)
    with pytest.raises(BidRefused) as late:
        bid(personas, P1, auction, "1100.00", "1100.00")
    assert late.value.code == "ended"
    assert auction_tick(now=at.now) == "opened 0, ended 1"
    auction.refresh_from_db()
    assert auction.state == AuctionState.CLOSED
    assert auction.winning_amount == D("1050.00")
    assert auction.winner is not None
    assert auction.winner.organization == personas[C1].organization
    closed = AuditEvent.objects.get(event="auction:closed", target_id=str(auction.pk))
    assert closed.details["chain_head"] == auction.head_hash
    assert closed.details["bids"] == 4


def test_a_stale_seen_price_is_refused_with_the_current_price(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at)
    bid(personas, P1, auction, "1000.00", "1000.00")
    with pytest.raises(BidRefused) as stale:  # C1 still sees the start price
        bid(personas, C1, auction, "1100.00", "1000.00")
    assert stale.value.code == "stale_price"
    assert stale.value.status == 409
    assert stale.value.fields["current_price"] == ["1050.00"]
    refused = Bid.objects.get(auction=auction, sequence=2)
    assert not refused.accepted
    assert refused.refusal == "stale_price"


def test_a_participant_not_admitted_is_refused_and_recorded(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at)
    with pytest.raises(BidRefused) as refused:
        bid(personas, P2, auction, "1000.00", "1000.00")
    assert refused.value.code == "not_admitted"
    assert refused.value.status == 403
    row = Bid.objects.get(auction=auction)
    assert row.application is None
    assert not row.accepted
    with pytest.raises(Forbidden):  # no bid permission at all: nothing to record
        bid(personas, "operator_auctioneer", auction, "1000.00", "1000.00")


def test_a_bid_before_the_start_is_refused(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = schedule(personas, procedure)
    with pytest.raises(BidRefused) as early:
        bid(personas, P1, auction, "1000.00", "1000.00")
    assert early.value.code == "not_started"


def test_a_bid_opens_a_due_auction_before_the_worker_comes_round(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = schedule(personas, procedure)
    at.at(auction.starts_at + timedelta(seconds=1))
    bid(personas, P1, auction, "1000.00", "1000.00")
    auction.refresh_from_db()
    assert auction.state == AuctionState.RUNNING


def test_bids_are_rate_limited_per_participant(
    personas: dict[str, User], procedure: Procedure, at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_BID_RATE = "1/m"
    auction = running(personas, procedure, at)
    bid(personas, P1, auction, "1000.00", "1000.00")
    with pytest.raises(RateLimited):
        bid(personas, P1, auction, "1050.00", "1000.00")
    bid(personas, C1, auction, "1050.00", "1050.00")
    assert Bid.objects.filter(auction=auction).count() == 2


def test_no_bid_makes_it_unsuccessful_and_repeats_ten_percent_lower(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at)
    at.at(auction.ends_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.state == AuctionState.UNSUCCESSFUL
    assert auction.outcome_reason == "no_bid"
    repeat = Auction.objects.get(repeat_of=auction)
    assert repeat.attempt == 2
    assert repeat.start_price == D("900.00")
    assert repeat.state == AuctionState.SCHEDULED
    assert repeat.starts_at == at.now + timedelta(days=7)
    assert repeat.ends_at - repeat.starts_at == timedelta(minutes=60)


def test_too_few_admitted_is_unsuccessful_at_the_start(
    personas: dict[str, User], at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_MIN_BIDDERS = 2
    procedure = make_procedure(personas, admitted=(P1,))
    auction = schedule(personas, procedure)
    auction_tick(now=auction.starts_at)
    auction.refresh_from_db()
    assert auction.state == AuctionState.UNSUCCESSFUL
    assert auction.outcome_reason == "too_few_admitted"
    assert AuditEvent.objects.filter(
        event="auction:unsuccessful", target_id=str(auction.pk)
    ).exists()


def test_repeats_stop_at_the_floor(personas: dict[str, User], at: Clock, settings: Any) -> None:
    settings.AIPS_ETP_REPEAT_FLOOR_PERCENT = 80
    procedure = make_procedure(personas, admitted=())
    auction = schedule(personas, procedure)
    prices = []
    for _ in range(5):
        auction_tick(now=auction.starts_at)
        prices.append(auction.start_price)
        following = Auction.objects.filter(repeat_of=auction).first()
        if following is None:
            break
        auction = following
    assert prices == [D("1000.00"), D("900.00"), D("810.00"), D("800.00")]


def test_dutch_acceptance_wins_at_the_current_price(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(
        personas,
        procedure,
        at,
        rule="descending",
        floor_price=D("700.00"),
        descending_step=D("100.00"),
        descending_interval_seconds=60,
    )
    assert auction.ends_at == auction.starts_at + timedelta(minutes=4)
    at.move(minutes=3, seconds=30)  # at the floor
    state = selectors.public_state(auction, now=at.now)
    assert state["current_price"] == D("700.00")
    bid(personas, C1, auction, "700.00", "700.00")
    auction.refresh_from_db()
    assert auction.state == AuctionState.CLOSED
    assert auction.winning_amount == D("700.00")


def test_sealed_bids_are_hidden_until_the_close(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at, rule="sealed")
    bid(personas, P1, auction, "1500.00", "1000.00")
    bid(personas, C1, auction, "1400.00", "1000.00")
    shown = selectors.public_state(auction, now=at.now)
    assert shown["best_amount"] is None
    assert shown["bids"] == []
    at.at(auction.ends_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    shown = selectors.public_state(auction, now=at.now)
    assert shown["winner"] == "Participant 1"
    assert shown["winning_amount"] == D("1500.00")
    assert [b["participant"] for b in shown["bids"]] == ["Participant 1", "Participant 2"]


def test_the_public_state_names_no_bidder(
    personas: dict[str, User], procedure: Procedure, at: Clock, client: Any
) -> None:
    auction = running(personas, procedure, at)
    bid(personas, C1, auction, "1000.00", "1000.00")
    answer = client.get(f"/api/v1/auctions/{auction.pk}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["best_participant"] == "Participant 2"
    assert body["current_price"] == "1050.00"
    text = answer.content.decode()
    for name in (P1, C1):
        assert personas[name].organization.bin not in text
        assert personas[name].organization.name not in text


def test_the_bid_api_accepts_and_refuses_in_the_one_error_shape(
    personas: dict[str, User], procedure: Procedure, at: Clock, client_as: Any
) -> None:
    auction = running(personas, procedure, at)
    url = f"/api/v1/auctions/{auction.pk}/bids"
    admitted = client_as(C1)
    ok = admitted.post(
        url, {"amount": "1000.00", "seen_price": "1000.00"}, content_type="application/json"
    )
    assert ok.status_code == 201
    assert ok.json()["sequence"] == 1
    stale = admitted.post(
        url, {"amount": "1100.00", "seen_price": "1000.00"}, content_type="application/json"
    )
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "stale_price"
    assert error["fields"]["current_price"] == ["1050.00"]
    outsider = client_as(P2).post(
        url, {"amount": "1050.00", "seen_price": "1050.00"}, content_type="application/json"
    )
    assert outsider.status_code == 403
    assert outsider.json()["error"]["code"] == "not_admitted"
    bad = admitted.post(
        url, {"amount": "abc", "seen_price": "1050.00"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert Bid.objects.filter(auction=auction).count() == 3


def test_the_tick_runs_as_a_worker_job(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    from aips.core.jobs import registered_jobs
    from aips.core.management.commands.worker import run_job

    job = next(j for j in registered_jobs() if j.name == "etp.auctions.tick")
    assert job.every == timedelta(seconds=1)
    auction = schedule(personas, procedure)
    at.at(auction.starts_at)
    assert run_job(job)
    auction.refresh_from_db()
    assert auction.state == AuctionState.RUNNING
    results = next(j for j in registered_jobs() if j.name == "etp.auctions.results")
    assert results.every == timedelta(seconds=1)
    assert run_job(results)


def test_the_tick_wakes_at_the_next_start_or_end(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    """The worker runs the tick at the soonest scheduled start or running end (its wake), so
    a close follows its end by milliseconds, not by the tick's period."""
    from aips.core.jobs import registered_jobs

    job = next(j for j in registered_jobs() if j.name == "etp.auctions.tick")
    assert job.wake is not None
    assert job.wake() is None  # nothing scheduled
    auction = schedule(personas, procedure)
    assert job.wake() == auction.starts_at
    at.at(auction.starts_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert job.wake() == auction.ends_at
    bid(personas, P1, auction, "1000.00", "1000.00")
    at.at(auction.ends_at - timedelta(seconds=10))
    bid(personas, C1, auction, "1050.00", "1050.00")  # in the window: the end moves
    auction.refresh_from_db()
    assert job.wake() == auction.ends_at
    at.at(auction.ends_at)
    auction_tick(now=at.now)
    assert job.wake() is None


def test_dutch_sealed_finish_through_the_tick(
    personas: dict[str, User], procedure: Procedure, at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_DUTCH_SEALED_FINISH = True
    auction = running(
        personas,
        procedure,
        at,
        rule="descending",
        floor_price=D("700.00"),
        descending_step=D("100.00"),
        descending_interval_seconds=60,
        sealed_round_minutes=10,
    )
    at.move(minutes=1, seconds=10)
    bid(personas, P1, auction, "900.00", "900.00")  # the acceptance
    auction.refresh_from_db()
    assert auction.phase == "sealed"
    assert auction.ends_at == at.now + timedelta(minutes=10)
    at.move(minutes=2)
    bid(personas, C1, auction, "950.00", "900.00")  # sealed: hidden from everyone
    assert selectors.public_state(auction, now=at.now)["best_amount"] is None
    at.at(auction.ends_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.phase == "best_bid"
    assert auction.state == AuctionState.RUNNING
    with pytest.raises(BidRefused) as other:
        bid(personas, C1, auction, "990.00", "900.00")
    assert other.value.code == "not_accepter"
    bid(personas, P1, auction, "960.00", "900.00")
    at.at(auction.ends_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.state == AuctionState.CLOSED
    assert auction.winning_amount == D("960.00")
    assert auction.winner is not None
    assert auction.winner.organization == personas[P1].organization
