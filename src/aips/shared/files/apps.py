from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "aips.shared.files"
    label = "files"
