"""Writes for integration modules: registration and credentials by the center (audited), and the
modules' own heartbeats (bookkeeping, not audited)."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.audit.models import EventType
from aips.audit.services import record
from aips.core.access import ensure_perm
from aips.core.errors import AppError, ValidationFailed
from aips.core.permissions import Perm
from aips.integrations.models import IntegrationModule, ModuleActor, ModuleKind
from aips.organizations.models import Organization

AGENT_TOKEN_PREFIX = "aipsa_"  # noqa: S105 - a public marker, not a secret
_MAX_TOKEN_LENGTH = 100
_SEEN_EVERY = timedelta(seconds=30)


def hash_token(raw: str) -> str:
    # 256-bit random secrets: a plain SHA-256 is enough, and cheap on every signal batch.
    return hashlib.sha256(raw.encode()).hexdigest()


def _organization_for(actor: Any, organization: Organization) -> Organization:
    if organization.is_center:
        raise ValidationFailed.field(
            "organization", _("Integration modules belong to financial organizations.")
        )
    if not organization.is_active:
        raise ValidationFailed.field("organization", _("This organization is not active."))
    return organization


@transaction.atomic
def module_register(
    *,
    actor: Any,
    organization: Organization,
    name: str,
    kind: str = ModuleKind.AGENT,
    description: str = "",
) -> IntegrationModule:
    ensure_perm(actor, Perm.INTEGRATION_MANAGE)
    _organization_for(actor, organization)
    name = name.strip()
    if not name:
        raise ValidationFailed.field("name", _("Give the module a name."))
    if kind not in ModuleKind.values:
        raise ValidationFailed.field("kind", _("Choose a kind from the list."))
    try:
        with transaction.atomic():
            module = IntegrationModule.objects.create(
                organization=organization,
                name=name[:100],
                kind=kind,
                description=description.strip(),
                created_by=actor if getattr(actor, "actor_kind", "user") == "user" else None,
            )
    except IntegrityError:
        raise ValidationFailed.field(
            "name", _("This organization already has a module with this name.")
        ) from None
    record(
        actor=actor,
        event=EventType.INTEGRATION_REGISTERED,
        target=module,
        organization_id=organization.pk,
        details={"name": module.name, "kind": module.kind},
    )
    return module


@transaction.atomic
def token_issue(*, actor: Any, module: IntegrationModule) -> tuple[IntegrationModule, str]:
    """A new agent token; the previous one stops working at once. The raw token is returned
    exactly once and never stored."""
    ensure_perm(actor, Perm.INTEGRATION_MANAGE)
    locked = IntegrationModule.objects.select_for_update().get(pk=module.pk)
    if locked.revoked_at is not None:
        raise AppError(_("This module is revoked; register a new one."), code="revoked", status=409)
    raw = AGENT_TOKEN_PREFIX + secrets.token_urlsafe(32)
    locked.token_hash = hash_token(raw)
    locked.token_prefix = raw[:12]
    locked.token_issued_at = timezone.now()
    locked.save(update_fields=["token_hash", "token_prefix", "token_issued_at"])
    record(
        actor=actor,
        event=EventType.INTEGRATION_TOKEN_ISSUED,
        target=locked,
        organization_id=locked.organization_id,
        details={"prefix": locked.token_prefix},
    )
    return locked, raw


@transaction.atomic
def module_revoke(*, actor: Any, module: IntegrationModule, reason: str = "") -> IntegrationModule:
    """Refuse the module's token and certificate from the next request on."""
    ensure_perm(actor, Perm.INTEGRATION_MANAGE)
    locked = IntegrationModule.objects.select_for_update().get(pk=module.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.token_hash = None
    locked.save(update_fields=["revoked_at", "token_hash"])
    record(
        actor=actor,
        event=EventType.INTEGRATION_REVOKED,
        target=locked,
        organization_id=locked.organization_id,
        details={"reason": reason.strip()[:500]},
    )
    return locked


def module_authenticate(
    *, token: str | None = None, cert_fingerprint: str | None = None
) -> ModuleActor | None:
    """The module behind a token or a verified client certificate, or None. When both are
    given they must name the same module. Looked up on every request, so revocation is
    immediate."""
    if token is not None and (
        not token.startswith(AGENT_TOKEN_PREFIX) or len(token) > _MAX_TOKEN_LENGTH
    ):
        return None
    query = IntegrationModule.objects.filter(revoked_at__isnull=True).select_related(
        "organization"
    )
    if token is not None:
        query = query.filter(token_hash=hash_token(token))
    if cert_fingerprint is not None:
        query = query.filter(cert_fingerprint=cert_fingerprint.lower().replace(":", ""))
    if token is None and cert_fingerprint is None:
        return None
    module = query.only(
        "pk", "name", "organization_id", "organization__status", "last_seen_at"
    ).first()
    if module is None or not module.organization.is_active:
        return None
    return ModuleActor(
        module_id=module.pk, organization_id=module.organization_id, name=module.name
    )


def module_seen(
    *,
    actor: ModuleActor,
    version: str | None = None,
    address: str | None = None,
    status: dict[str, Any] | None = None,
    force: bool = False,
) -> None:
    """Note that the module is alive. Batches call this too, so it writes at most every 30 s
    unless the module sends a heartbeat with news (force)."""
    now = timezone.now()
    query = IntegrationModule.objects.filter(pk=actor.module_id)
    if not force:
        query = query.exclude(last_seen_at__gt=now - _SEEN_EVERY)
    changes: dict[str, Any] = {"last_seen_at": now}
    if version is not None:
        changes["last_version"] = version[:64]
    if address is not None:
        changes["last_address"] = address
    if status is not None:
        changes["last_status"] = status
    query.update(**changes)
