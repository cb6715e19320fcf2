"""Auction timers in the ETP's /metrics (R57.3.3): running auctions, the next end, close lag."""

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from aips.etp.applications.models import Procedure
from aips.etp.auctions import services
from aips.etp.auctions.models import AuctionState
from aips.etp.auctions.services import auction_tick
from aips.etp.auctions.tests.conftest import Clock
from aips.shared.accounts.models import User

pytestmark = pytest.mark.django_db


def _sample(text: str, name: str, labels: str = "") -> float | None:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def _scrape() -> str:
    response = Client().get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def test_r57_3_3_running_auction_shows_in_the_auction_gauges(
    personas: dict[str, User], procedure: Procedure, at: Clock
) -> None:
    before = _scrape()
    assert _sample(before, "aips_etp_auctions", '{state="running"}') == 0
    assert _sample(before, "aips_etp_auction_next_end_seconds") is None
    auction = services.auction_schedule(
        actor=personas["operator_auctioneer"],
        procedure=procedure,
        start_price=Decimal("1000.00"),
        min_step=Decimal("50.00"),
        rule="ascending",
    )
    assert _sample(_scrape(), "aips_etp_auctions", '{state="scheduled"}') == 1
    at.at(auction.starts_at)
    auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.state == AuctionState.RUNNING
    text = _scrape()
    assert _sample(text, "aips_etp_auctions", '{state="running"}') == 1
    next_end = _sample(text, "aips_etp_auction_next_end_seconds")
    assert next_end == (auction.ends_at - at.now).total_seconds()
    assert _sample(text, "aips_etp_auction_close_lag_seconds") == 0
    # The clock passes the end and nobody closes it: the close lag grows.
    at.at(auction.ends_at + timedelta(seconds=90))
    text = _scrape()
    assert _sample(text, "aips_etp_auction_close_lag_seconds") == 90
    assert _sample(text, "aips_etp_auction_next_end_seconds") is None
    # No lot, seller or bidder in the figures.
    for name in ("participant_person_1", "participant_company_1_rep", "operator_auctioneer"):
        organization = personas[name].organization
        if organization is not None:
            assert organization.name not in text
    assert procedure.lot.title not in text


def test_r57_3_3_etp_health_reports_each_check(personas: dict[str, Any]) -> None:
    body = Client().get("/api/v1/health").json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["clamav"] == "not configured"
    assert body["checks"]["worker"] in {"ok", "stale", "no heartbeat"}


def test_r57_3_3_etp_metrics_refused_from_elsewhere() -> None:
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 404
