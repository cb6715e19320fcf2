"""Benchmark of the ETP's live auctions over real HTTP (issue 18, "Performance").

One ascending auction with 50 admitted bidders and 500 public watchers, and 20 more auctions
ending within one minute. On PostgreSQL only (127.0.0.1:5432, user postgres), in a database of
its own that the script creates, migrates with `etp migrate` and drops.

- Setup (ORM and service calls, it is a bench): the demo data, 71 participant organizations with
  a person and a personal API token each (`token_create`), 21 published lots with a procedure,
  50 admitted applications on the main one and two on each of the 20 others (one of them bids
  once at the start), the auctions scheduled with `auction_schedule` and started at once.
- Server: `etp serve` (gunicorn; `AIPS_WORKERS` × `AIPS_THREADS`, default (2 × cores + 1) × 2:
  gthread keeps the bidders' and pollers' connections alive, and two threads a process keep
  a bid from waiting for Python's lock behind several others in its process) and
  `etp worker --interval 0.2` (the tick job is due every second), as subprocesses. 500
  watchers share one address, so the public state's rate limit and the API's throttles are
  raised for the bench (`AIPS_ETP_PUBLIC_RATE`, `AIPS_API_RATE_ANON` and `AIPS_API_RATE_USER` =
  1000000/m); the bid limit (`AIPS_ETP_BID_RATE`, 1/s per participant) is kept. The cache is a
  private Redis when `redis-server` is installed (as production would configure
  `AIPS_REDIS_URL`), else the database table (`AIPS_BENCH_REDIS=0` forces the table).
- Live events: `etp live` (uvicorn, one process; the command has no `--workers`) at
  `AIPS_ETP_LIVE_BIND`, as a third subprocess.
- Load (one asyncio process, keep-alive HTTP/1.1 connections): 500 watchers
  (`AIPS_BENCH_WATCHERS`), each holding one server-sent events stream
  `GET /auctions/{id}/events` on `etp live` as the live page does on PostgreSQL (reconnecting
  with `Last-Event-ID`); the bidders start once every stream has had its first state (the
  connection storm is reported apart). 50 bidders, each bidding the shown price (the minimum
  bid: best + step) at random 1–3 s intervals, retrying a `stale_price` refusal with the
  returned current price in the next second's window. 20 pollers (`AIPS_BENCH_POLLERS`) on
  `GET /api/v1/auctions/{id}` every `AIPS_BENCH_POLL` s (default 0.5, ±10 %), with
  If-None-Match and `since` as the polling page does, reported apart. The 20 other auctions get
  one bid each at the start and end within one minute from 65 s in. After
  `AIPS_BENCH_SECONDS` (default 150) of bidding the bidders stop, the main auction's end is
  moved to now + 2 s, and each watcher and poller reads until it has seen the close.
- Figures: bid acceptance p99 (the round trip of each accepted bid); update latency p99 (for
  each accepted bid and each streaming watcher: the first event showing a best price ≥ it,
  minus the bid's server time; the pollers' figure is printed apart); lost (accepted answers
  missing from the final chain); duplicated (chain rows not matching a unique client
  submission); whether every watcher's final state is the same; close lag (closed_at − ends_at,
  the maximum over the 20 auctions, from the database; also when the public state first showed
  each closed). CPU of the server, `etp live`, the worker, PostgreSQL, Redis and the client.
  `AIPS_BENCH_KEEP=1` keeps the server's, `etp live`'s and the worker's logs.

Never asserts. The last line:
    etp_auction bidders=N watchers=N bids=N bid_p99_ms=P update_p99_ms=P lost=N duplicated=N
    close_lag_max_ms=P
"""

import asyncio
import bisect
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

BIDDERS = int(os.environ.get("AIPS_BENCH_BIDDERS", "50"))
WATCHERS = int(os.environ.get("AIPS_BENCH_WATCHERS", "500"))
SECONDS = float(os.environ.get("AIPS_BENCH_SECONDS", "150"))
POLL = float(os.environ.get("AIPS_BENCH_POLL", "0.5"))
POLLERS = int(os.environ.get("AIPS_BENCH_POLLERS", "20"))
CLOSING = 20
START_PRICE = Decimal("10000000.00")
STEP = Decimal("10000.00")
_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BIN_DIR = Path(sys.executable).parent


# --- a minimal keep-alive HTTP/1.1 client (no third-party client in the lock file) -----------


