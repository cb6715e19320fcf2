from django.apps import AppConfig


class MfaConfig(AppConfig):
    name = "aips.mfa"
    label = "mfa"
