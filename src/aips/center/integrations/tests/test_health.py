"""Module health: heartbeat, states and counts from the hourly rollups (R67.7)."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from aips.center.integrations import selectors, services
from aips.center.integrations.models import IntegrationModule
from aips.center.integrations.selectors import Health
from aips.center.signals.models import SignalRollup
from aips.center.signals.tests.conftest import make_module, signal
from aips.core.actors import SystemActor

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def _seen(module: Any, at: datetime | None) -> None:
    IntegrationModule.objects.filter(pk=module.pk).update(last_seen_at=at)


def _rollup(module: Any, hours_ago: int, *, accepted: int = 0, rejected: int = 0) -> None:
    bucket = NOW.replace(minute=0) - timedelta(hours=hours_ago)
    SignalRollup.objects.create(
        bucket=bucket,
        organization_id=module.organization_id,
        module=module,
        kind="ids",
        accepted=accepted,
        rejected=rejected,
    )


def test_r67_7_heartbeat_updates_version_status_and_health(
    personas: dict[str, Any], module_a: tuple[Any, str]
) -> None:
    module, token = module_a
    center = personas["center_analyst"]
    [before] = selectors.module_health(center, modules=[module])
    assert before.state == Health.NEVER
    response = Client().post(
        "/api/v1/integrations/heartbeat",
        json.dumps(
            {
                "version": "0.9.1",
                "queue_depth": 17,
                "oldest_queued_seconds": 4.5,
                "disk_full": False,
                "inputs": {"suricata": {"read": 120, "dropped": 2}},
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        REMOTE_ADDR="198.51.100.9",
    )
    assert response.status_code == 200, response.content
    # test-connection shows whose token it is by name (issue 13, finding 10).
    assert response.json() == {
        "module_id": module.pk,
        "organization_id": module.organization_id,
        "module_name": module.name,
        "organization_name": module.organization.name,
    }
    [after] = selectors.module_health(center, modules=[module])
    assert after.state == Health.OK
    assert after.module.last_version == "0.9.1"
    assert after.module.last_address == "198.51.100.9"
    assert after.status["queue_depth"] == 17
    assert after.status["inputs"] == {"suricata": {"read": 120, "dropped": 2}}


@pytest.mark.parametrize(
    ("quiet", "state"),
    [
        (timedelta(seconds=30), Health.OK),
        (timedelta(minutes=6), Health.LATE),
        (timedelta(minutes=61), Health.SILENT),
        (None, Health.NEVER),
    ],
    ids=["r67_7_ok", "r67_7_late", "r67_7_silent", "r67_7_never"],
)
def test_r67_7_health_states(
    personas: dict[str, Any],
    module_a: tuple[Any, str],
    quiet: timedelta | None,
    state: Health,
) -> None:
    module = module_a[0]
    _seen(module, NOW - quiet if quiet else None)
    center = personas["center_admin"]
    [health] = selectors.module_health(center, now=NOW)
    assert health.state == state
    # The database filter agrees with the computed state, and only that state matches.
    for candidate in Health:
        found = list(selectors.modules_for(center, state=candidate, now=NOW))
        assert (found == [health.module]) == (candidate == state), candidate


def test_r67_7_revoked_module_is_revoked_whatever_it_last_said(
    personas: dict[str, Any], module_a: tuple[Any, str]
) -> None:
    module = module_a[0]
    _seen(module, timezone.now())
    services.module_revoke(actor=SystemActor(label="test"), module=module)
    [health] = selectors.module_health(personas["center_admin"])
    assert health.state == Health.REVOKED
    assert list(selectors.modules_for(personas["center_admin"], state="ok")) == []


def test_r67_7_counts_come_from_rollups(
    personas: dict[str, Any], module_a: tuple[Any, str]
) -> None:
    module = module_a[0]
    _rollup(module, 0, accepted=5, rejected=1)
    _rollup(module, 1, accepted=7)
    _rollup(module, 5, accepted=100, rejected=3)
    _rollup(module, 24, accepted=1000)
    _rollup(module, 25, accepted=99999, rejected=99999)  # too old for "24 h"
    [health] = selectors.module_health(personas["auditor"], now=NOW)
    assert (health.accepted_1h, health.rejected_1h) == (12, 1)
    assert (health.accepted_24h, health.rejected_24h) == (1112, 4)
    hourly = selectors.module_hourly(personas["center_analyst"], module, now=NOW)
    assert len(hourly) == 24
    assert hourly[-1].hour == NOW.replace(minute=0)
    assert (hourly[-1].accepted, hourly[-1].rejected) == (5, 1)
    assert hourly[-6].accepted == 100
    assert sum(h.accepted for h in hourly) == 112  # 24 buckets: the one 24 h ago is not shown


def test_r67_7_real_batches_show_up_in_health(
    personas: dict[str, Any], module_a: tuple[Any, str], agent: Any
) -> None:
    _module, token = module_a
    agent(token, [signal("ids"), signal("scan"), {"kind": "ids"}])
    [health] = selectors.module_health(personas["center_admin"])
    assert (health.accepted_1h, health.rejected_1h) == (2, 1)
    assert health.state == Health.OK


def test_r67_7_heads_see_only_their_own_modules(
    personas: dict[str, Any], module_a: tuple[Any, str], module_b: tuple[Any, str]
) -> None:
    mfo_module, _ = make_module(personas["mfo_head"].organization)
    center = {h.module.pk for h in selectors.module_health(personas["center_analyst"])}
    assert center == {module_a[0].pk, module_b[0].pk, mfo_module.pk}
    head_a = [h.module.pk for h in selectors.module_health(personas["bank_a_head"])]
    assert head_a == [module_a[0].pk]
    # Asking for another organization's module by hand returns nothing for it.
    assert selectors.module_health(personas["bank_a_head"], modules=[module_b[0]]) == []
    for persona in ("bank_a_maker", "bank_a_viewer"):
        assert selectors.module_health(personas[persona]) == []
    filtered = selectors.module_health(
        personas["center_admin"], organization_id=module_b[0].organization_id
    )
    assert [h.module.pk for h in filtered] == [module_b[0].pk]
