from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "aips.accounts"
    label = "accounts"
