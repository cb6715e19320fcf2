"""What the worker last did, per job: its heartbeat and each job's lag. Bookkeeping written by the
worker itself (not audited, no tenant data): one row per job name."""

from django.db import models


class JobRun(models.Model):
    name = models.CharField(max_length=100, unique=True)
    last_run_at = models.DateTimeField()  # the last run that ended, with or without success
    last_ok = models.BooleanField(default=True)
    last_seconds = models.FloatField(default=0.0)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"job {self.name}"
