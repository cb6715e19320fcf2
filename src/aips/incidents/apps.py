from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "aips.incidents"
    label = "incidents"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.incidents.notices import register_reminders

        register_reminders()
