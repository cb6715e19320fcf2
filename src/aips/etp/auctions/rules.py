"""The auction rule sets, as pure functions of an auction's state and the server's clock: no
database, no clock of their own, so every edge is tested by handing them a moment. The services
(services.py) lock the auction's row, ask these functions, and write what they decide.

Three rule sets (`Rule`), each with its parameters (`Params`):

- **ascending** (English): the price shown is the least acceptable bid: the start price before
  any bid, then the best plus the minimal step (so it rises with every accepted bid and a view
  older than the last bid is always told apart). A bid must be at least that. A bid less
  than `extension` before the end moves the end to the bid's moment plus `extension`, so nobody
  can snipe; the auction ends when its end passes without a bid.
- **descending** (Dutch): the price falls from the start price by `descending_step` every
  `descending_interval` and stops at `floor_price`; it ends one interval after reaching the
  floor. A bid is an acceptance at exactly the current price. Without the sealed finish the first
  acceptance wins and ends the auction. With it (`sealed_finish`), the acceptance opens a sealed
  round of `sealed_round` for every admitted participant (bids at least the accepted price,
  hidden, one each), then a best-bid round of the same length for the accepter alone (one bid,
  above the best sealed bid).
- **sealed**: bids are hidden until the close, one per participant, at least the start price.

Everywhere: no bid before the start or from the end on; the price a participant saw
(`seen_price`) must be the price shown now, or the bid is refused as stale with the current
price; the winner is the highest accepted bid, and of equal amounts the earlier one (the
sequence number), so ties cannot happen."""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

CENT = Decimal("0.01")


class Rule(StrEnum):
    ASCENDING = "ascending"
    DESCENDING = "descending"
    SEALED = "sealed"


class Phase(StrEnum):
    MAIN = "main"
    SEALED = "sealed"  # the Dutch sealed finish: every admitted participant, hidden bids
    BEST_BID = "best_bid"  # then the accepter alone


class Refusal(StrEnum):
    NOT_STARTED = "not_started"
    ENDED = "ended"
    STALE_PRICE = "stale_price"
    BELOW_MINIMUM = "below_minimum"
    NOT_CURRENT_PRICE = "not_current_price"
    ALREADY_BID = "already_bid"
    NOT_ACCEPTER = "not_accepter"
    NOT_ADMITTED = "not_admitted"  # decided by the services (who is admitted), listed here


@dataclass(frozen=True)
class Params:
    rule: Rule
    start_price: Decimal
    min_step: Decimal = CENT
    extension: timedelta = timedelta(minutes=5)
    floor_price: Decimal = Decimal(0)
    descending_step: Decimal = CENT
    descending_interval: timedelta = timedelta(minutes=1)
    sealed_round: timedelta = timedelta(minutes=10)
    sealed_finish: bool = False


@dataclass(frozen=True)
class State:
    params: Params
    starts_at: datetime
    ends_at: datetime
    phase: Phase = Phase.MAIN
    best_amount: Decimal | None = None
    best_bidder: int | None = None  # the application
    accepted_price: Decimal | None = None  # descending: the price of the first acceptance
    accepter: int | None = None
    # Who has an accepted bid in the current phase (sealed rounds allow one each).
    bid_in_phase: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Offer:
    bidder: int  # the admitted application
    amount: Decimal
    seen_price: Decimal


@dataclass(frozen=True)
class Decision:
    accepted: bool
    refusal: Refusal | None = None
    state: State | None = None  # the state after an accepted bid
    finished: bool = False  # the bid ends the auction (a Dutch acceptance without the finish)


def dutch_price(params: Params, starts_at: datetime, now: datetime) -> Decimal:
    """The descending price at `now`: one step down per whole interval, never below the floor."""
    if now <= starts_at:
        return params.start_price
    steps = int((now - starts_at) / params.descending_interval)
    return max(params.floor_price, params.start_price - params.descending_step * steps)


def dutch_ends_at(params: Params, starts_at: datetime) -> datetime:
    """The end of a descending auction nobody accepts: one interval after the floor is reached."""
    span = max(Decimal(0), params.start_price - params.floor_price)
    steps = int((span / params.descending_step).to_integral_value(rounding=ROUND_CEILING))
    return starts_at + params.descending_interval * (steps + 1)


def shown_price(state: State, now: datetime) -> Decimal:
    """The price every participant and the public see, and the one a bid must name as seen."""
    p = state.params
    if p.rule == Rule.ASCENDING:
        return minimum_bid(state, now)
    if p.rule == Rule.DESCENDING:
        if state.phase == Phase.MAIN or state.accepted_price is None:
            return dutch_price(p, state.starts_at, now)
        return state.accepted_price
    return p.start_price


