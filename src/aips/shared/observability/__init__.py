"""Metrics and health (platform): the worker's job runs (its heartbeat and each job's lag), the
`/metrics` page, and the platform's own figures (outbox backlog, audit checkpoint age, overdue
items from every registered deadline source). Products add theirs through
`aips.core.metrics.register_metrics` from their own `AppConfig.ready()`."""
