"""Writes of auctions and bids. The server's clock (`clock.now`) decides every state change; the
auction's row lock (`select_for_update`) gives its bids one order, and every bid, accepted or
refused, is appended to the auction's chain (chain.py) in that order.

- `auction_schedule`: the operator's auctioneer (`auction:run`) schedules a procedure's first
  attempt with its rule set and parameters.
- `bid_place`: an admitted participant of the procedure bids (`auction:bid`).
- `auction_tick`: the worker opens due auctions and closes ended ones (safe on several workers:
  rows are claimed with SKIP LOCKED on PostgreSQL), declares the unsuccessful ones and
  schedules their repeat at a reduced start price."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Q
from django.utils.translation import gettext as _

from aips.core import deferred
from aips.core.access import ensure_perm
from aips.core.actors import Actor, SystemActor
from aips.core.errors import AppError, Conflict, Forbidden, ValidationFailed
from aips.core.ratelimit import hit
from aips.etp.applications.models import Application, ApplicationState, Procedure
from aips.etp.auctions import chain, clock, live, live_notices, policy, rules
from aips.etp.auctions.models import (
    Auction,
    AuctionPhase,
    AuctionResult,
    AuctionRule,
    AuctionState,
    Bid,
    ResultOutcome,
)
from aips.etp.lots.models import LotState
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999999.99")
TICK_BATCH = 100
_UNREAD: Any = object()
WORKER = SystemActor(label="worker")


class BidRefused(AppError):
    """A bid the rules refused; it is in the chain all the same."""

    status = 409

    def __init__(self, bid: Bid, current_price: Decimal) -> None:
        refusal = rules.Refusal(bid.refusal)
        messages = {
            rules.Refusal.NOT_STARTED: _("The auction has not started."),
            rules.Refusal.ENDED: _("The auction has ended."),
            rules.Refusal.STALE_PRICE: _("The price has changed; the current price is %(price)s."),
            rules.Refusal.BELOW_MINIMUM: _("The bid is below the minimum of %(price)s."),
            rules.Refusal.NOT_CURRENT_PRICE: _("Accept exactly the current price, %(price)s."),
            rules.Refusal.ALREADY_BID: _("You have already bid in this round."),
            rules.Refusal.NOT_ACCEPTER: _("This round is not yours to bid in."),
            rules.Refusal.NOT_ADMITTED: _("You are not admitted to this auction."),
        }
        super().__init__(
            messages[refusal] % {"price": f"{current_price:.2f}"},
            code=refusal.value,
            status=403 if refusal == rules.Refusal.NOT_ADMITTED else 409,
            fields={"current_price": [f"{current_price:.2f}"]},
        )
        self.bid = bid
        self.current_price = current_price


def _money(name: str, value: Decimal, *, positive: bool = True) -> Decimal:
    if not value.is_finite() or value < 0 or (positive and value == 0) or value > MAX_AMOUNT:
        raise ValidationFailed.field(name, _("Enter a positive amount."))
    if value != value.quantize(CENT):
        raise ValidationFailed.field(name, _("At most two decimal places."))
    return value.quantize(CENT)


def _organization_of(auction: Auction) -> int:
    return int(auction.procedure.lot.organization_id)


@transaction.atomic
def auction_schedule(
    *,
    actor: Actor,
    procedure: Procedure,
    rule: str = "",
    starts_at: datetime | None = None,
    duration_minutes: int = 60,
    start_price: Decimal | None = None,
    min_step: Decimal = CENT,
    extension_minutes: int = 5,
    floor_price: Decimal = Decimal(0),
    descending_step: Decimal = CENT,
    descending_interval_seconds: int = 60,
    sealed_round_minutes: int = 10,
) -> Auction:
    """The procedure's first attempt (repeats are scheduled by the tick). The start defaults to
    the procedure's announced auction start, the start price to the lot's."""
    ensure_perm(actor, EtpPerm.AUCTION_RUN)
    if not isinstance(actor, User):
        raise Conflict(_("Only a person schedules an auction."))
    lot = procedure.lot
    if lot.state != LotState.PUBLISHED:
        raise Conflict(_("An auction is scheduled only for a published lot."))
    if Auction.objects.filter(procedure=procedure).exists():
        raise Conflict(_("This procedure already has an auction."))
    rule = rule or procedure.kind
    if rule not in AuctionRule.values:
        raise ValidationFailed.field("rule", _("Choose a rule set."))
    now = clock.now()
    starts_at = starts_at or procedure.auction_start
    if starts_at <= now:
        raise ValidationFailed.field("starts_at", _("The auction must start in the future."))
    if starts_at < procedure.application_deadline:
        raise ValidationFailed.field(
            "starts_at", _("The auction starts after the application deadline.")
        )
    price = _money("start_price", start_price if start_price is not None else lot.start_price)
    step = _money("min_step", min_step)
    floor = _money("floor_price", floor_price, positive=False)
    down = _money("descending_step", descending_step)
    for name, minutes in (
        ("duration_minutes", duration_minutes),
        ("extension_minutes", extension_minutes),
        ("sealed_round_minutes", sealed_round_minutes),
        ("descending_interval_seconds", descending_interval_seconds),
    ):
        if not 1 <= minutes <= 10_000:
            raise ValidationFailed.field(name, _("Enter a whole number from 1 to 10000."))
    if rule == AuctionRule.DESCENDING and floor >= price:
        raise ValidationFailed.field("floor_price", _("The floor must be below the start price."))
    auction = Auction(
        procedure=procedure,
        attempt=1,
        rule=rule,
        start_price=price,
        min_step=step,
        extension_minutes=extension_minutes,
        duration_minutes=duration_minutes,
        floor_price=floor,
        descending_step=down,
        descending_interval_seconds=descending_interval_seconds,
        sealed_round_minutes=sealed_round_minutes,
        sealed_finish=policy.dutch_sealed_finish(),
        starts_at=starts_at,
        ends_at=starts_at,
        scheduled_by=actor,
        created_at=now,
    )
    auction.ends_at = _planned_end(auction)
    auction.save()
    _journal_scheduled(actor, auction)
    live_notices.scheduled(auction)
    return auction


def _planned_end(auction: Auction) -> datetime:
    if auction.rule == AuctionRule.DESCENDING:
        return rules.dutch_ends_at(auction.params(), auction.starts_at)
    return auction.starts_at + timedelta(minutes=auction.duration_minutes)


def _journal_scheduled(actor: Actor, auction: Auction) -> None:
    record(
        actor=actor,
        event=EventType.AUCTION_SCHEDULED,
        target=auction,
        organization_id=_organization_of(auction),
        details={
            "procedure": auction.procedure_id,
            "attempt": auction.attempt,
            "repeat_of": auction.repeat_of_id,
            "rule": auction.rule,
            "start_price": str(auction.start_price),
            "starts_at": auction.starts_at.isoformat(),
            "ends_at": auction.ends_at.isoformat(),
        },
    )


def bid_place(*, actor: Actor, auction: Auction, amount: Decimal, seen_price: Decimal) -> Bid:
    """One bid of the acting participant. Accepted: the bid. Refused: `BidRefused` (409, or 403
    for a participant not admitted) after the refused bid is committed to the chain. Over the
    rate limit: 429 and nothing is recorded (a flood must not fill the chain)."""
    ensure_perm(actor, EtpPerm.AUCTION_BID)
    if not isinstance(actor, User):
        raise Forbidden()
    amount = _money("amount", amount)
    seen_price = _money("seen_price", seen_price, positive=False)
    hit("etp-bid", str(actor.organization_id), policy.bid_rate())
    # Who bids is read before the auction's row is locked: every statement inside the lock is
    # one that every other bid of this auction waits for. The admission read here is the one
    # in force when the bid arrived, which is what the chain records.
    application_id = auction.__dict__.get("bidder_application", _UNREAD)
    if application_id is _UNREAD:  # not read with the auction (selectors.get_biddable_auction)
        application_id = (
            Application.objects.filter(
                procedure_id=auction.procedure_id,
                organization_id=actor.organization_id,
                state=ApplicationState.ADMITTED,
            )
            .values_list("pk", flat=True)
            .first()
        )
    bid, current = _bid_record(
        actor=actor,
        auction_id=auction.pk,
        application_id=application_id,
        amount=amount,
        seen=seen_price,
    )
    if not bid.accepted:
        raise BidRefused(bid, current)
    return bid


# The columns an accepted bid can change; a refused one changes the first two only. Saving only
# these keeps the locked UPDATE small and never rewrites what a concurrent close may have set.
_CHAIN_COLUMNS = ["bid_count", "head_hash"]
_STATE_COLUMNS = [
    "ends_at",
    "phase",
    "best_amount",
    "best_application",
    "accepted_price",
    "accepter",
]


def _update_sql(names: list[str]) -> "tuple[str, list[Field[Any, Any]]]":
    fields = [Auction._meta.get_field(name) for name in names]
    concrete = [f for f in fields if isinstance(f, Field)]
    sets = ", ".join(f"{f.column} = %s" for f in concrete)
    statement = f"UPDATE {Auction._meta.db_table} SET {sets} WHERE id = %s"  # noqa: S608
    return statement, concrete


# The locked part of a bid as written-out statements, made once from the model's metadata: every
# bid of the auction waits while the one before it holds the lock, so its Python counts too.
# SQLite has no row locks: its transactions (BEGIN IMMEDIATE) already run one at a time.
_SELECT_LOCKED = f"SELECT * FROM {Auction._meta.db_table} WHERE id = %s FOR UPDATE"  # noqa: S608
_SELECT_ONE = f"SELECT * FROM {Auction._meta.db_table} WHERE id = %s"  # noqa: S608
_UPDATE_CHAIN = _update_sql(_CHAIN_COLUMNS)
_UPDATE_STATE = _update_sql(_CHAIN_COLUMNS + _STATE_COLUMNS)


def _locked(auction_id: int) -> Auction:
    """The auction's row, locked (`raw`: no query building under the lock)."""
    statement = _SELECT_LOCKED if connection.features.has_select_for_update else _SELECT_ONE
    found = list(Auction.objects.raw(statement, [auction_id]))
    if not found:
        raise Auction.DoesNotExist()
    locked: Auction = found[0]
    return locked


