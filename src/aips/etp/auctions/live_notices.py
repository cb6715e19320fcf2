"""What an auction tells while it runs: the public change feed's entries (lots/feed.py) and the
admitted participants' notices (in-app, and e-mail through the outbox), in kk/ru/en.

Every function runs inside the auction service's transaction (services.py calls it at the
point of the change), so an entry or a notice exists exactly when the change commits, and
nothing goes over the network on the way: e-mail is a row in the outbox, sent by the worker.

Public feed (`GET /api/v1/public/feed`; figures only, never an identity), kind: data:

- `auction_scheduled` (the first attempt): attempt, rule, start and planned end, start price,
  step and extension (ascending), floor (descending), currency;
- `auction_started`: attempt, planned end, the number of admitted participants;
- `auction_closed` (a winner): attempt, winning amount, currency, time of the close;
- `auction_unsuccessful`: attempt, reason (`no_admitted`, `too_few_admitted`, `no_bid`, or
  `no_contract` when an attempt closed with a winner found no buyer: contracts.py);
- `repeat_scheduled`: the new attempt as `auction_scheduled` has it, and the one it repeats.

Notices (kind `etp.auction.<name>`) go to the people of the admitted participants'
organizations, never to the seller, the operator or a participant not admitted (people_to_tell
leaves out the inactive and blocked):

- `scheduled` (the first attempt): the participants admitted by then, with the start; e-mail.
  A participant admitted later, while an attempt of the procedure is scheduled and not started,
  gets the same notice of that attempt at its admission (`admitted`, called by
  applications/services.py::application_admit);
- `started`: with the planned end; e-mail;
- `sealed_round` (a descending auction's first acceptance opens the sealed finish): the other
  admitted participants, with the accepted price and the round's deadline; the accepter, with
  that deadline and the end of its best-bid round after it; e-mail. Written with `outbid` and
  `extended`, once the acceptance commits;
- `outbid`: the participant whose best bid was just beaten (never in a hidden round);
- `extended` (ascending): with the new end;
- `unsuccessful`, or `repeat_scheduled` when a repeat follows: the reason and the repeat's
  start and start price; e-mail.

Throttling, so a bidding war does not flood the outbox: a participant hears `outbid` at most once
per `OUTBID_EVERY` in one auction, and `extended` goes out at most once per `EXTENDED_EVERY`
per auction (the live view shows every change anyway). Either goes by e-mail as well only when
that participant (for `extended`: that auction) has had no e-mail of the same kind in the last
`EMAIL_QUIET`; otherwise it is in-app only. The notices that went by e-mail have the kind's
`.email` variant (`etp.auction.outbid.email`), which is how the next one knows. The throttle
reads the notifications' own creation time (the wall clock), not the auction's clock."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aips.etp.applications.models import Application, ApplicationState
from aips.etp.auctions import rules
from aips.etp.auctions.models import Auction, AuctionPhase, AuctionRule, AuctionState
from aips.etp.lots import feed
from aips.etp.lots.models import Lot, LotChangeKind
from aips.shared.accounts.models import User
from aips.shared.accounts.selectors import people_to_tell
from aips.shared.notifications.models import Notification
from aips.shared.notifications.services import Text, notify, notify_bulk

# At most one outbid notice per participant per auction in this time.
OUTBID_EVERY = timedelta(seconds=30)
# At most one extension notice per auction in this time.
EXTENDED_EVERY = timedelta(minutes=1)
# An outbid or extension notice goes by e-mail only after this long without one.
EMAIL_QUIET = timedelta(minutes=10)
EMAIL_SUFFIX = ".email"

_REASONS: dict[str, Promise] = {
    "no_admitted": _("no participant was admitted"),
    "too_few_admitted": _("too few participants were admitted"),
    "no_bid": _("no bid was placed"),
    "no_contract": _("no contract was concluded with the winner or the runner-up"),
}


# --- helpers ----------------------------------------------------------------------------------


def _lot(auction: Auction) -> Lot:
    lot: Lot = auction.procedure.lot
    return lot


def _when(moment: datetime) -> str:
    """A moment as the platform's pages show it (the platform's time zone)."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _amount(amount: Decimal | None, lot: Lot) -> str:
    return f"{amount or 0:.2f} {lot.currency}"


