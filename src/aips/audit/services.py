from typing import Any

from django.db import models, transaction

from aips.audit.models import AuditEvent, EventType
from aips.core import request_context


def record(
    *,
    actor: Any,
    event: EventType,
    target: models.Model | None = None,
    organization_id: int | None = None,
    details: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one audit event. Callers are service functions already inside their transaction,
    so the event commits or rolls back with the change it describes."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    ctx = request_context.current()
    # Only people are foreign keys; the CLI and the system are recorded by their label.
    actor_id = actor.pk if isinstance(actor, models.Model) else None
    return AuditEvent.objects.create(
        event=event,
        actor_id=actor_id,
        actor_label=actor_label or str(getattr(actor, "email", "") or "anonymous"),
        organization_id=organization_id,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip=ctx.ip if ctx else None,
        user_agent=ctx.user_agent if ctx else "",
        request_id=ctx.request_id if ctx else "",
        details=details or {},
    )
