"""The auctions' API: an auction's public state (no sign-in; bidders anonymised) and an
admitted participant's bid. A refused bid answers 409 (403 when not admitted) with the code of
the refusal and `fields.current_price`; it is in the bid chain all the same."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status

from aips.core.access import public
from aips.core.numbers import AmountKzt, Id
from aips.core.ratelimit import hit
from aips.core.request_context import client_ip
from aips.etp.auctions import clock, selectors, services
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.sessions import acting_person

router = Router(tags=["auctions"])


class PublicBidOut(Schema):
    sequence: int
    participant: str
    amount: Decimal
    at: datetime


class AuctionOut(Schema):
    id: int
    reference: str
    lot_id: int
    attempt: int
    repeat_of: int | None
    rule: Literal["ascending", "descending", "sealed"]
    state: Literal["scheduled", "running", "closed", "unsuccessful"]
    phase: Literal["main", "sealed", "best_bid"]
    starts_at: datetime
    ends_at: datetime
    server_time: datetime
    start_price: Decimal
    current_price: Decimal | None
    minimum_bid: Decimal | None
    best_amount: Decimal | None
    best_participant: str | None
    winner: str | None
    winning_amount: Decimal | None
    outcome: str
    bids: list[PublicBidOut]


class BidIn(Schema):
    amount: AmountKzt
    seen_price: AmountKzt


class BidOut(Schema):
    sequence: int
    amount: Decimal
    at: datetime
    accepted: bool


@router.get(
    "/auctions/{auction_id}",
    response=AuctionOut,
    operation_id="auctions_get",
    auth=None,
    summary="An auction's public state (bidders as Participant N)",
)
@public
def auctions_get(request: HttpRequest, auction_id: Id) -> Any:
    hit(
        "etp-public-api",
        client_ip(request) or "-",
        str(getattr(settings, "AIPS_ETP_PUBLIC_RATE", "120/m")),
    )
    auction = selectors.get_public_auction(auction_id)
    return selectors.public_state(auction, now=clock.now())


@router.post(
    "/auctions/{auction_id}/bids",
    response={201: BidOut},
    operation_id="auctions_bid",
    auth=api_auth(EtpPerm.AUCTION_BID),
    summary="Bid as an admitted participant, naming the price seen",
)
def auctions_bid(request: HttpRequest, auction_id: Id, payload: BidIn) -> Any:
    auction = selectors.get_public_auction(auction_id)
    bid = services.bid_place(
        actor=acting_person(request),
        auction=auction,
        amount=payload.amount,
        seen_price=payload.seen_price,
    )
    return Status(
        201, {"sequence": bid.sequence, "amount": bid.amount, "at": bid.at, "accepted": True}
    )
