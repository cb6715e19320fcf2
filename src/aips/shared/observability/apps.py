from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "aips.shared.observability"
    label = "observability"
    verbose_name = "Metrics and health"

    def ready(self) -> None:
        # Imported here: models load only once the app registry is ready.
        from aips.core.health import register_check, register_job_observer
        from aips.core.metrics import register_metrics
        from aips.shared.observability import collectors
        from aips.shared.observability.services import job_run_record

        register_job_observer(job_run_record)
        register_check("worker", collectors.worker_check)
        register_metrics("worker", collectors.worker_metrics)
        register_metrics("outbox", collectors.outbox_metrics)
        register_metrics("audit", collectors.audit_metrics)
        register_metrics("overdue", collectors.overdue_metrics)
