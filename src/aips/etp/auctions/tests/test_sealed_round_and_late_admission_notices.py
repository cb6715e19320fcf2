"""Two notices of the auctions (R57.28; in-app and e-mail, kk/ru/en, like the others in
live_notices.py): the descending auction's sealed-bid round opening, to every admitted
participant with the round's deadline; and the `scheduled` notice to a participant admitted
after the auction was scheduled."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from aips.etp.applications import services as applications
from aips.etp.applications.models import Application, Deposit, Procedure
from aips.etp.auctions.models import Auction, AuctionState
from aips.etp.auctions.services import auction_tick
from aips.etp.auctions.tests.conftest import Clock, make_procedure
from aips.etp.auctions.tests.test_auctions import C1, P1, P2, bid, running, schedule
from aips.shared.accounts.models import User
from aips.shared.notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db
D = Decimal
OTHERS = ("seller_a_maker", "seller_a_signatory", "operator_auctioneer", "operator_admin")


def notices(user: User, auction: Auction, kind: str) -> list[Notification]:
    return list(
        Notification.objects.filter(
            user=user,
            kind=kind,
            content_type=ContentType.objects.get_for_model(Auction),
            object_id=auction.pk,
        ).order_by("id")
    )


def mails(user: User) -> int:
    return OutboxMessage.objects.filter(to=user.email).count()


def when(moment: Any) -> str:
    return str(timezone.localtime(moment).strftime("%Y-%m-%d %H:%M"))


def dutch(personas: dict[str, User], procedure: Procedure, at: Clock) -> Auction:
    return running(
        personas,
        procedure,
        at,
        rule="descending",
        floor_price=D("700.00"),
        descending_step=D("100.00"),
        descending_interval_seconds=60,
        sealed_round_minutes=10,
    )


def test_r57_28_the_sealed_round_opening_tells_every_admitted_participant_its_deadline(
    personas: dict[str, User], at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_DUTCH_SEALED_FINISH = True
    procedure = make_procedure(personas, admitted=(P1, C1, P2))
    auction = dutch(personas, procedure, at)
    before = {name: mails(personas[name]) for name in (P1, C1, P2, *OTHERS)}
    at.move(minutes=1, seconds=10)
    bid(personas, C1, auction, "900.00", "900.00")  # company 1 accepts: the sealed round opens
    auction.refresh_from_db()
    assert auction.phase == "sealed"
    deadline = when(auction.ends_at)
    best_bid_end = when(auction.ends_at + timedelta(minutes=10))
    # The others: the accepted price and the deadline of their one hidden bid.
    for name in (P1, P2):
        [note] = notices(personas[name], auction, "etp.auction.sealed_round")
        assert set(note.texts) == {code for code, _name in django_settings.LANGUAGES}
        assert deadline in note.texts["en"]
        assert "900.00" in note.texts["en"]
        assert "one hidden bid" in note.texts["en"]
        mail = OutboxMessage.objects.filter(to=personas[name].email).order_by("-id").first()
        assert mail is not None
        assert deadline in mail.subject
        assert note.link == f"/auctions/{auction.pk}/"
        assert mails(personas[name]) == before[name] + 1
    # The accepter: the others' deadline, then its own best-bid round's end.
    [own] = notices(personas[C1], auction, "etp.auction.sealed_round")
    assert "You accepted the price of 900.00" in own.texts["en"]
    assert deadline in own.texts["en"]
    assert best_bid_end in own.texts["en"]
    assert mails(personas[C1]) == before[C1] + 1
    for name in OTHERS:
        assert notices(personas[name], auction, "etp.auction.sealed_round") == []
        assert mails(personas[name]) == before[name]
    # The sealed bids that follow open nothing: no second notice.
    at.move(minutes=1)
    bid(personas, P1, auction, "950.00", "900.00")
    for name in (P1, C1, P2):
        assert len(notices(personas[name], auction, "etp.auction.sealed_round")) == 1


def test_r57_28_the_sealed_round_notice_reaches_only_the_admitted(
    personas: dict[str, User], procedure: Procedure, at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_DUTCH_SEALED_FINISH = True
    auction = dutch(personas, procedure, at)  # participant 2 applied but is not admitted
    at.move(minutes=1, seconds=10)
    bid(personas, P1, auction, "900.00", "900.00")
    assert len(notices(personas[C1], auction, "etp.auction.sealed_round")) == 1
    assert notices(personas[P2], auction, "etp.auction.sealed_round") == []


def test_without_the_sealed_finish_an_acceptance_opens_no_round(
    personas: dict[str, User], procedure: Procedure, at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_DUTCH_SEALED_FINISH = False
    auction = dutch(personas, procedure, at)
    at.move(minutes=1, seconds=10)
    bid(personas, P1, auction, "900.00", "900.00")  # wins outright
    auction.refresh_from_db()
    assert auction.state == AuctionState.CLOSED
    for name in (P1, C1):
        assert notices(personas[name], auction, "etp.auction.sealed_round") == []


def admit(personas: dict[str, User], procedure: Procedure, who: str) -> Application:
    application = Application.objects.get(
        procedure=procedure, organization=personas[who].organization
    )
    officer = personas["operator_admission"]
    applications.deposit_confirm(
        actor=officer, deposit=Deposit.objects.get(application=application)
    )
    return applications.application_admit(actor=officer, application=application)


def test_r57_28_a_participant_admitted_after_scheduling_gets_the_scheduled_notice(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = schedule(personas, procedure)
    for name in (P1, C1):  # admitted before: told at the scheduling
        assert len(notices(personas[name], auction, "etp.auction.scheduled")) == 1
    assert notices(personas[P2], auction, "etp.auction.scheduled") == []
    before = mails(personas[P2])
    admit(personas, procedure, P2)
    [note] = notices(personas[P2], auction, "etp.auction.scheduled")
    assert when(auction.starts_at) in note.texts["en"]
    assert "You are admitted to bid" in note.texts["en"]
    assert set(note.texts) == {code for code, _name in django_settings.LANGUAGES}
    assert note.link == f"/auctions/{auction.pk}/"
    # E-mailed too (the admission's own notice is another e-mail).
    assert mails(personas[P2]) == before + 3
    assert OutboxMessage.objects.filter(
        to=personas[P2].email, subject__contains=procedure.lot.reference
    ).exists()
    # The others are not told again.
    for name in (P1, C1):
        assert len(notices(personas[name], auction, "etp.auction.scheduled")) == 1
    for name in OTHERS:
        assert notices(personas[name], auction, "etp.auction.scheduled") == []


def test_r57_28_admitted_before_scheduling_or_after_the_start_no_extra_notice(
    personas: dict[str, User], at: Clock
) -> None:
    procedure = make_procedure(personas, admitted=(P1,))
    admit(personas, procedure, C1)  # no auction yet: nothing of the auctions
    auction = running(personas, procedure, at)
    assert len(notices(personas[C1], auction, "etp.auction.scheduled")) == 1  # at scheduling
    admit(personas, procedure, P2)  # the auction runs: too late for "scheduled"
    assert notices(personas[P2], auction, "etp.auction.scheduled") == []


def test_r57_28_admitted_while_a_repeat_is_scheduled_hears_of_the_repeat(
    personas: dict[str, User], at: Clock
) -> None:
    procedure = make_procedure(personas, admitted=(P1,))
    auction = schedule(personas, procedure)
    at.at(auction.starts_at)
    auction_tick(now=at.now)  # one admitted where two are needed: unsuccessful, repeated
    repeat = Auction.objects.get(repeat_of=auction)
    assert repeat.state == AuctionState.SCHEDULED
    admit(personas, procedure, C1)
    assert notices(personas[C1], auction, "etp.auction.scheduled") == []
    [note] = notices(personas[C1], repeat, "etp.auction.scheduled")
    assert when(repeat.starts_at) in note.texts["en"]
    assert "900.00" in note.texts["en"]
