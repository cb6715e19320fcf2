"""Who is reading a feed. Feeds are read by machines (SIEMs, firewalls, OpenCTI, MISP), which
offer one of:

- a person's API token (`aips_…`), the same as the REST API's: the person's reach;
- an integration module's token (`aipsa_…`): its organization's reach without restricted
  content (`selectors.OrganizationReader`), if the module holds `exchange:feed`;

either as `Authorization: Bearer TOKEN` or as HTTP Basic with the token as the password (what
TAXII clients such as taxii2-client, OpenCTI's and MISP's send when given a user and a password;
the user name is ignored). A signed-in browser may open the feeds too (reads only). Failed
attempts count against the same per-address limit as the API's."""

import base64
import binascii
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from aips.center.exchange.selectors import OrganizationReader
from aips.center.integrations.services import module_authenticate
from aips.core import ratelimit
from aips.core.access import has_perm
from aips.core.actors import Actor, as_actor
from aips.core.permissions import Perm
from aips.core.request_context import client_ip
from aips.shared.accounts.models import User
from aips.shared.accounts.services import token_authenticate

# How a view answers a refusal: (request, status, title, description) → response.
ErrorFn = Callable[[HttpRequest, int, str, str], HttpResponse]
FeedView = Callable[..., HttpResponse]


class Refused(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        # 429: seconds until the fixed window the caller exhausted ends (core.ratelimit).
        self.retry_after = retry_after


def _offered_token(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        user, _colon, password = decoded.partition(":")
        return password or user
    return None if not header else ""


def feed_caller(request: HttpRequest) -> Actor:
    """The actor reading a feed, or Refused(401/403/429; a 429 with its Retry-After)."""
    token = _offered_token(request)
    if token is None:
        session_user = as_actor(request.user) if isinstance(request.user, User) else None
        if session_user is not None and request.method in ("GET", "HEAD"):
            if not has_perm(session_user, Perm.ALERT_VIEW):
                raise Refused(403, _("You do not have permission to do this."))
            return session_user
        raise Refused(401, _("Authentication required."))
    ip = client_ip(request) or "-"
    wait = ratelimit.blocked("api-unauthenticated", ip, settings.AIPS_BAD_TOKEN_RATE_IP)
    if wait is not None:
        raise Refused(429, _("Too many requests; retry later."), retry_after=wait)
    module = module_authenticate(token=token) if token else None
    if module is not None:
        if not has_perm(module, Perm.EXCHANGE_FEED):
            raise Refused(403, _("You do not have permission to do this."))
        return OrganizationReader(
            organization_id=module.organization_id, module_id=module.module_id
        )
    user = token_authenticate(token) if token else None
    if user is None:
        try:
            ratelimit.hit("api-unauthenticated", ip, settings.AIPS_BAD_TOKEN_RATE_IP)
        except ratelimit.RateLimited as exc:
            raise Refused(
                429, _("Too many requests; retry later."), retry_after=exc.retry_after
            ) from exc
        raise Refused(401, _("Authentication required."))
    if not has_perm(user, Perm.ALERT_VIEW):
        raise Refused(403, _("You do not have permission to do this."))
    return user


def feed_view(error: ErrorFn) -> Callable[[FeedView], FeedView]:
    """A feed endpoint: authenticates the caller (`request.feed_actor`), answers refusals with
    the feed's own error shape. Declares `alert:view` for the house rules (a module holds
    `exchange:feed` instead, checked above)."""

    def decorator(view: FeedView) -> FeedView:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                actor = feed_caller(request)
            except Refused as refused:
                response = error(request, refused.status, refused.message, "")
                if refused.status == 401:
                    response["WWW-Authenticate"] = 'Basic realm="aips", Bearer realm="aips"'
                if refused.retry_after is not None:
                    response["Retry-After"] = str(refused.retry_after)
                return response
            return view(request, actor, *args, **kwargs)

        wrapper.aips_permission = Perm.ALERT_VIEW  # type: ignore[attr-defined]
        return wrapper

    return decorator
