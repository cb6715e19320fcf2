from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from aips.core.actors import acting
from aips.core.identifiers import BinText
from aips.core.numbers import Id, PageLimit
from aips.core.pagination import Page, keyset_page
from aips.core.permissions import Perm
from aips.core.strings import EmailText, RequiredText
from aips.shared.accounts.api_auth import api_auth
from aips.shared.organizations import selectors, services

router = Router(tags=["organizations"])

Kind = Literal[
    "bank",
    "nonresident_bank_branch",
    "banking_operations",
    "microfinance",
    "other_financial",
    "center",
]
OrgStatus = Literal["active", "suspended"]


class OrganizationOut(Schema):
    id: int
    name: str
    name_kk: str
    name_ru: str
    name_en: str
    bin: str
    email: str
    kind: Kind
    status: OrgStatus
    created_at: datetime
    updated_at: datetime


class OrganizationIn(Schema):
    name: RequiredText
    name_kk: str = ""
    name_ru: str = ""
    name_en: str = ""
    bin: BinText
    email: EmailText
    kind: Kind
    status: OrgStatus = "active"


class OrganizationPatch(Schema):
    name: str | None = None
    name_kk: str | None = None
    name_ru: str | None = None
    name_en: str | None = None
    bin: BinText | None = None
    email: EmailText | None = None
    kind: Kind | None = None
    status: OrgStatus | None = None


class ListParams(Schema):
    after: Id | None = None
    limit: PageLimit = 50


@router.get(
    "",
    response=Page[OrganizationOut],
    operation_id="organizations_list",
    auth=api_auth(Perm.ORGANIZATION_VIEW),
)
def organizations_list(request: HttpRequest, params: Query[ListParams]) -> Any:
    qs = selectors.organization_list(actor=request.user)
    return keyset_page(qs, after=params.after, limit=params.limit)


@router.post(
    "",
    response={201: OrganizationOut},
    operation_id="organizations_create",
    auth=api_auth(Perm.ORGANIZATION_CREATE),
)
def organizations_create(request: HttpRequest, payload: OrganizationIn) -> Any:
    return Status(201, services.organization_create(actor=acting(request), **payload.dict()))


@router.get(
    "/{org_id}",
    response=OrganizationOut,
    operation_id="organizations_get",
    auth=api_auth(Perm.ORGANIZATION_VIEW),
)
def organizations_get(request: HttpRequest, org_id: Id) -> Any:
    return selectors.get_organization_for(request.user, org_id)


@router.patch(
    "/{org_id}",
    response=OrganizationOut,
    operation_id="organizations_update",
    auth=api_auth(Perm.ORGANIZATION_UPDATE),
)
def organizations_update(request: HttpRequest, org_id: Id, payload: OrganizationPatch) -> Any:
    org = selectors.get_organization_for(request.user, org_id)
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    return services.organization_update(actor=acting(request), organization=org, **changes)
