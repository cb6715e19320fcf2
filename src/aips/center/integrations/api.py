"""Integration-module API (R67.7, R57.28.3): the center registers modules and issues their
credentials, everyone with integration:view sees module health (an organization's head: their
own organization's), and the modules report their own heartbeat."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from aips.center.integrations import selectors, services
from aips.center.integrations.auth import acting_module, agent_auth
from aips.center.integrations.ca import MAX_CSR_LENGTH
from aips.center.integrations.selectors import ModuleHealth
from aips.center.integrations.services import module_seen
from aips.core.actors import acting
from aips.core.numbers import Counter, Id, PageLimit, Seconds
from aips.core.pagination import Page, keyset_page
from aips.core.permissions import Perm
from aips.core.request_context import client_ip
from aips.core.strings import RequiredText
from aips.shared.accounts.api_auth import api_auth
from aips.shared.organizations.selectors import get_organization_for

router = Router(tags=["integration modules"])

ModuleKindName = Literal["agent", "siem", "soar", "other"]
HealthName = Literal["ok", "late", "silent", "never", "revoked"]


class ModuleOut(Schema):
    id: int
    organization_id: int
    organization_bin: str
    name: str
    kind: ModuleKindName
    description: str
    health: HealthName
    last_seen_at: datetime | None
    last_version: str
    last_address: str | None
    last_status: dict[str, Any]
    accepted_1h: int
    rejected_1h: int
    accepted_24h: int
    rejected_24h: int
    duplicates_24h: int
    token_prefix: str
    token_issued_at: datetime | None
    cert_serial: str
    cert_fingerprint: str | None
    cert_not_after: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class ModuleIn(Schema):
    organization_id: Id
    name: RequiredText = Field(..., max_length=100)
    kind: ModuleKindName = "agent"
    description: str = Field("", max_length=2000)


class ModulePatch(Schema):
    name: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=2000)


class ListParams(Schema):
    organization_id: Id | None = None
    health: HealthName | None = None
    after: Id | None = None
    limit: PageLimit = 50


class TokenOut(Schema):
    module_id: int
    token: str = Field(..., description="Shown once; AIPS keeps only its hash.")
    token_prefix: str


class CertificateIn(Schema):
    csr: str | None = Field(
        None,
        max_length=MAX_CSR_LENGTH,
        description="PEM CSR (ECDSA P-256/P-384 or RSA ≥ 2048). Without it AIPS generates the key.",
    )


class CertificateOut(Schema):
    module_id: int
    certificate_pem: str
    private_key_pem: str | None = Field(
        None, description="Only when AIPS generated the key: returned once, never stored."
    )
    ca_certificate_pem: str
    fingerprint: str = Field(..., description="SHA-256 of the DER certificate, lowercase hex.")
    serial: str
    not_after: datetime


class RevokeIn(Schema):
    reason: str = Field("", max_length=500)


def _out(h: ModuleHealth) -> dict[str, Any]:
    m = h.module
    return {
        "id": m.pk,
        "organization_id": m.organization_id,
        "organization_bin": m.organization.bin,
        "name": m.name,
        "kind": m.kind,
        "description": m.description,
        "health": h.state.value,
        "last_seen_at": m.last_seen_at,
        "last_version": m.last_version,
        "last_address": m.last_address,
        "last_status": h.status,
        "accepted_1h": h.accepted_1h,
        "rejected_1h": h.rejected_1h,
        "accepted_24h": h.accepted_24h,
        "rejected_24h": h.rejected_24h,
        "duplicates_24h": h.duplicates_24h,
        "token_prefix": m.token_prefix if m.token_hash else "",
        "token_issued_at": m.token_issued_at if m.token_hash else None,
        "cert_serial": m.cert_serial,
        "cert_fingerprint": m.cert_fingerprint,
        "cert_not_after": m.cert_not_after,
        "revoked_at": m.revoked_at,
        "created_at": m.created_at,
    }


def _one(request: HttpRequest, module: Any) -> dict[str, Any]:
    return _out(selectors.module_health(acting(request), modules=[module])[0])


@router.get(
    "",
    response=Page[ModuleOut],
    operation_id="integrations_list",
    auth=api_auth(Perm.INTEGRATION_VIEW),
    summary="Integration modules with their health (the center: all; a head: their own)",
)
def integrations_list(request: HttpRequest, params: Query[ListParams]) -> Any:
    qs = selectors.modules_for(
        acting(request), organization_id=params.organization_id, state=params.health
    )
    page = keyset_page(qs, after=params.after, limit=params.limit)
    health = selectors.module_health(acting(request), modules=page["items"])
    return {"items": [_out(h) for h in health], "next_cursor": page["next_cursor"]}


@router.post(
    "",
    response={201: ModuleOut},
    operation_id="integrations_create",
    auth=api_auth(Perm.INTEGRATION_MANAGE),
    summary="Register an organization's integration module",
)
def integrations_create(request: HttpRequest, payload: ModuleIn) -> Any:
    organization = get_organization_for(request.user, payload.organization_id)
    module = services.module_register(
        actor=acting(request),
        organization=organization,
        name=payload.name,
        kind=payload.kind,
        description=payload.description,
    )
    return Status(201, _one(request, module))


@router.get(
    "/{int:module_id}",
    response=ModuleOut,
    operation_id="integrations_get",
    auth=api_auth(Perm.INTEGRATION_VIEW),
)
def integrations_get(request: HttpRequest, module_id: Id) -> Any:
    return _one(request, selectors.get_module_for(acting(request), module_id))


@router.patch(
    "/{int:module_id}",
    response=ModuleOut,
    operation_id="integrations_update",
    auth=api_auth(Perm.INTEGRATION_MANAGE),
)
def integrations_update(request: HttpRequest, module_id: Id, payload: ModulePatch) -> Any:
    module = selectors.get_module_for(acting(request), module_id)
    module = services.module_update(
        actor=acting(request), module=module, **payload.dict(exclude_unset=True, exclude_none=True)
    )
    return _one(request, module)


@router.post(
    "/{int:module_id}/token",
    response=TokenOut,
    operation_id="integrations_token",
    auth=api_auth(Perm.INTEGRATION_MANAGE, fresh=True),
    summary="Issue or rotate the module's agent token (returned once; the old one stops)",
)
def integrations_token(request: HttpRequest, module_id: Id) -> Any:
    module = selectors.get_module_for(acting(request), module_id)
    module, raw = services.token_issue(actor=acting(request), module=module)
    return {"module_id": module.pk, "token": raw, "token_prefix": module.token_prefix}


@router.post(
    "/{int:module_id}/certificate",
    response=CertificateOut,
    operation_id="integrations_certificate",
    auth=api_auth(Perm.INTEGRATION_MANAGE, fresh=True),
    summary="Issue a client certificate from the center's CA (sign a CSR or generate a key)",
)
def integrations_certificate(
    request: HttpRequest, module_id: Id, payload: CertificateIn | None = None
) -> Any:
    module = selectors.get_module_for(acting(request), module_id)
    issued = services.cert_issue(
        actor=acting(request), module=module, csr_pem=payload.csr if payload else None
    )
    return {
        "module_id": module.pk,
        "certificate_pem": issued.certificate_pem,
        "private_key_pem": issued.private_key_pem,
        "ca_certificate_pem": issued.ca_certificate_pem,
        "fingerprint": issued.fingerprint,
        "serial": issued.serial,
        "not_after": issued.not_after,
    }


@router.post(
    "/{int:module_id}/revoke",
    response=ModuleOut,
    operation_id="integrations_revoke",
    auth=api_auth(Perm.INTEGRATION_MANAGE),
    summary="Revoke the module: its token and certificate are refused from now on",
)
def integrations_revoke(
    request: HttpRequest, module_id: Id, payload: RevokeIn | None = None
) -> Any:
    module = selectors.get_module_for(acting(request), module_id)
    module = services.module_revoke(
        actor=acting(request), module=module, reason=payload.reason if payload else ""
    )
    return _one(request, module)


class HeartbeatIn(Schema):
    version: str = Field(..., max_length=64)
    queue_depth: Counter = 0
    oldest_queued_seconds: Seconds = 0
    last_shipped_at: str | None = Field(None, max_length=64)
    disk_full: bool = False
    inputs: dict[str, dict[str, Counter]] = Field(default_factory=dict, max_length=50)


class HeartbeatOut(Schema):
    module_id: int
    organization_id: int
    # Named too, so `aips-agent test-connection` can show whose token it is in words.
    module_name: str
    organization_name: str


@router.post(
    "/heartbeat",
    auth=agent_auth(Perm.SIGNAL_INGEST),
    throttle=[],
    response=HeartbeatOut,
    operation_id="integrations_heartbeat",
    summary="An integration module reports that it is alive, its version and its queue",
)
def integrations_heartbeat(request: HttpRequest, payload: HeartbeatIn) -> Any:
    actor = acting_module(request)
    module_seen(
        actor=actor,
        version=payload.version,
        address=client_ip(request),
        status=payload.model_dump(exclude={"version"}),
        force=True,
    )
    return {
        "module_id": actor.module_id,
        "organization_id": actor.organization_id,
        "module_name": actor.name,
        "organization_name": selectors.organization_name_of(actor),
    }
