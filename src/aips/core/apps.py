from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "aips.core"
    label = "core"
