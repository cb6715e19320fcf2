from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "aips.files"
    label = "files"
