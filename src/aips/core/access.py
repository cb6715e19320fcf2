"""The permission choke point. Web views are wrapped by `require(perm)` or marked `public`; API
operations declare `auth=api_auth(perm)` (aips.shared.accounts.api_auth), which uses the same table.
The authorization-matrix test refuses any URL that declares neither."""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from aips.core.actors import Viewer, actor_perms, has_perm

__all__ = ["PUBLIC", "actor_perms", "ensure_perm", "has_perm", "public", "require"]
from aips.core.errors import Forbidden
from aips.core.permissions import Permission

PUBLIC: Final = "public"
# Set in the session at sign-in and on re-authentication (aips.shared.accounts.sessions).
REAUTH_SESSION_KEY: Final = "aips_reauth_at"
F = TypeVar("F", bound=Callable[..., Any])


def ensure_perm(user: Viewer, perm: Permission) -> None:
    """For services: the same rule the views apply, so no caller can skip it."""
    if not has_perm(user, perm):
        raise Forbidden()


def recently_authenticated(request: HttpRequest) -> bool:
    at = request.session.get(REAUTH_SESSION_KEY)
    return isinstance(at, int | float) and time.time() - at <= settings.AIPS_REAUTH_SECONDS


def safe_local_path(request: HttpRequest, target: str) -> str:
    """`target` as a path on this site ("/x/?y"), or "" when it points anywhere else."""
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    parts = urlsplit(target)
    # "https://host//evil.example" has a path that a browser reads as another host.
    if not parts.path.startswith("/") or parts.path.startswith(("//", "/\\")):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


def return_path(request: HttpRequest) -> str:
    """Where the person was: this page for a GET, else the page that sent the form (Referer),
    so that confirming identity before a sensitive POST brings them back to it."""
    if request.method == "GET":
        return request.get_full_path()
    return safe_local_path(request, request.headers.get("Referer", ""))


def require(perm: Permission, *, fresh: bool = False) -> Callable[[F], F]:
    """`fresh`: a sensitive action, allowed only within minutes of entering both factors."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_perm(user, perm):
                raise PermissionDenied
            if fresh and not recently_authenticated(request):
                target = return_path(request)
                url = reverse("accounts:reauthenticate")
                return redirect(f"{url}?{urlencode({'next': target})}" if target else url)
            return view(request, *args, **kwargs)

        wrapper.aips_permission = perm  # type: ignore[attr-defined]
        wrapper.aips_fresh = fresh  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    view.aips_permission = PUBLIC  # type: ignore[attr-defined]
    return view
