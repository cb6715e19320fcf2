"""How API callers prove who they are — a personal bearer token, or the browser session with
CSRF — and the permission check, done here so that a caller without the permission gets 403
before the request body is even parsed (no 422 that hints at what the operation takes)."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthorizationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from aips.core import ratelimit
from aips.core.access import has_perm, recently_authenticated
from aips.core.permissions import Permission
from aips.core.request_context import client_ip
from aips.shared.accounts.models import User
from aips.shared.accounts.services import token_authenticate


def _admit(request: HttpRequest, user: User | None, perm: Permission | None) -> User | None:
    if user is None:
        return None
    # Views read request.user whatever the auth method.
    request.user = user
    if perm is None or not has_perm(user, perm):
        raise AuthorizationError(message=_("You do not have permission to do this."))
    return user


class BearerToken(HttpBearer):
    def __init__(self, perm: Permission | None) -> None:
        self.perm = perm
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        # An address that keeps failing is refused before its next guess is even checked.
        wait = ratelimit.blocked(
            "api-unauthenticated", client_ip(request) or "-", settings.AIPS_BAD_TOKEN_RATE_IP
        )
        if wait is not None:
            raise ratelimit.RateLimited(wait)
        return _admit(request, token_authenticate(token), self.perm)


class BrowserSession(APIKeyCookie):
    """Django's session. CSRF is checked once we know the session is a real one, so an anonymous
    caller gets 401 rather than a CSRF 403. `fresh`: like require(fresh=True) in the UI."""

    def __init__(self, perm: Permission | None, *, fresh: bool = False) -> None:
        self.perm = perm
        self.fresh = fresh
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        # Not a User: the anonymous visitor (a session's user is always our model).
        if not isinstance(user, User):
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, _("The form expired; reload the page and try again."))
        if self.fresh and not recently_authenticated(request):
            raise HttpError(403, _("Confirm it is you again in the web interface first."))
        return _admit(request, user, self.perm)


def api_auth(perm: Permission | None, *, fresh: bool = False) -> list[Any]:
    """The auth of one API operation: who may call it. `None` admits nobody — the API's default,
    so an operation that declares nothing is denied. `fresh` asks a browser session for a recent
    re-authentication (tokens were themselves created after one)."""
    return [BearerToken(perm), BrowserSession(perm, fresh=fresh)]
