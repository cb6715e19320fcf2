from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "aips.organizations"
    label = "organizations"
