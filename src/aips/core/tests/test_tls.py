"""R57.25: with AIPS_TLS_CERT / AIPS_TLS_KEY, `aips serve` speaks TLS 1.2 and 1.3 only; and what
the real server sends (R57.26, R57.28): no Server banner, the security headers on pages, the API
and static files alike, and 405 for TRACE and other methods AIPS does not serve.

One real server for the module: `python -m aips serve` in a subprocess, on a free loopback port,
with a throwaway self-signed certificate and its own SQLite data dir, probed by real clients.
"""

import http.client
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from aips.conftest import server_env
from aips.gunicorn_conf import TLS12_CIPHERS

# The server under test runs on SQLite in its own data dir on either test run (server_env), so
# the PostgreSQL run would repeat the SQLite run's tests exactly, migration and all.
pytestmark = pytest.mark.skipif(
    "postgresql" in settings.DATABASES["default"]["ENGINE"],
    reason="the server runs on SQLite in its own data dir; tested in the SQLite run",
)

BOOT_SECONDS = 30
HOST = "127.0.0.1"
TLS13_SUITES = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}


@dataclass(frozen=True)
class TlsServer:
    port: int
    cert: Path
    log: Path


def _self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A CA-less P-256 certificate for IP 127.0.0.1, valid for a day, and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:  # not installed: the openssl command line tool does the same
        _self_signed_cert_with_openssl(cert, key)
        return cert, key
    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .sign(private_key, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
    return cert, key


def _self_signed_cert_with_openssl(cert: Path, key: Path) -> None:
    openssl = shutil.which("openssl")
    assert openssl, "a test certificate needs the cryptography package or the openssl tool"
    subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=IP:{HOST}",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _client(cert: Path, version: ssl.TLSVersion, ciphers: str | None = None) -> ssl.SSLContext:
    """A verifying client (hostname check on, our certificate as the only trust anchor) that
    offers exactly one protocol version."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cert)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1 / TLSv1_1 on purpose
        context.minimum_version = version
        context.maximum_version = version
    if ciphers is not None:
        context.set_ciphers(ciphers)
    return context


def _handshake(server: TlsServer, context: ssl.SSLContext) -> tuple[str, str]:
    """Version and cipher of a completed handshake; raises ssl.SSLError when it is refused."""
    with (
        socket.create_connection((HOST, server.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=HOST) as tls,
    ):
        cipher = tls.cipher()
        assert cipher is not None
        return str(tls.version()), cipher[0]


def _health(port: int, context: ssl.SSLContext) -> tuple[int, object]:
    conn = http.client.HTTPSConnection(HOST, port, context=context, timeout=5)
    try:
        conn.request("GET", "/api/v1/health")
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: only the server and its workers
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    root = tmp_path_factory.mktemp("tls")
    cert, key = _self_signed_cert(root)
    data_dir = root / "data"
    migrate = subprocess.run(
        [sys.executable, "-m", "aips", "migrate", "--no-input"],
        env=server_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    # As an installation has them, so static files are served by WhiteNoise like in production.
    collect = subprocess.run(
        [sys.executable, "-m", "aips", "collectstatic", "--no-input", "-v", "0"],
        env=server_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert collect.returncode == 0, collect.stdout + collect.stderr

    port = _free_port()
    log = root / "server.log"
    env = server_env(
        data_dir,
        AIPS_BIND=f"{HOST}:{port}",
        AIPS_WORKERS="1",
        AIPS_TLS_CERT=str(cert),
        AIPS_TLS_KEY=str(key),
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aips", "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = TlsServer(port=port, cert=cert, log=log)
    try:
        # Ready = a worker answers the health check over HTTPS, not merely a bound socket.
        ready = _client(cert, ssl.TLSVersion.TLSv1_2)
        deadline = time.monotonic() + BOOT_SECONDS
        while True:
            assert proc.poll() is None, f"aips serve exited early:\n{log.read_text()}"
            try:
                if _health(port, ready)[0] == 200:
                    break
            except OSError:  # refused, reset, timed out: still booting
                pass
            assert time.monotonic() < deadline, f"not ready in {BOOT_SECONDS}s:\n{log.read_text()}"
            time.sleep(0.1)
        yield server
    finally:
        _stop(proc)


@pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1], ids=["TLSv1.0", "TLSv1.1"]
)
def test_r57_25_tls_below_1_2_is_refused_by_the_server(
    tls_server: TlsServer, version: ssl.TLSVersion
) -> None:
    # Out of the box this OpenSSL client would not even offer TLS < 1.2 (security level 1+ rules
    # it out, and the handshake would fail on our side). SECLEVEL=0 makes the CLIENT willing,
    # so its ClientHello really offers only the old version; the failure we then see is the
    # server's protocol_version alert (TLSV1_ALERT_PROTOCOL_VERSION), i.e. the SERVER refusing.
    # A client-side refusal would have another reason (e.g. NO_PROTOCOLS_AVAILABLE).
    old = _client(tls_server.cert, version, ciphers="DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError) as refused:
        _handshake(tls_server, old)
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", refused.value


def test_r57_25_tls_1_2_works_with_an_intermediate_cipher(tls_server: TlsServer) -> None:
    context = _client(tls_server.cert, ssl.TLSVersion.TLSv1_2)
    version, cipher = _handshake(tls_server, context)
    assert version == "TLSv1.2"
    assert cipher in TLS12_CIPHERS.split(":")
    status, body = _health(tls_server.port, context)
    assert status == 200
    assert isinstance(body, dict)
    assert body["database"] == "ok"


def test_r57_25_tls_1_3_works(tls_server: TlsServer) -> None:
    context = _client(tls_server.cert, ssl.TLSVersion.TLSv1_3)
    version, cipher = _handshake(tls_server, context)
    assert version == "TLSv1.3"
    assert cipher in TLS13_SUITES
    assert _health(tls_server.port, context)[0] == 200


def test_r57_25_tls_1_2_suites_outside_mozilla_intermediate_are_refused(
    tls_server: TlsServer,
) -> None:
    # CBC with HMAC-SHA256 is in Python's default server list but not in Mozilla intermediate:
    # a handshake offering only it fails, which shows our cipher list is the one in force.
    weak = _client(tls_server.cert, ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-SHA256")
    with pytest.raises(ssl.SSLError) as refused:
        _handshake(tls_server, weak)
    assert refused.value.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE", refused.value


def _exchange(server: TlsServer, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names; only Set-Cookie may repeat) and body of one request."""
    context = _client(server.cert, ssl.TLSVersion.TLSv1_3)
    conn = http.client.HTTPSConnection(HOST, server.port, context=context, timeout=5)
    try:
        conn.request(method, path, headers={"Cookie": "aips_session=probe"})
        response = conn.getresponse()
        headers: dict[str, str] = {}
        for name, value in response.getheaders():
            if name.lower() != "set-cookie":
                assert name.lower() not in headers, f"{name} sent twice"
            headers[name.lower()] = value
        return response.status, headers, response.read()
    finally:
        conn.close()


PROBES = {
    "page": "/login/",
    "api": "/api/v1/health",
    "static": "/static/aips/aips.css",
    "static-svg": "/static/aips/logo.svg",
}


@pytest.mark.parametrize("kind", sorted(PROBES))
def test_r57_26_real_server_sends_no_banner_and_the_security_headers(
    tls_server: TlsServer, kind: str
) -> None:
    status, headers, _body = _exchange(tls_server, "GET", PROBES[kind])
    assert status == 200, (kind, status)
    assert "server" not in headers, headers.get("server")
    assert "gunicorn" not in repr(headers).lower()
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("method", ["TRACE", "TRACK", "CONNECT", "PROPFIND"])
@pytest.mark.parametrize("kind", sorted(PROBES))
def test_r57_28_real_server_answers_trace_and_unknown_methods_405(
    tls_server: TlsServer, kind: str, method: str
) -> None:
    path = PROBES[kind]
    status, headers, body = _exchange(tls_server, method, path)
    assert status == 405, (method, path, status)
    assert "server" not in headers
    assert "TRACE" not in headers["allow"]
    assert headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in headers
    # Nothing of the request (such as its cookie) is echoed back.
    assert b"aips_session" not in body
    if kind == "api":
        assert json.loads(body)["error"]["code"] == "method_not_allowed"


def _must_not_exec(*args: object) -> None:
    # A regression must fail the test, not turn the pytest process into gunicorn.
    raise AssertionError(f"serve would have started gunicorn: {args}")


def test_r57_25_half_a_tls_configuration_is_refused_not_served_as_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("unused")
    monkeypatch.setattr(os, "execv", _must_not_exec)
    monkeypatch.setenv("AIPS_TLS_CERT", str(cert))
    monkeypatch.delenv("AIPS_TLS_KEY", raising=False)
    with pytest.raises(CommandError, match="must be set together"):
        call_command("serve")


def test_r57_25_missing_tls_files_are_refused_before_gunicorn_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "execv", _must_not_exec)
    monkeypatch.setenv("AIPS_TLS_CERT", str(tmp_path / "absent-cert.pem"))
    monkeypatch.setenv("AIPS_TLS_KEY", str(tmp_path / "absent-key.pem"))
    with pytest.raises(CommandError, match=r"AIPS_TLS_CERT=.* is not a readable file"):
        call_command("serve")
