"""`POST /api/v1/signals` as a small WSGI application in front of Django (R67.3.6, R67.7, R67.8).

The batch endpoint is the hot path (≥ 30k signals/s on PostgreSQL). Django's request cycle,
its middleware, URL resolution and django-ninja cost more per batch than storing it, so
`dispatcher()` sends exactly `POST /api/v1/signals` here and every other request to Django
(`aips.wsgi.application` is the dispatcher, so `aips serve`, `make run` and production share
this one path). The ninja operation stays declared for the OpenAPI document only; no request
reaches it (docs/decisions/0046-signal-ingest-outside-django.md).

What Django did for this path is done here, the same way:
- request id (`X-Request-ID`, kept when the caller's is safe), bound for logs and audit;
- the language of error messages (cookie, then Accept-Language) and the response headers of
  the security middleware (nosniff, referrer policy, CSP, frame options, HSTS over HTTPS);
- the agent token and/or the proxy-verified client certificate (`integrations.auth`), the
  per-address limit on bad tokens, module and organization active, the module's rate;
- the limits (4 MiB, 1000 items, gzip inflation ceiling, nesting) and the text rule, which
  `schema` and `services.signals_ingest` apply, and the one JSON error shape.

Tokens: `module_authenticate` is asked once per token per process and the answer kept briefly
(`_TokenCache`). Revocation stays immediate: saving a module or an organization empties this
process's cache at once and, on PostgreSQL, sends a NOTIFY on `aips_agent_auth` within the same
transaction; every process listens on a thread and empties its cache when one arrives (or when
the listening connection is reopened, since notifications sent meanwhile are lost). Without a
listener (SQLite, or the listening connection down) entries live at most one second."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any

import msgspec
import structlog
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections
from django.http.cookie import parse_cookie
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aips.center.integrations.ca import fingerprint_from_header
from aips.center.integrations.models import ModuleActor
from aips.center.integrations.services import module_authenticate
from aips.center.signals import schema, services
from aips.core import ratelimit, request_context
from aips.core.access import has_perm
from aips.core.branding import site_text
from aips.core.db_conninfo import conninfo
from aips.core.errors import AppError, ValidationFailed
from aips.core.metrics import DURATION, REQUESTS
from aips.core.permissions import Perm

log = logging.getLogger("aips.api")

PATH = "/api/v1/signals"
CHANNEL = "aips_agent_auth"
# How long a token's module is trusted without asking the database again: with a listener a
# revocation arrives by notification, so the entry only bounds a missed one (and a certificate
# passing its end date); without one, this is the revocation delay itself.
TTL_LISTENING = 10.0
TTL_ALONE = 1.0
_SEEN_EVERY = 30.0  # integrations.services.module_seen writes at most this often

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_budget = ratelimit.LocalWindow()
_encoder = msgspec.json.Encoder()


# --- tokens ---------------------------------------------------------------------------------


class _TokenCache:
    """(token, certificate fingerprint) → the admitted module, for a short while. Only modules
    are kept: an unknown token asks the database every time (and counts against its address)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[tuple[str | None, str | None], tuple[float, ModuleActor]] = {}
        self.listening = False
        self.listener: threading.Thread | None = None
        self.stopping = threading.Event()
        # Counts the clears: a look-up that began before one must not store what it read.
        self.generation = 0

    def get(self, key: tuple[str | None, str | None]) -> ModuleActor | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        expires, actor = entry
        if time.monotonic() >= expires:
            return None
        return actor

    def put(self, key: tuple[str | None, str | None], actor: ModuleActor, generation: int) -> None:
        ttl = TTL_LISTENING if self.listening else TTL_ALONE
        with self.lock:
            if generation != self.generation:
                return  # revoked (or something) while it was being read: maybe stale
            if len(self.entries) > 10_000:
                self.entries = {}
            self.entries[key] = (time.monotonic() + ttl, actor)

    def touch(self, key: tuple[str | None, str | None], actor: ModuleActor) -> None:
        """Keep the cached module's last-seen time current, so `module_seen` is not asked to
        write on every batch once the cached copy's time is over 30 s old."""
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and entry[1] is actor:
                self.entries[key] = (entry[0], replace(actor, last_seen_at=timezone.now()))

    def clear(self) -> None:
        with self.lock:
            self.entries = {}
            self.generation += 1

    def start_listening(self) -> None:
        """On PostgreSQL, once per process: a daemon thread LISTENs for revocations."""
        if connection.vendor != "postgresql" or self.listener is not None:
            return
        with self.lock:
            if self.listener is not None:
                return
            self.listener = threading.Thread(
                target=self._listen, name="aips-agent-auth-listen", daemon=True
            )
            self.listener.start()

    def _listen(self) -> None:
        import psycopg

        delay = 0.5
        while not self.stopping.is_set():
            try:
                with psycopg.connect(conninfo(), autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    # Whatever was revoked while nobody listened: forget it all.
                    self.clear()
                    self.listening = True
                    delay = 0.5
                    while not self.stopping.is_set():
                        # A second at a time, so a stop is seen; notifications that arrive in
                        # between wait in the connection.
                        for _notice in conn.notifies(timeout=1.0):
                            self.clear()
            except Exception:  # a lost connection is reopened, never fatal
                if not self.stopping.is_set():
                    log.warning("agent token listener failed; reconnecting", exc_info=True)
            self.listening = False
            self.clear()
            self.stopping.wait(delay)
            delay = min(delay * 2, 10.0)

    def stop(self) -> None:
        """End the listening thread (tests, before their database is dropped)."""
        self.stopping.set()
        if self.listener is not None:
            self.listener.join(timeout=5)
        self.listener = None
        self.stopping.clear()


tokens = _TokenCache()


def auth_changed(**_kwargs: Any) -> None:
    """A module or an organization was saved (rotated, revoked, certificate changed,
    deactivated): this process forgets its tokens now, and on PostgreSQL every other process
    when the transaction commits (a rolled-back change notifies nobody)."""
    tokens.clear()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


def _header(environ: dict[str, Any], name: str) -> str:
    value = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
    return str(value)


def _certificate(environ: dict[str, Any]) -> str | None:
    header = settings.AIPS_CLIENT_CERT_HEADER
    if not header:
        return None
    value = _header(environ, header)
    return fingerprint_from_header(value) if value else None


class _Unauthenticated(Exception):
    """No token or certificate admitted the caller: 401 (counted per address), or 429."""


def _lookup(token: str | None, fingerprint: str | None) -> ModuleActor | None:
    key = (token, fingerprint)
    actor = tokens.get(key)
    if actor is None:
        generation = tokens.generation
        actor = module_authenticate(token=token, cert_fingerprint=fingerprint)
        if actor is not None:
            tokens.put(key, actor, generation)
    return actor


def _admit(actor: ModuleActor) -> ModuleActor:
    if not has_perm(actor, Perm.SIGNAL_INGEST):
        raise AppError(_("You do not have permission to do this."), code="forbidden", status=403)
    return actor


def authenticate(environ: dict[str, Any], address: str | None) -> ModuleActor:
    """As `agent_auth(Perm.SIGNAL_INGEST)`: a bearer token (with the certificate, if the proxy
    passed one, naming the same module), else a certificate alone when no Authorization header
    was sent."""
    authorization = _header(environ, "Authorization")
    if authorization:
        parts = authorization.split(" ")
        if parts[0].lower() == "bearer":
            actor = _lookup(" ".join(parts[1:]), _certificate(environ))
            if actor is not None:
                return _admit(actor)
            wait = ratelimit.blocked(
                "api-unauthenticated", address or "-", settings.AIPS_BAD_TOKEN_RATE_IP
            )
            if wait is not None:
                raise ratelimit.RateLimited(wait)
        raise _Unauthenticated()
    fingerprint = _certificate(environ)
    if fingerprint is not None:
        actor = _lookup(None, fingerprint)
        if actor is not None:
            return _admit(actor)
    raise _Unauthenticated()


# --- the request ----------------------------------------------------------------------------


def read_body(environ: dict[str, Any]) -> bytes:
    """The batch, inflated if gzip; 413 past 4 MiB before or after inflating."""
    limit = schema.MAX_BATCH_BYTES
    too_large = _("A batch may be at most %(n)d bytes.") % {"n": limit}
    try:
        declared = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise services.BatchTooLarge(too_large)
    # As Django: a body without a (valid) Content-Length is empty.
    body = environ["wsgi.input"].read(declared) if declared > 0 else b""
    if len(body) > limit:
        raise services.BatchTooLarge(too_large)
    encoding = _header(environ, "Content-Encoding").strip().lower()
    if encoding in ("", "identity"):
        return bytes(body)
    if encoding != "gzip":
        raise ValidationFailed.field("Content-Encoding", _("Only gzip is accepted."))
    # Inflate with a ceiling, so a small compressed body cannot expand without bound.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise ValidationFailed.field("body", _("The gzip data is damaged.")) from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise services.BatchTooLarge(
            _("A batch may be at most %(n)d bytes uncompressed.") % {"n": limit}
        )
    return data


