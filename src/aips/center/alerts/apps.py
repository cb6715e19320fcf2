from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "aips.center.alerts"
    label = "alerts"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.center.alerts import selectors
        from aips.center.alerts.jobs import register_jobs
        from aips.center.alerts.notices import register_reminders
        from aips.core.search import SearchProvider, register_search_provider
        from aips.core.worklist import register_home_tile, register_work_source

        register_reminders()
        register_jobs()
        register_work_source("alerts", selectors.work_for)
        register_home_tile("alerts", selectors.center_tiles)
        register_search_provider(
            "alerts",
            SearchProvider(
                reference=selectors.search_reference,
                text=selectors.search_text,
                indicator=selectors.search_indicator,
                indexes=(selectors.ALERT_TEXT,),
            ),
        )
