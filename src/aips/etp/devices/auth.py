"""The mobile session's bearer token: `Authorization: Bearer etpm_…`, issued by a mobile sign-in
(`POST /api/v1/mobile/sessions`), valid `AIPS_ETP_MOBILE_SESSION_MINUTES` and only while the
device is registered: revoking the device ends its sessions at once."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from aips.core.access import has_perm
from aips.etp.devices import selectors
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User


class MobileSession(HttpBearer):
    # Declared for the permission checks; a person who lost it (a changed role) is refused.
    perm = EtpPerm.DEVICE_MANAGE

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        sign_in = selectors.active_sign_in(token)
        if sign_in is None or not has_perm(sign_in.user, self.perm):
            return None
        user: User = sign_in.user
        request.user = user
        request.mobile_sign_in = sign_in  # type: ignore[attr-defined]
        return user