def _language(environ: dict[str, Any]) -> str:
    """As LocaleMiddleware: the language cookie, then Accept-Language, then the default."""
    shim = SimpleNamespace(
        COOKIES=parse_cookie(environ.get("HTTP_COOKIE", "")),
        META=environ,
        path_info=environ.get("PATH_INFO", ""),
    )
    return translation.get_language_from_request(shim)  # type: ignore[arg-type]


class _Security:
    """The headers Django's security middleware, django-csp and SecurityHeadersMiddleware put
    on an API answer, computed once from the settings."""

    def __init__(self) -> None:
        from csp.utils import build_policy

        from aips.core.middleware import SecurityHeadersMiddleware

        headers: list[tuple[str, str]] = []
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            headers.append(("X-Content-Type-Options", "nosniff"))
        referrer = settings.SECURE_REFERRER_POLICY
        if referrer:
            value = referrer if isinstance(referrer, str) else ",".join(referrer)
            headers.append(("Referrer-Policy", value))
        if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            headers.append(
                ("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)
            )
        headers.append(("X-Frame-Options", settings.X_FRAME_OPTIONS))
        policy = build_policy()
        if policy:
            headers.append(("Content-Security-Policy", policy))
        headers.append(("Permissions-Policy", SecurityHeadersMiddleware.PERMISSIONS_POLICY))
        headers.append(("Cross-Origin-Resource-Policy", "same-origin"))
        self.headers = headers
        self.hsts = ""
        if settings.SECURE_HSTS_SECONDS:
            hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                hsts += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                hsts += "; preload"
            self.hsts = hsts

    def for_request(self, environ: dict[str, Any]) -> list[tuple[str, str]]:
        if self.hsts and _is_secure(environ):
            return [*self.headers, ("Strict-Transport-Security", self.hsts)]
        return self.headers


def _is_secure(environ: dict[str, Any]) -> bool:
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        header, secure_value = proxy
        value = environ.get(header)
        if value is not None:
            return str(value).split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _error_body(exc: AppError, request_id: str) -> bytes:
    body = {
        "error": {
            "code": exc.code,
            "message": exc.message,
            "fields": exc.fields or {},
            "request_id": request_id,
        }
    }
    # As JsonResponse writes it, so an error reads the same as from every other API path.
    return json.dumps(body, cls=DjangoJSONEncoder).encode()


class IngestApp:
    """The WSGI application for `POST /api/v1/signals` alone."""

    def __init__(self) -> None:
        self.security = _Security()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = request_context.new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        shim = SimpleNamespace(META=environ)
        address = request_context.client_ip(shim)
        bound = request_context.bind(
            request_context.RequestContext(
                request_id=request_id,
                ip=address,
                user_agent=str(environ.get("HTTP_USER_AGENT", ""))[:512],
            )
        )
        structlog.contextvars.bind_contextvars(request_id=request_id)
        language = _language(environ)
        translation.activate(language)
        try:
            status, headers, body = self.answer(environ, address, request_id)
        finally:
            translation.deactivate()
            structlog.contextvars.unbind_contextvars("request_id")
            request_context.reset(bound)
            _connections_done()
        headers += [
            ("X-Request-ID", request_id),
            ("Content-Length", str(len(body))),
            ("Content-Language", language),
            # As Django's API answers (LocaleMiddleware, and the session the guard reads).
            ("Vary", "Accept-Language, Cookie"),
            *self.security.for_request(environ),
        ]
        with contextlib.suppress(Exception):  # counting must never break an answer
            REQUESTS.labels("api:signals", "POST", f"{status // 100}xx").inc()
            DURATION.labels("api:signals").observe(time.perf_counter() - started)
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    def answer(
        self, environ: dict[str, Any], address: str | None, request_id: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            return self.ingest(environ, address)
        except _Unauthenticated:
            # Failed authentications are limited per address, so guessing tokens is slow.
            try:
                ratelimit.hit(
                    "api-unauthenticated", address or "-", settings.AIPS_BAD_TOKEN_RATE_IP
                )
            except ratelimit.RateLimited as limited:
                return self.error(limited, request_id)
            unauthorized = AppError(_("Authentication required."), code="unauthorized", status=401)
            status, headers, body = self.error(unauthorized, request_id)
            return status, [*headers, ("WWW-Authenticate", 'Bearer realm="aips"')], body
        except AppError as exc:
            return self.error(exc, request_id)
        except Exception as exc:
            log.exception("unhandled API error", exc_info=exc)
            return self.error(
                AppError(site_text("internal_error"), status=500, code="internal_error"), request_id
            )

    def error(self, exc: AppError, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = [("Content-Type", "application/json")]
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            headers.append(("Retry-After", str(retry_after)))
        return exc.status, headers, _error_body(exc, request_id)

    def ingest(
        self, environ: dict[str, Any], address: str | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        tokens.start_listening()
        actor = authenticate(environ, address)
        body = read_body(environ)
        content_type = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
        _budget.hit(str(actor.module_id), settings.AIPS_SIGNAL_RATE)
        seen_due = actor.last_seen_at is None or (
            (timezone.now() - actor.last_seen_at).total_seconds() >= _SEEN_EVERY
        )
        result = services.signals_ingest(
            actor=actor,
            body=body,
            ndjson=content_type in ("application/x-ndjson", "application/ndjson"),
            address=address,
        )
        if seen_due:
            # module_seen has just written (or another process had): the copy is current.
            token = _bearer(environ)
            tokens.touch((token, _certificate(environ)), actor)
        payload = {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
            "items": result.items,
        }
        headers = [
            ("Content-Type", "application/json"),
            ("X-AIPS-Signal-Schema", schema.SCHEMA_VERSION),
        ]
        return 200, headers, _encoder.encode(payload)


def _bearer(environ: dict[str, Any]) -> str | None:
    authorization = _header(environ, "Authorization")
    if not authorization:
        return None
    return " ".join(authorization.split(" ")[1:])


def _connections_done() -> None:
    """What Django's request_finished does, minus its cost on the usual request: a connection
    that failed (tested, and closed if unusable), outlived CONN_MAX_AGE or was left outside
    autocommit is closed. Django's own call also re-arms the health check, one `SELECT 1` on the
    next request; here a healthy connection is left as it is. Not inside an atomic block (a
    test's transaction)."""
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is None or conn.in_atomic_block:
            continue
        if (
            conn.errors_occurred
            or (conn.close_at is not None and now >= conn.close_at)
            or conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]
        ):
            conn.close_if_unusable_or_obsolete()


def routes_here(environ: dict[str, Any]) -> bool:
    return environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == PATH


def dispatcher(django_app: WsgiApp) -> WsgiApp:
    """`POST /api/v1/signals` to the ingest application, everything else to `django_app`."""
    ingest = IngestApp()

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if routes_here(environ):
            return ingest(environ, start_response)
        return django_app(environ, start_response)

    return application
