"""The mobile session's bearer token: `Authorization: Bearer etpm_…`, issued by a mobile sign-in
(`POST /api/v1/mobile/sessions`), valid `AIPS_ETP_MOBILE_SESSION_MINUTES` and only while the
device is registered: revoking the device ends its sessions at once.

Besides `/mobile/…`, the participant's operations the app needs accept it too
(`mobile_api_auth`, with `@decorate_view(mobile_aware)`): the same gate as `/mobile/…` (client
id, version, integrity), `no-store` answers, and the same permission checks as for the person."""

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import HttpBearer

from aips.core.access import has_perm
from aips.core.api_errors import error_response
from aips.core.permissions import Permission
from aips.etp.devices import selectors
from aips.etp.devices.gate import MobileClient, bearer_token, is_mobile_request, mobile_aware
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.models import User


class MobileSession(HttpBearer):
    """`perm`: what the operation asks of the person (403 without it). Every mobile session needs
    `device:manage` besides: a person who lost it (a changed role) is refused (401)."""

    def __init__(self, perm: Permission = EtpPerm.DEVICE_MANAGE) -> None:
        self.perm = perm
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        # Only after the gate admitted the app (`mobile_gate` or `mobile_aware`).
        if not isinstance(getattr(request, "mobile_client", None), MobileClient):
            return None
        sign_in = selectors.active_sign_in(token)
        if sign_in is None or not has_perm(sign_in.user, EtpPerm.DEVICE_MANAGE):
            return None
        user: User = sign_in.user
        request.user = user
        request.mobile_sign_in = sign_in  # type: ignore[attr-defined]
        if not has_perm(user, self.perm):
            raise AuthorizationError(message=_("You do not have permission to do this."))
        return user


def mobile_api_auth(perm: Permission) -> list[Any]:
    """The auth of a participant's operation the app calls too: a mobile session, a personal
    token or the web session, each with `perm`. The mobile session comes first, so its token is
    never tried (and counted) as a personal one."""
    return [MobileSession(perm), *api_auth(perm)]


def mobile_viewer(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For a public operation whose answer adds the signed-in person's own part (an auction's
    `viewer`): with a mobile session's token the request passes the gate and is answered as that
    person (`request.user`), `no-store`; a token that is no open session answers 401."""

    @functools.wraps(run)
    def signed_in(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_mobile_request(request) and (
            MobileSession().authenticate(request, bearer_token(request)) is None
        ):
            # The API's own 401 (it counts the failure against the address).
            api = getattr(getattr(run, "__self__", None), "api", None)
            if api is not None:
                response: HttpResponse = api.on_exception(request, AuthenticationError())
                return response
            return error_response(request, 401, _("Authentication required."))
        return run(request, *args, **kwargs)

    return mobile_aware(signed_in)
