"""The rule sets on a controlled clock: pure functions, no database."""

from datetime import datetime, timedelta
from decimal import Decimal

from aips.etp.auctions import rules
from aips.etp.auctions.rules import Offer, Params, Phase, Refusal, Rule, State

T0 = datetime.fromisoformat("2026-12-13T10:00:00+05:00")
D = Decimal


def ascending(**kw: object) -> State:
    params = Params(
        Rule.ASCENDING, D("1000.00"), min_step=D("50.00"), extension=timedelta(minutes=5)
    )
    return State(params=params, starts_at=T0, ends_at=T0 + timedelta(hours=1), **kw)  # type: ignore[arg-type]


def test_ascending_first_bid_at_least_the_start_price() -> None:
    state = ascending()
    now = T0 + timedelta(minutes=1)
    assert (
        rules.judge(state, Offer(1, D("999.99"), D("1000.00")), now).refusal
        == Refusal.BELOW_MINIMUM
    )
    decision = rules.judge(state, Offer(1, D("1000.00"), D("1000.00")), now)
    assert decision.accepted
    assert decision.state is not None
    assert decision.state.best_amount == D("1000.00")
    assert decision.state.best_bidder == 1


def test_ascending_bid_below_the_step_is_refused() -> None:
    state = ascending(best_amount=D("1000.00"), best_bidder=1)
    now = T0 + timedelta(minutes=2)
    below = rules.judge(state, Offer(2, D("1049.99"), D("1050.00")), now)
    assert not below.accepted
    assert below.refusal == Refusal.BELOW_MINIMUM
    assert rules.judge(state, Offer(2, D("1050.00"), D("1050.00")), now).accepted


def test_ascending_bid_at_the_last_second_extends_the_end() -> None:
    state = ascending(best_amount=D("1000.00"), best_bidder=1)
    last_second = state.ends_at - timedelta(seconds=1)
    decision = rules.judge(state, Offer(2, D("1050.00"), D("1050.00")), last_second)
    assert decision.accepted
    assert decision.state is not None
    assert decision.state.ends_at == last_second + timedelta(minutes=5)


def test_ascending_bid_before_the_window_does_not_move_the_end() -> None:
    state = ascending()
    early = state.ends_at - timedelta(minutes=5, seconds=1)
    decision = rules.judge(state, Offer(1, D("1000.00"), D("1000.00")), early)
    assert decision.state is not None
    assert decision.state.ends_at == state.ends_at


def test_a_bid_at_or_after_the_end_or_before_the_start_is_refused() -> None:
    state = ascending()
    offer = Offer(1, D("1000.00"), D("1000.00"))
    assert rules.judge(state, offer, state.ends_at).refusal == Refusal.ENDED
    assert rules.judge(state, offer, state.ends_at + timedelta(hours=1)).refusal == Refusal.ENDED
    assert rules.judge(state, offer, T0 - timedelta(seconds=1)).refusal == Refusal.NOT_STARTED


def test_a_stale_seen_price_is_refused() -> None:
    state = ascending(best_amount=D("1100.00"), best_bidder=1)
    # The participant saw the start price; a bid of 1100 has come in since.
    decision = rules.judge(state, Offer(2, D("1200.00"), D("1000.00")), T0 + timedelta(minutes=3))
    assert decision.refusal == Refusal.STALE_PRICE
    assert rules.shown_price(state, T0) == D("1150.00")


def dutch(finish: bool = False) -> State:
    params = Params(
        Rule.DESCENDING,
        D("1000.00"),
        floor_price=D("700.00"),
        descending_step=D("100.00"),
        descending_interval=timedelta(minutes=1),
        sealed_round=timedelta(minutes=10),
        sealed_finish=finish,
    )
    return State(params=params, starts_at=T0, ends_at=rules.dutch_ends_at(params, T0))


def test_dutch_price_falls_by_step_and_stops_at_the_floor() -> None:
    state = dutch()
    p = state.params
    assert rules.dutch_price(p, T0, T0) == D("1000.00")
    assert rules.dutch_price(p, T0, T0 + timedelta(seconds=59)) == D("1000.00")
    assert rules.dutch_price(p, T0, T0 + timedelta(minutes=1)) == D("900.00")
    assert rules.dutch_price(p, T0, T0 + timedelta(minutes=3)) == D("700.00")
    assert rules.dutch_price(p, T0, T0 + timedelta(minutes=3, seconds=59)) == D("700.00")
    # Three steps to the floor, then one interval at it.
    assert state.ends_at == T0 + timedelta(minutes=4)


