"""The closed list of permissions and the single role → permission table (R57.5).

Every view and API operation declares one `Perm` (or `PUBLIC`); anything not granted here is
denied. Later capabilities add their permissions to `Perm` and to `ROLE_PERMISSIONS` only.

`Perm`, `Role` and `ROLE_PERMISSIONS` are AIPS's table (`TABLE`). A deployment serves one
product, and the checks (`core.actors.actor_perms`, so `require`, `api_auth`, `ensure_perm` and
`visible_to`) consult that product's table, named by `settings.AIPS_PERMISSIONS`: this module for
AIPS, `aips.etp.permissions` for the ETP, which declares its own closed lists and reuses the
platform's members of `Perm` (profile, users, audit journal) in them. The core never imports a
product: it loads the table by name (`active_table`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeAlias

from django.conf import settings
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

# A permission of any product's closed list: the core's `Perm` or a product's own (`EtpPerm`).
# Members are strings, so one value is one permission whichever enum names it.
Permission: TypeAlias = StrEnum


class Perm(StrEnum):
    DASHBOARD_VIEW = "dashboard:view"
    PROFILE_VIEW = "profile:view"
    TOKEN_MANAGE = "token:manage"  # noqa: S105 - a permission name
    ORGANIZATION_VIEW = "organization:view"
    ORGANIZATION_CREATE = "organization:create"
    ORGANIZATION_UPDATE = "organization:update"
    USER_VIEW = "user:view"
    USER_CREATE = "user:create"
    USER_UPDATE = "user:update"
    USER_SECURITY = "user:security"
    USER_REQUEST_CREATE = "user_request:create"
    USER_REQUEST_VIEW = "user_request:view"
    USER_REQUEST_DECIDE = "user_request:decide"
    INCIDENT_VIEW = "incident:view"
    INCIDENT_EDIT = "incident:edit"
    INCIDENT_APPROVE = "incident:approve"
    INCIDENT_REVIEW = "incident:review"
    INCIDENT_COMMENT = "incident:comment"
    CALENDAR_MANAGE = "calendar:manage"
    ALERT_VIEW = "alert:view"
    ALERT_EDIT = "alert:edit"
    ALERT_APPROVE = "alert:approve"
    ALERT_PUBLISH = "alert:publish"
    ALERT_ACKNOWLEDGE = "alert:acknowledge"
    ALERT_PROCESS = "alert:process"
    THREAT_TYPE_MANAGE = "threat_type:manage"
    REQUEST_VIEW = "request:view"
    REQUEST_EDIT = "request:edit"
    REQUEST_APPROVE = "request:approve"
    REQUEST_HANDLE = "request:handle"
    REQUEST_REVIEW = "request:review"
    REQUEST_COMMENT = "request:comment"
    SIGNAL_VIEW = "signal:view"
    SIGNAL_INGEST = "signal:ingest"
    # An integration module (a SIEM, a TIP) reading its organization's intelligence feeds.
    EXCHANGE_FEED = "exchange:feed"
    # An organization's maker adding STIX objects to its TAXII submissions collection (drafts).
    EXCHANGE_SUBMIT = "exchange:submit"
    # The center configuring partners' TAXII collections that AIPS polls into drafts.
    EXCHANGE_PARTNERS = "exchange:partners"
    INTEGRATION_VIEW = "integration:view"
    INTEGRATION_MANAGE = "integration:manage"
    CORRELATION_VIEW = "correlation:view"
    CORRELATION_PROMOTE = "correlation:promote"
    AUDIT_VIEW = "audit:view"
    AUDIT_EXPORT = "audit:export"
    # The platform's own dependencies with known vulnerabilities and their patch deadlines
    # (R57.13): center administrators (every permission) and auditors.
    PATCH_VIEW = "patch:view"
    # Storing a new scan (`aips patch-report --import`): center administrators only.
    PATCH_IMPORT = "patch:import"


class Role(StrEnum):
    CENTER_ADMIN = "center_admin"
    CENTER_ANALYST = "center_analyst"
    AUDITOR = "auditor"
    ORG_HEAD = "org_head"
    ORG_RESPONSIBLE = "org_responsible"
    ORG_VIEWER = "org_viewer"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def is_center_role(self) -> bool:
        return self in CENTER_ROLES


ROLE_LABELS = {
    Role.CENTER_ADMIN: _("Center administrator"),
    Role.CENTER_ANALYST: _("Center analyst"),
    Role.AUDITOR: _("Auditor"),
    Role.ORG_HEAD: _("IS-unit head"),
    Role.ORG_RESPONSIBLE: _("Responsible employee"),
    Role.ORG_VIEWER: _("Viewer"),
}

# Roles that belong to the sectoral center's own staff; the others belong to organizations.
CENTER_ROLES = frozenset({Role.CENTER_ADMIN, Role.CENTER_ANALYST, Role.AUDITOR})

_EVERYONE = frozenset({Perm.DASHBOARD_VIEW, Perm.PROFILE_VIEW, Perm.TOKEN_MANAGE})
# What only an organization does: prepare (maker) and approve (IS-unit head) submissions.
_ORG_ONLY = frozenset(
    {
        Perm.USER_REQUEST_CREATE,
        Perm.INCIDENT_EDIT,
        Perm.INCIDENT_APPROVE,
        Perm.ALERT_APPROVE,
        Perm.ALERT_ACKNOWLEDGE,
        Perm.ALERT_PROCESS,
        Perm.REQUEST_APPROVE,
        Perm.EXCHANGE_SUBMIT,
    }
)
# Only integration modules (agents, SOARs) write signals; no person's role grants it.
_AGENT_ONLY = frozenset({Perm.SIGNAL_INGEST, Perm.EXCHANGE_FEED})
AGENT_PERMISSIONS = _AGENT_ONLY

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.CENTER_ADMIN: frozenset(Perm) - _ORG_ONLY - _AGENT_ONLY,
    Role.CENTER_ANALYST: _EVERYONE
    | {
        Perm.ORGANIZATION_VIEW,
        Perm.USER_VIEW,
        Perm.INCIDENT_VIEW,
        Perm.INCIDENT_REVIEW,
        Perm.INCIDENT_COMMENT,
        Perm.ALERT_VIEW,
        Perm.ALERT_EDIT,
        Perm.ALERT_PUBLISH,
        Perm.REQUEST_VIEW,
        Perm.REQUEST_EDIT,
        Perm.REQUEST_HANDLE,
        Perm.REQUEST_REVIEW,
        Perm.REQUEST_COMMENT,
        Perm.SIGNAL_VIEW,
        Perm.INTEGRATION_VIEW,
        Perm.CORRELATION_VIEW,
        Perm.CORRELATION_PROMOTE,
    },
    Role.AUDITOR: _EVERYONE
    | {
        Perm.ORGANIZATION_VIEW,
        Perm.USER_VIEW,
        Perm.USER_REQUEST_VIEW,
        Perm.INCIDENT_VIEW,
        Perm.ALERT_VIEW,
        Perm.REQUEST_VIEW,
        Perm.INTEGRATION_VIEW,
        Perm.AUDIT_VIEW,
        Perm.AUDIT_EXPORT,
        Perm.PATCH_VIEW,
    },
    Role.ORG_HEAD: _EVERYONE
    | {
        Perm.ORGANIZATION_VIEW,
        Perm.USER_VIEW,
        Perm.USER_SECURITY,
        Perm.USER_REQUEST_CREATE,
        Perm.USER_REQUEST_VIEW,
        Perm.INCIDENT_VIEW,
        Perm.INCIDENT_EDIT,
        Perm.INCIDENT_APPROVE,
        Perm.INCIDENT_COMMENT,
        Perm.ALERT_VIEW,
        Perm.ALERT_EDIT,
        Perm.ALERT_APPROVE,
        Perm.ALERT_ACKNOWLEDGE,
        Perm.ALERT_PROCESS,
        Perm.EXCHANGE_SUBMIT,
        Perm.REQUEST_VIEW,
        Perm.REQUEST_EDIT,
        Perm.REQUEST_APPROVE,
        Perm.REQUEST_HANDLE,
        Perm.REQUEST_COMMENT,
        Perm.SIGNAL_VIEW,
        Perm.INTEGRATION_VIEW,
        Perm.AUDIT_VIEW,
        Perm.AUDIT_EXPORT,
    },
    Role.ORG_RESPONSIBLE: _EVERYONE
    | {
        Perm.ORGANIZATION_VIEW,
        Perm.INCIDENT_VIEW,
        Perm.INCIDENT_EDIT,
        Perm.INCIDENT_COMMENT,
        Perm.ALERT_VIEW,
        Perm.ALERT_EDIT,
        Perm.ALERT_PROCESS,
        Perm.EXCHANGE_SUBMIT,
        Perm.REQUEST_VIEW,
        Perm.REQUEST_EDIT,
        Perm.REQUEST_COMMENT,
        Perm.SIGNAL_VIEW,
    },
    Role.ORG_VIEWER: _EVERYONE
    | {
        Perm.ORGANIZATION_VIEW,
        Perm.INCIDENT_VIEW,
        Perm.ALERT_VIEW,
        Perm.REQUEST_VIEW,
        Perm.SIGNAL_VIEW,
    },
}


@dataclass(frozen=True)
class PermissionTable:
    """One product's roles and what each may do; `active_table()` is the deployment's."""

    # The mappings are keyed by the product's role enum (a str, so a role name finds its row).
    roles: type[StrEnum]
    labels: Mapping[Any, Promise]
    grants: Mapping[Any, frozenset[Permission]]
    # Roles of the organization that sees every tenant (`is_center`: AIPS's center, the ETP's
    # operator); the others see their own organization's rows only.
    cross_tenant_roles: frozenset[str]
    # The role the command line and the worker act with (`actors.SystemActor`).
    system_role: str
    # The organization kinds (`organizations.OrganizationKind` values) this product holds.
    organization_kinds: tuple[str, ...]
    # Per role, the organization kinds its holders may belong to; a role missing here follows
    # the cross-tenant rule only (a cross-tenant role in the cross-tenant organization).
    role_kinds: Mapping[Any, frozenset[str]] = field(default_factory=dict)
    agent_permissions: frozenset[Permission] = frozenset()

    def perms_of(self, role: str) -> frozenset[Permission]:
        """An undeclared role gets nothing."""
        return self.grants.get(role, frozenset())

    def label(self, role: str) -> str:
        return str(self.labels.get(role, role))

    def choices(self) -> list[tuple[str, Promise]]:
        return [(role.value, self.labels[role]) for role in self.roles]


TABLE = PermissionTable(
    roles=Role,
    labels=ROLE_LABELS,
    grants=ROLE_PERMISSIONS,
    cross_tenant_roles=frozenset(CENTER_ROLES),
    system_role=Role.CENTER_ADMIN,
    organization_kinds=(
        "bank",
        "nonresident_bank_branch",
        "banking_operations",
        "microfinance",
        "other_financial",
        "center",
    ),
    agent_permissions=AGENT_PERMISSIONS,
)


@lru_cache(maxsize=4)
def _table_of(module: str) -> PermissionTable:
    table = import_string(f"{module}.TABLE")
    if not isinstance(table, PermissionTable):
        raise TypeError(f"{module}.TABLE is not a PermissionTable")
    return table


def active_table() -> PermissionTable:
    """The permission table of the product this deployment serves (`AIPS_PERMISSIONS`)."""
    return _table_of(getattr(settings, "AIPS_PERMISSIONS", __name__))


def role_has_perm(role: str, perm: Permission) -> bool:
    return perm in active_table().perms_of(role)
