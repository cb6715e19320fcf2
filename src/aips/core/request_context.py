"""Who is asking, from where: bound per request so services can stamp audit events without
passing the HTTP request through the domain layer."""

import ipaddress
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None = None
    user_agent: str = ""


_current: ContextVar[RequestContext | None] = ContextVar("aips_request_context", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id(incoming: str | None = None) -> str:
    # A caller-supplied id (from nginx or the agent) is kept only if it cannot smuggle anything
    # into logs.
    if incoming and _SAFE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def client_ip(request: Any) -> str | None:
    """The caller's address. Behind AIPS_PROXY_COUNT trusted proxies, the address the outermost
    trusted proxy saw; otherwise the TCP peer. Used by logs, audit, lockout and rate limits."""
    from django.conf import settings

    peer: str | None = request.META.get("REMOTE_ADDR")
    hops = settings.AIPS_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            candidate = chain[-hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return peer
    return peer


def axes_client_ip(request: Any) -> str:
    return client_ip(request) or ""


def bind(ctx: RequestContext) -> object:
    return _current.set(ctx)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def current() -> RequestContext | None:
    return _current.get()


def current_request_id() -> str:
    ctx = _current.get()
    return ctx.request_id if ctx else ""
