from django.apps import AppConfig


class BiometricsConfig(AppConfig):
    name = "aips.shared.biometrics"
    label = "biometrics"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.core.db_grants import register_grants
        from aips.shared.biometrics.db import app_role_grants
        from aips.shared.biometrics.providers import check_configuration

        # A misconfigured provider (unknown path, no webhook key, the fake behind TLS) stops
        # start-up instead of failing at the first person's check.
        check_configuration()
        register_grants("biometrics", app_role_grants)
