"""The public change feed carries the procedure's schedule and the auctions (R57.28): each kind
once, in order, after the settle delay, with public figures only (never an identity)."""

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from aips.etp.applications import clock as applications_clock
from aips.etp.applications import services as applications_services
from aips.etp.applications.models import Application, Procedure
from aips.etp.auctions.models import Auction, AuctionState
from aips.etp.auctions.services import BidRefused, auction_tick
from aips.etp.auctions.tests.conftest import NOW, Clock, make_procedure
from aips.etp.auctions.tests.test_auctions import C1, P1, P2, bid, running, schedule
from aips.etp.lots import feed
from aips.etp.lots.models import Lot, LotChange, LotChangeKind, LotKind, LotState
from aips.shared.accounts.models import User

pytestmark = pytest.mark.django_db
ClientAs = Callable[[str | None], Client]


def read_all(anon: Client, since: int) -> list[dict[str, Any]]:
    """The whole feed after `since`, one change a page (the cursor must carry every read)."""
    changes: list[dict[str, Any]] = []
    cursor = since
    while True:
        answer = anon.get(f"/api/v1/public/feed?since={cursor}&limit=1")
        assert answer.status_code == 200
        page = answer.json()
        if not page["changes"]:
            assert page["cursor"] == cursor
            return changes
        changes += page["changes"]
        cursor = page["cursor"]


def start_of(anon: Client) -> int:
    cursor: int = anon.get("/api/v1/public/feed?since=0&limit=1000").json()["cursor"]
    return cursor


def identities(personas: dict[str, User], procedure: Procedure) -> list[str]:
    """What must never appear in the feed: who the participants, people and debtors are."""
    found: list[str] = []
    for application in Application.objects.filter(procedure=procedure):
        org = application.organization
        found += [org.bin, org.name, application.reference]
    for person in personas.values():
        found += [person.email, person.surname, person.iin]
    return [value for value in found if value and len(value) > 3]


def assert_public(change: dict[str, Any], never: list[str]) -> None:
    assert set(change["data"]) <= feed.PUBLIC_KEYS
    text = json.dumps(change["data"], ensure_ascii=False)
    for value in never:
        assert value not in text
    for key in ("winner", "winner_application", "application", "participant", "organization"):
        assert key not in change["data"]


def test_r57_28_the_feed_carries_a_schedule_and_an_auction_once_in_order(
    personas: dict[str, User], procedure: Procedure, at: Clock, settings: Any, client_as: ClientAs
) -> None:
    settings.AIPS_ETP_FEED_SETTLE_SECONDS = 0
    anon = client_as(None)
    since = start_of(anon)
    auction = running(personas, procedure, at)
    at.move(minutes=10)
    bid(personas, P1, auction, "1000.00", "1000.00")
    bid(personas, C1, auction, "1050.00", "1050.00")
    at.at(auction.ends_at + timedelta(minutes=6))
    auction_tick(now=at.now)
    auction_tick(now=at.now)  # a second tick changes nothing and writes nothing
    auction.refresh_from_db()
    assert auction.state == AuctionState.CLOSED
    changes = read_all(anon, since)
    assert [c["kind"] for c in changes] == [
        "auction_scheduled",
        "auction_started",
        "auction_closed",
    ]
    assert [c["seq"] for c in changes] == sorted(c["seq"] for c in changes)
    lot = procedure.lot
    for change in changes:
        assert change["lot_id"] == lot.pk
        assert change["reference"] == lot.reference
        assert change["data"]["auction_id"] == auction.pk
        assert change["data"]["attempt"] == 1
        assert_public(change, identities(personas, procedure))
    scheduled, started, closed = (c["data"] for c in changes)
    assert scheduled["rule"] == "ascending"
    assert scheduled["start_price"] == "1000.00"
    assert scheduled["min_step"] == "50.00"
    assert scheduled["extension_minutes"] == 5
    assert scheduled["currency"] == lot.currency
    assert datetime.fromisoformat(scheduled["starts_at"]) == auction.starts_at
    assert started["participants"] == 2
    assert closed["winning_amount"] == "1050.00"
    assert datetime.fromisoformat(closed["closed_at"]) == at.now


