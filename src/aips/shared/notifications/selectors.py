from django.http import Http404

from aips.core.actors import Viewer
from aips.shared.notifications.models import Notification, NotificationQuerySet


def notification_list(*, actor: Viewer, unread_only: bool = False) -> NotificationQuerySet:
    """One's own notifications, newest first."""
    items = Notification.objects.visible_to(actor)
    if unread_only:
        items = items.unread()
    return items.order_by("-created_at", "-id")


def get_notification_for(actor: Viewer, pk: int) -> Notification:
    """404 for a missing notification and for someone else's alike."""
    try:
        return Notification.objects.visible_to(actor).get(pk=pk)
    except Notification.DoesNotExist as exc:
        raise Http404 from exc


def unread_count(actor: Viewer) -> int:
    return Notification.objects.visible_to(actor).unread().count()
