from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "aips.center.incidents"
    label = "incidents"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.center.incidents import selectors
        from aips.center.incidents.notices import register_reminders
        from aips.core.search import SearchProvider, register_search_provider
        from aips.core.worklist import register_home_tile, register_work_source

        register_reminders()
        register_work_source("incidents", selectors.work_for)
        register_home_tile("incidents", selectors.center_tiles)
        register_search_provider(
            "incidents",
            SearchProvider(
                reference=selectors.search_reference,
                text=selectors.search_text,
                indicator=selectors.search_indicator,
                indexes=(selectors.CARD_TEXT,),
            ),
        )
