"""The live view's server-sent events (auctions/sse.py): the fan-out and its overflow without a
database; on PostgreSQL the ASGI app driven directly (scope, receive, send) while bids are
placed through the service in another thread and reach the stream by LISTEN/NOTIFY."""

import asyncio
import json
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from aips.core.db_conninfo import conninfo
from aips.etp.auctions import live, sse
from aips.etp.auctions.models import Auction
from aips.etp.auctions.services import auction_schedule, auction_tick, bid_place
from aips.etp.auctions.tests.conftest import Clock, make_procedure
from aips.etp.lots.models import Lot, LotState
from aips.shared.accounts.models import User

D = Decimal


# --- without a database -------------------------------------------------------------------


def test_parse_accepts_only_id_and_sequence() -> None:
    assert live.parse("12:7") == (12, 7)
    for bad in ("", "12", "x:1", "1:-2", "1:2:3", " 1:2"):
        assert live.parse(bad) is None


def test_hub_fans_a_change_out_to_that_auctions_clients_only() -> None:
    hub = sse.Hub()
    a1, a2, b = hub.subscribe(1), hub.subscribe(1), hub.subscribe(2)
    assert hub.publish("1:5") == 2
    assert hub.publish("garbage") == 0
    assert a1.queue.get_nowait() == 5
    assert a2.queue.get_nowait() == 5
    assert b.queue.empty()
    hub.unsubscribe(a1)
    hub.unsubscribe(a2)
    assert hub.publish("1:6") == 0
    assert 1 not in hub.clients


def test_a_full_queue_drops_to_one_resync() -> None:
    client = sse.Client(3, size=4)
    for sequence in range(1, 5):
        client.offer(sequence)
    client.offer(5)  # one too many: what was queued goes, one resync stands for it all
    assert client.queue.qsize() == 1
    assert client.queue.get_nowait() == sse.RESYNC
    assert client.resyncs == 1
    client.offer(6)
    assert client.queue.get_nowait() == 6


def test_clients_at_the_same_change_share_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[tuple[int, int, str]] = []

    async def fake(auction_id: int, since: int, language: str) -> tuple[int, str]:
        reads.append((auction_id, since, language))
        await asyncio.sleep(0)
        return since + 1, "{}"

    monkeypatch.setattr(sse, "state_json", fake)

    async def scenario() -> list[Any]:
        hub = sse.Hub()
        hub.subscribe(1)
        hub.subscribe(1)
        hub.publish("1:1")
        same = await asyncio.gather(*(hub.state(1, 0, "en") for _ in range(50)))
        other = await hub.state(1, 0, "ru")  # another language: its own read
        hub.publish("1:2")  # a new change: a new read
        after = await hub.state(1, 0, "en")
        return [same[0], len(set(same)), other, after]

    first, distinct, other, after = asyncio.run(scenario())
    assert first == (1, "{}")
    assert distinct == 1
    assert other == after == (1, "{}")
    assert reads == [(1, 0, "en"), (1, 0, "ru"), (1, 0, "en")]


