"""The permission checks read the active product's table (`settings.AIPS_PERMISSIONS`,
core/permissions.py): AIPS's by default, another product's when its settings name it (the ETP:
aips/etp/permissions.py), without the core importing any product. A toy product here."""

from enum import StrEnum
from typing import Any

from aips.core.actors import SystemActor, actor_perms, has_perm
from aips.core.permissions import TABLE as AIPS_TABLE
from aips.core.permissions import Perm, PermissionTable, Role, active_table, role_has_perm


class ToyPerm(StrEnum):
    THING_VIEW = "thing:view"


class ToyRole(StrEnum):
    KEEPER = "keeper"


TABLE = PermissionTable(
    roles=ToyRole,
    labels={ToyRole.KEEPER: "Keeper"},  # type: ignore[dict-item]
    grants={ToyRole.KEEPER: frozenset({ToyPerm.THING_VIEW, Perm.PROFILE_VIEW})},
    cross_tenant_roles=frozenset(),
    system_role=ToyRole.KEEPER,
    organization_kinds=("bank",),
)


class Keeper:
    is_authenticated = True
    is_active = True
    role = "keeper"


def test_r57_5_aips_table_is_the_default() -> None:
    assert active_table() is AIPS_TABLE
    assert SystemActor().role == Role.CENTER_ADMIN
    assert role_has_perm("org_head", Perm.INCIDENT_APPROVE)
    assert actor_perms(Keeper()) == frozenset()  # type: ignore[arg-type]


def test_r57_5_checks_read_the_table_the_settings_name(settings: Any) -> None:
    settings.AIPS_PERMISSIONS = __name__
    assert active_table() is TABLE
    assert has_perm(Keeper(), ToyPerm.THING_VIEW)  # type: ignore[arg-type]
    assert has_perm(Keeper(), Perm.PROFILE_VIEW)  # type: ignore[arg-type]
    assert not has_perm(Keeper(), Perm.INCIDENT_VIEW)  # type: ignore[arg-type]
    # The system acts with the product's own administrator role; AIPS's roles mean nothing here.
    assert SystemActor().role == "keeper"
    assert not role_has_perm("center_admin", Perm.PROFILE_VIEW)
    assert TABLE.label("keeper") == "Keeper"
    assert TABLE.label("ghost") == "ghost"
