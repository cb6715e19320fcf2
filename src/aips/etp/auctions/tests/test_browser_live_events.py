"""The public live page on PostgreSQL with the events server (auctions/sse.py under uvicorn, in a
thread on a free port): the page follows a bid by its EventSource, without polling the state
API (R57.17, R57.28). The procedure and the auction are set up through the services; the
auctions' clock is the server's real clock shifted to the auction's start."""

import asyncio
import copy
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import uvicorn
from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.utils import timezone
from playwright.sync_api import Page, expect

from aips.etp.auctions import clock, services, sse
from aips.etp.auctions.models import AuctionState
from aips.etp.auctions.tests.conftest import NOW, make_procedure
from aips.etp.auctions.tests.test_browser_live import _bids_flushable as _bids_flushable
from aips.shared.accounts.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="LISTEN/NOTIFY: PostgreSQL only (SQLite polls)"
    ),
]


@pytest.fixture
def events_server() -> Iterator[str]:
    """uvicorn serving the events app on a free loopback port, in a thread of this process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(sse.EventsApp(), host="127.0.0.1", port=port, log_level="warning")
    )
    server.config.timeout_graceful_shutdown = 1
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    # The app's reads ran in asgiref's one thread: its connection goes before the test database.
    # (A thread of its own: Playwright's loop runs in this one.)
    closer = threading.Thread(target=asyncio.run, args=(sync_to_async(connections.close_all)(),))
    closer.start()
    closer.join(timeout=10)


@pytest.mark.usefixtures("_bids_flushable")
def test_r57_17_r57_28_the_public_page_follows_a_bid_by_server_sent_events(
    page: Page,
    personas: dict[str, User],
    live_server: Any,
    events_server: str,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    settings.AIPS_ETP_BID_RATE = "1000/s"
    settings.AIPS_ETP_LIVE_URL = events_server
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["connect-src"].append(events_server)
    settings.CONTENT_SECURITY_POLICY = policy
    procedure = make_procedure(
        personas, admitted=("participant_person_1", "participant_company_1_rep")
    )
    monkeypatch.setattr(clock, "now", lambda: NOW)
    auction = services.auction_schedule(
        actor=personas["operator_auctioneer"],
        procedure=procedure,
        rule="ascending",
        start_price=Decimal("1000.00"),
        min_step=Decimal("50.00"),
    )
    shift = auction.starts_at + timedelta(seconds=1) - timezone.now()
    monkeypatch.setattr(clock, "now", lambda: timezone.now() + shift)
    services.auction_tick()
    auction.refresh_from_db()
    assert auction.state == AuctionState.RUNNING

    polls: list[str] = []
    page.on(
        "request", lambda request: polls.append(request.url) if "/api/v1/" in request.url else None
    )
    with page.expect_response(lambda r: "/events" in r.url) as opened:
        page.goto(f"{live_server.url}/auctions/{auction.pk}/")
    assert opened.value.status == 200
    root = page.locator("[data-auction-live]")
    expect(root).to_have_attribute(
        "data-events-url", f"{events_server}/auctions/{auction.pk}/events?lang=en"
    )
    expect(page.locator('[data-live="current_price"]')).to_have_text("1000.00")
    time.sleep(0.5)  # the stream's listener is up before the bid

    services.bid_place(
        actor=personas["participant_person_1"],
        auction=auction,
        amount=Decimal("1000.00"),
        seen_price=Decimal("1000.00"),
    )
    expect(page.locator('[data-live="current_price"]')).to_have_text("1050.00", timeout=1500)
    expect(page.locator('[data-live="best_participant"]')).to_have_text("Participant 1")
    expect(page.locator('[data-live="bids"] li')).to_have_count(1)
    # The public page does not poll while its events run.
    assert polls == []

    auction.refresh_from_db()
    services.auction_tick(now=auction.ends_at + timedelta(seconds=1))
    expect(page.locator('[data-live="state_label"]')).to_have_text("Closed", timeout=1500)
    page.close()