def test_a_finished_read_is_shared_for_a_moment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The state moves with the clock too (time left, a descending price): a stream that
    connects later than SHARE_SECONDS after a read, with no change between, reads again."""
    reads: list[int] = []
    clock = [100.0]

    async def fake(auction_id: int, since: int, language: str) -> tuple[int, str]:
        reads.append(auction_id)
        return since, "{}"

    monkeypatch.setattr(sse, "state_json", fake)
    monkeypatch.setattr(sse, "monotonic", lambda: clock[0])

    async def scenario() -> None:
        hub = sse.Hub()
        hub.subscribe(1)
        await hub.state(1, 0, "en")
        clock[0] += sse.SHARE_SECONDS / 2
        await hub.state(1, 0, "en")  # shared
        clock[0] += sse.SHARE_SECONDS
        await hub.state(1, 0, "en")  # read again

    asyncio.run(scenario())
    assert reads == [1, 1]


def test_resync_all_after_a_lost_listening_connection() -> None:
    hub = sse.Hub()
    clients = [hub.subscribe(1), hub.subscribe(2)]
    clients[0].offer(9)
    hub.resync_all()
    assert [c.queue.get_nowait() for c in clients] == [sse.RESYNC, sse.RESYNC]


def test_last_seen_is_the_greater_of_last_event_id_and_since() -> None:
    scope: dict[str, Any] = {"headers": [(b"last-event-id", b"7")], "query_string": b"since=3"}
    assert sse._last_seen(scope) == 7
    scope = {"headers": [(b"Last-Event-ID", b"nonsense")], "query_string": b"lang=ru&since=4"}
    assert sse._last_seen(scope) == 4
    assert sse._language(scope) == "ru"
    assert sse._language({"query_string": b"lang=xx"}) != "xx"


def test_other_paths_and_methods_are_refused_without_a_database() -> None:
    async def call(path: str, method: str = "GET") -> int:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            sent.append(message)

        await sse.EventsApp(listen=False)(
            {"type": "http", "method": method, "path": path, "headers": []}, receive, send
        )
        return int(sent[0]["status"])

    assert asyncio.run(call("/auctions/1/")) == 404
    assert asyncio.run(call("/auctions/x/events")) == 404
    assert asyncio.run(call("/auctions/1/events", "POST")) == 405


# --- on PostgreSQL ------------------------------------------------------------------------

pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="LISTEN/NOTIFY: PostgreSQL only (SQLite polls)"
)


class Stream:
    """One request to the ASGI app: its messages as they are sent, and a disconnect."""

    def __init__(self, app: sse.EventsApp, path: str, headers: list[tuple[bytes, bytes]]):
        self.app = app
        self.scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": b"",
            "headers": headers,
        }
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gone = asyncio.Event()
        self.buffer = ""
        self.raw = ""  # everything the stream sent
        self.task: asyncio.Task[None] | None = None

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Any) -> None:
        await self.sent.put(message)

    async def open(self) -> dict[str, Any]:
        self.task = asyncio.ensure_future(self.app(self.scope, self.receive, self.send))
        return await asyncio.wait_for(self.sent.get(), 10)

    async def event(self, timeout: float) -> tuple[int, dict[str, Any]]:
        """The next data event (comments and `retry:` skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            block, sep, rest = self.buffer.partition("\n\n")
            if sep:
                self.buffer = rest
                fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
                if "data" in fields:
                    return int(fields["id"]), json.loads(fields["data"])
                continue
            left = deadline - time.monotonic()
            message = await asyncio.wait_for(self.sent.get(), max(left, 0.001))
            body = message.get("body", b"").decode()
            self.buffer += body
            self.raw += body

    async def close(self) -> None:
        self.gone.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 5)


def _running_auction(personas: dict[str, User], at: Clock) -> Auction:
    procedure = make_procedure(
        personas, admitted=("participant_person_1", "participant_company_1_rep")
    )
    auction = auction_schedule(
        actor=personas["operator_auctioneer"],
        procedure=procedure,
        rule="ascending",
        start_price=D("1000.00"),
        min_step=D("10.00"),
    )
    at.at(auction.starts_at)
    auction_tick(now=at.now)
    return auction


def _bid_in_thread(person: User, auction_id: int, amount: str) -> None:
    def place() -> None:
        try:
            current = Auction.objects.get(pk=auction_id)
            bid_place(actor=person, auction=current, amount=D(amount), seen_price=D(amount))
        finally:
            connection.close()

    thread = threading.Thread(target=place)
    thread.start()
    thread.join(timeout=30)


async def _close_app_connections() -> None:
    await sync_to_async(connections.close_all)()


@pg_only
@pytest.mark.django_db(transaction=True)
def test_r57_17_a_bid_reaches_the_open_stream_within_a_second(
    personas: dict[str, User], at: Clock
) -> None:
    auction = _running_auction(personas, at)
    bidder = personas["participant_person_1"]
    names = {
        str(bidder),
        bidder.email,
        personas["participant_company_1_rep"].email,
        str(bidder.organization),
    }

    async def scenario() -> tuple[dict[str, Any], int, dict[str, Any], float]:
        app = sse.EventsApp()
        stream = Stream(app, f"/auctions/{auction.pk}/events", [])
        try:
            start = await stream.open()
            assert start["status"] == 200
            assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
            first_id, first = await stream.event(5)
            assert first_id == first["sequence"] == 0
            assert stream.raw.startswith("retry: 1000\n\n")
            await asyncio.wait_for(app.hub.listening.wait(), 10)
            began = time.monotonic()
            await asyncio.to_thread(_bid_in_thread, bidder, auction.pk, "1000.00")
            event_id, data = await stream.event(1.0)
            return first, event_id, data, time.monotonic() - began
        finally:
            await stream.close()
            await app.hub.stop()
            await _close_app_connections()

    first, event_id, data, took = asyncio.run(scenario())
    assert first["state"] == "running"
    assert "viewer" not in first
    assert event_id == data["sequence"] == 1
    assert data["best_amount"] == "1000.00"
    assert [b["sequence"] for b in data["bids"]] == [1]
    assert data["bids"][0]["participant"] == "Participant 1"
    assert took < 1.0
    # No identities: the labels only, never a name, an e-mail or an organization.
    text = json.dumps(data)
    assert "viewer" not in data
    for name in names:
        if name:
            assert name not in text


