from django.apps import AppConfig


class InquiriesConfig(AppConfig):
    name = "aips.center.inquiries"
    verbose_name = "Requests"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.center.inquiries.notices import register_reminders

        register_reminders()