def test_dutch_first_acceptance_wins_without_the_sealed_finish() -> None:
    state = dutch()
    now = T0 + timedelta(minutes=2, seconds=5)
    assert rules.judge(state, Offer(1, D("900.00"), D("800.00")), now).refusal == (
        Refusal.NOT_CURRENT_PRICE
    )
    decision = rules.judge(state, Offer(1, D("800.00"), D("800.00")), now)
    assert decision.accepted
    assert decision.finished
    assert decision.state is not None
    assert decision.state.ends_at == now


def test_dutch_sealed_finish_then_best_bid_for_the_accepter() -> None:
    state = dutch(finish=True)
    now = T0 + timedelta(minutes=1)
    accepted = rules.judge(state, Offer(1, D("900.00"), D("900.00")), now)
    assert accepted.accepted
    assert not accepted.finished
    assert accepted.state is not None
    sealed = accepted.state
    assert sealed.phase == Phase.SEALED
    assert sealed.ends_at == now + timedelta(minutes=10)
    assert rules.hidden(sealed)
    # The sealed round: the others, at least the accepted price, once each; not the accepter.
    later = now + timedelta(minutes=1)
    assert rules.judge(sealed, Offer(1, D("950.00"), D("900.00")), later).refusal == (
        Refusal.NOT_ACCEPTER
    )
    low = rules.judge(sealed, Offer(2, D("899.99"), D("900.00")), later)
    assert low.refusal == Refusal.BELOW_MINIMUM
    bid = rules.judge(sealed, Offer(2, D("950.00"), D("900.00")), later)
    assert bid.accepted
    assert bid.state is not None
    assert rules.judge(bid.state, Offer(2, D("990.00"), D("900.00")), later).refusal == (
        Refusal.ALREADY_BID
    )
    # Then the best-bid round for the accepter alone, above the best sealed bid.
    best_round = rules.next_phase(bid.state)
    assert best_round is not None
    assert best_round.phase == Phase.BEST_BID
    end = best_round.ends_at
    moment = end - timedelta(minutes=1)
    assert rules.judge(best_round, Offer(2, D("999.00"), D("900.00")), moment).refusal == (
        Refusal.NOT_ACCEPTER
    )
    assert rules.judge(best_round, Offer(1, D("950.00"), D("900.00")), moment).refusal == (
        Refusal.BELOW_MINIMUM
    )
    assert rules.judge(best_round, Offer(1, D("950.01"), D("900.00")), moment).accepted
    assert rules.next_phase(best_round) is None


def test_sealed_bids_are_hidden_and_the_highest_wins_earlier_on_equal_amounts() -> None:
    params = Params(Rule.SEALED, D("500.00"))
    state = State(params=params, starts_at=T0, ends_at=T0 + timedelta(hours=1))
    assert rules.hidden(state)
    now = T0 + timedelta(minutes=5)
    assert rules.judge(state, Offer(1, D("499.00"), D("500.00")), now).refusal == (
        Refusal.BELOW_MINIMUM
    )
    first = rules.judge(state, Offer(1, D("700.00"), D("500.00")), now)
    assert first.accepted
    assert first.state is not None
    assert rules.judge(first.state, Offer(1, D("800.00"), D("500.00")), now).refusal == (
        Refusal.ALREADY_BID
    )
    bids = [
        rules.PlacedBid(1, 1, D("700.00")),
        rules.PlacedBid(2, 2, D("800.00")),
        rules.PlacedBid(3, 3, D("800.00")),
    ]
    best = rules.winner(bids)
    assert best is not None
    assert best.bidder == 2
    assert rules.winner([]) is None


def test_repeat_start_price_falls_by_the_percentage_down_to_the_floor() -> None:
    def step(previous: str) -> Decimal | None:
        return rules.repeat_start_price(
            first=D("1000.00"),
            previous=D(previous),
            reduction_percent=D(10),
            floor_percent=D(50),
        )

    assert step("1000.00") == D("900.00")
    assert step("900.00") == D("810.00")
    assert step("540.00") == D("500.00")  # 486 would be below the floor
    assert step("500.00") is None  # at the floor: no further repeat