@pg_only
@pytest.mark.django_db(transaction=True)
def test_r57_17_last_event_id_resumes_after_the_bids_seen(
    personas: dict[str, User], at: Clock
) -> None:
    auction = _running_auction(personas, at)
    _bid_in_thread(personas["participant_person_1"], auction.pk, "1000.00")
    _bid_in_thread(personas["participant_company_1_rep"], auction.pk, "1010.00")

    async def first_event(headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[str, Any]]:
        app = sse.EventsApp(listen=False)
        stream = Stream(app, f"/auctions/{auction.pk}/events", headers)
        try:
            await stream.open()
            return await stream.event(5)
        finally:
            await stream.close()
            await _close_app_connections()

    event_id, data = asyncio.run(first_event([]))
    assert event_id == 2
    assert [b["sequence"] for b in data["bids"]] == [1, 2]
    event_id, data = asyncio.run(first_event([(b"last-event-id", b"1")]))
    assert event_id == 2
    assert [b["sequence"] for b in data["bids"]] == [2]
    event_id, data = asyncio.run(first_event([(b"last-event-id", b"2")]))
    assert event_id == 2
    assert data["bids"] == []


@pg_only
@pytest.mark.django_db(transaction=True)
def test_unknown_or_non_public_auction_is_404(personas: dict[str, User], at: Clock) -> None:
    auction = _running_auction(personas, at)

    async def status(pk: int) -> int:
        app = sse.EventsApp(listen=False)
        stream = Stream(app, f"/auctions/{pk}/events", [])
        try:
            return int((await stream.open())["status"])
        finally:
            await stream.close()
            await _close_app_connections()

    assert asyncio.run(status(auction.pk)) == 200
    assert asyncio.run(status(999_999)) == 404
    Lot.objects.filter(pk=auction.procedure.lot_id).update(state=LotState.DRAFT)
    assert asyncio.run(status(auction.pk)) == 404


@pg_only
@pytest.mark.django_db(transaction=True)
def test_a_committed_bid_notifies_its_auction_and_sequence(
    personas: dict[str, User], at: Clock
) -> None:
    import psycopg

    auction = _running_auction(personas, at)
    with psycopg.connect(conninfo(), autocommit=True) as listener:
        listener.execute("LISTEN etp_auction")
        _bid_in_thread(personas["participant_person_1"], auction.pk, "1000.00")
        got = [n.payload for n in listener.notifies(timeout=2, stop_after=1)]
    assert f"{auction.pk}:1" in got


@pg_only
@pytest.mark.django_db(transaction=True)
def test_the_notice_goes_out_with_the_commit_and_never_with_a_rollback(
    personas: dict[str, User], at: Clock
) -> None:
    """`live.changed` sends its NOTIFY inside the change's transaction: PostgreSQL delivers it
    at the commit, and never for a transaction that rolls back."""
    import psycopg
    from django.db import transaction

    from aips.etp.auctions import live

    auction = _running_auction(personas, at)
    with psycopg.connect(conninfo(), autocommit=True) as listener:
        listener.execute("LISTEN etp_auction")

        class Undo(Exception):
            pass

        def changed_then_undone() -> None:
            with transaction.atomic():
                auction.bid_count = 41
                live.changed(auction)
                raise Undo

        with pytest.raises(Undo):
            changed_then_undone()
        assert [n.payload for n in listener.notifies(timeout=0.5, stop_after=1)] == []
        with transaction.atomic():
            auction.bid_count = 42
            live.changed(auction)
        got = [n.payload for n in listener.notifies(timeout=2, stop_after=1)]
    assert got == [f"{auction.pk}:42"]


@pytest.mark.django_db
def test_the_page_names_the_events_only_where_they_are_served(
    personas: dict[str, User], at: Clock, settings: Any, client: Any
) -> None:
    """`data-events-url` only with AIPS_ETP_LIVE_URL set on PostgreSQL; otherwise the page
    polls (no attribute)."""
    from django.urls import reverse

    auction = _running_auction(personas, at)
    url = reverse("etp_auctions:live", kwargs={"pk": auction.pk})
    settings.AIPS_ETP_LIVE_URL = ""
    assert "data-events-url" not in client.get(url).content.decode()
    settings.AIPS_ETP_LIVE_URL = "https://etp.example.kz"
    text = client.get(url).content.decode()
    if connection.vendor == "postgresql":
        assert f'data-events-url="https://etp.example.kz/auctions/{auction.pk}/events?lang=' in (
            text
        )
    else:
        assert "data-events-url" not in text
