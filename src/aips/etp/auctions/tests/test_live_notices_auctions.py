"""Notices during an auction (in-app and e-mail, kk/ru/en): scheduled and started to the admitted
participants, outbid to the participant just beaten (throttled), extended at most once a
minute, unsuccessful or repeated; never to a participant not admitted, the seller or the
operator."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from aips.etp.applications.models import Procedure
from aips.etp.auctions.models import Auction, AuctionState
from aips.etp.auctions.services import auction_tick
from aips.etp.auctions.tests.conftest import Clock, make_procedure
from aips.etp.auctions.tests.test_auctions import C1, P1, P2, bid, running, schedule
from aips.shared.accounts.models import User
from aips.shared.accounts.selectors import people_to_tell
from aips.shared.notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db
OTHERS = (P2, "seller_a_maker", "seller_a_signatory", "operator_auctioneer", "operator_admin")


def notices(user: User, auction: Auction) -> list[str]:
    return list(
        Notification.objects.filter(
            user=user,
            content_type=ContentType.objects.get_for_model(Auction),
            object_id=auction.pk,
        )
        .order_by("id")
        .values_list("kind", flat=True)
    )


def mails(user: User) -> int:
    return OutboxMessage.objects.filter(to=user.email).count()


def age_notices(auction: Auction, **delta: float) -> None:
    """As if the auction's notices so far were sent `delta` ago (the throttle's wall clock)."""
    Notification.objects.filter(object_id=auction.pk, kind__startswith="etp.auction.").update(
        created_at=timezone.now() - timedelta(**delta)
    )


def test_r57_28_scheduled_and_started_reach_the_admitted_only_in_their_language(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    personas[P1].language = "kk"
    personas[P1].save(update_fields=["language"])
    before = {name: mails(personas[name]) for name in (P1, C1, *OTHERS)}
    auction = running(personas, procedure, at)
    for name in (P1, C1):
        assert notices(personas[name], auction) == ["etp.auction.scheduled", "etp.auction.started"]
        assert mails(personas[name]) == before[name] + 2
    for name in OTHERS:
        assert notices(personas[name], auction) == []
        assert mails(personas[name]) == before[name]
    note = Notification.objects.get(user=personas[P1], kind="etp.auction.scheduled")
    assert set(note.texts) == {code for code, _name in django_settings.LANGUAGES}
    assert procedure.lot.reference in note.texts["en"]
    assert timezone.localtime(auction.starts_at).strftime("%Y-%m-%d %H:%M") in note.texts["en"]
    assert note.link == f"/auctions/{auction.pk}/"
    mail = OutboxMessage.objects.filter(to=personas[P1].email).order_by("-id").first()
    assert mail is not None
    assert mail.language == "kk"
    assert mail.body.startswith(
        Notification.objects.get(user=personas[P1], kind="etp.auction.started").texts["kk"]
    )


def test_r57_28_outbid_tells_the_beaten_participant_throttled(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at)
    p1, c1 = personas[P1], personas[C1]
    start = {p1.pk: mails(p1), c1.pk: mails(c1)}
    at.move(minutes=1)
    bid(personas, P1, auction, "1000.00", "1000.00")  # the first bid beats nobody
    assert "etp.auction.outbid.email" not in notices(p1, auction) + notices(c1, auction)
    bid(personas, C1, auction, "1050.00", "1050.00")
    # P1 is told, in-app and by e-mail (the first outbid notice); C1, who leads, is not.
    assert notices(p1, auction)[-1] == "etp.auction.outbid.email"
    assert mails(p1) == start[p1.pk] + 1
    assert "etp.auction.outbid" not in ",".join(notices(c1, auction))
    note = Notification.objects.get(user=p1, kind="etp.auction.outbid.email")
    assert "1050.00" in note.texts["en"]
    bid(personas, P1, auction, "1100.00", "1100.00")
    assert notices(c1, auction)[-1] == "etp.auction.outbid.email"
    # A bidding war: P1 beaten again within OUTBID_EVERY hears nothing more.
    bid(personas, C1, auction, "1150.00", "1150.00")
    bid(personas, P1, auction, "1200.00", "1200.00")
    bid(personas, C1, auction, "1250.00", "1250.00")
    outbid = [k for k in notices(p1, auction) if k.startswith("etp.auction.outbid")]
    assert outbid == ["etp.auction.outbid.email"]
    # After OUTBID_EVERY: in-app again, but no e-mail within EMAIL_QUIET of the last one.
    age_notices(auction, seconds=31)
    bid(personas, P1, auction, "1300.00", "1300.00")
    bid(personas, C1, auction, "1350.00", "1350.00")
    outbid = [k for k in notices(p1, auction) if k.startswith("etp.auction.outbid")]
    assert outbid == ["etp.auction.outbid.email", "etp.auction.outbid"]
    assert mails(p1) == start[p1.pk] + 1
    # Ten minutes without an outbid e-mail: the next one is e-mailed again.
    age_notices(auction, minutes=11)
    bid(personas, P1, auction, "1400.00", "1400.00")
    bid(personas, C1, auction, "1450.00", "1450.00")
    assert notices(p1, auction)[-1] == "etp.auction.outbid.email"
    assert mails(p1) == start[p1.pk] + 2
    for name in OTHERS:
        assert notices(personas[name], auction) == []


def test_r57_28_the_outbid_notice_is_written_once_the_bid_commits(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    from decimal import Decimal

    from django.test import TestCase

    from aips.etp.auctions.services import bid_place

    auction = running(personas, procedure, at)
    at.move(minutes=1)
    bid(personas, P1, auction, "1000.00", "1000.00")
    with TestCase.captureOnCommitCallbacks() as after_commit:
        bid_place(
            actor=personas[C1], auction=auction, amount=Decimal("1050"), seen_price=Decimal("1050")
        )
        # The bid's transaction (and the auction's row lock) wrote no notice.
        assert not [k for k in notices(personas[P1], auction) if "outbid" in k]
    for callback in after_commit:
        callback()
    assert notices(personas[P1], auction)[-1] == "etp.auction.outbid.email"


def test_r57_28_raising_ones_own_best_bid_tells_nobody_outbid(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at)
    at.move(minutes=1)
    bid(personas, P1, auction, "1000.00", "1000.00")
    bid(personas, P1, auction, "1100.00", "1050.00")
    for name in (P1, C1):
        assert not [k for k in notices(personas[name], auction) if "outbid" in k]


def test_r57_28_no_outbid_notice_in_a_hidden_round(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at, rule="sealed")
    at.move(minutes=1)
    bid(personas, P1, auction, "1000.00", "1000.00")
    bid(personas, C1, auction, "1200.00", "1000.00")
    assert not [k for k in notices(personas[P1], auction) if "outbid" in k]


def test_r57_28_an_extension_is_told_to_the_admitted_at_most_once_a_minute(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at)
    at.at(auction.ends_at - timedelta(minutes=1))
    bid(personas, P1, auction, "1000.00", "1000.00")
    auction.refresh_from_db()
    for name in (P1, C1):
        assert notices(personas[name], auction)[-1] == "etp.auction.extended.email"
    note = Notification.objects.get(user=personas[C1], kind="etp.auction.extended.email")
    assert timezone.localtime(auction.ends_at).strftime("%Y-%m-%d %H:%M") in note.texts["en"]
    for name in OTHERS:
        assert notices(personas[name], auction) == []
    # Extended again within the minute: no new extension notice (C1's outbid is its own).
    at.at(auction.ends_at - timedelta(seconds=30))
    bid(personas, C1, auction, "1050.00", "1050.00")
    extended = [k for k in notices(personas[P1], auction) if "extended" in k]
    assert extended == ["etp.auction.extended.email"]
    # A minute later: told again, in-app only (an e-mail went less than ten minutes ago).
    age_notices(auction, seconds=61)
    auction.refresh_from_db()
    at.at(auction.ends_at - timedelta(seconds=30))
    bid(personas, P1, auction, "1100.00", "1100.00")
    extended = [k for k in notices(personas[C1], auction) if "extended" in k]
    assert extended == ["etp.auction.extended.email", "etp.auction.extended"]


def test_r57_28_a_bid_that_does_not_move_the_end_tells_no_extension(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at)
    at.move(minutes=10)
    bid(personas, P1, auction, "1000.00", "1000.00")
    assert not [k for k in notices(personas[C1], auction) if "extended" in k]


def test_r57_28_unsuccessful_with_a_repeat_tells_the_admitted_its_start_and_price(
    personas: dict[str, User], at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_REPEAT_REDUCTION_PERCENT = 10
    procedure = make_procedure(personas, admitted=(P1,))
    auction = schedule(personas, procedure)
    at.at(auction.starts_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.state == AuctionState.UNSUCCESSFUL
    repeat = Auction.objects.get(repeat_of=auction)
    assert notices(personas[P1], auction) == [
        "etp.auction.scheduled",
        "etp.auction.repeat_scheduled",
    ]
    note = Notification.objects.get(user=personas[P1], kind="etp.auction.repeat_scheduled")
    assert "900.00" in note.texts["en"]
    assert "too few participants were admitted" in note.texts["en"]
    assert timezone.localtime(repeat.starts_at).strftime("%Y-%m-%d %H:%M") in note.texts["en"]
    for name in (C1, *OTHERS):  # C1 is not admitted in this procedure
        assert notices(personas[name], auction) == []
        assert notices(personas[name], repeat) == []


def test_r57_28_unsuccessful_without_a_repeat_says_so(
    personas: dict[str, User], procedure: Procedure, at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_REPEAT_FLOOR_PERCENT = 100  # already at the floor: no repeat
    auction = running(personas, procedure, at)
    at.at(auction.ends_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.outcome_reason == "no_bid"
    assert not Auction.objects.filter(repeat_of=auction).exists()
    for name in (P1, C1):
        assert notices(personas[name], auction)[-1] == "etp.auction.unsuccessful"
    note = Notification.objects.get(user=personas[C1], kind="etp.auction.unsuccessful")
    assert "no bid was placed" in note.texts["en"]
    for name in OTHERS:
        assert notices(personas[name], auction) == []


def test_r57_28_outbid_notice_costs_a_few_queries_on_the_bid_path(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    django_assert_max_num_queries: Any,
) -> None:
    """The notice is a few rows written once the bid commits (outside the auction's row lock):
    who to tell, the throttle's one look, the notification and the outbox row; nothing over
    the network."""
    auction = running(personas, procedure, at)
    at.move(minutes=1)
    bid(personas, P1, auction, "1000.00", "1000.00")

    def notice_queries(captured: list[dict[str, str]]) -> int:
        words = ("notifications_", "accounts_user")
        return sum(1 for q in captured if any(w in q["sql"] for w in words))

    with django_assert_max_num_queries(30) as outbid:
        bid(personas, C1, auction, "1050.00", "1050.00")
    with django_assert_max_num_queries(30) as raised:
        bid(personas, C1, auction, "1100.00", "1100.00")  # nobody outbid: no notice
    people = len(people_to_tell(organization_id=personas[P1].organization_id))
    assert notice_queries(outbid.captured_queries) == 3 + people  # people, throttle, rows
    assert notice_queries(raised.captured_queries) == 0
