from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "aips.shared.files"
    label = "files"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.shared.files.jobs import register

        register()
