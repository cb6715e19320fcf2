from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "aips.shared.organizations"
    label = "organizations"
