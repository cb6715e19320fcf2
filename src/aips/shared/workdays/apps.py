from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "aips.shared.workdays"
    label = "workdays"
