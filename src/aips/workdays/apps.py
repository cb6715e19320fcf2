from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "aips.workdays"
    label = "workdays"
