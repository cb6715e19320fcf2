from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "aips.shared.accounts"
    label = "accounts"
