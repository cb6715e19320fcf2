from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "aips.center.signals"
    verbose_name = "Signals"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from django.db.models.signals import post_delete, post_save

        from aips.center.integrations.models import IntegrationModule
        from aips.center.integrations.traffic import register_traffic
        from aips.center.signals.ingest_wsgi import auth_changed
        from aips.center.signals.jobs import register_jobs
        from aips.center.signals.metrics import signal_metrics
        from aips.center.signals.partitions import app_role_grants
        from aips.center.signals.selectors import home_tiles, search_indicator, search_sightings
        from aips.center.signals.traffic import SOURCE
        from aips.core.db_grants import register_grants
        from aips.core.metrics import register_metrics
        from aips.core.search import SearchProvider, register_search_provider
        from aips.core.worklist import register_home_tile
        from aips.shared.organizations.models import Organization

        register_jobs()
        # A rotated, revoked or re-certified module, or a deactivated organization: the ingest
        # path's cached tokens are forgotten in every process (ingest_wsgi).
        for model in (IntegrationModule, Organization):
            post_save.connect(auth_changed, sender=model, dispatch_uid=f"signals-auth-{model}")
            post_delete.connect(auth_changed, sender=model, dispatch_uid=f"signals-auth-d-{model}")
        register_grants("signals", app_role_grants)
        # The integration modules' health pages count signals through this seam.
        register_traffic(SOURCE)
        register_home_tile("signals", home_tiles)
        register_metrics("signals", signal_metrics)
        register_search_provider(
            "signals", SearchProvider(indicator=search_indicator, sightings=search_sightings)
        )
