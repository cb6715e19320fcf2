"""The health check's parts and the worker's progress reports.

Core knows no app, so the checks behind `GET /api/v1/health` are a registry that apps fill from
their `AppConfig.ready()`, as the worker's jobs are (`core/jobs.py`):

* `register_check(name, fn, critical=...)`: `fn()` returns a `CheckResult`. A failed *critical*
  check (the database) makes the endpoint answer 503, so a load balancer takes the process out;
  a failed non-critical one (the worker's heartbeat) makes the status "degraded" and keeps 200,
  since the web process itself can still serve. A check may say "not configured" (ClamAV while
  no daemon is set): reported, never a failure.
* `register_job_observer(fn)`: the worker calls `fn(job_name, ok, seconds)` after each job run
  (`aips.shared.observability` records it: the heartbeat and the job lag)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection

from aips.core.logging import get_logger

log = get_logger("aips.core.health")

OK = "ok"
NOT_CONFIGURED = "not configured"


@dataclass(frozen=True)
class CheckResult:
    state: str  # "ok", "not configured", or what is wrong ("unreachable", "stale"...)
    healthy: bool


@dataclass(frozen=True)
class _Check:
    run: Callable[[], CheckResult]
    critical: bool


_CHECKS: dict[str, _Check] = {}

JobObserver = Callable[[str, bool, float], None]
_OBSERVERS: list[JobObserver] = []


def register_check(name: str, fn: Callable[[], CheckResult], *, critical: bool = False) -> None:
    """Idempotent: registering a name again replaces its entry and keeps its place."""
    _CHECKS[name] = _Check(run=fn, critical=critical)


def database_check() -> CheckResult:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not ready"
        return CheckResult("unreachable", healthy=False)
    return CheckResult(OK, healthy=True)


def clamav_check() -> CheckResult:
    """The placeholder that keeps "clamav" in its place in the list: the files app registers the
    real check under the same name (`shared/files/jobs.py`: "not configured", "ok: <clamd's
    version>" or "unreachable")."""
    return CheckResult(NOT_CONFIGURED, healthy=True)


register_check("database", database_check, critical=True)
register_check("clamav", clamav_check)


@dataclass(frozen=True)
class Health:
    status: str  # "ok" | "degraded" | "unavailable"
    checks: dict[str, str]

    @property
    def available(self) -> bool:
        return self.status != "unavailable"


def run_checks() -> Health:
    checks: dict[str, str] = {}
    failed_critical = failed_other = False
    for name, check in _CHECKS.items():
        try:
            result = check.run()
        except Exception:
            log.exception("health.check_failed", check=name)
            result = CheckResult("error", healthy=False)
        checks[name] = result.state
        if not result.healthy:
            if check.critical:
                failed_critical = True
            else:
                failed_other = True
    status = "unavailable" if failed_critical else "degraded" if failed_other else "ok"
    return Health(status=status, checks=checks)


def register_job_observer(fn: JobObserver) -> None:
    if fn not in _OBSERVERS:
        _OBSERVERS.append(fn)


def job_done(name: str, *, ok: bool, seconds: float) -> None:
    """Called by the worker after each job; an observer's failure never stops the worker."""
    for fn in list(_OBSERVERS):
        try:
            fn(name, ok, seconds)
        except Exception:
            log.exception("health.observer_failed", job=name)
