"""A small client of ClamAV's daemon, `clamd`, over its socket protocol (R57.12).

The two Python clients on PyPI (`clamd`, last release 2014; `pyClamd`, 2017) are unmaintained,
and the part of the protocol the platform needs is a few lines
(docs/decisions/0047-clamav-scans-stored-files.md): the null-terminated commands `zPING`,
`zVERSION` and `zINSTREAM`, the last followed by the file as chunks each prefixed with its length
(4 bytes, big-endian) and a zero-length chunk to end it. The daemon answers one line:
`stream: OK`, `stream: <signature> FOUND`, or `<reason> ERROR`.

Where the daemon listens comes from the settings: `AIPS_CLAMD_SOCKET` (a Unix socket path) or
`AIPS_CLAMD_ADDRESS` (`host:port`); with neither, scanning is not configured and files stay
"pending" (never served)."""

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from django.conf import settings

CHUNK_BYTES: Final = 64 * 1024
# The longest answer clamd gives (a signature name is short); more means a broken peer.
MAX_REPLY_BYTES: Final = 4096


class ScannerUnavailable(Exception):
    """The daemon could not be reached or did not answer as the protocol says."""


@dataclass(frozen=True)
class Verdict:
    infected: bool
    signature: str = ""  # the matching signature's name when infected


@dataclass(frozen=True)
class Endpoint:
    unix_path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        return self.unix_path or f"{self.host}:{self.port}"


def configured_endpoint() -> Endpoint | None:
    """Where clamd listens, or None when neither setting is given (scanning not configured)."""
    path: str = getattr(settings, "AIPS_CLAMD_SOCKET", "")
    if path:
        return Endpoint(unix_path=path)
    address: str = getattr(settings, "AIPS_CLAMD_ADDRESS", "")
    if not address:
        return None
    host, _sep, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("AIPS_CLAMD_ADDRESS must be host:port")
    return Endpoint(host=host.strip("[]"), port=int(port))


def is_configured() -> bool:
    return configured_endpoint() is not None


class Clamd:
    """One command per connection (clamd's default mode); every call opens its own socket."""

    def __init__(self, endpoint: Endpoint, *, timeout: float | None = None) -> None:
        self.endpoint = endpoint
        self.timeout = (
            timeout if timeout is not None else float(getattr(settings, "AIPS_CLAMD_TIMEOUT", 30))
        )

    def _connect(self) -> socket.socket:
        try:
            if self.endpoint.unix_path:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                sock.connect(self.endpoint.unix_path)
                return sock
            return socket.create_connection(
                (self.endpoint.host, self.endpoint.port), timeout=self.timeout
            )
        except OSError as exc:
            raise ScannerUnavailable(f"cannot connect to clamd at {self.endpoint}: {exc}") from exc

    @staticmethod
    def _reply(sock: socket.socket) -> str:
        data = b""
        while not data.endswith(b"\0"):
            part = sock.recv(MAX_REPLY_BYTES)
            if not part:
                break
            data += part
            if len(data) > MAX_REPLY_BYTES:
                raise ScannerUnavailable("clamd's answer is too long")
        if not data:
            raise ScannerUnavailable("clamd closed the connection without an answer")
        return data.rstrip(b"\0").decode("utf-8", "replace").strip()

    def _command(self, command: bytes) -> str:
        try:
            with self._connect() as sock:
                sock.sendall(b"z" + command + b"\0")
                return self._reply(sock)
        except OSError as exc:
            raise ScannerUnavailable(f"clamd at {self.endpoint}: {exc}") from exc

    def ping(self) -> bool:
        return self._command(b"PING") == "PONG"

    def version(self) -> str:
        """E.g. "ClamAV 1.4.6/27480/Thu Dec  4 09:24:03 2026" (engine/signatures/their date)."""
        return self._command(b"VERSION")

    def scan(self, chunks: Iterable[bytes]) -> Verdict:
        """Send the bytes with INSTREAM and read the verdict. An ERROR answer (the daemon's
        StreamMaxLength exceeded, a scan it could not finish) is `ScannerUnavailable` too: the
        file is not known to be clean, so the caller retries it later."""
        try:
            with self._connect() as sock:
                sock.sendall(b"zINSTREAM\0")
                for chunk in chunks:
                    for start in range(0, len(chunk), CHUNK_BYTES):
                        part = chunk[start : start + CHUNK_BYTES]
                        sock.sendall(struct.pack("!L", len(part)) + part)
                sock.sendall(struct.pack("!L", 0))
                answer = self._reply(sock)
        except OSError as exc:
            raise ScannerUnavailable(f"clamd at {self.endpoint}: {exc}") from exc
        return parse_answer(answer)


def parse_answer(answer: str) -> Verdict:
    """`stream: OK` → clean; `stream: <name> FOUND` → infected; anything else is an error."""
    _prefix, _sep, result = answer.partition(": ")
    if result == "OK":
        return Verdict(infected=False)
    if result.endswith(" FOUND"):
        return Verdict(infected=True, signature=result.removesuffix(" FOUND").strip()[:255])
    raise ScannerUnavailable(f"clamd could not scan the file: {answer[:200]}")


def client() -> Clamd | None:
    """The configured daemon's client, or None when scanning is not configured."""
    endpoint = configured_endpoint()
    return Clamd(endpoint) if endpoint is not None else None
