from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "aips.audit"
    label = "audit"

    def ready(self) -> None:
        from django.conf import settings

        from aips.audit.anchor import syslog_target

        # A mistyped witness address stops start-up instead of silently never witnessing.
        syslog_target(settings.AIPS_AUDIT_WITNESS_SYSLOG)
