"""Writes for integration modules: registration and credentials by the center (audited), and the
modules' own heartbeats (bookkeeping, not audited)."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.center.integrations import ca
from aips.center.integrations.models import IntegrationModule, ModuleActor, ModuleKind
from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import AppError, Conflict, ValidationFailed
from aips.core.permissions import Perm
from aips.shared.accounts.models import User
from aips.shared.accounts.services import hash_secret
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.organizations.models import Organization

AGENT_TOKEN_PREFIX = "aipsa_"  # noqa: S105 - a public marker, not a secret
_MAX_TOKEN_LENGTH = 100
_SEEN_EVERY = timedelta(seconds=30)


# Agent tokens are hashed exactly like personal API tokens (256-bit secrets, plain SHA-256).
hash_token = hash_secret


def _organization_for(actor: Actor, organization: Organization) -> Organization:
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
    actor: Actor,
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
                created_by=actor if isinstance(actor, User) else None,
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
def token_issue(*, actor: Actor, module: IntegrationModule) -> tuple[IntegrationModule, str]:
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
def module_revoke(
    *, actor: Actor, module: IntegrationModule, reason: str = ""
) -> IntegrationModule:
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


@transaction.atomic
def module_update(
    *,
    actor: Actor,
    module: IntegrationModule,
    name: str | None = None,
    description: str | None = None,
) -> IntegrationModule:
    ensure_perm(actor, Perm.INTEGRATION_MANAGE)
    locked = IntegrationModule.objects.select_for_update().get(pk=module.pk)
    changes: dict[str, Any] = {}
    if name is not None:
        name = name.strip()[:100]
        if not name:
            raise ValidationFailed.field("name", _("Give the module a name."))
        if name != locked.name:
            changes["name"] = name
    if description is not None and description.strip() != locked.description:
        changes["description"] = description.strip()
    if not changes:
        return locked
    for field, value in changes.items():
        setattr(locked, field, value)
    try:
        with transaction.atomic():
            locked.save(update_fields=list(changes))
    except IntegrityError:
        raise ValidationFailed.field(
            "name", _("This organization already has a module with this name.")
        ) from None
    record(
        actor=actor,
        event=EventType.INTEGRATION_UPDATED,
        target=locked,
        organization_id=locked.organization_id,
        details={"changed": sorted(changes)},
    )
    return locked


# --- the center's CA and client certificates (R57.28.3) ---------------------------------------


@transaction.atomic
def ca_init(*, actor: Actor) -> str:
    """Create the center's CA (key and certificate under AIPS_DATA_DIR/ca/) and return its
    certificate. Refused if a CA exists. The key stays in a file; the journal records who
    created the CA and its certificate's fingerprint."""
    ensure_perm(actor, Perm.INTEGRATION_MANAGE)
    center = Organization.objects.filter(kind="center").order_by("pk").first()
    try:
        pem = ca.init(
            common_name="AIPS integration module CA",
            organization=(center.name if center else "AIPS")[:64],
        )
    except ca.CAError as exc:
        raise Conflict(str(exc), code="ca_exists") from exc
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    certificate = x509.load_pem_x509_certificate(pem.encode())
    record(
        actor=actor,
        event=EventType.INTEGRATION_CA_CREATED,
        details={"sha256": certificate.fingerprint(hashes.SHA256()).hex()},
    )
    return pem


def ca_certificate_pem() -> str | None:
    """The CA certificate in PEM (public: nginx, agents and auditors may all have it), or None
    before `aips ca init`."""
    return ca.certificate_pem()


@dataclass(frozen=True)
class CertificateIssued:
    module: IntegrationModule
    certificate_pem: str
    ca_certificate_pem: str
    fingerprint: str
    serial: str
    not_after: datetime
    # Only when the center generated the key pair; returned once and never stored.
    private_key_pem: str | None


def common_name_for(module: IntegrationModule) -> str:
    return f"module-{module.pk}.{module.organization.bin}"


@transaction.atomic
def cert_issue(
    *, actor: Actor, module: IntegrationModule, csr_pem: str | None = None
) -> CertificateIssued:
    """A client certificate for the module from the center's CA. With a CSR its key is
    certified (the module's key never leaves it); without one a key pair is generated and
    returned once. The subject is always `module-<id>.<BIN>`, whatever the CSR asked for.
    The previous certificate stops working at once: AIPS matches the new fingerprint only."""
    ensure_perm(actor, Perm.INTEGRATION_MANAGE)
    locked = (
        IntegrationModule.objects.select_for_update()
        .select_related("organization")
        .get(pk=module.pk)
    )
    if locked.revoked_at is not None:
        raise AppError(_("This module is revoked; register a new one."), code="revoked", status=409)
    csr = None
    if csr_pem is not None and csr_pem.strip():
        try:
            csr = ca.parse_csr(csr_pem)
        except ca.CSRError as exc:
            raise ValidationFailed.field(
                "csr",
                _("This certificate signing request cannot be used: %(reason)s")
                % {"reason": str(exc)},
            ) from exc
    try:
        issued = ca.issue(
            common_name=common_name_for(locked),
            organization=locked.organization.name[:64],
            csr=csr,
        )
    except ca.CAError as exc:
        raise AppError(
            _("The center's certification authority is not set up yet (aips ca init)."),
            code="ca_missing",
            status=409,
        ) from exc
    ca_pem = ca.certificate_pem() or ""
    locked.cert_fingerprint = issued.fingerprint
    locked.cert_serial = issued.serial
    locked.cert_not_after = issued.not_after
    locked.save(update_fields=["cert_fingerprint", "cert_serial", "cert_not_after"])
    record(
        actor=actor,
        event=EventType.INTEGRATION_CERT_ISSUED,
        target=locked,
        organization_id=locked.organization_id,
        details={
            "serial": issued.serial,
            "fingerprint": issued.fingerprint,
            "not_after": issued.not_after.isoformat(),
            "subject": common_name_for(locked),
            "key": "csr" if csr is not None else "generated",
        },
    )
    return CertificateIssued(
        module=locked,
        certificate_pem=issued.certificate_pem,
        ca_certificate_pem=ca_pem,
        fingerprint=issued.fingerprint,
        serial=issued.serial,
        not_after=issued.not_after,
        private_key_pem=issued.private_key_pem,
    )


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
    query = IntegrationModule.objects.filter(revoked_at__isnull=True).select_related("organization")
    if token is not None:
        query = query.filter(token_hash=hash_token(token))
    if cert_fingerprint is not None:
        query = query.filter(cert_fingerprint=cert_fingerprint.lower().replace(":", ""))
    if token is None and cert_fingerprint is None:
        return None
    if cert_fingerprint is not None:
        # The proxy checks validity dates too; this also covers a header that carries only
        # the fingerprint.
        query = query.filter(Q(cert_not_after__isnull=True) | Q(cert_not_after__gt=timezone.now()))
    module = query.only(
        "pk", "name", "organization_id", "organization__status", "last_seen_at"
    ).first()
    if module is None or not module.organization.is_active:
        return None
    return ModuleActor(
        module_id=module.pk,
        organization_id=module.organization_id,
        name=module.name,
        last_seen_at=module.last_seen_at,
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
    if not force and actor.last_seen_at is not None and now - actor.last_seen_at < _SEEN_EVERY:
        return
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
