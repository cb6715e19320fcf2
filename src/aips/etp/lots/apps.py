from django.apps import AppConfig


class EtpLotsConfig(AppConfig):
    name = "aips.etp.lots"
    label = "etp_lots"
