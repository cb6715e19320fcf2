from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "aips.center.integrations"
    verbose_name = "Integration modules"
