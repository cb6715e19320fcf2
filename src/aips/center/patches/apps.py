from django.apps import AppConfig


class PatchesConfig(AppConfig):
    name = "aips.center.patches"
    label = "patches"
    verbose_name = "Patch deadlines"
