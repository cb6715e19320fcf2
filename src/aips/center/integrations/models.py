"""Integration modules (R67.3.8, R67.7): the agents, SOARs and SIEMs an organization runs to send
signals. The center registers each one and issues its credentials — an agent token (only its
SHA-256 is kept) and/or a client certificate from the center's CA (R57.28.3)."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.permissions import Perm
from aips.core.tenancy import TenantQuerySet


class ModuleKind(models.TextChoices):
    AGENT = "agent", _("AIPS integration module (agent)")
    SIEM = "siem", _("SIEM")
    SOAR = "soar", _("SOAR")
    OTHER = "other", _("Other")


class IntegrationModuleQuerySet(TenantQuerySet["IntegrationModule"]):
    """The center sees every organization's modules; an organization's head sees its own."""

    view_perm = Perm.INTEGRATION_VIEW


class IntegrationModule(models.Model):
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="integration_modules",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=16, choices=ModuleKind.choices, default=ModuleKind.AGENT
    )
    description = models.TextField(_("description"), blank=True)
    token_prefix = models.CharField(max_length=16, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_issued_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the DER certificate the center issued; nginx passes it after verifying the chain.
    cert_fingerprint = models.CharField(max_length=64, unique=True, null=True, blank=True)
    cert_serial = models.CharField(max_length=64, blank=True)
    cert_not_after = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # Health, as the module last reported it (heartbeat) or as its last batch showed.
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_version = models.CharField(_("version"), max_length=64, blank=True)
    last_address = models.GenericIPAddressField(null=True, blank=True)
    last_status = models.JSONField(default=dict, blank=True)

    objects = IntegrationModuleQuerySet.as_manager()

    class Meta:
        ordering = ["organization_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="integration_module_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class ModuleActor:
    """An authenticated integration module: it may send signals and heartbeats for its own
    organization, and nothing else (AGENT_PERMISSIONS)."""

    module_id: int
    organization_id: int
    name: str
    last_seen_at: datetime | None = None
    is_authenticated: bool = True
    is_active: bool = True
    is_center: bool = False
    actor_kind: str = "agent"
    role: str = "agent"
    pk: None = None

    @property
    def email(self) -> str:
        return f"module:{self.module_id}:{self.name}"