def _write_columns(auction: Auction, *, state: bool) -> None:
    """`auction.save(update_fields=…)` of the chain's columns (and the state's) as one
    written-out UPDATE."""
    statement, fields = _UPDATE_STATE if state else _UPDATE_CHAIN
    values = [f.get_db_prep_save(getattr(auction, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, auction.pk])


@transaction.atomic
def _bid_record(
    *,
    actor: User,
    auction_id: int,
    application_id: int | None,
    amount: Decimal,
    seen: Decimal,
) -> tuple[Bid, Decimal]:
    """The locked part of a bid: as few statements as the chain allows (lock, insert, update),
    since every bid of the auction queues behind them."""
    auction = _locked(auction_id)
    now = clock.now()
    if auction.state == AuctionState.SCHEDULED and auction.starts_at <= now:
        _open(auction, now)  # the worker has not come round yet; the clock has
    state = auction.rule_state()
    if rules.hidden(state):
        done = Bid.objects.filter(auction=auction, accepted=True, phase=auction.phase)
        state = replace(
            state, bid_in_phase=frozenset(done.values_list("application_id", flat=True))
        )
    if application_id is None:
        decision = rules.Decision(False, rules.Refusal.NOT_ADMITTED)
    elif auction.state != AuctionState.RUNNING:
        refusal = (
            rules.Refusal.NOT_STARTED
            if auction.state == AuctionState.SCHEDULED
            else rules.Refusal.ENDED
        )
        decision = rules.Decision(False, refusal)
    else:
        offer = rules.Offer(bidder=application_id, amount=amount, seen_price=seen)
        decision = rules.judge(state, offer, now)
    bid = Bid(
        auction=auction,
        sequence=auction.bid_count + 1,
        application_id=application_id,
        organization_id=actor.organization_id,
        placed_by=actor,
        amount=amount,
        seen_price=seen,
        phase=auction.phase,
        accepted=decision.accepted,
        refusal=decision.refusal.value if decision.refusal else "",
        at=now,
        prev_hash=auction.head_hash,
    )
    bid.hash = chain.bid_hash(bid)
    bid.save(force_insert=True)
    # What the notices compare with (live_notices.bid_accepted): the leader and end before.
    led_before, ends_before = auction.best_application_id, auction.ends_at
    auction.bid_count = bid.sequence
    auction.head_hash = bid.hash
    moved = False  # the state's columns change too (an accepted bid)
    if decision.accepted and decision.state is not None:
        after = decision.state
        auction.ends_at = after.ends_at
        auction.phase = after.phase.value
        auction.best_amount = after.best_amount
        auction.best_application_id = after.best_bidder
        auction.accepted_price = after.accepted_price
        auction.accepter_id = after.accepter
        moved = True
    _write_columns(auction, state=moved)
    if decision.accepted:
        live.changed(auction)  # the live view's event, once committed (a refusal shows nothing)
        _tell_after_commit(auction, led_before, ends_before, hidden=rules.hidden(state))
    if decision.finished:
        _close(auction, now)
    shown = (
        rules.shown_price(auction.rule_state(), now)
        if auction.state == AuctionState.RUNNING
        else (auction.best_amount or auction.start_price)
    )
    return bid, shown


def _tell_after_commit(
    auction: Auction, led_before: int | None, ends_before: datetime, *, hidden: bool
) -> None:
    """The outbid and extension notices of an accepted bid, written in their own transaction
    once the bid has committed, by the process's background thread (core.deferred), so neither
    the auction's row lock nor the bidder's answer waits for them. A crash before they are
    written loses them (the bid stands, the live view shows it); a failure writing them is
    logged and never fails the accepted bid. The won and results notices are not these: they
    are the results job's transaction (results.py)."""

    def tell() -> None:
        with transaction.atomic():
            live_notices.bid_accepted(
                auction, outbid=led_before, ends_before=ends_before, hidden=hidden
            )

    deferred.after_commit(tell, name="auction.bid_notices")


def _admitted_count(auction: Auction) -> int:
    return Application.objects.filter(
        procedure_id=auction.procedure_id, state=ApplicationState.ADMITTED
    ).count()


def _open(auction: Auction, now: datetime) -> None:
    admitted = _admitted_count(auction)
    if admitted < policy.min_bidders():
        _unsuccessful(auction, now, "no_admitted" if admitted == 0 else "too_few_admitted")
        return
    auction.state = AuctionState.RUNNING
    auction.save(update_fields=["state"])
    live.changed(auction)
    record(
        actor=WORKER,
        event=EventType.AUCTION_STARTED,
        target=auction,
        organization_id=_organization_of(auction),
        details={"admitted": admitted, "ends_at": auction.ends_at.isoformat()},
    )
    live_notices.started(auction, admitted=admitted)


def _end(auction: Auction, now: datetime) -> None:
    """The end has passed: the next round of a Dutch sealed finish, or the close."""
    following = rules.next_phase(auction.rule_state())
    if following is not None:
        auction.phase = following.phase.value
        auction.ends_at = following.ends_at
        auction.save(update_fields=["phase", "ends_at"])
        live.changed(auction)
        return
    _close(auction, now)


def _close(auction: Auction, now: datetime) -> None:
    accepted = Bid.objects.filter(auction=auction, accepted=True).values_list(
        "sequence", "application_id", "amount"
    )
    best = rules.winner([rules.PlacedBid(s, int(a), m) for s, a, m in accepted])
    if best is None:
        _unsuccessful(auction, now, "no_bid")
        return
    auction.state = AuctionState.CLOSED
    auction.winner_id = best.bidder
    auction.winning_amount = best.amount
    auction.outcome_reason = "won"
    auction.closed_at = now
    auction.save()
    live.changed(auction)
    record(
        actor=WORKER,
        event=EventType.AUCTION_CLOSED,
        target=auction,
        organization_id=_organization_of(auction),
        details={
            "winner_application": best.bidder,
            "amount": str(best.amount),
            "winning_bid": best.sequence,
            # The bid chain's head, so the journal's signed checkpoints cover the bids.
            "bids": auction.bid_count,
            "chain_head": auction.head_hash,
        },
    )
    live_notices.closed(auction)
    # The results (protocol, contract offer, deposits, notices) are the results job's own
    # transaction (results.results_tick), so the close commits, and shows, at once.


def _unsuccessful(auction: Auction, now: datetime, reason: str) -> Auction | None:
    """The attempt is unsuccessful: journaled, its repeat scheduled (unless at the floor), the
    feed and the admitted told. Returns the repeat. An attempt that closed with a winner and
    then found no buyer (`no_contract`) keeps its close time, winner and winning amount."""
    auction.state = AuctionState.UNSUCCESSFUL
    auction.outcome_reason = reason
    auction.closed_at = auction.closed_at or now
    auction.save()
    live.changed(auction)
    record(
        actor=WORKER,
        event=EventType.AUCTION_UNSUCCESSFUL,
        target=auction,
        organization_id=_organization_of(auction),
        details={"reason": reason, "bids": auction.bid_count, "chain_head": auction.head_hash},
    )
    repeat = _schedule_repeat(auction, now)
    live_notices.unsuccessful(auction, repeat)
    return repeat


def contracting_failed(*, auction_id: int, now: datetime) -> Auction | None:
    """Neither the winner nor the runner-up concluded the contract (contracts.py, in its
    transaction): the attempt, closed with a winner, becomes unsuccessful (`no_contract`) and is
    repeated like any other unsuccessful attempt. Returns the repeat; None when none follows
    (the floor), or when the attempt is no longer closed or its results are not unsuccessful
    (nothing to do). The platform's rule decides it, so the journal names the worker, as for
    the other unsuccessful attempts."""
    auction = (
        Auction.objects.select_for_update(of=("self",))
        .select_related("procedure__lot")
        .get(pk=auction_id)
    )
    failed = AuctionResult.objects.filter(auction_id=auction_id, outcome=ResultOutcome.UNSUCCESSFUL)
    if auction.state != AuctionState.CLOSED or not failed.exists():
        return None
    return _unsuccessful(auction, now, "no_contract")


def _schedule_repeat(auction: Auction, now: datetime) -> Auction | None:
    first = Auction.objects.get(procedure_id=auction.procedure_id, attempt=1)
    price = rules.repeat_start_price(
        first=first.start_price,
        previous=auction.start_price,
        reduction_percent=policy.repeat_reduction_percent(),
        floor_percent=policy.repeat_floor_percent(),
    )
    if price is None:
        return None
    ratio = price / auction.start_price
    starts_at = now + timedelta(days=policy.repeat_after_days())
    repeat = Auction(
        procedure_id=auction.procedure_id,
        attempt=auction.attempt + 1,
        repeat_of=auction,
        rule=auction.rule,
        start_price=price,
        min_step=auction.min_step,
        extension_minutes=auction.extension_minutes,
        duration_minutes=auction.duration_minutes,
        floor_price=(auction.floor_price * ratio).quantize(CENT),
        descending_step=auction.descending_step,
        descending_interval_seconds=auction.descending_interval_seconds,
        sealed_round_minutes=auction.sealed_round_minutes,
        sealed_finish=auction.sealed_finish,
        starts_at=starts_at,
        ends_at=starts_at,
        created_at=now,
    )
    repeat.ends_at = _planned_end(repeat)
    repeat.save()
    _journal_scheduled(WORKER, repeat)
    return repeat


def auction_tick(*, now: datetime | None = None) -> str:
    """Open the auctions whose start has come and end those whose end has passed, each in its
    own short transaction, so each close is public as soon as it commits (the worker runs this
    job outside its own transaction: `concurrent` in jobs.py). Each
    auction is claimed by its row lock and its state is checked again under it; another worker
    holding it is skipped (SKIP LOCKED), so ticks on several workers never handle one auction
    twice. The results of a close with a winner are the results job's (results.results_tick)."""
    now = now or clock.now()
    due = Auction.objects.select_for_update(skip_locked=True, of=("self",)).select_related(
        "procedure__lot"
    )
    opening = Q(state=AuctionState.SCHEDULED, starts_at__lte=now)
    ending = Q(state=AuctionState.RUNNING, ends_at__lte=now)
    opened = ended = 0
    for pk in _due_ids(opening, "starts_at"):
        with transaction.atomic():
            auction = due.filter(opening, pk=pk).first()
            if auction is not None:
                _open(auction, now)
                opened += 1
    for pk in _due_ids(ending, "ends_at"):
        with transaction.atomic():
            auction = due.filter(ending, pk=pk).first()
            if auction is not None:
                _end(auction, now)
                ended += 1
    return f"opened {opened}, ended {ended}"


def _due_ids(condition: Q, moment: str) -> list[int]:
    """The candidates, read without a lock; each is claimed (and checked again) on its own."""
    due = Auction.objects.filter(condition).order_by(moment, "pk")
    return list(due.values_list("pk", flat=True)[:TICK_BATCH])


__all__ = ["AuctionPhase", "BidRefused", "auction_schedule", "auction_tick", "bid_place"]
