from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "aips.center.exchange"
    label = "exchange"

    def ready(self) -> None:
        from aips.center.exchange.jobs import register_jobs

        register_jobs()
