from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "aips.shared.notifications"
    label = "notifications"

    def ready(self) -> None:
        # Domain apps register their own notice rules and deadlines (their notices.py, from their
        # own ready()); notifications imports none of them.
        # Imported here, not at the top: models can only load once the app registry is ready.
        from aips.shared.audit.anchor import set_witness_mailer
        from aips.shared.notifications.jobs import register_jobs
        from aips.shared.notifications.services import enqueue_mail

        register_jobs()
        # The audit journal's e-mail witness queues its lines through this app's outbox.
        set_witness_mailer(enqueue_mail)
