from django.apps import AppConfig


class EtpLotsConfig(AppConfig):
    name = "aips.etp.lots"
    label = "etp_lots"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.core.search import SearchProvider, register_search_provider
        from aips.etp.lots import selectors

        # The catalogue's text search reads the platform's full-text index of the lots' title
        # and description; core makes it after every `migrate` (no search box: index only).
        register_search_provider("etp_lots", SearchProvider(indexes=(selectors.LOT_TEXT,)))
