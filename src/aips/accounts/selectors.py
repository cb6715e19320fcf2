from typing import Any

from django.http import Http404

from aips.accounts.models import (
    ApiToken,
    ApiTokenQuerySet,
    User,
    UserQuerySet,
    UserRequest,
    UserRequestQuerySet,
    UserSession,
    UserSessionQuerySet,
)


def user_list(*, actor: Any) -> UserQuerySet:
    return User.objects.visible_to(actor).select_related("organization").order_by("id")


def get_user_for(actor: Any, pk: int) -> User:
    """404 both for a missing account and for one in another organization."""
    try:
        return User.objects.visible_to(actor).select_related("organization").get(pk=pk)
    except User.DoesNotExist as exc:
        raise Http404 from exc


def user_request_list(*, actor: Any) -> UserRequestQuerySet:
    return UserRequest.objects.visible_to(actor).select_related("organization", "requested_by")


def get_user_request_for(actor: Any, pk: int) -> UserRequest:
    try:
        return user_request_list(actor=actor).get(pk=pk)
    except UserRequest.DoesNotExist as exc:
        raise Http404 from exc


def token_list(*, actor: Any) -> ApiTokenQuerySet:
    return ApiToken.objects.visible_to(actor)


def get_token_for(actor: Any, pk: int) -> ApiToken:
    try:
        return ApiToken.objects.visible_to(actor).get(pk=pk)
    except ApiToken.DoesNotExist as exc:
        raise Http404 from exc


def session_list(*, actor: Any) -> UserSessionQuerySet:
    return UserSession.objects.visible_to(actor)


def get_session_for(actor: Any, pk: int) -> UserSession:
    try:
        return UserSession.objects.visible_to(actor).get(pk=pk)
    except UserSession.DoesNotExist as exc:
        raise Http404 from exc
