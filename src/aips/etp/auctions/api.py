"""The auctions' API: the auctioneer schedules a procedure's first attempt; an auction's state
(no sign-in; bidders anonymised; a signed-in admitted participant also gets `viewer`, their own
position) with an ETag, so a live view polling every second gets 304 while nothing changed; an
admitted participant's bid. A refused bid answers 409 (403 when not admitted) with the code of
the refusal and `fields.current_price`; it is in the bid chain all the same."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from ninja import Query, Router, Schema, Status
from ninja.decorators import decorate_view

from aips.core.access import public
from aips.core.errors import NotFound
from aips.core.numbers import AmountKzt, Id
from aips.core.ratelimit import hit
from aips.core.request_context import client_ip
from aips.etp.applications import selectors as application_selectors
from aips.etp.auctions import clock, selectors, services
from aips.etp.devices.auth import mobile_api_auth, mobile_viewer
from aips.etp.devices.gate import mobile_aware
from aips.etp.lots import selectors as lot_selectors
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.sessions import acting_person

router = Router(tags=["auctions"])


class PublicBidOut(Schema):
    sequence: int
    participant: str
    amount: Decimal
    at: datetime


class ViewerOut(Schema):
    """The signed-in participant's own position (never in an answer to anyone else)."""

    participant: str
    number: int | None
    best_bid: Decimal | None
    leading: bool
    can_bid: bool


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
    # The last accepted bid's sequence: pass it back as `since` to get only the bids after it.
    sequence: int
    bids: list[PublicBidOut]
    viewer: ViewerOut | None = None


class StateQuery(Schema):
    since: int = 0


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
    # Its own budget (AIPS_ETP_PUBLIC_RATE, per person or address, below) replaces the API's
    # general ones: a live view polls every second, and each general budget costs two cache
    # round trips per poll.
    throttle=[],
    summary="An auction's state (bidders as Participant N; yours with a session)",
)
@decorate_view(mobile_viewer)
@public
def auctions_get(
    request: HttpRequest, auction_id: Id, response: HttpResponse, query: Query[StateQuery]
) -> Any:
    """Public: the same answer for everyone, no identities. With the browser session or a mobile
    session (`Bearer etpm_…`, through the app's gate) of an admitted participant, `viewer` adds
    their own number, best bid and lead (`Cache-Control: no-store`). `ETag`: send it back in
    `If-None-Match` and an unchanged state answers 304 with no body; `since`: only the accepted
    bids after that sequence. Rate: the caller's budget of `AIPS_ETP_PUBLIC_RATE` (per person
    when signed in, else per address); 404: no such auction or its lot is not public."""
    user = request.user
    signed_in = bool(getattr(user, "is_authenticated", False))
    key = f"u{user.pk}" if signed_in else (client_ip(request) or "-")
    hit("etp-public-api", key, str(getattr(settings, "AIPS_ETP_PUBLIC_RATE", "120/m")))
    auction = selectors.get_public_auction(auction_id)
    now = clock.now()
    # The viewer's position moves only with the auction's row, so the tag names the person and
    # an unchanged poll costs one query (the position is read only for a full answer).
    tag = selectors.state_version(
        auction,
        now=now,
        viewer=str(user.pk) if signed_in else "-",
        language=get_language() or "",
    )
    headers = {"ETag": tag, "Cache-Control": "no-store" if signed_in else "no-cache"}
    if tag in request.headers.get("If-None-Match", ""):
        answer = HttpResponse(status=304)
        for name, value in headers.items():
            answer[name] = value
        patch_vary_headers(answer, ("Cookie", "Accept-Language"))
        return answer
    for name, value in headers.items():
        response[name] = value
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    since = max(query.since, 0)
    viewer = selectors.viewer_position(auction, user) if signed_in else None
    body = selectors.public_state(auction, now=now, since=since)
    body["viewer"] = viewer
    return body


class ScheduleIn(Schema):
    """Omitted parameters take the engine's defaults; the start defaults to the procedure's
    announced auction start, the start price to the lot's, the rule set to the procedure's."""

    rule: Literal["ascending", "descending", "sealed"] | None = None
    starts_at: datetime | None = None
    duration_minutes: int = 60
    start_price: AmountKzt | None = None
    min_step: AmountKzt = Decimal("0.01")
    extension_minutes: int = 5
    floor_price: AmountKzt = Decimal(0)
    descending_step: AmountKzt = Decimal("0.01")
    descending_interval_seconds: int = 60
    sealed_round_minutes: int = 10


@router.post(
    "/lots/{lot_id}/auctions",
    response={201: AuctionOut},
    operation_id="auctions_schedule",
    url_name="auctions_schedule",
    auth=api_auth(EtpPerm.AUCTION_RUN),
    summary="Schedule the first attempt of a lot's procedure's auction (the auctioneer)",
)
def auctions_schedule(request: HttpRequest, lot_id: Id, payload: ScheduleIn) -> Any:
    """403: not the operator's auctioneer (`auction:run`); 404: no such lot, or it has no
    announced procedure; 409: the lot is not published or the procedure already has an
    auction; 422: a start not in the future or before the application deadline, an amount not
    positive or with more than two decimals, a duration out of 1–10000, a Dutch floor not below
    the start price (`fields` names the parameter)."""
    user = acting_person(request)
    lot = lot_selectors.get_lot_for(user, lot_id)
    procedure = application_selectors.procedure_of(lot.pk)
    if procedure is None:
        raise NotFound()
    data = payload.dict()
    data["rule"] = data["rule"] or ""
    auction = services.auction_schedule(actor=user, procedure=procedure, **data)
    return Status(201, selectors.public_state(auction, now=clock.now()))


@router.post(
    "/auctions/{auction_id}/bids",
    response={201: BidOut},
    operation_id="auctions_bid",
    auth=mobile_api_auth(EtpPerm.AUCTION_BID),
    # The bid's own limit (AIPS_ETP_BID_RATE per participant, in bid_place) is far below the
    # API's general budgets, which would only add two cache round trips to every bid.
    throttle=[],
    summary="Bid as an admitted participant, naming the price seen",
)
@decorate_view(mobile_aware)
def auctions_bid(request: HttpRequest, auction_id: Id, payload: BidIn) -> Any:
    actor = acting_person(request)
    auction = selectors.get_biddable_auction(auction_id, getattr(actor, "organization_id", None))
    bid = services.bid_place(
        actor=actor,
        auction=auction,
        amount=payload.amount,
        seen_price=payload.seen_price,
    )
    return Status(
        201, {"sequence": bid.sequence, "amount": bid.amount, "at": bid.at, "accepted": True}
    )
