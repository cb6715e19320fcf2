"""Metrics and health (R57.3.3, availability): /metrics exposes the named figures and they
count, it answers only the allowed addresses or the token, it names no organization, and the
health check reports the database, the worker's heartbeat and ClamAV."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from aips.center.incidents.models import CardState, IncidentCard
from aips.conftest import submitted_card
from aips.core import health
from aips.core.metrics import route_class
from aips.shared.notifications.services import enqueue_mail
from aips.shared.observability.models import JobRun
from aips.shared.observability.services import job_run_record
from aips.shared.organizations.models import Organization

pytestmark = pytest.mark.django_db

NAMED = [
    "aips_http_requests_total",
    "aips_http_request_duration_seconds_bucket",
    "aips_worker_queue_depth",
    "aips_outbox_backlog",
    "aips_overdue_items",
    "aips_audit_unsigned_entries",
    "aips_signals_recent",
    "aips_signal_counts_behind_signals",
    "aips_signal_counts_behind_seconds",
    "aips_metrics_collector_up",
]


def _sample(text: str, name: str, labels: str = "") -> float | None:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def _scrape(**extra: Any) -> str:
    response = Client(**extra).get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


def test_r57_3_3_metrics_exposes_the_named_figures() -> None:
    Client().get("/api/v1/health")
    text = _scrape()
    for name in NAMED:
        assert re.search(rf"^{name}\b", text, re.MULTILINE), name
    assert 'aips_metrics_collector_up{collector="outbox"} 1.0' in text
    assert 'aips_metrics_collector_up{collector="signals"} 1.0' in text


def test_r57_3_3_a_request_increments_its_route_class_counter() -> None:
    labels = '{method="GET",route="api:health",status="2xx"}'
    before = _sample(_scrape(), "aips_http_requests_total", labels) or 0
    Client().get("/api/v1/health")
    Client().get("/api/v1/health")
    assert _sample(_scrape(), "aips_http_requests_total", labels) == before + 2
    missing = '{method="GET",route="unmatched",status="4xx"}'
    before = _sample(_scrape(), "aips_http_requests_total", missing) or 0
    Client().get("/no/such/page/at/all")
    assert _sample(_scrape(), "aips_http_requests_total", missing) == before + 1


def test_r57_3_3_route_class_is_the_namespace_or_api_router(rf: Any) -> None:
    from django.urls import resolve

    request = rf.get("/incidents/")
    request.resolver_match = resolve("/incidents/")
    assert route_class(request) == "incidents"
    request = rf.get("/api/v1/incidents/cards")
    request.resolver_match = resolve("/api/v1/health")
    assert route_class(request) == "api:health"
    request.resolver_match = None
    assert route_class(request) == "unmatched"


def test_r57_3_3_an_outbox_message_raises_the_backlog() -> None:
    before = _scrape()
    backlog = _sample(before, "aips_outbox_backlog") or 0
    depth = _sample(before, "aips_worker_queue_depth", '{queue="outbox"}') or 0
    enqueue_mail(to="someone@example.kz", subject="s", body="b")
    after = _scrape()
    assert _sample(after, "aips_outbox_backlog") == backlog + 1
    assert _sample(after, "aips_worker_queue_depth", '{queue="outbox"}') == depth + 1


def test_r57_3_3_an_overdue_card_raises_overdue(personas: dict[str, Any]) -> None:
    labels = '{source="incidents.card"}'
    before = _sample(_scrape(), "aips_overdue_items", labels) or 0
    card, _attachment = submitted_card(personas)
    IncidentCard.objects.filter(pk=card.pk).update(
        state=CardState.RETURNED, deadline_at=timezone.now() - timedelta(hours=1)
    )
    text = _scrape()
    assert _sample(text, "aips_overdue_items", labels) == before + 1
    # Counts only: no organization's name anywhere in the figures.
    for name in Organization.objects.values_list("name", flat=True):
        assert name not in text


def test_r57_3_3_the_worker_records_its_heartbeat_and_job_lag() -> None:
    call_command("worker", "--once")
    assert JobRun.objects.filter(name="outbox", last_ok=True).exists()
    text = _scrape()
    assert (_sample(text, "aips_worker_heartbeat_age_seconds") or 0) < 60
    assert _sample(text, "aips_worker_job_lag_seconds", '{job="outbox"}') == 0
    assert _sample(text, "aips_worker_job_last_ok", '{job="outbox"}') == 1
    # A job that last succeeded long ago is late by what exceeds its period (15 s).
    JobRun.objects.filter(name="outbox").update(
        last_success_at=timezone.now() - timedelta(minutes=10)
    )
    lag = _sample(_scrape(), "aips_worker_job_lag_seconds", '{job="outbox"}')
    assert lag is not None
    assert 580 < lag < 600


def test_r57_3_3_metrics_refused_from_a_non_allowed_address(settings: Any) -> None:
    refused = Client(REMOTE_ADDR="203.0.113.9").get("/metrics")
    assert refused.status_code == 404
    assert b"aips_" not in refused.content
    settings.AIPS_METRICS_TOKEN = "scrape-secret-1234567890"
    wrong = Client(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.get("/metrics").status_code == 404
    _scrape(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-secret-1234567890")
    settings.AIPS_METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    _scrape(REMOTE_ADDR="10.1.2.3")
    assert Client().get("/metrics").status_code == 404  # 127.0.0.1 no longer listed


def test_r57_3_3_health_reports_each_check() -> None:
    response = Client().get("/api/v1/health")
    body = response.json()
    assert response.status_code == 200
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["clamav"] == "not configured"
    assert body["checks"]["worker"] == "no heartbeat"
    assert body["status"] == "degraded"
    job_run_record("outbox", True, 0.1)
    body = Client().get("/api/v1/health").json()
    assert body["checks"]["worker"] == "ok"
    assert body["status"] == "ok"
    JobRun.objects.update(last_run_at=timezone.now() - timedelta(hours=1))
    assert Client().get("/api/v1/health").json()["checks"]["worker"] == "stale"


def test_r57_3_3_a_failed_critical_check_answers_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        health._CHECKS,
        "database",
        health._Check(run=lambda: health.CheckResult("unreachable", False), critical=True),
    )
    response = Client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "unreachable"
