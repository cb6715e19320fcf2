from django.apps import AppConfig


class EtpDevicesConfig(AppConfig):
    name = "aips.etp.devices"
    label = "etp_devices"
