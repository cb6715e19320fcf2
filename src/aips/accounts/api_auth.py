"""How API callers prove who they are: a personal bearer token, or the browser session with CSRF."""

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from aips.accounts.services import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            # Views and the permission check read request.user whatever the auth method.
            request.user = user
        return user


class BrowserSession(APIKeyCookie):
    """Django's session, but CSRF is checked only once we know the session is a real one, so an
    anonymous caller gets 401 rather than a CSRF 403."""

    param_name = "sessionid"

    def __init__(self) -> None:
        from django.conf import settings

        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed.")
        return user
