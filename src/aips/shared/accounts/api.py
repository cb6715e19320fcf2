from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from aips.core.actors import acting
from aips.core.numbers import Id, PageLimit
from aips.core.pagination import Page, keyset_page
from aips.core.permissions import Perm
from aips.core.strings import EmailText
from aips.shared.accounts import identity, selectors, services
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.models import User

router = Router(tags=["users"])

RoleName = Literal[
    "center_admin", "center_analyst", "auditor", "org_head", "org_responsible", "org_viewer"
]
LanguageCode = Literal["kk", "ru", "en"]


class UserOut(Schema):
    id: int
    email: str
    surname: str
    given_name: str
    patronymic: str
    position: str
    organization_id: int
    phones: list[str]
    language: LanguageCode
    role: RoleName
    is_active: bool
    created_at: datetime
    # R57.9: whether an EDS or a biometric check bound the person's IIN, how and when; the IIN
    # itself only masked (its first six digits are a birth date).
    iin_bound: bool
    iin_bound_by: Literal["eds", "biometrics", ""]
    iin_bound_at: datetime | None
    iin_masked: str

    @staticmethod
    def resolve_iin_bound(obj: User) -> bool:
        return bool(obj.iin)

    @staticmethod
    def resolve_iin_masked(obj: User) -> str:
        return identity.mask_iin(obj.iin)


class UserIn(Schema):
    email: EmailText
    surname: str
    given_name: str
    patronymic: str = ""
    position: str
    organization_id: Id
    phones: list[str]
    language: LanguageCode = "ru"
    role: RoleName
    # The invitation is accepted only with an EDS signature that binds the IIN (R57.9).
    eds_required: bool = False


class UserPatch(Schema):
    email: EmailText | None = None
    surname: str | None = None
    given_name: str | None = None
    patronymic: str | None = None
    position: str | None = None
    organization_id: Id | None = None
    phones: list[str] | None = None
    language: LanguageCode | None = None
    role: RoleName | None = None
    is_active: bool | None = None


class UserListParams(Schema):
    after: Id | None = None
    limit: PageLimit = 50
    organization_id: Id | None = None


@router.get("", response=Page[UserOut], operation_id="users_list", auth=api_auth(Perm.USER_VIEW))
def users_list(request: HttpRequest, params: Query[UserListParams]) -> Any:
    qs = selectors.user_list(actor=request.user)
    if params.organization_id is not None:
        qs = qs.filter(organization_id=params.organization_id)
    return keyset_page(qs, after=params.after, limit=params.limit)


@router.post(
    "",
    response={201: UserOut},
    operation_id="users_create",
    auth=api_auth(Perm.USER_CREATE, fresh=True),
)
def users_create(request: HttpRequest, payload: UserIn) -> Any:
    return Status(201, services.user_create(actor=acting(request), **payload.dict()))


@router.get("/{user_id}", response=UserOut, operation_id="users_get", auth=api_auth(Perm.USER_VIEW))
def users_get(request: HttpRequest, user_id: Id) -> Any:
    return selectors.get_user_for(request.user, user_id)


@router.patch(
    "/{user_id}",
    response=UserOut,
    operation_id="users_update",
    auth=api_auth(Perm.USER_UPDATE, fresh=True),
)
def users_update(request: HttpRequest, user_id: Id, payload: UserPatch) -> Any:
    user = selectors.get_user_for(request.user, user_id)
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    return services.user_update(actor=acting(request), user=user, **changes)
