from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "aips.integrations"
    verbose_name = "Integration modules"
