from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "aips.center.incidents"
    label = "incidents"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.center.incidents.notices import register_reminders

        register_reminders()
