"""Integration-module API: the modules' own heartbeat (R67.7)."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from aips.core.permissions import Perm
from aips.core.request_context import client_ip
from aips.integrations.auth import agent_auth
from aips.integrations.services import module_seen

router = Router(tags=["integration modules"])


class HeartbeatIn(Schema):
    version: str = Field(..., max_length=64)
    queue_depth: int = Field(0, ge=0)
    oldest_queued_seconds: float = Field(0, ge=0)
    last_shipped_at: str | None = Field(None, max_length=64)
    disk_full: bool = False
    inputs: dict[str, dict[str, int]] = Field(default_factory=dict, max_length=50)


class HeartbeatOut(Schema):
    module_id: int
    organization_id: int


@router.post(
    "/heartbeat",
    auth=agent_auth(Perm.SIGNAL_INGEST),
    throttle=[],
    response=HeartbeatOut,
    operation_id="integrations_heartbeat",
    summary="An integration module reports that it is alive, its version and its queue",
)
def integrations_heartbeat(request: HttpRequest, payload: HeartbeatIn) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    module_seen(
        actor=actor,
        version=payload.version,
        address=client_ip(request),
        status=payload.model_dump(exclude={"version"}),
        force=True,
    )
    return {"module_id": actor.module_id, "organization_id": actor.organization_id}
