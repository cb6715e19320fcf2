from django.apps import AppConfig


class MfaConfig(AppConfig):
    name = "aips.shared.mfa"
    label = "mfa"
