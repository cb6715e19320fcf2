from django.apps import AppConfig


class InquiriesConfig(AppConfig):
    name = "aips.inquiries"
    verbose_name = "Requests"

    def ready(self) -> None:
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.inquiries.notices import register_reminders

        register_reminders()
