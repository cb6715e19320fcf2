from django.apps import AppConfig


class EdsConfig(AppConfig):
    name = "aips.shared.eds"
    label = "eds"

    def ready(self) -> None:
        # Imported here: the registry must be ready.
        from aips.shared.eds.jobs import register_jobs

        register_jobs()
