"""R67.7, R67.9, R57.25: the shipper sends over verified TLS 1.2+ only, removes a signal only when
the server answered for it, honours 429 Retry-After, survives the server being away, and goes
through an HTTP proxy."""

import select
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aips_agent import signals as s
from aips_agent.config import Config, load
from aips_agent.shipper import Heartbeat, Shipper
from aips_agent.spool import Spool
from aips_agent.transport import Client
from tests.conftest import write_config
from tests.pki import Issued, TestCA
from tests.stub import StubServer


def sig(n: int) -> s.IdsSignal:
    return s.IdsSignal(
        id=s.new_id(),
        observed_at="2026-11-22T10:00:00+00:00",
        product="Suricata",
        vendor="OISF",
        rule_name=f"rule {n}",
    )


def config_for(tmp_path: Path, url: str, ca_file: Path, **server: Any) -> Config:
    return load(
        write_config(
            tmp_path,
            url=url,
            ca_file=ca_file,
            server=server,
            inputs=[{"name": "eve", "type": "suricata_eve", "path": str(tmp_path / "eve.json")}],
        )
    )


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    spool = Spool(tmp_path / "spool.db")
    yield spool
    spool.close()


def shipper_for(config: Config, spool: Spool) -> Shipper:
    return Shipper(spool, config.server)


def drain(shipper: Shipper, rounds: int = 20) -> None:
    for _ in range(rounds):
        batch = shipper.spool.batch(shipper.batch_size, 1 << 22)
        if not batch:
            return
        shipper.ship(batch)


def test_r67_9_signals_go_over_tls_1_2_or_newer_with_the_agent_token(
    tmp_path: Path, stub: StubServer, ca: TestCA, spool: Spool
) -> None:
    config = config_for(tmp_path, stub.url, ca.cert_path)
    sent = [sig(i) for i in range(10)]
    spool.put("eve", sent)
    shipper = shipper_for(config, spool)
    assert shipper.ship(spool.batch(500, 1 << 22)) == 0.0
    assert set(stub.items) == {x.id for x in sent}
    assert spool.items == 0
    assert stub.tls_versions <= {"TLSv1.2", "TLSv1.3"}
    assert shipper.totals["shipped"] == 10


def test_r67_9_a_server_certificate_from_another_ca_is_refused(
    tmp_path: Path, ca: TestCA, spool: Spool
) -> None:
    rogue = TestCA(tmp_path / "rogue", name="Rogue CA").issue("localhost")
    server = StubServer(rogue.cert, rogue.key)
    try:
        config = config_for(tmp_path, server.url, ca.cert_path)
        spool.put("eve", [sig(1)])
        shipper = shipper_for(config, spool)
        assert shipper.ship(spool.batch(10, 1 << 22)) > 0
        assert shipper.last_error is not None
        assert "certificate is not trusted" in shipper.last_error
        assert spool.items == 1  # kept for later
        assert server.items == {}
    finally:
        server.stop()


def test_r67_9_a_certificate_for_another_host_name_is_refused(
    tmp_path: Path, ca: TestCA, spool: Spool
) -> None:
    other = ca.issue("elsewhere", dns="elsewhere.example")  # our CA, but not this host
    server = StubServer(other.cert, other.key)
    try:
        config = config_for(tmp_path, server.url, ca.cert_path)
        spool.put("eve", [sig(1)])
        shipper = shipper_for(config, spool)
        assert shipper.ship(spool.batch(10, 1 << 22)) > 0
        assert "not trusted" in (shipper.last_error or "")
        assert spool.items == 1
        assert server.items == {}
    finally:
        server.stop()


def test_r57_25_r67_9_a_server_that_offers_only_tls_1_1_is_refused_by_the_client(
    tmp_path: Path, server_cert: Issued, ca: TestCA, spool: Spool
) -> None:
    server = StubServer(server_cert.cert, server_cert.key, max_version=ssl.TLSVersion.TLSv1_1)
    try:
        config = config_for(tmp_path, server.url, ca.cert_path)
        spool.put("eve", [sig(1)])
        shipper = shipper_for(config, spool)
        assert shipper.ship(spool.batch(10, 1 << 22)) > 0
        assert "TLS failed" in (shipper.last_error or "")
        assert spool.items == 1
        assert server.items == {}
        # The stub really speaks TLS 1.1 to a client that allows it, so the refusal above
        # is this client's TLS 1.2 minimum at work.
        permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        permissive.load_verify_locations(str(ca.cert_path))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 on purpose
                permissive.minimum_version = ssl.TLSVersion.TLSv1
            permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
            with (
                socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw,
                permissive.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
            ):
                assert tls.version() == "TLSv1.1"
        except ssl.SSLError:
            pytest.skip("this OpenSSL build cannot speak TLS 1.1 at all")
    finally:
        server.stop()


def test_r67_7_429_retry_after_is_honoured(
    tmp_path: Path, stub: StubServer, ca: TestCA, spool: Spool
) -> None:
    config = config_for(tmp_path, stub.url, ca.cert_path)
    stub.throttle, stub.retry_after = 1, 1
    spool.put("eve", [sig(1), sig(2)])
    shipper = shipper_for(config, spool)
    thread = threading.Thread(target=shipper.run, daemon=True)
    thread.start()
    try:
        assert stub.wait_for(lambda: len(stub.items) == 2, timeout=10)
        waited = stub.batch_times[0] - stub.throttled_at[0]
        assert waited >= 1.0, waited  # Retry-After: 1, not the 0.05 s backoff
        assert shipper.errors == 1
        assert shipper.last_error is None  # delivered since: the 429 is no longer current
    finally:
        shipper.stop.set()
        thread.join(5)


