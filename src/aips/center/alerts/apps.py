from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "aips.center.alerts"
    label = "alerts"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.center.alerts.notices import register_reminders

        register_reminders()