class HttpConn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        # gunicorn drops an idle keep-alive connection after 2 s: never send on one that old
        # (a POST on a connection the server is closing could not safely be retried).
        if self.writer is None or time.monotonic() - self.last_used > 1.5:
            self.close()
            await self._open()
        assert self.reader is not None  # noqa: S101
        assert self.writer is not None  # noqa: S101
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("closed")
            status = int(status_line.split()[1])
            got: dict[str, str] = {}
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                key, _, value = line.decode("latin-1").partition(":")
                got[key.strip().lower()] = value.strip()
            if "content-length" in got:
                data = await self.reader.readexactly(int(got["content-length"]))
            elif got.get("transfer-encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int((await self.reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        await self.reader.readline()
                        break
                    parts.append(await self.reader.readexactly(size))
                    await self.reader.readline()
                data = b"".join(parts)
            elif status in (204, 304):
                data = b""
            else:
                data = await self.reader.read()
                got["connection"] = "close"
        except Exception:
            self.close()
            raise
        if got.get("connection", "").lower() == "close":
            self.close()
        self.last_used = time.monotonic()
        return status, got, data


# --- the load --------------------------------------------------------------------------------


@dataclass
class Submission:
    org: int
    amount: Decimal
    seen: Decimal
    status: int
    code: str
    sequence: int | None
    server_at: float | None
    latency: float


@dataclass
class Watcher:
    history_amounts: list[Decimal] = field(default_factory=list)
    history_times: list[float] = field(default_factory=list)
    history_server: list[float] = field(default_factory=list)  # the answer's server_time
    last: dict[str, Any] | None = None
    bids: dict[int, Any] = field(default_factory=dict)
    requests: int = 0
    not_modified: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    gave_up: asyncio.Event = field(default_factory=asyncio.Event)
    latencies: list[float] = field(default_factory=list)
    events: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def _bidder(
    port: int,
    auction_id: int,
    token: str,
    org: int,
    rng: random.Random,
    stop: asyncio.Event,
    out: list[Submission],
    errors: Counter[str],
) -> None:
    conn = HttpConn(port)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    price: Decimal | None = None
    await asyncio.sleep(rng.uniform(0, 2))
    while not stop.is_set():
        try:
            if price is None:
                status, _h, data = await conn.request("GET", f"/api/v1/auctions/{auction_id}")
                if status != 200:
                    errors[f"state {status}"] += 1
                    await asyncio.sleep(1)
                    continue
                price = Decimal(json.loads(data)["current_price"])
            body = json.dumps({"amount": str(price), "seen_price": str(price)}).encode()
            t0 = time.time()
            status, _h, data = await conn.request(
                "POST", f"/api/v1/auctions/{auction_id}/bids", auth, body
            )
            elapsed = time.time() - t0
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[type(exc).__name__] += 1
            price = None
            await asyncio.sleep(1)
            continue
        answer = json.loads(data) if data else {}
        error = answer.get("error") or {}
        code = str(error.get("code", "")) if status != 201 else ""
        out.append(
            Submission(
                org=org,
                amount=price,
                seen=price,
                status=status,
                code=code,
                sequence=answer.get("sequence") if status == 201 else None,
                server_at=_ts(answer["at"]) if status == 201 else None,
                latency=elapsed,
            )
        )
        # The next bid goes in a later one-second window than this one (the 1/s budget).
        next_window = int(time.time()) + 1
        if status == 201:
            price = None
            await asyncio.sleep(max(rng.uniform(1, 3), next_window - time.time()))
        elif status == 409 and code == "stale_price":
            price = Decimal(error["fields"]["current_price"][0])
            await asyncio.sleep(next_window - time.time() + rng.uniform(0, 0.3))
        else:
            errors[f"bid {status} {code}"] += 1
            price = None
            await asyncio.sleep(next_window - time.time() + rng.uniform(0, 0.3))
    conn.close()


async def _watcher(
    port: int, auction_id: int, rng: random.Random, stop: asyncio.Event, me: Watcher
) -> None:
    """Polls as a live view does: If-None-Match with the last ETag and, when the server gives
    the chain's `sequence`, `since` it (only the newer bids come back; this watcher keeps the
    list)."""
    conn = HttpConn(port)
    etag: str | None = None
    since: int | None = None
    await asyncio.sleep(rng.uniform(0, POLL))
    # Until told to stop, and then until this watcher has seen the auction closed (or the
    # final timeout): the final state is the one every watcher must agree on.
    while not stop.is_set() or (me.last or {}).get("state") == "running":
        if me.gave_up.is_set():
            break
        t0 = time.time()
        headers = {"If-None-Match": etag} if etag else {}
        path = f"/api/v1/auctions/{auction_id}"
        if since is not None:
            path += f"?since={since}"
        try:
            status, got, data = await conn.request("GET", path, headers)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            me.errors += 1
            await asyncio.sleep(POLL)
            continue
        now = time.time()
        me.requests += 1
        me.statuses[status] += 1
        me.latencies.append(now - t0)
        if status == 200:
            body = json.loads(data)
            for bid in body.pop("bids"):
                me.bids[bid["sequence"]] = bid
            me.last = body
            etag = got.get("etag") or None
            if isinstance(body.get("sequence"), int):
                since = body["sequence"]
        elif status == 304:
            me.not_modified += 1
        _saw(me, now)
        await asyncio.sleep(max(0.0, t0 + POLL * rng.uniform(0.9, 1.1) - time.time()))
    conn.close()


async def _sse_watcher(
    port: int, auction_id: int, rng: random.Random, stop: asyncio.Event, me: Watcher
) -> None:
    """Holds one event stream on `etp live` (`GET /auctions/{id}/events`), as the live page
    does on PostgreSQL: each event's `data:` is the public state with the bids after the
    sequence the stream last sent (its `id:`); a dropped stream reconnects with
    `Last-Event-ID`."""
    await asyncio.sleep(rng.uniform(0, 1))
    last_id: str | None = None
    while not me.gave_up.is_set():
        if stop.is_set() and (me.last or {}).get("state") not in (None, "running"):
            break
        writer: asyncio.StreamWriter | None = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
            head = [
                f"GET /auctions/{auction_id}/events HTTP/1.1",
                f"Host: 127.0.0.1:{port}",
                "Accept: text/event-stream",
            ]
            if last_id is not None:
                head.append(f"Last-Event-ID: {last_id}")
            t0 = time.time()
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
            status = int((await reader.readline()).split()[1])
            me.requests += 1
            me.statuses[status] += 1
            got: dict[str, str] = {}
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                key, _, value = line.decode("latin-1").partition(":")
                got[key.strip().lower()] = value.strip()
            if status != 200:
                raise ConnectionError(f"status {status}")
            chunked = got.get("transfer-encoding", "").lower() == "chunked"
            buffer = b""
            first = True
            while not me.gave_up.is_set():
                if stop.is_set() and (me.last or {}).get("state") not in (None, "running"):
                    break
                try:
                    if chunked:
                        size_line = await asyncio.wait_for(reader.readline(), 1.0)
                        size = int(size_line.split(b";")[0], 16)
                        if size == 0:
                            raise ConnectionError("stream ended")
                        piece = await reader.readexactly(size + 2)
                        buffer += piece[:-2]
                    else:
                        piece = await asyncio.wait_for(reader.read(65536), 1.0)
                        if not piece:
                            raise ConnectionError("stream ended")
                        buffer += piece
                except TimeoutError:
                    continue
                now = time.time()
                while b"\n\n" in buffer:
                    raw, buffer = buffer.split(b"\n\n", 1)
                    data_lines = []
                    for text in raw.decode().split("\n"):
                        name, _, value = text.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if name == "id":
                            last_id = value
                        elif name == "data":
                            data_lines.append(value)
                    if not data_lines:
                        continue  # retry: or a heartbeat comment
                    if first:
                        me.latencies.append(now - t0)  # connect to the first state
                        me.ready.set()
                        first = False
                    me.events += 1
                    body = json.loads("\n".join(data_lines))
                    for bid in body.pop("bids"):
                        me.bids[bid["sequence"]] = bid
                    me.last = body
                    _saw(me, now)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            me.errors += 1
            await asyncio.sleep(0.5)
        finally:
            if writer is not None:
                writer.close()


def _saw(me: Watcher, now: float) -> None:
    """Records the first time this watcher saw each new best price."""
    if me.last is not None and me.last.get("best_amount") is not None:
        best = Decimal(me.last["best_amount"])
        if not me.history_amounts or best != me.history_amounts[-1]:
            me.history_amounts.append(best)
            me.history_times.append(now)
            server = me.last.get("server_time")
            me.history_server.append(_ts(server) if isinstance(server, str) else now)


async def _closer(
    port: int, auction_id: int, token: str, out: list[tuple[int, int]], errors: Counter[str]
) -> None:
    """One bid on a closing auction by its own participant, so that it closes won."""
    conn = HttpConn(port)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        status, _h, data = await conn.request("GET", f"/api/v1/auctions/{auction_id}")
        price = json.loads(data)["current_price"]
        body = json.dumps({"amount": price, "seen_price": price}).encode()
        status, _h, data = await conn.request(
            "POST", f"/api/v1/auctions/{auction_id}/bids", auth, body
        )
        out.append((auction_id, status))
    except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
        errors[f"closer {type(exc).__name__}"] += 1
    conn.close()


async def _close_watcher(
    port: int, auction_id: int, stop: asyncio.Event, seen: dict[int, float]
) -> None:
    """When the public state of a closing auction first shows it closed (every 0.1 s from
    1.5 s before its end, read from the state: polling every 0.1 s from the start would put
    20 × 10 requests a second of the bench's own on the server for the whole run)."""
    conn = HttpConn(port)
    while not stop.is_set() and auction_id not in seen:
        pause = 0.1
        try:
            status, _h, data = await conn.request("GET", f"/api/v1/auctions/{auction_id}")
            if status == 200:
                state = json.loads(data)
                if state["state"] != "running":
                    seen[auction_id] = time.time()
                else:
                    ends = _ts(state["ends_at"]) - 1.5
                    pause = min(max(0.1, ends - time.time()), 5.0)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        await asyncio.sleep(pause)
    conn.close()


async def _load(
    port: int,
    live_port: int,
    auction_id: int,
    closing: list[int],
    bidders: list[tuple[str, int]],
    closer_tokens: list[str],
    end_main: Any,
    is_closed: Any,
) -> dict[str, Any]:
    rng = random.Random(18)  # noqa: S311 - load pattern, not security
    stop_bids = asyncio.Event()
    stop_watch = asyncio.Event()
    submissions: list[Submission] = []
    errors: Counter[str] = Counter()
    closer_out: list[tuple[int, int]] = []
    watchers = [Watcher() for _ in range(WATCHERS)]
    pollers = [Watcher() for _ in range(POLLERS)]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.time()
    closed_seen: dict[int, float] = {}
    tasks = [
        asyncio.create_task(_close_watcher(port, auction, stop_watch, closed_seen))
        for auction in closing
    ]
    closers = [
        asyncio.create_task(_closer(port, auction, token, closer_out, errors))
        for auction, token in zip(closing, closer_tokens, strict=True)
    ]
    tasks += [
        asyncio.create_task(
            _sse_watcher(
                live_port,
                auction_id,
                random.Random(rng.random()),  # noqa: S311
                stop_watch,
                w,
            )
        )
        for w in watchers
    ]
    tasks += [
        asyncio.create_task(
            _watcher(port, auction_id, random.Random(rng.random()), stop_watch, w)  # noqa: S311
        )
        for w in pollers
    ]
    # The pages are open before the bidding starts: every stream has had its first state (the
    # connection storm is reported apart), then the bidders begin.
    ready = [asyncio.create_task(w.ready.wait()) for w in watchers]
    if ready:
        _ready, not_ready = await asyncio.wait(ready, timeout=60)
        for waiting in not_ready:
            waiting.cancel()
    connected = time.time() - started
    bidder_tasks = [
        asyncio.create_task(
            _bidder(
                port,
                auction_id,
                token,
                org,
                random.Random(rng.random()),  # noqa: S311
                stop_bids,
                submissions,
                errors,
            )
        )
        for token, org in bidders
    ]
    tasks += bidder_tasks
    await asyncio.sleep(SECONDS)
    stop_bids.set()
    # Every bid sent has its answer before the end moves (a queued bid would otherwise arrive
    # after the close, be refused as `ended` and lengthen the chain under the watchers' eyes).
    await asyncio.wait(bidder_tasks, timeout=60)
    ended_at = await asyncio.to_thread(end_main)
    deadline = time.time() + 15
    while time.time() < deadline and not await asyncio.to_thread(is_closed):
        await asyncio.sleep(0.5)
    await asyncio.sleep(2 * POLL + 1)  # every watcher polls at least once more after the close
    stop_watch.set()
    _done, pending = await asyncio.wait(tasks, timeout=60)
    for w in watchers + pollers:
        w.gave_up.set()
    await asyncio.gather(*tasks, *closers, return_exceptions=True)
    late = len(pending)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "submissions": submissions,
        "errors": errors,
        "watchers": watchers,
        "pollers": pollers,
        "closer": closer_out,
        "closed_seen": closed_seen,
        "late": late,
        "client_cpu": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
        "wall": time.time() - started,
        "main_ended_at": ended_at,
        "connected": connected,
    }


