from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "aips.notifications"
    label = "notifications"

    def ready(self) -> None:
        # Item types register their deadlines with the reminder job (aips.notifications.reminders).
        # Incident cards and alerts are registered here; requests register from their own
        # AppConfig.ready() the same way.
        from aips.notifications import alerts, incidents  # noqa: F401
