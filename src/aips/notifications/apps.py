from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "aips.notifications"
    label = "notifications"

    def ready(self) -> None:
        # Item types register their deadlines with the reminder job (aips.notifications.reminders).
        # Incident cards, alerts and requests are registered here.
        from aips.notifications import alerts, incidents, inquiries  # noqa: F401
