from django.apps import AppConfig
from django.conf import settings


class AuditConfig(AppConfig):
    name = "aips.shared.audit"
    label = "audit"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.core.db_grants import register_grants
        from aips.shared.audit.anchor import syslog_target
        from aips.shared.audit.db import app_role_grants
        from aips.shared.audit.jobs import register_jobs

        # A mistyped witness address stops start-up instead of silently never witnessing.
        syslog_target(settings.AIPS_AUDIT_WITNESS_SYSLOG)
        register_jobs()
        register_grants("audit", app_role_grants)