def test_r57_28_unsuccessful_and_repeat_are_in_the_feed_with_the_reason_and_price(
    personas: dict[str, User], at: Clock, settings: Any, client_as: ClientAs
) -> None:
    settings.AIPS_ETP_FEED_SETTLE_SECONDS = 0
    settings.AIPS_ETP_REPEAT_REDUCTION_PERCENT = 10
    anon = client_as(None)
    since = start_of(anon)
    procedure = make_procedure(personas, admitted=(P1,))  # one admitted where two are needed
    auction = schedule(personas, procedure)
    at.at(auction.starts_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.state == AuctionState.UNSUCCESSFUL
    repeat = Auction.objects.get(repeat_of=auction)
    changes = read_all(anon, since)
    assert [c["kind"] for c in changes] == [
        "auction_scheduled",
        "auction_unsuccessful",
        "repeat_scheduled",
    ]
    _scheduled, failed, repeated = (c["data"] for c in changes)
    assert failed == {
        "auction_id": auction.pk,
        "attempt": 1,
        "reason": "too_few_admitted",
        "closed_at": feed.iso(at.now),
    }
    assert repeated["auction_id"] == repeat.pk
    assert repeated["attempt"] == 2
    assert repeated["repeat_of"] == auction.pk
    assert repeated["start_price"] == "900.00"  # −10 %
    assert datetime.fromisoformat(repeated["starts_at"]) == repeat.starts_at
    for change in changes:
        assert_public(change, identities(personas, procedure))


def test_r57_28_an_announced_procedure_is_in_the_feed_with_its_dates_and_deposit(
    personas: dict[str, User], settings: Any, client_as: ClientAs, monkeypatch: Any
) -> None:
    settings.AIPS_ETP_FEED_SETTLE_SECONDS = 0
    monkeypatch.setattr(applications_clock, "now", lambda: NOW)
    anon = client_as(None)
    since = start_of(anon)
    lot = Lot.objects.get(state=LotState.PUBLISHED, kind=LotKind.CLAIM)
    procedure = applications_services.procedure_announce(
        actor=personas["operator_auctioneer"],
        lot=lot,
        application_deadline=NOW + timedelta(days=10),
        auction_start=NOW + timedelta(days=12),
    )
    [change] = read_all(anon, since)
    assert change["kind"] == "scheduled"
    assert change["lot_id"] == lot.pk
    assert change["data"] == {
        "procedure_id": procedure.pk,
        "auction_kind": procedure.kind,
        "application_deadline": feed.iso(NOW + timedelta(days=10)),
        "auction_start": feed.iso(NOW + timedelta(days=12)),
        "deposit_percent": f"{procedure.deposit_percent:.2f}",
        "deposit_amount": f"{procedure.deposit_amount:.2f}",
        "currency": lot.currency,
    }
    # The lots' own kinds keep their shape, with an empty `data`.
    LotChange.objects.create(lot=lot, kind=LotChangeKind.CORRECTED)
    [corrected] = read_all(anon, change["seq"])
    assert corrected["data"] == {}


def test_r57_28_auction_changes_wait_for_the_settle_delay(
    personas: dict[str, User], procedure: Procedure, at: Clock, settings: Any, client_as: ClientAs
) -> None:
    settings.AIPS_ETP_FEED_SETTLE_SECONDS = 0
    anon = client_as(None)
    since = start_of(anon)
    settings.AIPS_ETP_FEED_SETTLE_SECONDS = 60
    running(personas, procedure, at)
    assert read_all(anon, since) == []  # younger than the delay: they might still be committing
    LotChange.objects.filter(pk__gt=since).update(at=NOW)  # a minute and more later
    assert [c["kind"] for c in read_all(anon, since)] == ["auction_scheduled", "auction_started"]


def test_a_feed_entry_refuses_a_figure_that_is_not_public(procedure: Procedure) -> None:
    with pytest.raises(ValueError, match="winner"):
        feed.append(
            lot=procedure.lot, kind=LotChangeKind.AUCTION_CLOSED, data={"winner": "Participant 1"}
        )
    assert not LotChange.objects.filter(kind=LotChangeKind.AUCTION_CLOSED).exists()


def test_a_refused_bid_or_an_unchanged_leader_writes_nothing_to_the_feed(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    auction = running(personas, procedure, at)
    before = LotChange.objects.count()
    at.move(minutes=1)
    bid(personas, P1, auction, "1000.00", "1000.00")
    with pytest.raises(BidRefused):  # not admitted: refused and recorded in the chain
        bid(personas, P2, auction, "1050.00", "1050.00")
    assert LotChange.objects.count() == before
