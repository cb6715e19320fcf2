"""HTTPS to AIPS (R67.9, R57.25): TLS 1.2 or newer enforced by this client, the server's
certificate checked against the center's CA only (not the system store) with its host name, an
agent token and/or a client certificate, an optional HTTP proxy (CONNECT), and one kept-alive
connection. There is no switch that turns these checks off."""

import http.client
import json
import logging
import ssl
import time
import zlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec

from aips_agent import __version__
from aips_agent.config import ServerConfig

log = logging.getLogger("aips_agent.transport")
USER_AGENT = f"aips-agent/{__version__}"


class CredentialFileError(ValueError):
    """The CA file or the client certificate/key cannot be loaded: names the setting and file."""


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def tls_context(server: ServerConfig) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verify_mode=CERT_REQUIRED, check_hostname
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.options |= ssl.OP_NO_COMPRESSION
    try:
        context.load_verify_locations(cafile=str(server.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise CredentialFileError(
            f"server.ca_file: cannot load {server.ca_file}: {_reason(exc)}"
        ) from None
    if server.client_cert is not None:
        try:
            context.load_cert_chain(str(server.client_cert), str(server.client_key))
        except (OSError, ssl.SSLError) as exc:
            raise CredentialFileError(
                f"server.client_cert / client_key: cannot load {server.client_cert} with "
                f"{server.client_key}: {_reason(exc)}"
            ) from None
    return context


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return msgspec.json.decode(self.body) if self.body else None  # DecodeError: ValueError

    def error_text(self, limit: int = 300) -> str:
        """The server's error as a person reads it: AIPS's `error.message` and field errors in
        real text (never `\\u0422…` escapes or a bytes repr), else the body as text."""
        try:
            error = self.json()["error"]
            message = str(error.get("message") or "")
            fields = error.get("fields") or {}
        except (ValueError, KeyError, TypeError, AttributeError):
            text = self.body[: limit * 4].decode("utf-8", "replace")
            return " ".join(text.split())[:limit] or "(no body)"
        details = []
        for name, value in fields.items() if isinstance(fields, dict) else ():
            texts = value if isinstance(value, list) else [value]
            details.append(f"{name}: " + " ".join(str(t) for t in texts))
        return "; ".join([message, *details]).strip("; ")[:limit] or "(no message)"

    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after")
        if not value:
            return None
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class Client:
    def __init__(self, server: ServerConfig, context: ssl.SSLContext | None = None) -> None:
        self.server = server
        self.context = context or tls_context(server)
        self._conn: http.client.HTTPSConnection | None = None

    def _connection(self) -> http.client.HTTPSConnection:
        if self._conn is None:
            server = self.server
            if server.proxy:
                proxy = urlsplit(server.proxy if "//" in server.proxy else f"http://{server.proxy}")
                conn = http.client.HTTPSConnection(
                    proxy.hostname or "",
                    proxy.port or 3128,
                    context=self.context,
                    timeout=server.timeout,
                )
                headers = {}
                if proxy.username:
                    import base64

                    auth = f"{proxy.username}:{proxy.password or ''}".encode()
                    headers["Proxy-Authorization"] = "Basic " + base64.b64encode(auth).decode()
                conn.set_tunnel(server.host, server.port, headers=headers)
            else:
                conn = http.client.HTTPSConnection(
                    server.host, server.port, context=self.context, timeout=server.timeout
                )
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def connect(self) -> tuple[str | None, str | None]:
        """Open the TLS connection now; (protocol version, cipher) for test-connection."""
        conn = self._connection()
        conn.connect()
        sock = conn.sock
        if isinstance(sock, ssl.SSLSocket):
            cipher = sock.cipher()
            return sock.version(), cipher[0] if cipher else None
        return None, None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str = "application/json",
        compress: bool = False,
    ) -> Response:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.server.token:
            headers["Authorization"] = f"Bearer {self.server.token}"
        if body is not None:
            headers["Content-Type"] = content_type
            if compress:
                # gzip format (wbits=31) in one pass: zlib computes the CRC while deflating;
                # gzip.compress reads the body twice and releases the GIL twice per batch.
                body = zlib.compress(body, 1, wbits=31)
                headers["Content-Encoding"] = "gzip"
        url = self.server.base_path + path
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, url, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server closed meanwhile: one fresh try.
                self.close()
                if attempt == 2:
                    raise
                continue
            except BaseException:
                self.close()
                raise
            if response.will_close:
                self.close()
            return Response(response.status, data, {k.lower(): v for k, v in response.getheaders()})
        raise AssertionError("unreachable")

    def post_json(self, path: str, payload: Any) -> Response:
        return self.request("POST", path, json.dumps(payload).encode())
