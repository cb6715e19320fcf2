"""The auctions' pages: the auctioneer schedules a procedure's first attempt; the live page of
an auction, public while its lot is (read-only, bidders as "Participant N"), with a bid form for
a signed-in admitted participant. Without JavaScript the page shows the state with a "Refresh"
link and the form posts normally; with it (static/etp/auction-live.js) the page polls the
state API every second, or follows the server-sent events where they are served (auctions/sse.py),
and bids with fetch. The server's clock decides everything."""

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aips.core.access import has_perm, public, require
from aips.core.errors import AppError, NotFound, ValidationFailed
from aips.core.forms import apply_errors
from aips.core.ratelimit import RateLimited
from aips.etp.applications import selectors as application_selectors
from aips.etp.applications.models import Procedure
from aips.etp.auctions import clock, selectors, services
from aips.etp.auctions.forms import BidForm, ScheduleForm
from aips.etp.auctions.live import live_events_url
from aips.etp.auctions.models import Auction, AuctionState
from aips.etp.lots import selectors as lot_selectors
from aips.etp.lots.models import Lot
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.sessions import acting_person
from aips.shared.workflow.web import flash_errors, raise_for_status


def _procedure(request: HttpRequest, pk: int) -> tuple[Lot, Procedure]:
    try:
        lot = lot_selectors.get_lot_for(acting_person(request), pk)
    except NotFound as exc:
        raise Http404 from exc
    procedure = application_selectors.procedure_of(lot.pk)
    if procedure is None:
        raise Http404
    return lot, procedure


@require(EtpPerm.AUCTION_RUN)
def auction_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    """The auctioneer schedules the first attempt of the lot's procedure: the rule set and its
    parameters, the engine's defaults filled in (the procedure's start and rule set, the lot's
    start price)."""
    user = acting_person(request)
    lot, procedure = _procedure(request, pk)
    existing = selectors.lot_auctions(lot.pk)
    initial = {
        "rule": procedure.kind,
        "starts_at": timezone.localtime(procedure.auction_start),
        "start_price": lot.start_price,
    }
    form = ScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            auction = services.auction_schedule(
                actor=user, procedure=procedure, **form.cleaned_data
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except AppError as exc:
            raise_for_status(exc)
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The auction is scheduled."))
            return redirect("etp_auctions:live", pk=auction.pk)
    return render(
        request,
        "etp_auctions/schedule.html",
        {
            "title": _("Schedule the auction"),
            "lot": lot,
            "procedure": procedure,
            "form": form,
            "existing": existing,
        },
        status=422 if form.errors else 200,
    )


def _public_auction(pk: int) -> Auction:
    try:
        return selectors.get_public_auction(pk)
    except NotFound as exc:
        raise Http404 from exc


@public
def auction_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The live page: the same state for everyone, and for a signed-in admitted participant
    their own position and the bid form. Personal answers are not stored by caches."""
    auction = _public_auction(pk)
    now = clock.now()
    state = selectors.public_state(auction, now=now)
    viewer = selectors.viewer_position(auction, request.user)
    form = None
    if viewer is not None and auction.state in (AuctionState.SCHEDULED, AuctionState.RUNNING):
        # Before the start the form waits (disabled) for the live view to open it.
        shown = state["current_price"] or auction.start_price
        suggested = state["minimum_bid"] or shown
        form = BidForm(initial={"amount": suggested, "seen_price": shown})
    context: dict[str, Any] = {
        "title": _("Auction %(reference)s") % {"reference": auction.reference},
        "auction": auction,
        "lot": auction.procedure.lot,
        "state": state,
        "viewer": viewer,
        "form": form,
        "participant": bool(
            request.user.is_authenticated and has_perm(request.user, EtpPerm.AUCTION_BID)
        ),
        # The server-sent events (auctions/sse.py) when served; without them the page polls.
        "events_url": live_events_url(auction.pk),
    }
    response = render(request, "etp_auctions/live.html", context)
    response["Cache-Control"] = "no-store" if request.user.is_authenticated else "no-cache"
    return response


@require_POST
@require(EtpPerm.AUCTION_BID)
def auction_bid(request: HttpRequest, pk: int) -> HttpResponse:
    """The bid form without JavaScript: the bid, or the refusal's reason (with the current
    price), then back to the live page."""
    auction = _public_auction(pk)
    form = BidForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter your bid as an amount with at most two decimals."))
        return redirect("etp_auctions:live", pk=auction.pk)
    amount: Decimal = form.cleaned_data["amount"]
    try:
        bid = services.bid_place(
            actor=acting_person(request),
            auction=auction,
            amount=amount,
            seen_price=form.cleaned_data["seen_price"],
        )
    except services.BidRefused as exc:
        messages.error(request, exc.message)
    except RateLimited as exc:
        messages.error(request, exc.message)
    except ValidationFailed as exc:
        flash_errors(request, exc)
    except AppError as exc:
        raise_for_status(exc)
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Your bid of %(amount)s is accepted.") % {"amount": f"{bid.amount:.2f}"}
        )
    return redirect("etp_auctions:live", pk=auction.pk)
