"""Reads of auctions. An auction's state is public while its lot is (published or withdrawn):
the price, the best bid (unless the rules hide it), the end, and the bidders only as
"Participant N" (N: the order of the admitted applications), never who they are."""

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Min, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from aips.core.errors import NotFound
from aips.etp.applications.models import Application, ApplicationState, Procedure
from aips.etp.auctions import rules
from aips.etp.auctions.models import Auction, AuctionState, Bid
from aips.etp.lots.models import PUBLIC_STATES, Lot

_UNREAD = object()


def _last_accepted_subquery() -> Subquery:
    return Subquery(
        Bid.objects.filter(auction_id=OuterRef("pk"), accepted=True)
        .order_by("-sequence")
        .values("sequence")[:1]
    )


def get_public_auction(pk: int) -> Auction:
    """The auction with its last accepted bid's sequence (`last_accepted`) read in the same
    query, so a live view's unchanged poll costs one read."""
    auction: Auction | None = (
        Auction.objects.select_related("procedure__lot")
        .annotate(last_accepted=_last_accepted_subquery())
        .filter(pk=pk, procedure__lot__state__in=PUBLIC_STATES)
        .first()
    )
    if auction is None:
        raise NotFound()
    return auction


def _biddable_sql() -> str:
    """One statement: the auction if its lot is public, with the bidder's admitted application.
    Written out rather than built by the ORM each time: this is every bid's first read, and
    building the query (a join and a subquery) cost more than running it."""
    auction, procedure = Auction._meta.db_table, Procedure._meta.db_table
    lot, application = Lot._meta.db_table, Application._meta.db_table
    states = ", ".join(["%s"] * len(PUBLIC_STATES))
    return (
        f"SELECT a.id, a.procedure_id, (SELECT ap.id FROM {application} ap"  # noqa: S608 - table names
        f" WHERE ap.procedure_id = a.procedure_id AND ap.organization_id = %s"
        f" AND ap.state = %s ORDER BY ap.id LIMIT 1)"
        f" FROM {auction} a JOIN {procedure} p ON p.id = a.procedure_id"
        f" JOIN {lot} l ON l.id = p.lot_id WHERE a.id = %s AND l.state IN ({states})"
    )


# Made once, like the bid's locked statements (services._SELECT_LOCKED), not on every bid.
_BIDDABLE_SQL = _biddable_sql()
_PUBLIC_STATES = sorted(PUBLIC_STATES)


def get_biddable_auction(pk: int, organization_id: int | None) -> Auction:
    """The public auction a bid names, with only what `bid_place` needs before it locks the
    row (the row itself is read under the lock): its procedure and, read in the same query,
    the bidder's admitted application (`bidder_application`, None: not admitted)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _BIDDABLE_SQL,
            [organization_id, ApplicationState.ADMITTED, pk, *_PUBLIC_STATES],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound()
    auction = Auction(pk=row[0], procedure_id=row[1])
    auction._state.adding = False
    auction._state.db = connection.alias
    auction.__dict__["bidder_application"] = row[2]
    return auction


def next_timer() -> datetime | None:
    """The next moment the tick has work: the soonest start of a scheduled auction or end of a
    running one (None: none). The worker wakes the tick then."""
    moments = Auction.objects.aggregate(
        start=Min("starts_at", filter=Q(state=AuctionState.SCHEDULED)),
        end=Min("ends_at", filter=Q(state=AuctionState.RUNNING)),
    )
    found = [m for m in (moments["start"], moments["end"]) if m is not None]
    return min(found) if found else None


def accepted_sequence(auction: Auction) -> int:
    """The sequence of the auction's last accepted bid (0: none): what the public sees move.
    A refused bid takes a place in the bid chain (`bid_count`) but changes nothing shown."""
    annotated = auction.__dict__.get("last_accepted", _UNREAD)
    if annotated is not _UNREAD:
        return int(annotated or 0)
    last = (
        Bid.objects.filter(auction=auction, accepted=True)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    return int(last or 0)


def participant_numbers(auction: Auction) -> dict[int, int]:
    """Each admitted application's public number, 1, 2, … in the order they applied."""
    ids = Application.objects.filter(
        procedure_id=auction.procedure_id, state=ApplicationState.ADMITTED
    ).order_by("pk")
    return {pk: n for n, pk in enumerate(ids.values_list("pk", flat=True), start=1)}