def test_r67_7_server_down_for_a_while_then_the_backlog_drains(
    tmp_path: Path, stub: StubServer, ca: TestCA, spool: Spool
) -> None:
    config = config_for(tmp_path, stub.url, ca.cert_path, batch_size=50)
    shipper = shipper_for(config, spool)
    spool.put("eve", [sig(0)])
    drain(shipper)  # a kept-alive connection exists now
    stub.stop()
    backlog = [sig(i) for i in range(1, 301)]
    spool.put("eve", backlog)
    thread = threading.Thread(target=shipper.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.5)
        assert spool.items == 300  # nothing lost, nothing removed while the server is away
        assert shipper.errors >= 2
        stub.start()  # same port
        assert stub.wait_for(lambda: len(stub.items) == 301, timeout=20)
        deadline = time.monotonic() + 5
        while spool.items and time.monotonic() < deadline:
            time.sleep(0.05)
        assert spool.items == 0
        assert set(stub.items) >= {x.id for x in backlog}
    finally:
        shipper.stop.set()
        thread.join(5)


def test_r67_7_duplicates_leave_rejected_go_to_dead_letters(
    tmp_path: Path, stub: StubServer, ca: TestCA, spool: Spool, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(tmp_path, stub.url, ca.cert_path)
    stub.reject = lambda item: {"rule_name": "bad"} if item.get("rule_name") == "rule 2" else None
    known = sig(1)
    stub.items[known.id] = {}
    spool.put("eve", [known, sig(2), sig(3)])
    shipper = shipper_for(config, spool)
    assert shipper.ship(spool.batch(10, 1 << 22)) == 0.0
    assert spool.items == 0
    assert shipper.totals == {"shipped": 1, "duplicates": 1, "rejected": 1}
    assert any("rejected a signal" in r.message and r.levelname == "ERROR" for r in caplog.records)
    from aips_agent.spool import read_status

    status = read_status(tmp_path / "spool.db")
    assert status["dead_letters"] == 1
    assert status["recent_dead_letters"][0]["errors"] == {"rule_name": "bad"}


def test_r67_7_bad_token_keeps_everything_and_says_so(
    tmp_path: Path, stub: StubServer, ca: TestCA, spool: Spool, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(tmp_path, stub.url, ca.cert_path, token="aipsa_wrong")
    spool.put("eve", [sig(1)])
    shipper = shipper_for(config, spool)
    assert shipper.ship(spool.batch(10, 1 << 22)) >= 60
    assert spool.items == 1
    assert any(
        "refuses this agent's credentials" in r.message and r.levelname == "ERROR"
        for r in caplog.records
    )


def test_r67_7_heartbeat_reports_queue_and_inputs(
    tmp_path: Path, stub: StubServer, ca: TestCA, spool: Spool
) -> None:
    config = config_for(tmp_path, stub.url, ca.cert_path)
    spool.put("eve", [sig(1)], counters={"read": 5, "errors": 1})
    shipper = shipper_for(config, spool)
    beat = Heartbeat(spool, config.server, shipper, stop=threading.Event())
    response = beat.beat()
    assert response is not None
    assert response.status == 200
    [payload] = stub.heartbeats
    assert payload["queue_depth"] == 1
    assert payload["inputs"] == {"eve": {"read": 5, "errors": 1}}
    assert payload["disk_full"] is False
    assert set(payload) == {
        "version",
        "queue_depth",
        "oldest_queued_seconds",
        "last_shipped_at",
        "disk_full",
        "inputs",
    }


class ConnectProxy:
    """A minimal HTTP CONNECT proxy (what a bank's egress proxy does for HTTPS)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.tunnels: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        target = head.split(b" ")[1].decode()
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pair = {client: upstream, upstream: client}
        while True:
            readable, _, _ = select.select(list(pair), [], [], 5)
            if not readable:
                break
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    client.close()
                    upstream.close()
                    return
                pair[sock].sendall(data)

    def close(self) -> None:
        self.sock.close()


def test_r67_9_through_an_http_proxy_with_connect(
    tmp_path: Path, stub: StubServer, ca: TestCA, spool: Spool
) -> None:
    proxy = ConnectProxy()
    try:
        config = config_for(
            tmp_path, stub.url, ca.cert_path, proxy=f"http://127.0.0.1:{proxy.port}"
        )
        spool.put("eve", [sig(1)])
        shipper = shipper_for(config, spool)
        assert shipper.ship(spool.batch(10, 1 << 22)) == 0.0
        assert proxy.tunnels == [f"127.0.0.1:{stub.port}"]
        assert len(stub.items) == 1
    finally:
        proxy.close()


def test_r67_9_client_certificate_is_presented_when_configured(
    tmp_path: Path, ca: TestCA, server_cert: Issued
) -> None:
    client_cert = ca.issue("agent-client", server=False)
    stub = StubServer(server_cert.cert, server_cert.key)
    stub.context.verify_mode = ssl.CERT_REQUIRED
    stub.context.load_verify_locations(str(ca.cert_path))
    try:
        config = config_for(
            tmp_path,
            stub.url,
            ca.cert_path,
            client_cert=str(client_cert.cert),
            client_key=str(client_cert.key),
        )
        response = Client(config.server).post_json("/api/v1/integrations/heartbeat", {})
        assert response.status == 200
        bare = config_for(tmp_path, stub.url, ca.cert_path)
        with pytest.raises((ssl.SSLError, OSError)):
            Client(bare.server).post_json("/api/v1/integrations/heartbeat", {})
    finally:
        stub.stop()
