"""The participant's operations over a mobile session (R57.27, R57.28.3): the app applies for a
lot with the EDS-signed form, reads its applications and bids with the session token `etpm_…`;
each such request passes the app's gate (client id, version, integrity) and is answered
`no-store`; a revoked device's session stops at once; the permission checks are the person's.
Personal tokens and the web session work as before."""

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from aips.etp.applications import clock as application_clock
from aips.etp.applications import services as application_services
from aips.etp.applications.models import Application, Procedure
from aips.etp.auctions import clock as auction_clock
from aips.etp.auctions import services as auction_services
from aips.etp.auctions.models import Auction, AuctionState, Bid
from aips.etp.auctions.tests.conftest import Clock, make_procedure
from aips.etp.devices.models import Device
from aips.etp.devices.tests.test_mobile_api import (  # noqa: F401 - the fixtures
    IIN_1,
    app,
    bidder,
    pki,
    registered_phone,
    sign_in,
)
from aips.etp.lots.models import Lot, LotKind, LotState
from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import User
from aips.shared.eds.testing import TestPki, sign_cms
from aips.shared.eds.types import Purpose

NOW = datetime.fromisoformat("2026-12-01T10:00:00+05:00")
JSON = "application/json"


@pytest.fixture
def trusted(pki: TestPki, settings: Any, tmp_path: Path) -> TestPki:  # noqa: F811
    """The same test CA trusted for signed documents (an application's form) too."""
    settings.AIPS_EDS_TRUST_DIR = str(pki.write_trust_dir(tmp_path / "eds-trust"))
    return pki


@pytest.fixture
def signed_in(bidder: User, trusted: TestPki) -> tuple[Client, str]:  # noqa: F811
    """The app on participant 1's registered phone, signed in: the client and its token."""
    client = app()
    phone = registered_phone(client, trusted)
    assert sign_in(client, phone).status_code == 201
    return client, phone.session_token


