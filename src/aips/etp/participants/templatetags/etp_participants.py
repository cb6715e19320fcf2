"""`{% participant_email_banner %}`: for a participant whose e-mail address is not confirmed
yet, the reminder and the "send again" button — included in the workspace without the portal
knowing about confirmations."""

from typing import Any

from django import template

from aips.etp.participants import selectors
from aips.shared.accounts.models import User

register = template.Library()


@register.inclusion_tag("etp_participants/_email_banner.html", takes_context=True)
def participant_email_banner(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    pending = selectors.email_confirmation_pending(user) if isinstance(user, User) else None
    return {"pending": pending, "csrf_token": context.get("csrf_token")}
