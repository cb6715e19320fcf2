from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "aips.center.signals"
    verbose_name = "Signals"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.center.integrations.traffic import register_traffic
        from aips.center.signals.jobs import register_jobs
        from aips.center.signals.metrics import signal_metrics
        from aips.center.signals.partitions import app_role_grants
        from aips.center.signals.selectors import home_tiles, search_indicator, search_sightings
        from aips.center.signals.traffic import SOURCE
        from aips.core.db_grants import register_grants
        from aips.core.metrics import register_metrics
        from aips.core.search import SearchProvider, register_search_provider
        from aips.core.worklist import register_home_tile

        register_jobs()
        register_grants("signals", app_role_grants)
        # The integration modules' health pages count signals through this seam.
        register_traffic(SOURCE)
        register_home_tile("signals", home_tiles)
        register_metrics("signals", signal_metrics)
        register_search_provider(
            "signals", SearchProvider(indicator=search_indicator, sightings=search_sightings)
        )