def _params(auction: Auction) -> dict[str, object]:
    lot = _lot(auction)
    return {"ref": auction.reference, "lot": lot.reference, "title": lot.title}


def _link(auction: Auction) -> str:
    # The auction's live page.
    return reverse("etp_auctions:live", args=[auction.pk])


def _admitted_people(auction: Auction) -> list[User]:
    organizations = Application.objects.filter(
        procedure_id=auction.procedure_id, state=ApplicationState.ADMITTED
    ).values("organization_id")
    return people_to_tell(organization_id__in=organizations)


def _tell_admitted(auction: Auction, *, kind: str, subject: Text, text: Text, email: bool) -> int:
    return notify_bulk(
        users=_admitted_people(auction),
        kind=kind,
        subject=subject,
        text=text,
        link=_link(auction),
        email=email,
        target=auction,
    )


def _recent(auction: Auction, kind: str, *, users: list[User] | None = None) -> dict[str, datetime]:
    """The latest notice of `kind` (and its e-mail variant) about this auction within
    EMAIL_QUIET, by kind: one query on the notifications' (user, created) index."""
    since = timezone.now() - max(EMAIL_QUIET, OUTBID_EVERY, EXTENDED_EVERY)
    rows = Notification.objects.filter(
        content_type=ContentType.objects.get_for_model(Auction),
        object_id=auction.pk,
        kind__in=(kind, kind + EMAIL_SUFFIX),
        created_at__gte=since,
    )
    if users is not None:
        rows = rows.filter(user_id__in=[u.pk for u in users])
    return {
        row["kind"]: row["last"]
        for row in rows.order_by().values("kind").annotate(last=Max("created_at"))
    }


def _throttle(recent: dict[str, datetime], kind: str, every: timedelta) -> tuple[bool, bool]:
    """(send at all, send by e-mail too) given the latest notices of `kind`."""
    now = timezone.now()
    latest = max(recent.values(), default=None)
    if latest is not None and now - latest < every:
        return False, False
    mailed = recent.get(kind + EMAIL_SUFFIX)
    return True, mailed is None or now - mailed >= EMAIL_QUIET


# --- the changes ------------------------------------------------------------------------------


def _schedule_data(auction: Auction) -> dict[str, feed.FeedValue]:
    lot = _lot(auction)
    data: dict[str, feed.FeedValue] = {
        "auction_id": auction.pk,
        "attempt": auction.attempt,
        "rule": auction.rule,
        "starts_at": feed.iso(auction.starts_at),
        "ends_at": feed.iso(auction.ends_at),
        "start_price": feed.money(auction.start_price),
        "currency": lot.currency,
    }
    if auction.rule == AuctionRule.ASCENDING:
        data["min_step"] = feed.money(auction.min_step)
        data["extension_minutes"] = auction.extension_minutes
    if auction.rule == AuctionRule.DESCENDING:
        data["floor_price"] = feed.money(auction.floor_price)
    return data


def _scheduled_texts(auction: Auction) -> tuple[Text, Text]:
    """The `scheduled` notice's subject and text."""
    lot = _lot(auction)
    params = {
        **_params(auction),
        "start": _when(auction.starts_at),
        "rule": AuctionRule(auction.rule).label,
        "price": _amount(auction.start_price, lot),
    }
    return (
        Text(_("The auction for lot %(lot)s starts at %(start)s"), params),
        Text(
            _(
                "The auction for lot %(lot)s “%(title)s” (%(rule)s, start price %(price)s) "
                "starts at %(start)s. You are admitted to bid."
            ),
            params,
        ),
    )


def scheduled(auction: Auction) -> None:
    """The first attempt is scheduled: the feed, and the participants admitted so far."""
    feed.append(
        lot=_lot(auction), kind=LotChangeKind.AUCTION_SCHEDULED, data=_schedule_data(auction)
    )
    subject, text = _scheduled_texts(auction)
    _tell_admitted(auction, kind="etp.auction.scheduled", subject=subject, text=text, email=True)


