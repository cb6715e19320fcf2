from django.apps import AppConfig


class InquiriesConfig(AppConfig):
    name = "aips.inquiries"
    verbose_name = "Requests"
