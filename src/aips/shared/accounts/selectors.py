from typing import Any

from django.http import Http404

from aips.core.actors import Viewer
from aips.shared.accounts.models import (
    ApiToken,
    ApiTokenQuerySet,
    SavedFilter,
    SavedFilterQuerySet,
    User,
    UserQuerySet,
    UserRequest,
    UserRequestQuerySet,
    UserSession,
    UserSessionQuerySet,
)
from aips.shared.organizations.models import OrganizationStatus


def user_list(*, actor: Viewer, eds: str = "") -> UserQuerySet:
    """`eds`: "bound" = only people whose account is bound to an IIN (by EDS or biometrics),
    "unbound" = only those not yet bound (R57.9)."""
    users = User.objects.visible_to(actor).select_related("organization").order_by("id")
    if eds == "bound":
        users = users.exclude(iin="")
    elif eds == "unbound":
        users = users.filter(iin="")
    return users


def get_user_for(actor: Viewer, pk: int) -> User:
    """404 both for a missing account and for one in another organization."""
    try:
        return User.objects.visible_to(actor).select_related("organization").get(pk=pk)
    except User.DoesNotExist as exc:
        raise Http404 from exc


def user_request_list(*, actor: Viewer) -> UserRequestQuerySet:
    return UserRequest.objects.visible_to(actor).select_related("organization", "requested_by")


def get_user_request_for(actor: Viewer, pk: int) -> UserRequest:
    try:
        return user_request_list(actor=actor).get(pk=pk)
    except UserRequest.DoesNotExist as exc:
        raise Http404 from exc


def token_list(*, actor: Viewer) -> ApiTokenQuerySet:
    return ApiToken.objects.visible_to(actor)


def get_token_for(actor: Viewer, pk: int) -> ApiToken:
    try:
        return ApiToken.objects.visible_to(actor).get(pk=pk)
    except ApiToken.DoesNotExist as exc:
        raise Http404 from exc


def session_list(*, actor: Viewer) -> UserSessionQuerySet:
    return UserSession.objects.visible_to(actor)


def get_session_for(actor: Viewer, pk: int) -> UserSession:
    try:
        return UserSession.objects.visible_to(actor).get(pk=pk)
    except UserSession.DoesNotExist as exc:
        raise Http404 from exc


def people_to_tell(**filters: Any) -> list[User]:
    """Who may be told something (notifications, reminders, e-mail): active, not blocked, in an
    active organization. Every notice rule narrows this one set with `filters`."""
    return list(
        User.objects.filter(
            is_active=True,
            blocked_at__isnull=True,
            organization__status=OrganizationStatus.ACTIVE,
            **filters,
        ).order_by("id")
    )


def saved_filter_list(*, actor: Viewer, list_name: str) -> SavedFilterQuerySet:
    return SavedFilter.objects.visible_to(actor).filter(list_name=list_name)


def get_saved_filter_for(actor: Viewer, pk: int) -> SavedFilter:
    try:
        return SavedFilter.objects.visible_to(actor).get(pk=pk)
    except SavedFilter.DoesNotExist as exc:
        raise Http404 from exc
