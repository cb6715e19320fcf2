"""Inputs: threads that read a source, map each record and put the result into the spool.

A file input commits its signals and its new file position in one spool transaction, so the
position never runs ahead of the queue (nor behind it). A syslog input has no position: over TCP
it simply stops reading while the spool is full (the sender's TCP window fills, back-pressure);
over UDP nothing can wait, so what arrives while the spool is full is dropped and COUNTED
(`dropped` in status and heartbeat) — the only place the agent can lose an event, never silently.
Malformed records are counted (`errors`), logged (sampled) and skipped. Records read fine that
are not attacks (traffic, audit, inventory, or unknown to every rule) are counted
(`not_attacks`) and skipped; a signal whose record has no readable time of its own is stamped
with the time it was read, counted (`no_event_time`) and logged (sampled).

Every signal is queued with its origin (spool.Origin): the file and the line's byte offset, or
the syslog peer and the message's number, and the record itself, so a signal the server refuses
can be traced back to its line. A record the agent cannot read at all (e.g. a JSON line with a
lone UTF-16 surrogate, which no signal may carry) goes to the same dead-letter table with its
origin and the reason, at most UNREADABLE_KEEP per read so a file of garbage cannot churn it."""

import errno
import itertools
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from aips_agent import signals as s
from aips_agent.detectors import Detectors
from aips_agent.events import AuthFailure, Connection, Dropped, Malformed, NoEventTime
from aips_agent.mappers import Item, Mapper
from aips_agent.spool import RAW_KEEP, Origin, Spool, Stopped
from aips_agent.tailer import Position, Tailer

log = logging.getLogger("aips_agent.inputs")
WARN_EVERY = 10.0  # at most one malformed-record warning per input per 10 s (with the count)
UNREADABLE_KEEP = 10  # unreadable records dead-lettered per read (all are counted as errors)


class InputError(RuntimeError):
    """An input cannot start (e.g. its port is taken): one line naming the input and why."""


class _Counting:
    def __init__(self, name: str) -> None:
        self.name = name
        self._warned = 0.0
        self._unwarned = 0
        self._time_warned = 0.0
        self._untimed = 0

    def malformed(self, error: Exception, record: bytes) -> None:
        now = time.monotonic()
        self._unwarned += 1
        if now - self._warned >= WARN_EVERY:
            log.warning(
                "malformed record skipped",
                extra={
                    "input": self.name,
                    "error": str(error)[:300],
                    "record": record[:200].decode("utf-8", "replace"),
                    "skipped_since_last_warning": self._unwarned,
                },
            )
            self._warned = now
            self._unwarned = 0

    def no_event_time(self, why: str) -> None:
        """A signal stamped with the time it was read: counted, and logged at most every
        WARN_EVERY seconds (with how many since)."""
        now = time.monotonic()
        self._untimed += 1
        if now - self._time_warned >= WARN_EVERY:
            log.warning(
                "record without a readable event time: stamped with the time it was read",
                extra={"input": self.name, "why": why[:300], "since_last_warning": self._untimed},
            )
            self._time_warned = now
            self._untimed = 0


_OBSERVATIONS = (AuthFailure, Connection)  # a tuple: faster for isinstance than a union
_NOTES = (Dropped, NoEventTime)


