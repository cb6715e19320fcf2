"""The results of an auction closed with a winner (made by the worker's results job,
`etp.auctions.results`, every second, each in its own transaction after the close has
committed): the winner and the winning amount, the runner-up (the best bid
of another participant), the protocol's JSON (protocol.py), the losers' deposits returned (the
winner's stays held, and the runner-up's while the lot may still be offered to it), the
contract offered to the winner (contracts.py) and the notices. Journaled `auction:results`."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from aips.core.actors import Actor, Viewer
from aips.core.errors import NotFound
from aips.core.logging import get_logger
from aips.etp.applications.services import deposits_release
from aips.etp.auctions import clock, contracts, notices, policy, protocol
from aips.etp.auctions.models import Auction, AuctionResult, AuctionState, Bid, Contract
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record


def runner_up(auction: Auction) -> tuple[int, Decimal] | None:
    """The best accepted bid of a participant other than the winner: the highest amount, of
    equal amounts the earlier (the rule sets' own order)."""
    bids = (
        Bid.objects.filter(auction=auction, accepted=True, application__isnull=False)
        .exclude(application_id=auction.winner_id)
        .order_by("-amount", "sequence")
        .values_list("application_id", "amount")
    )
    best = bids.first()
    return (int(best[0]), best[1]) if best else None


def results_record(*, actor: Actor, auction: Auction, now: datetime) -> AuctionResult:
    """Everything the close of `auction` (state closed, winner set) decides."""
    if auction.winner_id is None or auction.winning_amount is None:
        raise ValueError("an auction without a winner has no results")
    second = runner_up(auction)
    result: AuctionResult = AuctionResult.objects.create(
        auction=auction,
        winner_id=auction.winner_id,
        winning_amount=auction.winning_amount,
        runner_up_id=second[0] if second else None,
        runner_up_amount=second[1] if second else None,
        created_at=now,
    )
    document = protocol.protocol_create(auction=auction, result=result, now=now)
    keep = {auction.winner_id}
    if second and policy.runner_up_offer():
        keep.add(second[0])
    returned = deposits_release(actor=actor, procedure=auction.procedure, keep=frozenset(keep))
    record(
        actor=actor,
        event=EventType.AUCTION_RESULTS,
        target=auction,
        organization_id=auction.procedure.lot.organization_id,
        details={
            "winner_application": auction.winner_id,
            "amount": str(auction.winning_amount),
            "runner_up_application": second[0] if second else None,
            "runner_up_amount": str(second[1]) if second else None,
            "protocol_sha256": document.sha256,
            "deposits_returned": [d.application.pk for d in returned],
        },
    )
    contracts.contract_offer(
        actor=actor,
        result=result,
        application_id=auction.winner_id,
        price=auction.winning_amount,
        rank=1,
        now=now,
    )
    notices.results_announced(result=result, returned={d.application.pk for d in returned})
    return result


RESULTS_BATCH = 20
log = get_logger("aips.etp.auctions.results")


def results_tick(*, now: datetime | None = None) -> str:
    """Make the results of the auctions closed with a winner that have none yet, each in its
    own transaction, exactly once: the auction's row is claimed with SKIP LOCKED (another
    worker holding it is skipped), the absence of results is checked again under the lock, and
    the results' one-per-auction constraint refuses a second set. A failure rolls back that
    auction's results alone; the next run tries again."""
    from aips.etp.auctions.services import WORKER

    now = now or clock.now()
    pending = (
        Auction.objects.filter(state=AuctionState.CLOSED, winner__isnull=False, result__isnull=True)
        .order_by("closed_at", "pk")
        .values_list("pk", flat=True)
    )
    made = 0
    failed = 0
    for pk in list(pending[:RESULTS_BATCH]):
        try:
            with transaction.atomic():
                auction = (
                    Auction.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("procedure__lot")
                    .filter(pk=pk, state=AuctionState.CLOSED)
                    .first()
                )
                if auction is None or AuctionResult.objects.filter(auction_id=pk).exists():
                    continue
                results_record(actor=WORKER, auction=auction, now=now)
                made += 1
        except Exception:
            # One auction's failure must not hold back the others' results.
            log.exception("etp.auctions.results_failed", auction=pk)
            failed += 1
    return f"results {made}" + (f", failed {failed}" if failed else "")


def get_result_for(actor: Viewer, auction_id: int) -> AuctionResult:
    """The results of an auction for its lot's seller and the operator; 404 for the others."""
    result = (
        AuctionResult.objects.visible_to(actor)
        .select_related(
            "auction__procedure__lot__organization",
            "auction__protocol",
            "winner__organization",
            "runner_up__organization",
        )
        .filter(auction_id=auction_id)
        .first()
    )
    if result is None:
        raise NotFound()
    return result


def contracts_of(result: AuctionResult) -> list[Contract]:
    return list(
        Contract.objects.filter(auction_id=result.auction_id).select_related(
            "application__organization"
        )
    )
