from django.apps import AppConfig


class EdsConfig(AppConfig):
    name = "aips.shared.eds"
    label = "eds"
