from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from aips.shared.accounts.models import User


class EmailBackend(BaseBackend):
    """E-mail + password. Inactive accounts and accounts of suspended organizations cannot sign
    in, and their existing sessions stop working (get_user applies the same rule)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password:
            return None
        try:
            user = User.objects.select_related("organization").get(email=username.strip().lower())
        except User.DoesNotExist:
            # Same work as a real check, so timing does not tell which e-mails exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_can_authenticate(self, user: User) -> bool:
        return user.can_sign_in

    def get_user(self, user_id: int) -> User | None:
        try:
            user = User.objects.select_related("organization").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """Lockout counts per account however the e-mail was capitalized.

    Axes hands this two shapes: the failure signal carries authenticate()'s keywords
    (`username`), while its backend's pre-check builds them under the user model's
    USERNAME_FIELD (`email`). Reading only one made the pre-check look up an empty name, so a
    locked account still had its password checked and the right one got through."""
    found = credentials or {}
    for key in ("username", User.USERNAME_FIELD):
        value = found.get(key)
        if value:
            return str(value).strip().lower()
    return ""