def _label(numbers: dict[int, int], application_id: int | None) -> str | None:
    if application_id is None or application_id not in numbers:
        return None
    return _("Participant %(number)s") % {"number": numbers[application_id]}


def public_state(auction: Auction, *, now: datetime, since: int = 0) -> dict[str, Any]:
    """What every participant and the public see: one answer for all. `since`: only the
    accepted bids after that sequence (a live view resuming where it left off)."""
    state = auction.rule_state()
    running = auction.state == AuctionState.RUNNING
    hidden = running and rules.hidden(state)
    numbers = participant_numbers(auction)
    bids: list[dict[str, Any]] = []
    if not hidden:
        accepted = Bid.objects.filter(auction=auction, accepted=True, sequence__gt=since)
        for bid in accepted.order_by("sequence"):
            bids.append(
                {
                    "sequence": bid.sequence,
                    "participant": _label(numbers, bid.application_id) or "",
                    "amount": bid.amount,
                    "at": bid.at,
                }
            )
    return {
        "id": auction.pk,
        "reference": auction.reference,
        "lot_id": auction.procedure.lot_id,
        "attempt": auction.attempt,
        "repeat_of": auction.repeat_of_id,
        "rule": auction.rule,
        "state": auction.state,
        "phase": auction.phase,
        "starts_at": auction.starts_at,
        "ends_at": auction.ends_at,
        "server_time": now,
        "start_price": auction.start_price,
        "current_price": rules.shown_price(state, now) if running else None,
        "minimum_bid": rules.minimum_bid(state, now) if running and not hidden else None,
        "best_amount": None if hidden else auction.best_amount,
        "best_participant": None if hidden else _label(numbers, auction.best_application_id),
        "winner": _label(numbers, auction.winner_id),
        "winning_amount": auction.winning_amount,
        "outcome": auction.outcome_reason,
        "sequence": accepted_sequence(auction),
        "bids": bids,
    }


def viewer_position(auction: Auction, user: object) -> dict[str, Any] | None:
    """A signed-in participant's own place in the auction: their public number, their best
    accepted bid and whether it leads. None for anyone not admitted to the procedure (the
    public, the operator, a seller). Personal: never cached, never shown to another."""
    from aips.shared.accounts.models import User

    if not isinstance(user, User) or not user.is_authenticated:
        return None
    application = (
        Application.objects.filter(
            procedure_id=auction.procedure_id,
            organization_id=user.organization_id,
            state=ApplicationState.ADMITTED,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if application is None:
        return None
    numbers = participant_numbers(auction)
    best = (
        Bid.objects.filter(auction=auction, accepted=True, application_id=application)
        .order_by("-amount", "sequence")
        .values_list("amount", flat=True)
        .first()
    )
    return {
        "participant": _label(numbers, application) or "",
        "number": numbers.get(application),
        "best_bid": best,
        "leading": auction.best_application_id == application,
        "can_bid": auction.state == AuctionState.RUNNING,
    }


def state_version(auction: Auction, *, now: datetime, viewer: str, language: str) -> str:
    """A short tag of everything the live view shows, so an unchanged poll answers 304: the
    auction row's moving parts, the last accepted bid (not the bid chain's length: a refused
    bid changes nothing anyone sees, the bidder's own position included), the price shown now
    (a Dutch price falls with the clock), the viewer and the language of the labels."""
    import hashlib

    running = auction.state == AuctionState.RUNNING
    shown = rules.shown_price(auction.rule_state(), now) if running else None
    parts = (
        auction.pk,
        auction.state,
        auction.phase,
        auction.ends_at.isoformat(),
        accepted_sequence(auction),
        auction.best_amount,
        auction.best_application_id,
        auction.winner_id,
        auction.outcome_reason,
        shown,
        viewer,
        language,
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def lot_auctions(lot_id: int) -> list[Auction]:
    """A lot's auctions, the first attempt first (repeats follow as a chain of attempts)."""
    return list(Auction.objects.filter(procedure__lot_id=lot_id).order_by("attempt", "pk"))