# --- processes and CPU ---------------------------------------------------------------------


def _proc_cpu() -> dict[int, tuple[str, int, float]]:
    """pid → (command name, parent pid, CPU seconds) for every process we can read."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        out[int(entry)] = (name, int(rest[1]), (int(rest[11]) + int(rest[12])) / ticks)
    return out


def _tree(snapshot: dict[int, tuple[str, int, float]], root: int) -> set[int]:
    pids = {root}
    grew = True
    while grew:
        grew = False
        for pid, (_name, ppid, _cpu) in snapshot.items():
            if ppid in pids and pid not in pids:
                pids.add(pid)
                grew = True
    return pids


def _machine_busy() -> tuple[float, float]:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [float(v) for v in fields]
    idle = values[3] + values[4]
    return sum(values), idle


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- setup -----------------------------------------------------------------------------------


@dataclass
class Setup:
    main: int
    closing: list[int]
    bidders: list[tuple[str, int]]  # token, organization id
    closer_tokens: list[str]


def _setup() -> Setup:
    from django.utils import timezone

    from aips.core.actors import SystemActor
    from aips.core.identifiers import bin_check_digit
    from aips.demo_etp import load_demo
    from aips.etp.applications.models import Application, Deposit, Procedure
    from aips.etp.auctions.models import Auction
    from aips.etp.auctions.services import auction_schedule
    from aips.etp.lots.models import Lot
    from aips.shared.accounts import services as accounts
    from aips.shared.accounts.models import User
    from aips.shared.eds.models import Signature
    from aips.shared.organizations.models import Organization

    people = load_demo()
    maker, auctioneer = people["seller_a_maker"], people["operator_auctioneer"]
    system = SystemActor(label="bench")
    now = timezone.now()
    orgs: list[Organization] = []
    n = 0
    while len(orgs) < BIDDERS + CLOSING + 1:
        stem = f"99077{n:06d}"
        n += 1
        digit = bin_check_digit(stem)
        if digit is not None:
            orgs.append(
                Organization.objects.create(
                    name=f"Bench bidder {len(orgs)}",
                    bin=stem + str(digit),
                    email=f"bidder{len(orgs)}@bench.example.kz",
                    kind="participant_legal",
                )
            )
    tokens: list[str] = []
    for i, org in enumerate(orgs):
        user = accounts.user_create(
            actor=system,
            email=f"rep{i}@bench.example.kz",
            surname="Bench",
            given_name=f"Bidder{i}",
            position="Director",
            organization_id=org.pk,
            phones=["+7 701 555 00 00"],
            role="participant",
            language="en",
        )
        _token, raw = accounts.token_create(actor=user, name="bench")
        tokens.append(raw)
    users = {u.organization_id: u for u in User.objects.filter(organization__in=orgs)}

    def procedure_with(title: str, admitted: list[Organization]) -> Procedure:
        lot = Lot.objects.create(
            organization_id=maker.organization_id,
            created_by=maker,
            state="published",
            version=1,
            published_version=1,
            kind="claim",
            title=title,
            description="A bench lot",
            region="Almaty",
            start_price=START_PRICE,
            published_at=now - timedelta(days=20),
            correction_until=now - timedelta(days=18),
        )
        procedure: Procedure = Procedure.objects.create(
            lot=lot,
            application_deadline=now - timedelta(days=1),
            auction_start=now + timedelta(seconds=5),
            deposit_percent=10,
            deposit_amount=START_PRICE / 10,
            announced_by=auctioneer,
            announced_at=now - timedelta(days=15),
        )
        for org in admitted:
            person = users[org.pk]
            signature = Signature.objects.create(
                purpose="signing",
                cms=b"bench",
                content_sha256="0" * 64,
                signer_iin=org.bin,
                signer_common_name="bench",
                certificate_fingerprint="0" * 64,
                certificate_serial="01",
                certificate_issuer="bench",
                checked_at=now,
                algorithm="bench",
                chain=b"",
            )
            application = Application.objects.create(
                procedure=procedure,
                organization=org,
                submitted_by=person,
                submitted_at=now - timedelta(days=2),
                document=b"{}",
                signature=signature,
                state="admitted",
            )
            Deposit.objects.create(
                application=application, amount=procedure.deposit_amount, state="held"
            )
        return procedure

    starts = timezone.now() + timedelta(minutes=10)
    main_procedure = procedure_with("Bench auction lot", orgs[:BIDDERS])
    main = auction_schedule(
        actor=auctioneer,
        procedure=main_procedure,
        rule="ascending",
        starts_at=starts,
        duration_minutes=600,
        start_price=START_PRICE,
        min_step=STEP,
        extension_minutes=5,
    )
    closing = []
    for i in range(CLOSING):
        # Its own bidder (all of them bid at once at the start) and one more admitted.
        procedure = procedure_with(f"Bench closing lot {i}", [orgs[BIDDERS + i], orgs[-1]])
        closing.append(
            auction_schedule(
                actor=auctioneer,
                procedure=procedure,
                rule="ascending",
                starts_at=starts,
                duration_minutes=600,
                start_price=START_PRICE,
                min_step=STEP,
                extension_minutes=1,
            ).pk
        )
    # Scheduled in the future (as the service requires), started now: the worker opens them.
    Auction.objects.filter(pk__in=[main.pk, *closing]).update(starts_at=timezone.now())
    return Setup(
        main=main.pk,
        closing=closing,
        bidders=[(tokens[i], orgs[i].pk) for i in range(BIDDERS)],
        closer_tokens=tokens[BIDDERS : BIDDERS + CLOSING],
    )


# --- the run ---------------------------------------------------------------------------------


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "aips.settings_etp"
    data_dir = Path(os.environ["AIPS_DATA_DIR"])
    redis_proc: subprocess.Popen[bytes] | None = None
    if os.environ.get("AIPS_BENCH_REDIS", "1") != "0" and shutil.which("redis-server"):
        redis_port = _free_port()
        redis_proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                str(shutil.which("redis-server")),
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(redis_port, redis_proc)
        os.environ["AIPS_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    try:
        _run(data_dir, redis_proc)
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


def _run(data_dir: Path, redis_proc: subprocess.Popen[bytes] | None) -> None:
    t_setup = time.time()
    subprocess.run([str(BIN_DIR / "etp"), "migrate", "--verbosity", "0"], check=True)  # noqa: S603
    import django

    django.setup()
    from django.db import connection

    setup = _setup()
    connection.close()
    print(
        f"auction: setup {time.time() - t_setup:.0f} s (migrate, demo, {BIDDERS + CLOSING + 1} "
        f"participants with tokens, {CLOSING + 1} auctions); cache "
        f"{'redis' if redis_proc else 'database table'}"
    )
    port = _free_port()
    live_port = _free_port()
    env = {
        **os.environ,
        "AIPS_DEBUG": "0",
        "AIPS_ETP_BIND": f"127.0.0.1:{port}",
        "AIPS_ETP_LIVE_BIND": f"127.0.0.1:{live_port}",
        "AIPS_WORKERS": os.environ.get("AIPS_WORKERS", str(2 * (os.cpu_count() or 1) + 1)),
        "AIPS_THREADS": os.environ.get("AIPS_THREADS", "2"),
        # 500 watchers share one address: the per-address budgets of the public auction state
        # and of the API's throttles (anonymous callers count against both) are raised.
        "AIPS_ETP_PUBLIC_RATE": "1000000/m",
        "AIPS_API_RATE_ANON": "1000000/m",
        "AIPS_API_RATE_USER": "1000000/m",
    }
    server_log = open(data_dir / "serve.log", "wb")  # noqa: SIM115
    worker_log = open(data_dir / "worker.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(  # noqa: S603
        [str(BIN_DIR / "etp"), "serve"], env=env, stdout=server_log, stderr=server_log
    )
    worker = subprocess.Popen(  # noqa: S603
        [str(BIN_DIR / "etp"), "worker", "--interval", "0.2"],
        env=env,
        stdout=worker_log,
        stderr=worker_log,
    )
    live_log = open(data_dir / "live.log", "wb")  # noqa: SIM115
    live = subprocess.Popen(  # noqa: S603
        [str(BIN_DIR / "etp"), "live"], env=env, stdout=live_log, stderr=live_log
    )
    try:
        _wait_port(port, server)
        _wait_port(live_port, live)
        _measure(port, live_port, setup, env, (server.pid, worker.pid, live.pid), redis_proc)
    finally:
        for proc in (worker, server, live):
            proc.terminate()
        for proc in (worker, server, live):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        server_log.close()
        worker_log.close()
        live_log.close()


def _measure(
    port: int,
    live_port: int,
    setup: Setup,
    env: dict[str, str],
    pids: tuple[int, int, int],
    redis_proc: subprocess.Popen[bytes] | None,
) -> None:
    from django.db import connection
    from django.utils import timezone

    from aips.etp.auctions.chain import verify_auction
    from aips.etp.auctions.models import Auction, Bid

    # Warm-up: every server process imports and connects on its first requests.
    async def warm() -> None:
        conns = [HttpConn(port) for _ in range(32)]
        for _ in range(3):
            await asyncio.gather(
                *(c.request("GET", f"/api/v1/auctions/{setup.main}") for c in conns)
            )
        for c in conns:
            c.close()

    deadline = time.time() + 30
    while Auction.objects.get(pk=setup.main).state != "running" and time.time() < deadline:
        time.sleep(0.5)
    asyncio.run(warm())
    # The closing auctions end within one minute, from 65 s into the run (their one bid each,
    # at the start, is then more than the one-minute extension window before the end); five of
    # them at the same instant.
    rng = random.Random(20)  # noqa: S311
    window = timezone.now() + timedelta(seconds=65)
    ends = [window + timedelta(seconds=rng.uniform(0, 59.9)) for _ in range(CLOSING - 5)]
    ends += [window + timedelta(seconds=30)] * 5
    for pk, end in zip(setup.closing, ends, strict=True):
        Auction.objects.filter(pk=pk).update(ends_at=end)
    connection.close()

    def end_main() -> float:
        moment = timezone.now() + timedelta(seconds=2)
        Auction.objects.filter(pk=setup.main).update(ends_at=moment)
        connection.close()
        return moment.timestamp()

    def is_closed() -> bool:
        closed = str(Auction.objects.get(pk=setup.main).state) != "running"
        connection.close()
        return closed

    before = _proc_cpu()
    total0, idle0 = _machine_busy()
    result = asyncio.run(
        _load(
            port,
            live_port,
            setup.main,
            setup.closing,
            setup.bidders,
            setup.closer_tokens,
            end_main,
            is_closed,
        )
    )
    after = _proc_cpu()
    total1, idle1 = _machine_busy()

    def cpu_of(pids: set[int]) -> float:
        return sum(after[p][2] - before.get(p, ("", 0, 0.0))[2] for p in pids if p in after)

    server_pid, worker_pid, live_pid = pids
    server_cpu = cpu_of(_tree(after, server_pid))
    live_cpu = cpu_of(_tree(after, live_pid))
    worker_cpu = cpu_of({worker_pid})
    pg_cpu = cpu_of({p for p, (name, _pp, _c) in after.items() if name.startswith("postgres")})
    redis_cpu = cpu_of({redis_proc.pid}) if redis_proc else 0.0
    wall = result["wall"]
    machine = (total1 - total0 - (idle1 - idle0)) / (total1 - total0) * (os.cpu_count() or 1)

    submissions: list[Submission] = result["submissions"]
    watchers: list[Watcher] = result["watchers"]
    accepted = [s for s in submissions if s.status == 201]
    statuses = Counter(s.status for s in submissions)
    codes = Counter(s.code for s in submissions if s.code)
    bid_p99 = _percentile([s.latency for s in accepted], 99) * 1000
    all_p99 = _percentile([s.latency for s in submissions], 99) * 1000

    pollers: list[Watcher] = result["pollers"]
    lags, missed = _update_lags(accepted, watchers)
    update_p99 = _percentile(lags, 99) * 1000
    update_p50 = _percentile(lags, 50) * 1000
    p_lags, p_missed = _update_lags(accepted, pollers)
    split = _split(accepted, watchers)

    # The chain, as the database and as the watchers see it.
    auction = Auction.objects.get(pk=setup.main)
    rows = list(Bid.objects.filter(auction_id=setup.main).order_by("sequence"))
    chain_ok = verify_auction(auction) is None
    by_sequence = {b.sequence: b for b in rows}
    lost = 0
    for s in accepted:
        row = by_sequence.get(s.sequence or -1)
        if (
            row is None
            or not row.accepted
            or row.amount != s.amount
            or row.organization_id != s.org
        ):
            lost += 1
    recorded = Counter(
        (s.org, s.amount, s.seen) for s in submissions if s.status in (201, 403, 409)
    )
    in_chain = Counter((b.organization_id, b.amount, b.seen_price) for b in rows)
    duplicated = sum(max(0, n - recorded.get(key, 0)) for key, n in in_chain.items())
    # A watcher's final state: the last answer (less the server's time) and the bids it kept.
    finals = {
        json.dumps(
            {
                **{k: v for k, v in (w.last or {}).items() if k != "server_time"},
                "bids": [w.bids[n] for n in sorted(w.bids)],
            },
            sort_keys=True,
        )
        for w in watchers
    }
    differing = sorted(
        {
            key
            for w in watchers
            for key, value in (w.last or {}).items()
            if key != "server_time" and value != (watchers[0].last or {}).get(key)
        }
        | ({"bids"} if any(w.bids != watchers[0].bids for w in watchers) else set())
    )
    reference = watchers[0].last or {}
    pollers_agree = sum(
        1
        for p in pollers
        if p.bids == watchers[0].bids
        and all((p.last or {}).get(k) == v for k, v in reference.items() if k != "server_time")
    )
    final_bids = set(watchers[0].bids)
    lost_public = sum(1 for s in accepted if s.sequence not in final_bids)
    closing = list(Auction.objects.filter(pk__in=setup.closing))
    close_lags = [(a.closed_at - a.ends_at).total_seconds() * 1000 for a in closing if a.closed_at]
    not_closed = sum(1 for a in closing if a.closed_at is None)
    # When the public state first showed each one closed (it commits after closed_at, the
    # tick's start, and the tick closes the auctions due one after the other).
    seen_lags = [
        (result["closed_seen"][a.pk] - a.ends_at.timestamp()) * 1000
        for a in closing
        if a.pk in result["closed_seen"]
    ]
    close_lag_max = max(close_lags) if close_lags and not not_closed else float("inf")
    main_lag = (
        (auction.closed_at - auction.ends_at).total_seconds() * 1000
        if auction.closed_at
        else float("nan")
    )
    w_requests = sum(w.requests for w in pollers)
    w_304 = sum(w.not_modified for w in pollers)
    w_statuses: Counter[int] = Counter()
    for w in pollers:
        w_statuses.update(w.statuses)
    w_lat = [x for w in pollers for x in w.latencies]
    s_statuses: Counter[int] = Counter()
    for w in watchers:
        s_statuses.update(w.statuses)
    s_first = [x for w in watchers for x in w.latencies]
    print(
        f"auction: server {env['AIPS_WORKERS']} workers x {env['AIPS_THREADS']} threads, "
        f"worker --interval 0.2; raised: AIPS_ETP_PUBLIC_RATE, AIPS_API_RATE_ANON and _USER "
        f"1000000/m; "
        f"AIPS_ETP_BID_RATE={env.get('AIPS_ETP_BID_RATE', '1/s')} (kept)"
    )
    print(
        f"auction: {wall:.0f} s; bids sent {len(submissions)} ({dict(sorted(statuses.items()))}; "
        f"refusals {dict(codes)}), accepted {len(accepted)}; bid round trip p50 "
        f"{_percentile([s.latency for s in accepted], 50) * 1000:.0f} ms, p99 accepted "
        f"{bid_p99:.0f} ms, p99 all {all_p99:.0f} ms; client errors {dict(result['errors'])}"
    )
    print(
        f"auction: watchers {WATCHERS} on server-sent events (etp live, one uvicorn process): "
        f"{sum(w.requests for w in watchers)} connections (statuses {dict(s_statuses)}, "
        f"errors/reconnects {sum(w.errors for w in watchers)}), "
        f"{sum(w.events for w in watchers)} events; connect to first state p50 "
        f"{_percentile(s_first, 50) * 1000:.0f} ms, p99 {_percentile(s_first, 99) * 1000:.0f} "
        f"ms (all {WATCHERS} connected {result['connected']:.1f} s in; the bidders start "
        f"then); update latency p50 {update_p50:.0f} ms, p99 {update_p99:.0f} ms over {len(lags)} "
        f"(bid, watcher) pairs, never seen {missed}; p99 split: state's server_time - bid "
        f"{split[0]:.0f} ms, arrival - server_time {split[1]:.0f} ms"
    )
    print(
        f"auction: pollers {POLLERS} on the API every {POLL} s (If-None-Match, since): "
        f"{w_requests} requests ({w_requests / wall:.0f}/s, {w_304} answered 304, statuses "
        f"{dict(w_statuses)}, errors {sum(w.errors for w in pollers)}); GET p50 "
        f"{_percentile(w_lat, 50) * 1000:.0f} ms, p99 {_percentile(w_lat, 99) * 1000:.0f} ms; "
        f"update latency p50 {_percentile(p_lags, 50) * 1000:.0f} ms, p99 "
        f"{_percentile(p_lags, 99) * 1000:.0f} ms, never seen {p_missed}; final state as the "
        f"streams': {pollers_agree} of {POLLERS}"
    )
    print(
        f"auction: chain {len(rows)} bids, verifies {'yes' if chain_ok else 'NO'}; lost "
        f"{lost} (missing from the public final chain: {lost_public}), duplicated "
        f"{duplicated}; final state identical for all watchers: "
        f"{'yes' if len(finals) == 1 else f'NO ({len(finals)} variants: {differing})'} "
        f"({result['late']} still polling 60 s after the close) "
        f"({auction.state}, winning {auction.winning_amount}); main auction close lag "
        f"{main_lag:.0f} ms"
    )
    print(
        f"auction: {CLOSING} auctions ending within one minute: closed {len(close_lags)}, "
        f"closed_at - ends_at p50 {_percentile(close_lags, 50):.0f} ms, max "
        f"{close_lag_max:.0f} ms; seen closed in the public state (polled every 0.1 s) p50 "
        f"{_percentile(seen_lags, 50):.0f} ms, max {max(seen_lags, default=float('inf')):.0f} ms; "
        f"closer bids {Counter(st for _a, st in result['closer'])}"
    )
    print(
        f"auction: CPU over the run (s of CPU per s): server {server_cpu / wall:.2f}, live "
        f"{live_cpu / wall:.2f}, worker "
        f"{worker_cpu / wall:.2f}, postgres (all) {pg_cpu / wall:.2f}, redis "
        f"{redis_cpu / wall:.2f}, client {result['client_cpu'] / wall:.2f}; the machine "
        f"{machine:.2f} of {os.cpu_count()} cores busy"
    )
    print(
        f"etp_auction bidders={BIDDERS} watchers={WATCHERS} bids={len(accepted)} "
        f"bid_p99_ms={bid_p99:.0f} update_p99_ms={update_p99:.0f} lost={lost + lost_public} "
        f"duplicated={duplicated} close_lag_max_ms={close_lag_max:.0f}"
    )


def _update_lags(accepted: list[Submission], watchers: list[Watcher]) -> tuple[list[float], int]:
    """For each accepted bid and each watcher, the first sight of a best ≥ it minus the bid's
    server time; and how many (bid, watcher) pairs never saw it."""
    lags: list[float] = []
    missed = 0
    for s in accepted:
        assert s.server_at is not None  # noqa: S101
        for w in watchers:
            i = bisect.bisect_left(w.history_amounts, s.amount)
            if i == len(w.history_amounts):
                missed += 1
                lags.append(float("inf"))
            else:
                lags.append(w.history_times[i] - s.server_at)
    return lags, missed


def _split(accepted: list[Submission], watchers: list[Watcher]) -> tuple[float, float]:
    """The update latency's p99 in two: the state's server_time minus the bid's (commit,
    NOTIFY, the state read) and the arrival minus the state's server_time (the sends, the
    client's reading)."""
    server: list[float] = []
    delivery: list[float] = []
    for s in accepted:
        assert s.server_at is not None  # noqa: S101
        for w in watchers:
            i = bisect.bisect_left(w.history_amounts, s.amount)
            if i < len(w.history_amounts):
                server.append(w.history_server[i] - s.server_at)
                delivery.append(w.history_times[i] - w.history_server[i])
    return _percentile(server, 99) * 1000, _percentile(delivery, 99) * 1000


def _postgres_reachable() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", 5432)) == 0


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(_ADMIN, autocommit=True) as conn:
        conn.execute(statement)  # a fixed statement (the bench's own name), no user input


def _run_all() -> int:
    if not _postgres_reachable():
        print("auction: SKIPPED (nothing answers on 127.0.0.1:5432)")
        return 0
    data = tempfile.mkdtemp(prefix="aips-bench-auction-")
    name = f"etp_bench_auction_{os.getpid()}"
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(f"CREATE DATABASE {name}")
    try:
        env = {
            **os.environ,
            "AIPS_BENCH_CHILD": "1",
            "AIPS_ETP_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
            "AIPS_DATA_DIR": data,
        }
        command = [sys.executable, __file__]  # this script again, in a process of its own
        return subprocess.run(command, env=env, check=False).returncode  # noqa: S603
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if os.environ.get("AIPS_BENCH_KEEP"):
            print(f"auction: logs kept in {data}")
        else:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    if os.environ.get("AIPS_BENCH_CHILD"):
        main()
    else:
        sys.exit(_run_all())
