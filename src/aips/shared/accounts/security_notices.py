"""Notices of security events on a person's own account, in the app and by e-mail (R57.27.10): a
sign-in, a password change, a password recovery. So a person learns at once of a use of their
account that was not theirs. On when `AIPS_SECURITY_NOTICES` is set (the ETP's default; AIPS's
people are not notified of their own sign-ins unless a deployment asks for it)."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aips.core import request_context
from aips.shared.accounts.models import User
from aips.shared.notifications.services import Text, notify

_TEXTS = {
    "sign_in": (
        _("Sign-in to your account"),
        _(
            "Someone signed in to your account (second step: %(factor)s, address %(ip)s). If it "
            "was not you, change your password and tell the operator at once."
        ),
    ),
    "password_changed": (
        _("Your password was changed"),
        _(
            "The password of your account was changed (address %(ip)s). If it was not you, "
            "recover your password and tell the operator at once."
        ),
    ),
    "password_recovered": (
        _("Your password was recovered"),
        _(
            "A new password was set for your account through the recovery link (address "
            "%(ip)s). If it was not you, tell the operator at once."
        ),
    ),
}


def security_notice(*, user: User, event: str, factor: str = "") -> None:
    """One in-app notification and one e-mail to `user` about `event` (a key of `_TEXTS`), in the
    caller's transaction; nothing when AIPS_SECURITY_NOTICES is off."""
    if not settings.AIPS_SECURITY_NOTICES:
        return
    subject, text = _TEXTS[event]
    ctx = request_context.current()
    notify(
        users=[user],
        kind=f"security.{event}",
        subject=Text(subject),
        text=Text(text, {"factor": factor or "—", "ip": (ctx.ip if ctx else "") or "—"}),
        link=reverse("accounts:profile"),
        email=True,
    )