def map_records(
    records: Iterable[bytes],
    mapper: Mapper,
    detectors: Detectors | None,
    counting: _Counting,
    *,
    origins: list[Origin | None] | None = None,
    source: str | Sequence[str] = "",
    positions: Sequence[int] | None = None,
    unreadable: list[tuple[Origin, str]] | None = None,
    keep_records: bool = False,
) -> tuple[list[s.Signal], dict[str, int]]:
    """Map records to signals. With `origins`, one Origin per signal is appended to it, from
    `source` (one for all, or one per record) and `positions` (one per record); with
    `unreadable`, the first records that cannot be read, with their origin and the reason.
    `keep_records`: the origin holds the record itself (syslog); else, for a file line, its
    length and CRC-32, to read it back should the server refuse the signal."""
    out: list[s.Signal] = []
    read = errors = observations = not_attacks = no_event_time = 0
    for number, record in enumerate(records):
        read += 1
        made = len(out)
        try:
            items: list[Item] = mapper(record)
        except (Malformed, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            errors += 1
            counting.malformed(exc, record)
            if unreadable is not None and len(unreadable) < UNREADABLE_KEEP:
                where = (
                    source if isinstance(source, str) else source[number],
                    positions[number] if positions is not None else number,
                    record[:RAW_KEEP],
                    None,
                )
                unreadable.append((where, f"the agent cannot read this record: {exc}"[:500]))
            continue
        for item in items:
            if isinstance(item, _OBSERVATIONS):
                observations += 1
                if detectors is not None:
                    out.extend(detectors.observe(item))
            elif isinstance(item, _NOTES):
                if isinstance(item, Dropped):
                    not_attacks += 1
                else:
                    no_event_time += 1
                    counting.no_event_time(item.why)
            else:
                out.append(item)
        if origins is not None and len(out) > made:
            origin: Origin = (
                source if isinstance(source, str) else source[number],
                positions[number] if positions is not None else number,
                record[:RAW_KEEP] if keep_records else None,
                None if keep_records else len(record) << 32 | zlib.crc32(record),
            )
            if len(out) == made + 1:
                origins.append(origin)
            else:
                origins.extend([origin] * (len(out) - made))
    counters = {"read": read, "errors": errors, "signals": len(out)}
    if observations:
        counters["observations"] = observations
    if not_attacks:
        counters["not_attacks"] = not_attacks
    if no_event_time:
        counters["no_event_time"] = no_event_time
    return out, counters


class FileInput(threading.Thread):
    def __init__(
        self,
        name: str,
        path: Path,
        mapper: Mapper,
        spool: Spool,
        *,
        detectors: Detectors | None,
        stop: threading.Event,
        start_at: str = "end",
        poll_seconds: float = 0.25,
        chunk_bytes: int = 1 << 20,
        on_put: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name=f"input:{name}", daemon=True)
        self.input_name = name
        self.mapper = mapper
        self.spool = spool
        self.detectors = detectors
        self.stop = stop
        self.poll_seconds = poll_seconds
        self.chunk_bytes = chunk_bytes
        self.on_put = on_put
        self.counting = _Counting(name)
        self.tailer = Tailer(path, Position.load(spool.position(name)), start_at=start_at)
        self.failed: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except Stopped:
            pass
        except BaseException as exc:  # pragma: no cover - reported, and the agent exits
            self.failed = exc
            log.exception("input stopped by an error", extra={"input": self.input_name})
            self.stop.set()
        finally:
            self.tailer.close()

    def step(self) -> bool:
        """Read, map and enqueue what is there now; False when there was nothing."""
        before = self.tailer.position()
        lines = self.tailer.read(self.chunk_bytes)
        after = self.tailer.position()
        if not lines and after == before:
            return False
        origins: list[Origin | None] = []
        unreadable: list[tuple[Origin, str]] = []
        signals, counters = map_records(
            lines,
            self.mapper,
            self.detectors,
            self.counting,
            origins=origins,
            source=self.tailer.lines_from,
            positions=self.tailer.offsets,
            unreadable=unreadable,
        )
        if self.tailer.lost_rotations:
            counters["lost_rotations"] = self.tailer.lost_rotations
            self.tailer.lost_rotations = 0
        self.spool.put(
            self.input_name,
            signals,
            position=after.dump(),
            counters=counters,
            stop=self.stop,
            origins=origins,
            unreadable=unreadable,
        )
        if signals and self.on_put is not None:
            self.on_put()
        return True

    def _run(self) -> None:
        while not self.stop.is_set():
            if not self.step():
                self.stop.wait(self.poll_seconds)


class SyslogInput:
    """Syslog over UDP and/or TCP (RFC 6587 octet counting or newline framing)."""

    def __init__(
        self,
        name: str,
        mapper: Mapper,
        spool: Spool,
        *,
        detectors: Detectors | None,
        stop: threading.Event,
        udp: tuple[str, int] | None,
        tcp: tuple[str, int] | None,
        on_put: Callable[[], None] | None = None,
    ) -> None:
        self.input_name = name
        self.mapper = mapper
        self.spool = spool
        self.detectors = detectors
        self.stop = stop
        self.on_put = on_put
        self.counting = _Counting(name)
        self.threads: list[threading.Thread] = []
        self.udp_socket: socket.socket | None = None
        self.tcp_socket: socket.socket | None = None
        self._dropped_logged = 0.0
        # A message's position: its number since the listener started (syslog has no offset).
        self._numbers = itertools.count(1)
        try:
            if udp is not None:
                family = socket.AF_INET6 if ":" in udp[0] else socket.AF_INET
                self.udp_socket = socket.socket(family, socket.SOCK_DGRAM)
                self.udp_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
                _bind(self.udp_socket, name, "UDP", udp)
                self.udp_socket.settimeout(0.2)
                self.threads.append(
                    threading.Thread(target=self._udp, name=f"udp:{name}", daemon=True)
                )
            if tcp is not None:
                family = socket.AF_INET6 if ":" in tcp[0] else socket.AF_INET
                self.tcp_socket = socket.socket(family, socket.SOCK_STREAM)
                self.tcp_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                _bind(self.tcp_socket, name, "TCP", tcp)
                self.tcp_socket.listen(64)
                self.tcp_socket.settimeout(0.2)
                self.threads.append(
                    threading.Thread(target=self._tcp, name=f"tcp:{name}", daemon=True)
                )
        except BaseException:
            self.join(0)
            raise

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float | None = None) -> None:
        for thread in self.threads:
            thread.join(timeout)
        for sock in (self.udp_socket, self.tcp_socket):
            if sock is not None:
                sock.close()

    def _put(self, messages: list[bytes], *, block: bool, peers: str | list[str]) -> None:
        origins: list[Origin | None] = []
        unreadable: list[tuple[Origin, str]] = []
        numbers = self._numbers
        signals, counters = map_records(
            messages,
            self.mapper,
            self.detectors,
            self.counting,
            origins=origins,
            source=peers,
            positions=[next(numbers) for _m in messages],
            unreadable=unreadable,
            keep_records=True,
        )
        if not self.spool.put(
            self.input_name,
            signals,
            counters=counters,
            block=block,
            stop=self.stop,
            origins=origins,
            unreadable=unreadable,
        ):
            dropped = len(messages)
            self.spool.count(self.input_name, {"dropped": dropped, "read": dropped})
            if time.monotonic() - self._dropped_logged > WARN_EVERY:
                self._dropped_logged = time.monotonic()
                log.error(
                    "spool full: syslog UDP messages DROPPED (counted in status)",
                    extra={"input": self.input_name, "dropped": dropped},
                )
        elif signals and self.on_put is not None:
            self.on_put()

    def _udp(self) -> None:
        sock = self.udp_socket
        if sock is None:
            return
        batch: list[bytes] = []
        peers: list[str] = []
        flush_at = time.monotonic() + 0.1
        try:
            while not self.stop.is_set():
                try:
                    data, peer = sock.recvfrom(65535)
                    if data.strip():
                        batch.append(data)
                        peers.append(_peer("udp", peer))
                except TimeoutError:
                    pass
                if batch and (len(batch) >= 500 or time.monotonic() >= flush_at):
                    self._put(batch, block=False, peers=peers)
                    batch, peers = [], []
                    flush_at = time.monotonic() + 0.1
            if batch:
                self._put(batch, block=False, peers=peers)
        except Stopped:
            pass

    def _tcp(self) -> None:
        sock = self.tcp_socket
        if sock is None:
            return
        while not self.stop.is_set():
            try:
                conn, peer = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(
                target=self._tcp_connection,
                args=(conn, _peer("tcp", peer)),
                name=f"tcp:{self.input_name}:conn",
                daemon=True,
            )
            thread.start()

    def _tcp_connection(self, conn: socket.socket, peer: str) -> None:
        conn.settimeout(0.2)
        framer = Framer()
        try:
            with conn:
                while not self.stop.is_set():
                    try:
                        data = conn.recv(1 << 16)
                    except TimeoutError:
                        continue
                    except OSError:
                        return
                    if not data:
                        rest = framer.finish()
                        if rest:
                            self._put(rest, block=True, peers=peer)
                        return
                    messages = framer.feed(data)
                    if messages:  # a full spool stalls the sender
                        self._put(messages, block=True, peers=peer)
        except Stopped:
            pass


