from django.apps import AppConfig


class EtpApplicationsConfig(AppConfig):
    name = "aips.etp.applications"
    label = "etp_applications"
