from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "aips.incidents"
    label = "incidents"
