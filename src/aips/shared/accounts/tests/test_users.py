"""Personal accounts (R67.6, R57.6): created by the center, or requested by an organization's
IS-unit head and approved by the center; activated through a single-use invitation."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from aips.core.errors import Forbidden, NotFound, ValidationFailed
from aips.shared.accounts import services
from aips.shared.accounts.models import Invitation, User, UserRequest, UserRequestStatus
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.notifications.services import drain_outbox
from aips.shared.organizations.models import Organization

NEW_USER: dict[str, Any] = {
    "email": "Aliya.Serikova@AlatauBank.example.kz",
    "surname": "Serikova",
    "given_name": "Aliya",
    "patronymic": "Maratovna",
    "position": "IS analyst",
    "phones": ["8 701 123 45 67", "+7 (727) 258-00-00"],
    "language": "kk",
    "role": "org_responsible",
}


def _invite_token() -> str:
    drain_outbox()  # what `aips worker` does after commit
    match = re.search(r"/invite/([\w-]+)/", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_r67_6_center_admin_creates_personal_account_with_invitation(
    client_as: Callable[[str | None], Client],
    orgs: dict[str, Organization],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as("center_admin").post(
            "/api/v1/users",
            {**NEW_USER, "organization_id": orgs["bank_a"].pk},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    drain_outbox()
    body = response.json()
    assert body["email"] == "aliya.serikova@alataubank.example.kz"
    assert body["phones"] == ["+77011234567", "+77272580000"]
    user = User.objects.get(pk=body["id"])
    assert not user.has_usable_password()
    assert mail.outbox[-1].to == [user.email]
    assert "72" in mail.outbox[-1].body
    events = set(AuditEvent.objects.filter(target_id=str(user.pk)).values_list("event", flat=True))
    assert {EventType.USER_CREATED, EventType.USER_INVITED} <= events


def test_r67_6_invitation_is_single_use_and_sets_the_password(
    personas: dict[str, User],
    orgs: dict[str, Organization],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_create(
            actor=personas["center_admin"], organization_id=orgs["bank_a"].pk, **NEW_USER
        )
    token = _invite_token()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.get(f"/invite/{token}/").status_code == 200
    weak = client.post(f"/invite/{token}/", {"password": "short", "password_again": "short"})
    assert weak.status_code == 422
    assert weak.context["form"].errors["password"]
    good = "Steppe-Wind-Orbit-42"
    done = client.post(f"/invite/{token}/", {"password": good, "password_again": good})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(good)
    assert client.get(f"/invite/{token}/").status_code == 404
    first_login = client.post("/login/", {"email": user.email, "password": good})
    assert first_login["Location"] == "/login/enroll/"


def test_r67_6_invitation_expires_after_72_hours(
    personas: dict[str, User],
    orgs: dict[str, Organization],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_create(
            actor=personas["center_admin"], organization_id=orgs["bank_a"].pk, **NEW_USER
        )
    invitation = Invitation.objects.get(user=user)
    lifetime = invitation.expires_at - invitation.created_at
    assert timedelta(hours=71, minutes=59) < lifetime <= timedelta(hours=72)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with pytest.raises(NotFound):
        services.invitation_accept(raw_token=_invite_token(), password="Steppe-Wind-Orbit-42")


def test_r67_6_reinvite_voids_the_old_link(
    personas: dict[str, User],
    orgs: dict[str, Organization],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_create(
            actor=personas["center_admin"], organization_id=orgs["bank_a"].pk, **NEW_USER
        )
    old = _invite_token()
    with django_capture_on_commit_callbacks(execute=True):
        services.user_reinvite(actor=personas["center_admin"], user=user)
    new = _invite_token()
    assert old != new
    with pytest.raises(NotFound):
        services.invitation_lookup(old)
    assert services.invitation_lookup(new).user == user


def test_r67_6_duplicate_email_is_a_field_error_in_ui_and_api(
    client_as: Callable[[str | None], Client], orgs: dict[str, Organization]
) -> None:
    admin = client_as("center_admin")
    taken = {
        **NEW_USER,
        "email": "MAKER@alataubank.example.kz",
        "organization_id": orgs["bank_a"].pk,
    }
    api = admin.post("/api/v1/users", taken, content_type="application/json")
    assert api.status_code == 422
    assert list(api.json()["error"]["fields"]) == ["email"]
    ui = admin.post("/users/new/", {**taken, "phones": "\n".join(NEW_USER["phones"])})
    assert ui.status_code == 422
    assert "already exists" in ui.context["form"].errors["email"][0]


def test_r67_6_bad_phone_and_role_mismatch_are_field_errors(
    personas: dict[str, User], orgs: dict[str, Organization]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.user_create(
            actor=personas["center_admin"],
            organization_id=orgs["bank_a"].pk,
            **{**NEW_USER, "phones": ["8 701 12"], "role": "center_analyst"},
        )
    assert set(caught.value.fields) == {"phones", "role"}
    with pytest.raises(ValidationFailed) as caught:
        services.user_create(
            actor=personas["center_admin"],
            organization_id=orgs["center"].pk,
            **{**NEW_USER, "phones": []},
        )
    assert set(caught.value.fields) == {"phones", "role"}


def test_r57_6_only_center_admin_creates_accounts(
    personas: dict[str, User], orgs: dict[str, Organization]
) -> None:
    for key in ("center_analyst", "auditor", "bank_a_head", "bank_a_maker"):
        with pytest.raises(Forbidden):
            services.user_create(actor=personas[key], organization_id=orgs["bank_a"].pk, **NEW_USER)


def test_r67_6_update_user_and_deactivate(
    client_as: Callable[[str | None], Client], personas: dict[str, User]
) -> None:
    maker = personas["bank_a_maker"]
    response = client_as("center_admin").patch(
        f"/api/v1/users/{maker.pk}",
        {"position": "Lead IS engineer", "phones": ["8 702 200 00 09"], "is_active": False},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    maker.refresh_from_db()
    assert (maker.position, maker.phones, maker.is_active) == (
        "Lead IS engineer",
        ["+77022000009"],
        False,
    )
    refused = Client().post("/login/", {"email": maker.email, "password": "Alatau-Maker-2026"})
    assert refused.status_code == 401


def test_r67_4_org_head_lists_only_own_users(
    client_as: Callable[[str | None], Client], personas: dict[str, User]
) -> None:
    items = client_as("bank_a_head").get("/api/v1/users?limit=200").json()["items"]
    assert {u["organization_id"] for u in items} == {personas["bank_a_head"].organization_id}
    everyone = client_as("auditor").get("/api/v1/users?limit=200").json()["items"]
    assert len(everyone) == User.objects.count()


def test_r67_6_org_head_requests_account_and_center_approves(
    client_as: Callable[[str | None], Client],
    personas: dict[str, User],
    django_capture_on_commit_callbacks: Any,
) -> None:
    head = client_as("bank_a_head")
    form = {**NEW_USER, "phones": "8 701 123 45 67"}
    response = head.post("/user-requests/new/", form)
    assert response.status_code == 302
    item = UserRequest.objects.get()
    assert item.organization == personas["bank_a_head"].organization
    assert item.phones == ["+77011234567"]
    again = head.post("/user-requests/new/", form)
    assert again.status_code == 422
    assert "already waiting" in again.context["form"].errors["email"][0]

    with django_capture_on_commit_callbacks(execute=True):
        decided = client_as("center_admin").post(
            f"/user-requests/{item.pk}/decide/", {"decision": "approve"}
        )
    assert decided.status_code == 302
    item.refresh_from_db()
    assert item.status == UserRequestStatus.APPROVED
    assert item.created_user is not None
    assert item.created_user.organization == personas["bank_a_head"].organization
    drain_outbox()
    assert mail.outbox[-1].to == [item.created_user.email]
    assert AuditEvent.objects.filter(event=EventType.USER_REQUEST_APPROVED).count() == 1


def test_r67_6_rejection_needs_a_reason_and_is_final(personas: dict[str, User]) -> None:
    item = services.user_request_create(
        actor=personas["bank_a_head"], **{**NEW_USER, "phones": ["8 701 123 45 67"]}
    )
    with pytest.raises(ValidationFailed):
        services.user_request_reject(actor=personas["center_admin"], request=item, comment=" ")
    services.user_request_reject(
        actor=personas["center_admin"], request=item, comment="Not an employee of the bank"
    )
    with pytest.raises(Exception, match="already been decided"):
        services.user_request_approve(actor=personas["center_admin"], request=item)


def test_r67_6_org_head_cannot_request_center_roles(personas: dict[str, User]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.user_request_create(
            actor=personas["bank_a_head"], **{**NEW_USER, "role": "center_admin"}
        )
    assert "role" in caught.value.fields
    with pytest.raises(Forbidden):
        services.user_request_create(actor=personas["bank_a_maker"], **NEW_USER)