def _peer(transport: str, address: Any) -> str:
    """`udp:203.0.113.5:514`, `tcp:[2001:db8::1]:601`: where a syslog message came from."""
    host, port = address[0], address[1]
    return f"{transport}:[{host}]:{port}" if ":" in str(host) else f"{transport}:{host}:{port}"


def _bind(sock: socket.socket, name: str, transport: str, address: tuple[str, int]) -> None:
    try:
        sock.bind(address)
    except OSError as exc:
        host, port = address
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        raise InputError(
            f"input {name!r} cannot listen on {transport} {where}: {exc.strerror or exc}"
            + (" (another program already uses this port)" if exc.errno == errno.EADDRINUSE else "")
        ) from None


class Framer:
    """RFC 6587: each frame is `LEN SP MSG` (octet counting) or `MSG LF` (non-transparent);
    the first byte of each frame tells which."""

    MAX = 1 << 20

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        out: list[bytes] = []
        buf = self.buffer
        i = 0
        n = len(buf)
        while i < n:
            if buf[i : i + 1] in (b"\n", b"\r", b"\x00"):
                i += 1
                continue
            if buf[i : i + 1].isdigit():
                space = buf.find(b" ", i, i + 8)
                if space > i and buf[i:space].isdigit():
                    length = int(buf[i:space])
                    if length > self.MAX:
                        i = space + 1  # nonsense length: fall back to newline framing
                    else:
                        if space + 1 + length > n:
                            break
                        out.append(buf[space + 1 : space + 1 + length])
                        i = space + 1 + length
                        continue
            end = buf.find(b"\n", i)
            if end < 0:
                if n - i > self.MAX:
                    out.append(buf[i:])
                    i = n
                break
            out.append(buf[i:end].rstrip(b"\r"))
            i = end + 1
        self.buffer = buf[i:]
        return [m for m in out if m.strip()]

    def finish(self) -> list[bytes]:
        rest, self.buffer = self.buffer, b""
        return [rest] if rest.strip() else []
