from django.apps import AppConfig


class InquiriesConfig(AppConfig):
    name = "aips.center.inquiries"
    verbose_name = "Requests"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.center.inquiries import selectors
        from aips.center.inquiries.notices import register_reminders
        from aips.core.search import SearchProvider, register_search_provider
        from aips.core.worklist import register_home_tile, register_work_source

        register_reminders()
        register_work_source("inquiries", selectors.work_for)
        register_home_tile("inquiries", selectors.center_tiles)
        register_search_provider(
            "inquiries",
            SearchProvider(
                reference=selectors.search_reference,
                text=selectors.search_text,
                indicator=selectors.search_indicator,
                indexes=(selectors.REQUEST_TEXT,),
            ),
        )