def minimum_bid(state: State, now: datetime) -> Decimal:
    """The least amount a bid may carry now (descending: exactly this in the main phase)."""
    p = state.params
    if p.rule == Rule.ASCENDING:
        if state.best_amount is None:
            return p.start_price
        return state.best_amount + p.min_step
    if p.rule == Rule.DESCENDING:
        if state.phase == Phase.MAIN:
            return dutch_price(p, state.starts_at, now)
        after_acceptance = state.accepted_price or p.start_price
        if state.phase == Phase.SEALED:
            return after_acceptance
        return (state.best_amount or after_acceptance) + CENT
    return p.start_price


def is_running(state: State, now: datetime) -> bool:
    return state.starts_at <= now < state.ends_at


def hidden(state: State) -> bool:
    """Whether bids are hidden until the close (sealed rule, the Dutch sealed rounds)."""
    return state.params.rule == Rule.SEALED or state.phase != Phase.MAIN


def judge(state: State, offer: Offer, now: datetime) -> Decision:
    """Accept or refuse one bid at `now` from an admitted participant."""
    if now < state.starts_at:
        return Decision(False, Refusal.NOT_STARTED)
    if now >= state.ends_at:
        return Decision(False, Refusal.ENDED)
    if offer.seen_price != shown_price(state, now):
        return Decision(False, Refusal.STALE_PRICE)
    p = state.params
    if p.rule == Rule.ASCENDING:
        return _ascending(state, offer, now)
    if p.rule == Rule.DESCENDING:
        return _descending(state, offer, now)
    return _sealed_bid(state, offer, now)


def _best(state: State, offer: Offer) -> State:
    """The state with `offer` counted: a new best only if strictly higher (earlier wins ties)."""
    if state.best_amount is None or offer.amount > state.best_amount:
        state = replace(state, best_amount=offer.amount, best_bidder=offer.bidder)
    return replace(state, bid_in_phase=state.bid_in_phase | {offer.bidder})


def _ascending(state: State, offer: Offer, now: datetime) -> Decision:
    if offer.amount < minimum_bid(state, now):
        return Decision(False, Refusal.BELOW_MINIMUM)
    after = _best(state, offer)
    extension = state.params.extension
    if state.ends_at - now < extension:
        after = replace(after, ends_at=now + extension)
    return Decision(True, state=after)


def _descending(state: State, offer: Offer, now: datetime) -> Decision:
    p = state.params
    if state.phase == Phase.MAIN:
        price = dutch_price(p, state.starts_at, now)
        if offer.amount != price:
            return Decision(False, Refusal.NOT_CURRENT_PRICE)
        after = replace(
            _best(state, offer),
            accepted_price=price,
            accepter=offer.bidder,
            bid_in_phase=frozenset(),
        )
        if not p.sealed_finish:
            return Decision(True, state=replace(after, ends_at=now), finished=True)
        return Decision(
            True, state=replace(after, phase=Phase.SEALED, ends_at=now + p.sealed_round)
        )
    if state.phase == Phase.SEALED:
        if offer.bidder == state.accepter:
            return Decision(False, Refusal.NOT_ACCEPTER)  # the accepter bids in the next round
        return _sealed_bid(state, offer, now)
    if offer.bidder != state.accepter:
        return Decision(False, Refusal.NOT_ACCEPTER)
    return _sealed_bid(state, offer, now)


def _sealed_bid(state: State, offer: Offer, now: datetime) -> Decision:
    if offer.bidder in state.bid_in_phase:
        return Decision(False, Refusal.ALREADY_BID)
    if offer.amount < minimum_bid(state, now):
        return Decision(False, Refusal.BELOW_MINIMUM)
    return Decision(True, state=_best(state, offer))


def next_phase(state: State) -> State | None:
    """At the end: the state of the next round (the Dutch sealed finish), or None when the
    auction is over."""
    if state.params.rule == Rule.DESCENDING and state.phase == Phase.SEALED:
        return replace(
            state,
            phase=Phase.BEST_BID,
            ends_at=state.ends_at + state.params.sealed_round,
            bid_in_phase=frozenset(),
        )
    return None


@dataclass(frozen=True)
class PlacedBid:
    sequence: int
    bidder: int
    amount: Decimal


def winner(bids: list[PlacedBid]) -> PlacedBid | None:
    """The highest accepted bid; of equal amounts the earlier (one order, so no tie)."""
    best: PlacedBid | None = None
    for bid in sorted(bids, key=lambda b: b.sequence):
        if best is None or bid.amount > best.amount:
            best = bid
    return best


def repeat_start_price(
    *, first: Decimal, previous: Decimal, reduction_percent: Decimal, floor_percent: Decimal
) -> Decimal | None:
    """The start price of the next attempt: the previous one less `reduction_percent`, not below
    `floor_percent` of the first attempt's; None when the previous already stood at the floor."""
    floor = (first * floor_percent / 100).quantize(CENT, rounding=ROUND_CEILING)
    if previous <= floor:
        return None
    reduced = (previous * (100 - reduction_percent) / 100).quantize(CENT, rounding=ROUND_CEILING)
    return max(reduced, floor)
