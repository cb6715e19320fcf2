from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "aips.signals"
    verbose_name = "Signals"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.core.db_grants import register_grants
        from aips.integrations.traffic import register_traffic
        from aips.signals.jobs import register_jobs
        from aips.signals.partitions import app_role_grants
        from aips.signals.traffic import SOURCE

        register_jobs()
        register_grants("signals", app_role_grants)
        # The integration modules' health pages count signals through this seam.
        register_traffic(SOURCE)
