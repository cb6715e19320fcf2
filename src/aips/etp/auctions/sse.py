"""The live view's server-sent events (PostgreSQL only; `etp live` serves this under uvicorn).

One route, `GET /auctions/<id>/events`, `text/event-stream`, public and read-only: on connect
the auction's public state (the state API's JSON, without `viewer`: no identities, nothing
personal), then one state event per change. Each event's `id:` is the auction's sequence (the
bid chain's length), so a browser that reconnects sends `Last-Event-ID` and gets the state with
only the accepted bids after it. A comment every 15 s keeps proxies from closing an idle stream;
`retry: 1000` asks the browser to reconnect after a second.

Changes arrive by PostgreSQL LISTEN/NOTIFY (auctions/live.py sends them after commit): one
shared asynchronous psycopg connection per process listens on `etp_auction` and fans each
notification out to the queues of that auction's clients. A client too slow to keep up (its
queue full) is dropped to a resync: its queue is emptied and it is sent the current state, which
carries every bid it has not seen. A lost listening connection is reopened and every client is
resynced, since notifications sent meanwhile are gone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from time import monotonic
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.utils import translation

from aips.core.db_conninfo import conninfo
from aips.core.errors import NotFound
from aips.etp.auctions import clock, selectors
from aips.etp.auctions.live import CHANNEL, parse

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HEARTBEAT_SECONDS = 15.0
RETRY_MS = 1000
QUEUE_SIZE = 32
SHARE_SECONDS = 0.5  # how long a finished state read serves streams that ask for the same
RESYNC = -1  # a queue entry: send the current state whatever was missed
ROUTE = re.compile(r"^/auctions/(\d{1,18})/events/?$")


class Client:
    """One open event stream: the auction it watches and the changes not yet sent."""

    def __init__(self, auction_id: int, *, size: int = QUEUE_SIZE) -> None:
        self.auction_id = auction_id
        self.queue: asyncio.Queue[int] = asyncio.Queue(maxsize=size)
        self.resyncs = 0

    def offer(self, sequence: int) -> None:
        """A change for this client; a full queue is emptied and replaced by one resync."""
        try:
            self.queue.put_nowait(sequence)
        except asyncio.QueueFull:
            self.resync()

    def resync(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(RESYNC)
        self.resyncs += 1


class Hub:
    """The clients of one process by auction, and the one listening connection they share."""

    def __init__(self) -> None:
        self.clients: dict[int, set[Client]] = {}
        # Per auction, how many changes were announced: reads after the same one are shared.
        self.generation: dict[int, int] = {}
        self._reads: dict[
            tuple[int, int, str, int], tuple[asyncio.Future[tuple[int, str] | None], float]
        ] = {}
        self._listener: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()  # set while the LISTEN stands

    def subscribe(self, auction_id: int) -> Client:
        client = Client(auction_id)
        self.clients.setdefault(auction_id, set()).add(client)
        return client

    def unsubscribe(self, client: Client) -> None:
        watchers = self.clients.get(client.auction_id)
        if watchers is not None:
            watchers.discard(client)
            if not watchers:
                del self.clients[client.auction_id]
                for key in [k for k in self._reads if k[0] == client.auction_id]:
                    del self._reads[key]

    def publish(self, payload: str) -> int:
        """One notification (`<auction id>:<sequence>`) to that auction's clients; how many."""
        parsed = parse(payload)
        if parsed is None:
            return 0
        auction_id, sequence = parsed
        self.generation[auction_id] = self.generation.get(auction_id, 0) + 1
        watchers = self.clients.get(auction_id, set())
        for client in watchers:
            client.offer(sequence)
        return len(watchers)

    def resync_all(self) -> None:
        for auction_id in self.clients:
            self.generation[auction_id] = self.generation.get(auction_id, 0) + 1
        for watchers in self.clients.values():
            for client in watchers:
                client.resync()

    def state(
        self, auction_id: int, since: int, language: str
    ) -> Awaitable[tuple[int, str] | None]:
        """The state after the latest announced change, read once for every client of the
        auction that has seen the same sequence (one read per change, not one per client)."""
        generation = self.generation.get(auction_id, 0)
        key = (auction_id, since, language, generation)
        now = monotonic()
        entry = self._reads.get(key)
        # A finished read is shared for a moment only: the state also moves with the clock
        # (time left, a descending price), not only with announced changes.
        if entry is None or (entry[0].done() and now - entry[1] > SHARE_SECONDS):
            for old in [k for k in self._reads if k[0] == auction_id and k[3] != generation]:
                del self._reads[old]
            entry = (asyncio.ensure_future(state_json(auction_id, since, language)), now)
            self._reads[key] = entry
        return asyncio.shield(entry[0])

    def start(self) -> None:
        """Listen, once per process (the first stream starts it; it lives as long as the
        process)."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def _listen(self) -> None:
        import psycopg

        delay = 0.5
        first = True
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(conninfo(), autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if not first:
                        self.resync_all()  # what was sent while we were away is lost
                    first, delay = False, 0.5
                    async for notice in conn.notifies():
                        self.publish(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception:  # a lost connection is reopened, never fatal
                self.listening.clear()
                log.warning(
                    "etp live: the listening connection failed; reconnecting", exc_info=True
                )
                first = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


def _state_json(auction_id: int, since: int, language: str) -> tuple[int, str] | None:
    """The public state (the API's JSON without `viewer`) and its sequence; None: not public."""
    from ninja.responses import NinjaJSONEncoder

    from aips.etp.auctions.api import AuctionOut

    close_old_connections()
    try:
        auction = selectors.get_public_auction(auction_id)
    except NotFound:
        return None
    with translation.override(language):
        body = selectors.public_state(auction, now=clock.now(), since=since)
        data = AuctionOut.model_validate(body).model_dump(exclude={"viewer"})
    return int(body["sequence"]), json.dumps(data, cls=NinjaJSONEncoder, separators=(",", ":"))


# In the loop's thread pool, each thread with its own database connection: reads of different
# auctions or sequences run side by side instead of one at a time on a single thread.
state_json = sync_to_async(_state_json, thread_sensitive=False)


def _query(scope: Scope) -> dict[str, str]:
    raw = bytes(scope.get("query_string", b"")).decode("latin-1")
    return {name: value for name, _, value in (p.partition("=") for p in raw.split("&"))}


def _language(scope: Scope) -> str:
    """The labels' language (`?lang=`, one of the site's), else the site's default."""
    value = _query(scope).get("lang", "")
    return value if value in {code for code, _ in settings.LANGUAGES} else settings.LANGUAGE_CODE


def _number(text: str) -> int:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 19 else 0


def _last_seen(scope: Scope) -> int:
    """The sequence the client has: `Last-Event-ID` (a reconnect) or `?since=` (the page's
    first connection, its bids already shown), the greater."""
    header = 0
    for name, value in scope.get("headers", []):
        if name.lower() == b"last-event-id":
            header = _number(value.decode("latin-1"))
    return max(header, _number(_query(scope).get("since", "")))


def event(sequence: int, data: str) -> bytes:
    return f"id: {sequence}\ndata: {data}\n\n".encode()


async def _plain(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


class EventsApp:
    """The ASGI application: the events route, 404 for anything else, 405 for other methods."""

    def __init__(self, hub: Hub | None = None, *, listen: bool = True) -> None:
        self.hub = hub or Hub()
        self.listen = listen
        self.heartbeat = HEARTBEAT_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        match = ROUTE.match(scope.get("path", ""))
        if match is None:
            await _plain(send, 404, "Not found")
            return
        if scope.get("method") not in ("GET", "HEAD"):
            await _plain(send, 405, "Method not allowed")
            return
        await self._stream(scope, receive, send, int(match.group(1)))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.hub.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _stream(self, scope: Scope, receive: Receive, send: Send, auction_id: int) -> None:
        language = _language(scope)
        last = _last_seen(scope)
        # Subscribed before the first read: a change committed meanwhile is queued, not lost.
        client = self.hub.subscribe(auction_id)
        try:
            # The shared read: a storm of new streams that have seen the same sequence costs
            # one read, not one each (they used to queue behind each other's reads).
            first = await self.hub.state(auction_id, last, language)
            if first is None:
                await _plain(send, 404, "Not found")
                return
            if self.listen:
                self.hub.start()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream; charset=utf-8"),
                        (b"cache-control", b"no-store"),
                        (b"x-accel-buffering", b"no"),
                        # Public data, no credentials: any page may read it (the site's own
                        # pages reach it at another origin when it is not behind one proxy).
                        (b"access-control-allow-origin", b"*"),
                    ],
                }
            )
            if scope.get("method") == "HEAD":
                await send({"type": "http.response.body", "body": b""})
                return
            sequence, data = first
            await send(
                {
                    "type": "http.response.body",
                    "body": f"retry: {RETRY_MS}\n\n".encode() + event(sequence, data),
                    "more_body": True,
                }
            )
            await self._follow(client, receive, send, sequence, language)
        finally:
            self.hub.unsubscribe(client)

    async def _follow(
        self, client: Client, receive: Receive, send: Send, sequence: int, language: str
    ) -> None:
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            while True:
                waiting = asyncio.ensure_future(client.queue.get())
                done, _ = await asyncio.wait(
                    {waiting, gone}, timeout=self.heartbeat, return_when=asyncio.FIRST_COMPLETED
                )
                if gone in done:
                    waiting.cancel()
                    return
                if waiting not in done:
                    waiting.cancel()
                    await send({"type": "http.response.body", "body": b": \n\n", "more_body": True})
                    continue
                waiting.result()
                # Several changes at once are one read: the state carries all of them.
                while not client.queue.empty():
                    client.queue.get_nowait()
                now = await self.hub.state(client.auction_id, sequence, language)
                if now is None:  # no longer public
                    await send({"type": "http.response.body", "body": b""})
                    return
                sequence, data = now
                await send(
                    {"type": "http.response.body", "body": event(sequence, data), "more_body": True}
                )
        finally:
            gone.cancel()


async def _disconnected(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


def application() -> EventsApp:
    """uvicorn's factory (`etp live`): Django set up on the ETP's settings, then the app."""
    import os

    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "aips.settings_etp"
    django.setup()
    return EventsApp()
