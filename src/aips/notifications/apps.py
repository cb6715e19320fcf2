from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "aips.notifications"
    label = "notifications"

    def ready(self) -> None:
        # Item types register their deadlines with the reminder job (aips.notifications.reminders).
        # Incident cards are registered here; alerts and requests register from their own
        # AppConfig.ready() the same way.
        from aips.notifications import incidents  # noqa: F401
