"""`GET /api/v1/me`: who the caller is on the ETP (their role, organization and permissions), so
an API client can tell what it may do before it tries."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from aips.core.actors import actor_perms
from aips.core.permissions import Perm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.models import User

router = Router(tags=["portal"])


class OrganizationRef(Schema):
    id: int
    name: str
    kind: str


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    role: str
    role_label: str
    organization: OrganizationRef
    permissions: list[str]


@router.get(
    "/me",
    auth=api_auth(Perm.PROFILE_VIEW),
    response={200: MeOut},
    operation_id="me",
    summary="The caller's account on the ETP",
)
def me(request: HttpRequest) -> Any:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - api_auth admits accounts only
    organization = user.organization
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "role_label": user.role_label,
        "organization": {
            "id": organization.pk,
            "name": organization.display_name,
            "kind": organization.kind,
        },
        "permissions": sorted(str(perm) for perm in actor_perms(user)),
    }
