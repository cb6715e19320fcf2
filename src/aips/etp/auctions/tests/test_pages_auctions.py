"""The auctions' pages and their API: the auctioneer schedules from a page or the API (wrong
role 403, unknown lot 404, bad parameters 422 naming the field); the live page is the same for
everyone, anonymised, with a bid form and the viewer's own position for an admitted
participant; the state API answers 304 to an unchanged poll and never names a bidder."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aips.etp.applications.models import Procedure
from aips.etp.auctions import services
from aips.etp.auctions.models import Auction, AuctionState, Bid
from aips.etp.auctions.services import BidRefused, auction_tick, bid_place
from aips.etp.auctions.tests.conftest import START, Clock
from aips.shared.accounts.models import User

pytestmark = pytest.mark.django_db
D = Decimal
P1, C1, P2 = "participant_person_1", "participant_company_1_rep", "participant_person_2"
AUCTIONEER = "operator_auctioneer"


def running(personas: dict[str, User], procedure: Procedure, at: Clock) -> Auction:
    auction = services.auction_schedule(
        actor=personas[AUCTIONEER],
        procedure=procedure,
        rule="ascending",
        start_price=D("1000.00"),
        min_step=D("50.00"),
    )
    at.at(auction.starts_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.state == AuctionState.RUNNING
    return auction


def state_url(auction: Auction) -> str:
    return reverse("api:auctions_get", kwargs={"auction_id": auction.pk})


def test_r57_28_the_auctioneer_schedules_from_the_page_with_the_engines_defaults(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
) -> None:
    client = client_as(AUCTIONEER)
    manage = client.get(reverse("etp_lots:detail", kwargs={"pk": procedure.lot_id}))
    schedule_url = reverse("etp_auctions:schedule", kwargs={"pk": procedure.lot_id})
    assert schedule_url in manage.content.decode()
    page = client.get(schedule_url)
    assert page.status_code == 200
    assert str(procedure.lot.start_price) in page.content.decode()
    response = client.post(
        schedule_url,
        {
            "rule": "ascending",
            "starts_at": "2026-12-13T11:00",
            "start_price": "1000",
            "min_step": "50",
            "duration_minutes": "30",
            "extension_minutes": "5",
            "floor_price": "0",
            "descending_step": "0.01",
            "descending_interval_seconds": "60",
            "sealed_round_minutes": "10",
        },
    )
    auction = Auction.objects.get(procedure=procedure)
    assert response.status_code == 302
    assert response["Location"] == reverse("etp_auctions:live", kwargs={"pk": auction.pk})
    assert (auction.min_step, auction.duration_minutes) == (D("50.00"), 30)
    public = client_as(None).get(reverse("etp_lots:public_detail", kwargs={"pk": procedure.lot_id}))
    assert reverse("etp_auctions:live", kwargs={"pk": auction.pk}) in public.content.decode()


def test_r57_28_schedule_page_refuses_wrong_roles_unknown_lots_and_bad_parameters(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
) -> None:
    url = reverse("etp_auctions:schedule", kwargs={"pk": procedure.lot_id})
    assert client_as(P1).get(url).status_code == 403
    assert client_as("seller_a_maker").get(url).status_code == 403
    assert client_as(None).get(url).status_code == 302
    missing = reverse("etp_auctions:schedule", kwargs={"pk": 999999})
    assert client_as(AUCTIONEER).get(missing).status_code == 404
    bad = client_as(AUCTIONEER).post(
        url,
        {
            "rule": "ascending",
            "starts_at": "2026-11-01T11:00",
            "start_price": "1000",
            "min_step": "1",
            "duration_minutes": "30",
            "extension_minutes": "5",
            "floor_price": "0",
            "descending_step": "0.01",
            "descending_interval_seconds": "60",
            "sealed_round_minutes": "10",
        },
    )
    assert bad.status_code == 422
    assert "The auction must start in the future." in bad.content.decode()
    assert not Auction.objects.exists()


def test_r57_28_schedule_api_answers_201_403_404_409_and_422_with_fields(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
) -> None:
    url = reverse("api:auctions_schedule", kwargs={"lot_id": procedure.lot_id})

    def post(who: str, body: dict[str, Any], target: str = url) -> Any:
        return client_as(who).post(target, body, content_type="application/json")

    assert post(P1, {}).status_code == 403
    assert post("operator_admin", {}).status_code == 403
    missing = reverse("api:auctions_schedule", kwargs={"lot_id": 999999})
    assert post(AUCTIONEER, {}, missing).status_code == 404
    bad = post(AUCTIONEER, {"min_step": "0"})
    assert bad.status_code == 422
    assert "min_step" in bad.json()["error"]["fields"]
    past = post(AUCTIONEER, {"starts_at": "2026-11-01T10:00:00+05:00"})
    assert past.status_code == 422
    assert "starts_at" in past.json()["error"]["fields"]
    floor = post(AUCTIONEER, {"rule": "descending", "start_price": "100", "floor_price": "200"})
    assert floor.status_code == 422
    assert "floor_price" in floor.json()["error"]["fields"]
    done = post(AUCTIONEER, {"rule": "ascending", "min_step": "25"})
    assert done.status_code == 201, done.content
    body = done.json()
    assert body["state"] == "scheduled"
    assert body["starts_at"].startswith(START.date().isoformat())
    assert post(AUCTIONEER, {}).status_code == 409


def test_r57_28_the_live_page_is_public_and_anonymised_with_a_form_for_participants(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
) -> None:
    auction = running(personas, procedure, at)
    bid_place(actor=personas[C1], auction=auction, amount=D("1000"), seen_price=D("1000"))
    url = reverse("etp_auctions:live", kwargs={"pk": auction.pk})
    anon = client_as(None).get(url)
    text = anon.content.decode()
    assert anon.status_code == 200
    assert "Participant 2" in text
    assert "1000.00" in text
    assert 'name="amount"' not in text
    assert "auction-live.js" in text
    assert "<script>" not in text
    for person in (personas[P1], personas[C1]):
        assert person.organization.name not in text
        assert person.organization.bin not in text
    own = client_as(P1).get(url)
    mine = own.content.decode()
    assert 'name="amount"' in mine
    assert "Your position" in mine
    assert "Participant 1" in mine
    assert own["Cache-Control"] == "no-store"
    outsider = client_as(P2).get(url).content.decode()
    assert 'name="amount"' not in outsider
    assert "Only participants admitted to this procedure bid here." in outsider


def test_r57_17_a_bid_through_the_form_is_accepted_or_refused_with_the_current_price(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
) -> None:
    auction = running(personas, procedure, at)
    url = reverse("etp_auctions:bid", kwargs={"pk": auction.pk})
    client = client_as(P1)
    done = client.post(url, {"amount": "1000", "seen_price": "1000"}, follow=True)
    assert "Your bid of 1000.00 is accepted." in done.content.decode()
    stale = client_as(C1).post(url, {"amount": "1000", "seen_price": "1000"}, follow=True)
    assert "The price has changed; the current price is 1050.00." in stale.content.decode()
    below = client_as(C1).post(url, {"amount": "1010", "seen_price": "1050"}, follow=True)
    assert "The bid is below the minimum of 1050.00." in below.content.decode()
    outsider = client_as(P2).post(url, {"amount": "2000", "seen_price": "1050"}, follow=True)
    assert "You are not admitted to this auction." in outsider.content.decode()
    assert client_as("operator_admin").post(url, {}).status_code == 403
    assert list(Bid.objects.filter(auction=auction).values_list("accepted", flat=True)) == [
        True,
        False,
        False,
        False,
    ]


def test_r57_17_too_fast_bids_through_the_form_are_refused_as_rate_limited(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
    settings: Any,
) -> None:
    settings.AIPS_ETP_BID_RATE = "1/m"
    auction = running(personas, procedure, at)
    url = reverse("etp_auctions:bid", kwargs={"pk": auction.pk})
    client = client_as(P1)
    client.post(url, {"amount": "1000", "seen_price": "1000"})
    again = client.post(url, {"amount": "1100", "seen_price": "1050"}, follow=True)
    assert "Too many requests; retry later." in again.content.decode()
    assert Bid.objects.filter(auction=auction).count() == 1


def test_r57_28_an_unchanged_poll_answers_304_and_a_new_bid_a_new_state(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
) -> None:
    auction = running(personas, procedure, at)
    client = client_as(None)
    first = client.get(state_url(auction))
    assert first.status_code == 200
    tag = first["ETag"]
    with CaptureQueriesContext(connection) as queries:
        again = client.get(state_url(auction), HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304
    # Past the rate limit's cache, an unchanged poll reads the auction's row and nothing else.
    reads = [q["sql"] for q in queries.captured_queries if '"etp_' in q["sql"]]
    assert len(reads) == 1
    assert again.content == b""
    bid_place(actor=personas[P1], auction=auction, amount=D("1000"), seen_price=D("1000"))
    changed = client.get(state_url(auction) + "?since=0", HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200
    body = changed.json()
    assert body["current_price"] == "1050.00"
    assert [b["participant"] for b in body["bids"]] == ["Participant 1"]
    resumed = client.get(state_url(auction) + f"?since={body['sequence']}")
    assert resumed.json()["bids"] == []


def test_r57_28_a_refused_bid_leaves_the_etag_and_an_accepted_one_changes_it(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
) -> None:
    auction = running(personas, procedure, at)
    bid_place(actor=personas[P1], auction=auction, amount=D("1000"), seen_price=D("1000"))
    public, own = client_as(None), client_as(C1)
    first, mine = public.get(state_url(auction)), own.get(state_url(auction))
    assert first.json()["sequence"] == 1
    with pytest.raises(BidRefused):  # a stale price: in the chain, seen by nobody
        bid_place(actor=personas[C1], auction=auction, amount=D("1100"), seen_price=D("1000"))
    auction.refresh_from_db()
    assert auction.bid_count == 2
    assert public.get(state_url(auction), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert own.get(state_url(auction), HTTP_IF_NONE_MATCH=mine["ETag"]).status_code == 304
    bid_place(actor=personas[C1], auction=auction, amount=D("1100"), seen_price=D("1050"))
    changed = public.get(state_url(auction), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    assert changed.json()["sequence"] == 3  # the last accepted bid's place in the chain
    assert own.get(state_url(auction), HTTP_IF_NONE_MATCH=mine["ETag"]).status_code == 200


def test_r57_28_the_public_answer_names_nobody_and_the_participant_sees_their_position(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
) -> None:
    auction = running(personas, procedure, at)
    bid_place(actor=personas[P1], auction=auction, amount=D("1000"), seen_price=D("1000"))
    bid_place(actor=personas[C1], auction=auction, amount=D("1100"), seen_price=D("1050"))
    public = client_as(None).get(state_url(auction))
    raw = public.content.decode()
    assert public.json()["viewer"] is None
    assert public["Cache-Control"] == "no-cache"
    for key in (P1, C1):
        organization = personas[key].organization
        assert organization.name not in raw
        assert organization.bin not in raw
        assert personas[key].email not in raw
    own = client_as(P1)
    mine = own.get(state_url(auction))
    assert mine["Cache-Control"] == "no-store"
    assert mine["ETag"] != public["ETag"]
    unchanged = own.get(state_url(auction), HTTP_IF_NONE_MATCH=mine["ETag"])
    assert unchanged.status_code == 304
    assert unchanged["Cache-Control"] == "no-store"
    viewer = mine.json()["viewer"]
    assert viewer == {
        "participant": "Participant 1",
        "number": 1,
        "best_bid": "1000.00",
        "leading": False,
        "can_bid": True,
    }
    leader = client_as(C1).get(state_url(auction)).json()["viewer"]
    assert (leader["number"], leader["leading"]) == (2, True)
    assert client_as(P2).get(state_url(auction)).json()["viewer"] is None
    assert client_as(AUCTIONEER).get(state_url(auction)).json()["viewer"] is None


def test_r57_28_before_the_start_the_form_waits_disabled_and_the_state_shows_scheduled(
    personas: dict[str, User],
    procedure: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
) -> None:
    auction = services.auction_schedule(actor=personas[AUCTIONEER], procedure=procedure)
    page = client_as(P1).get(reverse("etp_auctions:live", kwargs={"pk": auction.pk}))
    text = page.content.decode()
    assert "Scheduled" in text
    assert 'name="amount"' in text
    assert "disabled>" in text
    body = client_as(None).get(state_url(auction)).json()
    assert (body["state"], body["current_price"], body["bids"]) == ("scheduled", None, [])
