from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from aips.shared.notifications.selectors import unread_count


def unread(request: HttpRequest) -> dict[str, Any]:
    """`notifications_unread` for the menu: one COUNT on a partial index, and only if a template
    actually shows it (pages without the menu, and anonymous visitors, cost nothing)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"notifications_unread": 0}
    return {"notifications_unread": SimpleLazyObject(lambda: unread_count(user))}
