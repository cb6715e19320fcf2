from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "aips.audit"
    label = "audit"
