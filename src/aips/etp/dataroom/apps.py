from django.apps import AppConfig


class EtpDataroomConfig(AppConfig):
    name = "aips.etp.dataroom"
    label = "etp_dataroom"
