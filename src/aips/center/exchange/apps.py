from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "aips.center.exchange"
    label = "exchange"