def admitted(*, application: Application) -> None:
    """A participant admitted while an attempt of its procedure is scheduled and not started
    hears what those admitted before it heard when it was scheduled (in the admission's
    transaction). Nothing when no attempt is waiting to start."""
    if application.state != ApplicationState.ADMITTED:
        return
    auction = (
        Auction.objects.filter(procedure_id=application.procedure_id, state=AuctionState.SCHEDULED)
        .select_related("procedure__lot")
        .order_by("-attempt")
        .first()
    )
    if auction is None:
        return
    subject, text = _scheduled_texts(auction)
    notify_bulk(
        users=people_to_tell(organization_id=application.organization_id),
        kind="etp.auction.scheduled",
        subject=subject,
        text=text,
        link=_link(auction),
        email=True,
        target=auction,
    )


def started(auction: Auction, *, admitted: int) -> None:
    """The auction has opened."""
    lot = _lot(auction)
    feed.append(
        lot=lot,
        kind=LotChangeKind.AUCTION_STARTED,
        data={
            "auction_id": auction.pk,
            "attempt": auction.attempt,
            "ends_at": feed.iso(auction.ends_at),
            "participants": admitted,
        },
    )
    params = {**_params(auction), "ends": _when(auction.ends_at)}
    _tell_admitted(
        auction,
        kind="etp.auction.started",
        subject=Text(_("The auction for lot %(lot)s has started"), params),
        text=Text(
            _(
                "The auction for lot %(lot)s “%(title)s” has started; it is planned to end at "
                "%(ends)s."
            ),
            params,
        ),
        email=True,
    )


def closed(auction: Auction) -> None:
    """Closed with a winner: the feed (the winner's and the others' notices are the results')."""
    lot = _lot(auction)
    feed.append(
        lot=lot,
        kind=LotChangeKind.AUCTION_CLOSED,
        data={
            "auction_id": auction.pk,
            "attempt": auction.attempt,
            "winning_amount": feed.money(auction.winning_amount or Decimal(0)),
            "currency": lot.currency,
            "closed_at": feed.iso(auction.closed_at) if auction.closed_at else None,
        },
    )


def unsuccessful(auction: Auction, repeat: Auction | None) -> None:
    """Unsuccessful, and its repeat if one was scheduled: the feed and the admitted."""
    lot = _lot(auction)
    feed.append(
        lot=lot,
        kind=LotChangeKind.AUCTION_UNSUCCESSFUL,
        data={
            "auction_id": auction.pk,
            "attempt": auction.attempt,
            "reason": auction.outcome_reason,
            "closed_at": feed.iso(auction.closed_at) if auction.closed_at else None,
        },
    )
    reason = _REASONS.get(auction.outcome_reason, auction.outcome_reason)
    params: dict[str, object] = {**_params(auction), "reason": reason}
    if repeat is None:
        _tell_admitted(
            auction,
            kind="etp.auction.unsuccessful",
            subject=Text(_("The auction for lot %(lot)s was unsuccessful"), params),
            text=Text(
                _(
                    "The auction for lot %(lot)s “%(title)s” was unsuccessful: %(reason)s. "
                    "No repeat auction is scheduled."
                ),
                params,
            ),
            email=True,
        )
        return
    repeat.procedure = auction.procedure  # the same lot, already read
    feed.append(
        lot=lot,
        kind=LotChangeKind.REPEAT_SCHEDULED,
        data={**_schedule_data(repeat), "repeat_of": auction.pk},
    )
    params |= {"start": _when(repeat.starts_at), "price": _amount(repeat.start_price, lot)}
    _tell_admitted(
        auction,
        kind="etp.auction.repeat_scheduled",
        subject=Text(_("The auction for lot %(lot)s will be repeated at %(start)s"), params),
        text=Text(
            _(
                "The auction for lot %(lot)s “%(title)s” was unsuccessful: %(reason)s. A repeat "
                "auction starts at %(start)s at a start price of %(price)s; your admission "
                "stands."
            ),
            params,
        ),
        email=True,
    )


