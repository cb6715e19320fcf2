"""How integration modules authenticate to the API (R67.7, R57.28.3): an agent token
(`Authorization: Bearer aipsa_…`) and/or a client certificate that the TLS-terminating proxy
verified against the center's CA and passes in AIPS_CLIENT_CERT_HEADER, either as the URL-escaped
PEM certificate (nginx's $ssl_client_escaped_cert; AIPS computes the SHA-256 fingerprint) or as
its SHA-256 fingerprint. The header is read only when that setting names it, i.e. only behind a
proxy that sets it on every request (docs/deployment.md).
Modules hold only AGENT_PERMISSIONS; a person's token or session never reaches these operations,
and a module's token reaches nothing else."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer
from ninja.security.base import AuthBase

from aips.center.integrations.ca import fingerprint_from_header
from aips.center.integrations.models import ModuleActor
from aips.center.integrations.services import module_authenticate
from aips.core import ratelimit
from aips.core.access import has_perm
from aips.core.errors import Forbidden
from aips.core.permissions import Perm
from aips.core.request_context import client_ip


def _certificate(request: HttpRequest) -> str | None:
    """The SHA-256 fingerprint of the verified client certificate, or None."""
    header = settings.AIPS_CLIENT_CERT_HEADER
    if not header:
        return None
    value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    return fingerprint_from_header(value) if value else None


def _admit(request: HttpRequest, actor: ModuleActor | None, perm: Perm) -> ModuleActor | None:
    if actor is None:
        return None
    if not has_perm(actor, perm):
        raise AuthorizationError(message=_("You do not have permission to do this."))
    return actor


class AgentToken(HttpBearer):
    openapi_scheme = "bearer"

    def __init__(self, perm: Perm) -> None:
        self.perm = perm
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ModuleActor | None:
        actor = module_authenticate(token=token, cert_fingerprint=_certificate(request))
        if actor is None:
            # Guessing is limited per address (each 401 counts); a valid 256-bit token skips
            # the cache look-up, which would otherwise cost every batch a query.
            wait = ratelimit.blocked(
                "api-unauthenticated", client_ip(request) or "-", settings.AIPS_BAD_TOKEN_RATE_IP
            )
            if wait is not None:
                raise ratelimit.RateLimited(wait)
        return _admit(request, actor, self.perm)


class AgentCertificate(AuthBase):
    """A module with a client certificate and no token."""

    openapi_type = "mutualTLS"

    def __init__(self, perm: Perm) -> None:
        self.perm = perm
        super().__init__()

    def __call__(self, request: HttpRequest) -> ModuleActor | None:
        if request.headers.get("Authorization"):
            return None  # a token was offered: AgentToken decided
        fingerprint = _certificate(request)
        if fingerprint is None:
            return None
        return _admit(request, module_authenticate(cert_fingerprint=fingerprint), self.perm)


def acting_module(request: HttpRequest) -> ModuleActor:
    """The module an operation guarded by `agent_auth` admitted (django-ninja keeps it in
    `request.auth`); the Forbidden is a guard that does not fire in practice."""
    actor = getattr(request, "auth", None)
    if not isinstance(actor, ModuleActor):
        raise Forbidden()
    return actor


def agent_auth(perm: Perm = Perm.SIGNAL_INGEST) -> list[Any]:
    return [AgentToken(perm), AgentCertificate(perm)]
