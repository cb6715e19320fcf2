from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "aips.signals"
    verbose_name = "Signals"
