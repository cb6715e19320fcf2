"""The permission choke point. Web views are wrapped by `require(perm)` or marked `public`; API
operations declare `auth=api_auth(perm)` (aips.accounts.api_auth), which uses the same table.
The authorization-matrix test refuses any URL that declares neither."""

from collections.abc import Callable
from functools import wraps
from typing import Any, Final, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from aips.core.errors import Forbidden
from aips.core.permissions import ROLE_PERMISSIONS, Perm, Role

PUBLIC: Final = "public"
F = TypeVar("F", bound=Callable[..., Any])


def actor_perms(user: Any) -> frozenset[Perm]:
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    try:
        return ROLE_PERMISSIONS[Role(user.role)]
    except ValueError:
        return frozenset()


def has_perm(user: Any, perm: Perm) -> bool:
    return perm in actor_perms(user)


def ensure_perm(user: Any, perm: Perm) -> None:
    """For services: the same rule the views apply, so no caller can skip it."""
    if not has_perm(user, perm):
        raise Forbidden()


def require(perm: Perm) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_perm(user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.aips_permission = perm  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    view.aips_permission = PUBLIC  # type: ignore[attr-defined]
    return view
