"""A contracting that ends without a buyer (the winner and then the runner-up refuse or miss
their deadlines, or the runner-up is not offered the lot) makes the attempt unsuccessful
(`no_contract`) and is repeated exactly like the other unsuccessful attempts: a lower start price
down to the floor, the chain of attempts, the journal, the public feed and the admitted
participants' notices; end to end on the server's clock (controlled by `at`).

As in test_results_contracting: the winner is participant 2 (1100), the runner-up company 1
(1050), participant 1 the loser (1000)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone

from aips.etp.applications.models import DepositState, Procedure
from aips.etp.auctions import contracts, results, selectors, services
from aips.etp.auctions.contracts import contracts_tick
from aips.etp.auctions.models import (
    Auction,
    AuctionResult,
    AuctionState,
    Contract,
    ContractState,
    ResultOutcome,
)
from aips.etp.auctions.tests.conftest import Clock
from aips.etp.auctions.tests.test_auctions import bid
from aips.etp.auctions.tests.test_feed_auctions import assert_public, identities, read_all, start_of
from aips.etp.auctions.tests.test_results_contracting import (
    C1,
    P1,
    P2,
    closed,
    deposit_state,
    sign_contract,
)
from aips.etp.lots import feed
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent
from aips.shared.eds.testing import TestPki
from aips.shared.notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db
ClientAs = Callable[[str | None], Client]
SELLER = "seller_a_maker"


def kinds(user: User, auction: Auction) -> list[str]:
    return list(
        Notification.objects.filter(
            user=user,
            content_type=ContentType.objects.get_for_model(Auction),
            object_id=auction.pk,
        )
        .order_by("id")
        .values_list("kind", flat=True)
    )


def test_r57_28_winner_and_runner_up_failing_repeat_the_auction_lower_end_to_end(
    personas: dict[str, User], three: Procedure, at: Clock, settings: Any, client_as: ClientAs
) -> None:
    settings.AIPS_ETP_FEED_SETTLE_SECONDS = 0
    settings.AIPS_ETP_REPEAT_REDUCTION_PERCENT = 10
    settings.AIPS_ETP_REPEAT_AFTER_DAYS = 7
    anon = client_as(None)
    auction = closed(personas, three, at)
    closed_at = auction.closed_at
    since = start_of(anon)
    mails_before = OutboxMessage.objects.filter(to=personas[P1].email).count()
    # The winner refuses; the runner-up is offered the lot and lets its deadline pass.
    at.move(hours=2)
    first = Contract.objects.get(auction=auction, rank=1)
    contracts.contract_refuse(actor=personas[P2], contract=first, reason="changed our mind")
    auction.refresh_from_db()
    assert auction.state == AuctionState.CLOSED  # the runner-up may still buy
    assert not Auction.objects.filter(repeat_of=auction).exists()
    second = Contract.objects.get(auction=auction, rank=2)
    at.at(second.sign_deadline + timedelta(seconds=1))
    assert contracts_tick(now=at.now) == "lapsed 1, reminded 0"
    failed_at = at.now

    # The procedure's contracting is unsuccessful, and so is the attempt, which keeps its
    # close and its winner (the protocol says who won the bidding).
    assert Contract.objects.get(pk=second.pk).state == ContractState.LAPSED
    assert AuctionResult.objects.get(auction=auction).outcome == ResultOutcome.UNSUCCESSFUL
    auction.refresh_from_db()
    assert auction.state == AuctionState.UNSUCCESSFUL
    assert auction.outcome_reason == "no_contract"
    assert auction.closed_at == closed_at
    assert auction.winning_amount == Decimal("1100.00")
    assert deposit_state(three, personas[P2]) == DepositState.RETAINED
    assert deposit_state(three, personas[C1]) == DepositState.RETAINED

    # The repeat: the next attempt in the chain, 10 % lower, a week later, the same rule set.
    repeat = Auction.objects.get(repeat_of=auction)
    assert (repeat.attempt, repeat.state, repeat.rule) == (2, AuctionState.SCHEDULED, "ascending")
    assert repeat.start_price == Decimal("900.00")
    assert repeat.min_step == auction.min_step
    assert repeat.starts_at == failed_at + timedelta(days=7)
    assert repeat.ends_at - repeat.starts_at == timedelta(minutes=auction.duration_minutes)
    chain = selectors.lot_auctions(three.lot_id)
    assert [(a.attempt, a.state) for a in chain][-2:] == [
        (1, AuctionState.UNSUCCESSFUL),
        (2, AuctionState.SCHEDULED),
    ]
    # The lot's public page shows both attempts, the first unsuccessful, the repeat scheduled.
    page = anon.get(f"/lots/{three.lot_id}/").content.decode()
    attempts = page[page.index('id="auction-title"') :]
    assert "Attempt 1" in attempts
    assert "Attempt 2" in attempts
    assert "Unsuccessful" in attempts
    assert "900.00" in attempts
    # The attempt's live page says no contract was concluded, not who "won".
    live = anon.get(f"/auctions/{auction.pk}/").content.decode()
    assert "no contract was concluded" in live
    assert " won at " not in live

    # The journal: the outcome, the attempt unsuccessful, the repeat scheduled (by the platform).
    events = list(
        AuditEvent.objects.filter(target_id__in=[str(auction.pk), str(repeat.pk)])
        .order_by("seq")
        .values_list("event", "details")
    )
    names = [name for name, _details in events]
    assert names[-3:] == ["auction:outcome", "auction:unsuccessful", "auction:scheduled"]
    assert events[-2][1]["reason"] == "no_contract"
    assert events[-1][1]["repeat_of"] == auction.pk
    assert events[-1][1]["attempt"] == 2

    # The public feed: the same two entries every unsuccessful attempt with a repeat gets.
    changes = read_all(anon, since)
    assert [c["kind"] for c in changes] == ["auction_unsuccessful", "repeat_scheduled"]
    unsuccessful, repeated = (c["data"] for c in changes)
    assert unsuccessful == {
        "auction_id": auction.pk,
        "attempt": 1,
        "reason": "no_contract",
        "closed_at": feed.iso(closed_at) if closed_at else None,
    }
    assert repeated["auction_id"] == repeat.pk
    assert repeated["repeat_of"] == auction.pk
    assert repeated["start_price"] == "900.00"
    assert datetime.fromisoformat(repeated["starts_at"]) == repeat.starts_at
    for change in changes:
        assert_public(change, identities(personas, three))

    # The notices: every admitted participant hears of the repeat (in-app and e-mail), the
    # seller of the outcome with the repeat's start; nobody else.
    start = timezone.localtime(repeat.starts_at).strftime("%Y-%m-%d %H:%M")
    for name in (P1, C1, P2):
        assert kinds(personas[name], auction)[-1] == "etp.auction.repeat_scheduled"
    note = Notification.objects.get(user=personas[P1], kind="etp.auction.repeat_scheduled")
    assert "no contract was concluded with the winner or the runner-up" in note.texts["en"]
    assert "900.00" in note.texts["en"]
    assert start in note.texts["en"]
    assert set(note.texts) == {"en", "kk", "ru"}
    assert OutboxMessage.objects.filter(to=personas[P1].email).count() > mails_before
    outcome = Notification.objects.filter(user=personas[SELLER], kind="etp.auction.outcome").get()
    assert "A repeat auction starts at" in outcome.texts["en"]
    assert "900.00" in outcome.texts["en"]
    for name in ("seller_a_signatory", "operator_auctioneer", "operator_admin"):
        assert "etp.auction.repeat_scheduled" not in kinds(personas[name], auction)

    # The repeat runs like any attempt: it opens, takes bids and closes with its own results.
    at.at(repeat.starts_at)
    assert services.auction_tick(now=at.now) == "opened 1, ended 0"
    repeat.refresh_from_db()
    assert repeat.state == AuctionState.RUNNING
    bid(personas, P1, repeat, "900.00", "900.00")
    at.at(repeat.ends_at + timedelta(seconds=1))
    services.auction_tick(now=at.now)
    assert results.results_tick(now=at.now) == "results 1"
    repeat.refresh_from_db()
    assert repeat.state == AuctionState.CLOSED
    assert repeat.winning_amount == Decimal("900.00")
    offer = Contract.objects.get(auction=repeat, rank=1)
    assert offer.application.organization == personas[P1].organization
    assert repeat.protocol.sha256
    # A loser whose deposit was settled at the first attempt is not told it is "held".
    told = Notification.objects.filter(user=personas[C1], kind="etp.auction.results")
    loser = told.order_by("-id").first()
    assert loser is not None
    assert "you did not win" in loser.texts["en"]
    assert "stays held" not in loser.texts["en"]


def test_r57_28_runner_up_off_a_refusal_repeats_at_once(
    personas: dict[str, User], three: Procedure, at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_RUNNER_UP_OFFER = False
    auction = closed(personas, three, at)
    first = Contract.objects.get(auction=auction, rank=1)
    at.at(first.sign_deadline + timedelta(seconds=1))
    contracts_tick(now=at.now)  # the winner misses its deadline
    assert not Contract.objects.filter(auction=auction, rank=2).exists()
    auction.refresh_from_db()
    assert (auction.state, auction.outcome_reason) == (AuctionState.UNSUCCESSFUL, "no_contract")
    repeat = Auction.objects.get(repeat_of=auction)
    assert repeat.start_price == Decimal("900.00")
    assert repeat.starts_at == at.now + timedelta(days=7)
    assert kinds(personas[C1], auction)[-1] == "etp.auction.repeat_scheduled"


def test_r57_28_a_failed_contracting_at_the_floor_is_not_repeated(
    personas: dict[str, User], three: Procedure, at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_REPEAT_FLOOR_PERCENT = 100  # the first attempt already stands at the floor
    settings.AIPS_ETP_RUNNER_UP_OFFER = False
    auction = closed(personas, three, at)
    first = Contract.objects.get(auction=auction, rank=1)
    contracts.contract_refuse(actor=personas[P2], contract=first, reason="no")
    auction.refresh_from_db()
    assert (auction.state, auction.outcome_reason) == (AuctionState.UNSUCCESSFUL, "no_contract")
    assert not Auction.objects.filter(repeat_of=auction).exists()
    assert kinds(personas[P1], auction)[-1] == "etp.auction.unsuccessful"
    outcome = Notification.objects.get(user=personas[SELLER], kind="etp.auction.outcome")
    assert "A repeat auction" not in outcome.texts["en"]
    assert AuditEvent.objects.filter(
        event="auction:unsuccessful", target_id=str(auction.pk), details__reason="no_contract"
    ).exists()


def test_no_repeat_while_the_runner_up_may_buy_nor_after_a_sale(
    personas: dict[str, User], three: Procedure, at: Clock, pki: TestPki
) -> None:
    auction = closed(personas, three, at)
    first = Contract.objects.get(auction=auction, rank=1)
    contracts.contract_refuse(actor=personas[P2], contract=first, reason="no")
    auction.refresh_from_db()
    assert auction.state == AuctionState.CLOSED  # the runner-up's offer stands
    second = sign_contract(Contract.objects.get(auction=auction, rank=2), personas[C1], pki)
    contracts.contract_payment_confirm(actor=personas["operator_admission"], contract=second)
    assert AuctionResult.objects.get(auction=auction).outcome == ResultOutcome.SOLD
    auction.refresh_from_db()
    assert auction.state == AuctionState.CLOSED
    assert not Auction.objects.filter(repeat_of=auction).exists()
    # Called again for a settled attempt, the repeat's entry does nothing.
    assert services.contracting_failed(auction_id=auction.pk, now=at.now) is None
