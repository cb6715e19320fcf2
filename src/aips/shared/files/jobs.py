"""What the files app adds to the worker, the health check and the metrics (R57.12): the
"files.scan" job, the "clamav" check and the scan counts. Registered by FilesConfig.ready()."""

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from aips.core.health import NOT_CONFIGURED, CheckResult, register_check
from aips.core.jobs import register_job
from aips.core.metrics import register_metrics
from aips.shared.files import antivirus
from aips.shared.files.models import ContentScan, ScanStatus
from aips.shared.files.scanning import run_scan_job

# The health check answers fast: a load balancer's probe must not wait for a slow daemon.
HEALTH_TIMEOUT_SECONDS = 3.0


def clamav_check() -> CheckResult:
    """ "not configured" (healthy: files wait, nothing is served unscanned), "ok: <clamd's
    version>" when it answers, "unreachable" (degraded) when it does not."""
    endpoint = antivirus.configured_endpoint()
    if endpoint is None:
        return CheckResult(NOT_CONFIGURED, healthy=True)
    try:
        version = antivirus.Clamd(endpoint, timeout=HEALTH_TIMEOUT_SECONDS).version()
    except antivirus.ScannerUnavailable:
        return CheckResult("unreachable", healthy=False)
    return CheckResult(f"ok: {version}"[:200], healthy=True)


def scan_metrics() -> Iterator[Metric]:
    by_status = GaugeMetricFamily(
        "aips_file_scans",
        "Stored contents by anti-virus outcome (pending, clean, infected, failed).",
        labels=["outcome"],
    )
    counts = dict(
        ContentScan.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    for status in ScanStatus.values:
        by_status.add_metric([status], counts.get(status, 0))
    yield by_status
    oldest = ContentScan.objects.filter(
        status__in=(ScanStatus.PENDING, ScanStatus.FAILED)
    ).aggregate(at=Min("created_at"))["at"]
    waiting = GaugeMetricFamily(
        "aips_file_scan_oldest_waiting_seconds",
        "Age of the oldest content not yet scanned clean or infected (0 when none waits).",
    )
    waiting.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
    yield waiting


def register() -> None:
    # Concurrent: no transaction is held while clamd reads a file (scanning.py).
    register_job("files.scan", every=timedelta(seconds=15), run=run_scan_job, concurrent=True)
    # Replaces core's placeholder of the same name ("not configured"), keeping its place.
    register_check("clamav", clamav_check)
    register_metrics("files", scan_metrics)