def bearer(token: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_no_store(response: Any) -> None:
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def announce(personas: dict[str, User]) -> Procedure:
    return application_services.procedure_announce(
        actor=personas["operator_auctioneer"],
        lot=Lot.objects.get(state=LotState.PUBLISHED, kind=LotKind.CLAIM),
        application_deadline=NOW + timedelta(days=10),
        auction_start=NOW + timedelta(days=12),
    )


def running_auction(personas: dict[str, User], monkeypatch: pytest.MonkeyPatch) -> Auction:
    """Participant 1 and company 1 admitted; the auction running on the server's clock."""
    moment = Clock()
    monkeypatch.setattr(auction_clock, "now", lambda: moment.now)
    procedure = make_procedure(
        personas, admitted=("participant_person_1", "participant_company_1_rep")
    )
    auction = auction_services.auction_schedule(
        actor=personas["operator_auctioneer"],
        procedure=procedure,
        start_price=Decimal("1000.00"),
        min_step=Decimal("50.00"),
        rule="ascending",
    )
    moment.at(auction.starts_at)
    auction_services.auction_tick(now=moment.now)
    auction.refresh_from_db()
    assert auction.state == AuctionState.RUNNING
    return auction


def bid(client: Client, token: str, auction: Auction, amount: str, seen: str) -> Any:
    return client.post(
        f"/api/v1/auctions/{auction.pk}/bids",
        json.dumps({"amount": amount, "seen_price": seen}),
        content_type=JSON,
        **bearer(token),
    )


def test_r57_27_a_registered_device_applies_for_a_lot_with_eds(
    personas: dict[str, User],
    signed_in: tuple[Client, str],
    trusted: TestPki,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(application_clock, "now", lambda: NOW)
    client, token = signed_in
    procedure = announce(personas)
    offered = client.get(f"/api/v1/lots/{procedure.lot_id}/application-document", **bearer(token))
    assert offered.status_code == 200, offered.content
    assert_no_store(offered)
    assert offered.json()["iin_bound"] is True
    document = base64.b64decode(offered.json()["document"])
    key = trusted.issue(iin=IIN_1, purpose=Purpose.SIGNING)
    signature = base64.b64encode(sign_cms(document, key=key, detached=True)).decode()
    applied = client.post(
        f"/api/v1/lots/{procedure.lot_id}/applications",
        json.dumps({"moment": offered.json()["moment"], "eds_signature": signature}),
        content_type=JSON,
        **bearer(token),
    )
    assert applied.status_code == 201, applied.content
    assert_no_store(applied)
    application = Application.objects.get(pk=applied.json()["id"])
    assert application.submitted_by == personas["participant_person_1"]
    mine = client.get("/api/v1/applications", **bearer(token))
    assert mine.status_code == 200
    assert_no_store(mine)
    assert [a["id"] for a in mine.json()] == [application.pk]
    one = client.get(f"/api/v1/applications/{application.pk}", **bearer(token))
    assert one.status_code == 200
    assert_no_store(one)


def test_r57_27_another_participants_application_is_404(
    personas: dict[str, User], signed_in: tuple[Client, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, token = signed_in
    procedure = make_procedure(personas, admitted=())
    other = Application.objects.get(
        procedure=procedure, organization=personas["participant_person_2"].organization
    )
    refused = client.get(f"/api/v1/applications/{other.pk}", **bearer(token))
    assert refused.status_code == 404
    assert_no_store(refused)
    listed = client.get("/api/v1/applications", **bearer(token)).json()
    assert other.pk not in [a["id"] for a in listed]


def test_r57_27_a_registered_device_bids_and_sees_its_position(
    personas: dict[str, User], signed_in: tuple[Client, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, token = signed_in
    auction = running_auction(personas, monkeypatch)
    placed = bid(client, token, auction, "1000.00", "1000.00")
    assert placed.status_code == 201, placed.content
    assert_no_store(placed)
    stored = Bid.objects.get(sequence=placed.json()["sequence"], auction=auction)
    assert stored.amount == Decimal("1000.00")
    state = client.get(f"/api/v1/auctions/{auction.pk}", **bearer(token))
    assert state.status_code == 200, state.content
    assert_no_store(state)
    viewer = state.json()["viewer"]
    assert viewer is not None
    assert viewer["leading"] is True
    assert Decimal(viewer["best_bid"]) == Decimal("1000.00")
    # Anonymous readers still get the public state without anyone's position.
    public = Client().get(f"/api/v1/auctions/{auction.pk}")
    assert public.status_code == 200
    assert public.json()["viewer"] is None


def test_r57_28_3_a_revoked_device_cannot_bid_at_once(
    personas: dict[str, User],
    signed_in: tuple[Client, str],
    client_as: Callable[[str | None], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, token = signed_in
    auction = running_auction(personas, monkeypatch)
    device = Device.objects.get()
    web = client_as("participant_person_1")
    assert web.post(f"/api/v1/devices/{device.pk}/revoke").status_code == 200
    refused = bid(client, token, auction, "1000.00", "1000.00")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    assert_no_store(refused)
    assert client.get("/api/v1/applications", **bearer(token)).status_code == 401
    assert client.get(f"/api/v1/auctions/{auction.pk}", **bearer(token)).status_code == 401
    assert not Bid.objects.filter(auction=auction).exists()


def test_r57_27_4_below_the_minimum_version_a_bid_is_426(
    personas: dict[str, User],
    signed_in: tuple[Client, str],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _client, token = signed_in
    auction = running_auction(personas, monkeypatch)
    settings.AIPS_ETP_MOBILE_MIN_VERSION = "2.0"
    settings.AIPS_ETP_MOBILE_LATEST_VERSION = "2.1"
    refused = bid(app(version="1.9"), token, auction, "1000.00", "1000.00")
    assert refused.status_code == 426
    assert refused.json()["error"]["code"] == "update_required"
    assert refused["X-Update-Required"] == "2.1"
    assert_no_store(refused)
    assert not Bid.objects.filter(auction=auction).exists()


@pytest.mark.parametrize("finding", ["rooted", "remote_control"])
def test_r57_27_2_a_compromised_device_cannot_bid(
    personas: dict[str, User],
    signed_in: tuple[Client, str],
    monkeypatch: pytest.MonkeyPatch,
    finding: str,
) -> None:
    _client, token = signed_in
    auction = running_auction(personas, monkeypatch)
    refused = bid(app(integrity=finding), token, auction, "1000.00", "1000.00")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "device_compromised"
    assert_no_store(refused)
    # Another app's id or no gate headers at all: refused as well.
    assert bid(app(client_id="kz.other"), token, auction, "1000.00", "1000.00").status_code == 403
    bare = Client().post(
        f"/api/v1/auctions/{auction.pk}/bids",
        json.dumps({"amount": "1000.00", "seen_price": "1000.00"}),
        content_type=JSON,
        **bearer(token),
    )
    assert bare.status_code == 403
    assert bare.json()["error"]["code"] == "client_unknown"
    assert not Bid.objects.filter(auction=auction).exists()


def test_r57_27_the_permission_checks_are_the_persons(
    personas: dict[str, User], signed_in: tuple[Client, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Participant 1 not admitted: the bid is refused as it would be on the web (403)."""
    client, token = signed_in
    monkeypatch.setattr(auction_clock, "now", lambda: NOW)
    procedure = make_procedure(personas, admitted=("participant_company_1_rep",))
    auction = auction_services.auction_schedule(
        actor=personas["operator_auctioneer"],
        procedure=procedure,
        start_price=Decimal("1000.00"),
        min_step=Decimal("50.00"),
        rule="ascending",
    )
    refused = bid(client, token, auction, "1000.00", "1000.00")
    assert refused.status_code == 403
    assert_no_store(refused)
    # The operator's operations never take a mobile session.
    scheduled = client.post(
        f"/api/v1/lots/{procedure.lot_id}/auctions", "{}", content_type=JSON, **bearer(token)
    )
    assert scheduled.status_code == 401


def test_personal_tokens_work_as_before(
    personas: dict[str, User],
    bidder: User,  # noqa: F811
) -> None:
    seller = personas["seller_a_maker"]
    _token, raw = account_services.token_create(actor=seller, name="integration")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    lots = client.get("/api/v1/lots", **bearer(raw))
    assert lots.status_code == 200
    lot = Lot.objects.get(state=LotState.PUBLISHED, kind=LotKind.CLAIM)
    # Not the seller's operation: 403 as before, no gate asked of a personal token.
    refused = client.get(f"/api/v1/lots/{lot.pk}/application-document", **bearer(raw))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    _token, own = account_services.token_create(actor=bidder, name="integration")
    mine = client.get("/api/v1/applications", **bearer(own))
    assert mine.status_code == 200
    assert mine.json() == []