def bid_accepted(
    auction: Auction, *, outbid: int | None, ends_before: datetime, hidden: bool
) -> None:
    """After an accepted bid (the auction's row saved): `outbid` is the application that led
    before it (told if it no longer leads, unless bids are hidden); an end moved later in an
    ascending auction is an extension; a descending auction's bid that moved it from the main
    (open) round into the sealed round opened the sealed finish."""
    opened_sealed = auction.rule == AuctionRule.DESCENDING and auction.phase == AuctionPhase.SEALED
    if opened_sealed and not hidden:
        sealed_round(auction)
    if outbid is not None and not hidden and auction.best_application_id != outbid:
        _outbid(auction, outbid)
    if auction.rule == AuctionRule.ASCENDING and auction.ends_at > ends_before:
        _extended(auction)


def sealed_round(auction: Auction) -> None:
    """The first acceptance of a descending auction opened the sealed round: every other
    admitted participant may bid once, hidden, at least the accepted price, until the round's
    end; the accepter bids in the best-bid round after it."""
    lot = _lot(auction)
    accepter = Application.objects.filter(pk=auction.accepter_id).values("organization_id")
    others = (
        Application.objects.filter(
            procedure_id=auction.procedure_id, state=ApplicationState.ADMITTED
        )
        .exclude(organization_id__in=accepter)
        .values("organization_id")
    )
    following = rules.next_phase(auction.rule_state())
    params = {
        **_params(auction),
        "price": _amount(auction.accepted_price, lot),
        "ends": _when(auction.ends_at),
        "best_ends": _when(following.ends_at if following else auction.ends_at),
    }
    subject = Text(_("Sealed-bid round in the auction for lot %(lot)s until %(ends)s"), params)
    notify_bulk(
        users=people_to_tell(organization_id__in=others),
        kind="etp.auction.sealed_round",
        subject=subject,
        text=Text(
            _(
                "A participant accepted the price of %(price)s in the auction for lot %(lot)s "
                "“%(title)s”. The sealed-bid round is open until %(ends)s: you may place one "
                "hidden bid of at least %(price)s."
            ),
            params,
        ),
        link=_link(auction),
        email=True,
        target=auction,
    )
    notify_bulk(
        users=people_to_tell(organization_id__in=accepter),
        kind="etp.auction.sealed_round",
        subject=subject,
        text=Text(
            _(
                "You accepted the price of %(price)s in the auction for lot %(lot)s "
                "“%(title)s”. The other participants bid in a sealed-bid round until %(ends)s; "
                "then your best-bid round is open until %(best_ends)s."
            ),
            params,
        ),
        link=_link(auction),
        email=True,
        target=auction,
    )


def _outbid(auction: Auction, application_id: int) -> None:
    people = people_to_tell(
        organization_id__in=Application.objects.filter(pk=application_id).values("organization_id")
    )
    if not people:
        return
    kind = "etp.auction.outbid"
    send, email = _throttle(_recent(auction, kind, users=people), kind, OUTBID_EVERY)
    if not send:
        return
    lot = _lot(auction)
    params = {**_params(auction), "amount": _amount(auction.best_amount, lot)}
    notify(
        users=people,
        kind=kind + EMAIL_SUFFIX if email else kind,
        subject=Text(_("You are outbid on lot %(lot)s"), params),
        text=Text(
            _(
                "Your bid in the auction for lot %(lot)s “%(title)s” is no longer the best: "
                "the best bid is now %(amount)s."
            ),
            params,
        ),
        link=_link(auction),
        email=email,
        target=auction,
    )


def _extended(auction: Auction) -> None:
    kind = "etp.auction.extended"
    send, email = _throttle(_recent(auction, kind), kind, EXTENDED_EVERY)
    if not send:
        return
    params = {**_params(auction), "ends": _when(auction.ends_at)}
    _tell_admitted(
        auction,
        kind=kind + EMAIL_SUFFIX if email else kind,
        subject=Text(_("The auction for lot %(lot)s is extended"), params),
        text=Text(
            _(
                "A late bid extended the auction for lot %(lot)s “%(title)s”: it now ends at "
                "%(ends)s."
            ),
            params,
        ),
        email=email,
    )
