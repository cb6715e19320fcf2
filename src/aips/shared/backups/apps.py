from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "aips.shared.backups"
    label = "backups"
    verbose_name = "Backups"

    def ready(self) -> None:
        # Imported here: the services load models only once the app registry is ready.
        from aips.shared.backups.jobs import register_jobs

        register_jobs()
