from django.apps import AppConfig
from django.conf import settings


class AuditConfig(AppConfig):
    name = "aips.audit"
    label = "audit"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.audit.anchor import syslog_target
        from aips.audit.db import app_role_grants
        from aips.audit.jobs import register_jobs
        from aips.core.db_grants import register_grants

        # A mistyped witness address stops start-up instead of silently never witnessing.
        syslog_target(settings.AIPS_AUDIT_WITNESS_SYSLOG)
        register_jobs()
        register_grants("audit", app_role_grants)
