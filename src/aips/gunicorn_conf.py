"""Gunicorn configuration for `aips serve` (loaded with `gunicorn -c python:aips.gunicorn_conf`).

No server banner: gunicorn writes `Server: gunicorn` on every response and has no setting to
stop it, so `post_worker_init` drops that line from each worker's default headers
(`hide_server_header`); tests/test_serve.py checks it on a real server.

TLS (R57.25), when gunicorn terminates it itself: `aips serve` adds --certfile and --keyfile
only when AIPS_TLS_CERT and AIPS_TLS_KEY are set. Gunicorn calls `ssl_context`
with a factory that loads the certificate and key; its sync worker does so for every new
connection, so a renewed certificate is picked up without a restart.

Policy: Mozilla "intermediate" (server-side TLS guideline 5.7): TLS 1.2 and 1.3 only, forward-
secret AEAD suites for 1.2. TLS 1.3 suites are not configurable through Python's ssl module;
OpenSSL's default 1.3 set is exactly the intermediate one (AES-128/256-GCM, ChaCha20-Poly1305).
"""

import os
import ssl
from collections.abc import Callable
from typing import Any

MINIMUM_TLS_VERSION = ssl.TLSVersion.TLSv1_2

# Mozilla intermediate, TLS 1.2 part. The DHE suites only come into play with DH parameters
# loaded, which gunicorn does not do, so in practice the ECDHE suites are what is offered.
TLS12_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    ]
)


def harden(context: ssl.SSLContext) -> ssl.SSLContext:
    """Apply the AIPS TLS policy to a server context (also usable outside gunicorn)."""
    context.minimum_version = MINIMUM_TLS_VERSION
    context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    context.set_ciphers(TLS12_CIPHERS)
    # Renegotiation is a TLS 1.2 attack surface nobody here needs; compression enables CRIME.
    context.options |= ssl.OP_NO_RENEGOTIATION | ssl.OP_NO_COMPRESSION
    return context


def ssl_context(
    config: Any, default_ssl_context_factory: Callable[[], ssl.SSLContext]
) -> ssl.SSLContext:
    """Gunicorn server hook: the default context (cert, key, cert_reqs) plus the AIPS policy."""
    return harden(default_ssl_context_factory())


def hide_server_header() -> None:
    """Drop the `Server:` line gunicorn's Response puts in front of the application's headers
    (the version it names would tell a scanner which advisories to try). Idempotent."""
    from gunicorn.http import wsgi  # type: ignore[import-untyped]

    original = wsgi.Response.default_headers
    if getattr(original, "aips_no_banner", False):
        return

    def default_headers(self: Any) -> list[str]:
        headers: list[str] = original(self)
        return [line for line in headers if not line.lower().startswith("server:")]

    default_headers.aips_no_banner = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = default_headers


def post_worker_init(worker: Any) -> None:
    """Gunicorn server hook: runs in every worker before it serves its first request."""
    hide_server_header()


def on_starting(server: Any) -> None:
    """Gunicorn server hook (the master, once): with PROMETHEUS_MULTIPROC_DIR set, start the
    request counters afresh, as prometheus_client's multiprocess mode requires."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server: Any, worker: Any) -> None:
    """Gunicorn server hook: a worker ended; its live gauges leave the multiprocess sums."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
