"""A stand-in for the AIPS signal API over real TLS (stdlib http.server + ssl): it answers like
the server (per-item accepted/duplicate/rejected, dedup by id), can be told to fail, throttle or
be slow, and records every id it was sent, so the tests can count arrivals."""

import contextlib
import gzip
import json
import socket
import ssl
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TOKEN = "aipsa_test-token-0123456789"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    stub: "StubServer"

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.stub.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.stub.handshake_errors.append(str(exc))
            request.close()
            return
        with self.stub.lock:
            self.stub.connections.add(tls)
        try:
            self.RequestHandlerClass(tls, client_address, self)  # type: ignore[arg-type]
        finally:
            with self.stub.lock:
                self.stub.connections.discard(tls)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # client hang-ups are part of the tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        stub = self.server.stub
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with stub.lock:
            stub.requests += 1
            stub.tls_versions.add(str(self.connection.version()))
        if self.headers.get("Authorization") != f"Bearer {stub.token}":
            # As AIPS answers a Russian-speaking agent: JSON with \u escapes for Cyrillic.
            self._answer(401, {"error": {"code": "unauthorized", "message": stub.refusal}})
            return
        if self.path == "/api/v1/integrations/heartbeat":
            with stub.lock:
                stub.heartbeats.append(json.loads(body))
            self._answer(
                200,
                {
                    "module_id": 1,
                    "organization_id": 2,
                    "module_name": "SIEM connector",
                    "organization_name": "АО «Алатау Банк»",
                },
            )
            return
        if self.path != "/api/v1/signals":
            self._answer(404, {"error": {"code": "not_found", "message": self.path}})
            return
        with stub.lock:
            if stub.throttle > 0:
                stub.throttle -= 1
                stub.throttled_at.append(time.monotonic())
                self._answer(
                    429, {"error": {"code": "rate_limited"}}, {"Retry-After": str(stub.retry_after)}
                )
                return
            if stub.fail_status:
                self._answer(stub.fail_status, {"error": {"code": "down", "message": "down"}})
                return
            delay = stub.delay
        if delay:
            time.sleep(delay)
        items = json.loads(body)
        whole = stub.refuse_batch(items) if stub.refuse_batch else 0
        if whole:
            with stub.lock:
                stub.refused_batches.append(len(items))
            self._answer(
                whole,
                {"error": {"code": "validation_error", "message": "refused", "fields": {}}},
            )
            return
        results = []
        with stub.lock:
            stub.batches.append(len(items))
            stub.batch_times.append(time.monotonic())
            for index, item in enumerate(items):
                sid = item.get("id")
                stub.received[sid] += 1
                problem = stub.reject(item) if stub.reject else None
                if problem:
                    results.append(
                        {"index": index, "id": sid, "status": "rejected", "errors": problem}
                    )
                    stub.rejected.append(sid)
                elif sid in stub.items:
                    results.append({"index": index, "id": sid, "status": "duplicate"})
                else:
                    stub.items[sid] = item
                    results.append({"index": index, "id": sid, "status": "accepted"})
        accepted = sum(r["status"] == "accepted" for r in results)
        duplicates = sum(r["status"] == "duplicate" for r in results)
        self._answer(
            200,
            {
                "accepted": accepted,
                "duplicates": duplicates,
                "rejected": len(results) - accepted - duplicates,
                "items": results,
            },
        )


class StubServer:
    def __init__(
        self,
        cert: Path,
        key: Path,
        *,
        port: int = 0,
        max_version: ssl.TLSVersion | None = None,
        token: str = TOKEN,
    ) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        if max_version is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = ssl.TLSVersion.TLSv1
                context.maximum_version = max_version
            context.set_ciphers("DEFAULT:@SECLEVEL=0")  # really willing to speak old TLS
        self.context = context
        self.token = token
        self.lock = threading.Lock()
        self.received: Counter[str] = Counter()
        self.items: dict[str, dict[str, Any]] = {}
        self.rejected: list[str] = []
        self.heartbeats: list[dict[str, Any]] = []
        self.batches: list[int] = []
        self.batch_times: list[float] = []
        self.throttled_at: list[float] = []
        self.handshake_errors: list[str] = []
        self.tls_versions: set[str] = set()
        self.connections: set[Any] = set()
        self.requests = 0
        self.throttle = 0
        self.retry_after = 1
        self.fail_status = 0
        self.delay = 0.0
        self.reject: Callable[[dict[str, Any]], dict[str, str] | None] | None = None
        # An HTTP status (e.g. 422, 413) for the whole batch, or 0 to answer it item by item.
        self.refuse_batch: Callable[[list[dict[str, Any]]], int] | None = None
        self.refused_batches: list[int] = []
        self.refusal = "Неверный токен агента."
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        self.start()

    def start(self) -> None:
        httpd = _Server(("127.0.0.1", self.port), _Handler)
        httpd.stub = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self.lock:
            open_connections = list(self.connections)
        for conn in open_connections:  # kept-alive clients must see the server go, too
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate():
                    return True
            time.sleep(0.05)
        with self.lock:
            return predicate()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
