from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "aips.alerts"
    label = "alerts"
