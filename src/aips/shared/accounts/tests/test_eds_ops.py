"""EDS at re-authentication (R57.4, R57.10), undoing an IIN binding (R57.9) and what the user API
says about it."""

import time
from collections.abc import Callable

from django.test import Client

from aips.conftest import sign_in
from aips.shared.accounts import sessions
from aips.shared.accounts.models import Invitation, User
from aips.shared.accounts.tests.test_eds_signin import PASSWORDS, auth_key, bind_iin, pki, sign
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.eds.testing import TestPki

__all__ = ["pki"]  # the fixture, shared with test_eds_signin


def stale(client: Client) -> None:
    session = client.session
    session[sessions.REAUTH_AT] = time.time() - 3600
    session.save()


# --- R57.10: EDS as the fresh factor at /reauthenticate/ ----------------------------------------


def test_r57_10_reauthentication_accepts_password_and_eds_of_the_bound_iin(
    personas: dict[str, User], client_as: Callable[[str | None], Client], pki: TestPki
) -> None:
    maker = personas["bank_a_maker"]
    bind_iin(maker, "900101300111")
    client = client_as("bank_a_maker")
    stale(client)
    page = client.get("/reauthenticate/?next=/profile/tokens/")
    challenge = str(page.context["eds_challenge"])
    assert challenge
    assert 'data-ncalayer-purpose="authentication"' in page.content.decode()
    done = client.post(
        "/reauthenticate/",
        {
            "password": PASSWORDS["bank_a_maker"],
            "eds_cms": sign(challenge, auth_key(pki, "900101300111")),
            "next": "/profile/tokens/",
        },
    )
    assert done.status_code == 302, done.content.decode()[:2000]
    assert done["Location"] == "/profile/tokens/"
    event = AuditEvent.objects.filter(event=EventType.REAUTHENTICATED, actor=maker).latest("seq")
    assert event.details == {"factor": "eds"}


def test_r57_10_reauthentication_refuses_another_iin_a_wrong_password_and_a_reused_challenge(
    personas: dict[str, User], client_as: Callable[[str | None], Client], pki: TestPki
) -> None:
    maker = personas["bank_a_maker"]
    bind_iin(maker, "900101300111")
    client = client_as("bank_a_maker")
    stale(client)
    challenge = str(client.get("/reauthenticate/").context["eds_challenge"])
    other = client.post(
        "/reauthenticate/",
        {
            "password": PASSWORDS["bank_a_maker"],
            "eds_cms": sign(challenge, auth_key(pki, "900101300222")),
        },
    )
    assert other.status_code == 401
    assert AuditEvent.objects.filter(event=EventType.EDS_SIGNIN_FAILED, actor=maker).exists()
    # The refused attempt used up the challenge: the same signature again is refused too.
    reused = client.post(
        "/reauthenticate/",
        {
            "password": PASSWORDS["bank_a_maker"],
            "eds_cms": sign(challenge, auth_key(pki, "900101300111")),
        },
    )
    assert reused.status_code == 401
    challenge = str(reused.context["eds_challenge"])
    wrong_password = client.post(
        "/reauthenticate/",
        {"password": "not-the-password", "eds_cms": sign(challenge, auth_key(pki, "900101300111"))},
    )
    assert wrong_password.status_code == 401
    assert not AuditEvent.objects.filter(event=EventType.REAUTHENTICATED, actor=maker).exists()


def test_r57_10_an_account_without_an_iin_is_not_offered_eds_at_reauthentication(
    personas: dict[str, User], client_as: Callable[[str | None], Client], pki: TestPki
) -> None:
    client = client_as("bank_a_maker")
    stale(client)
    page = client.get("/reauthenticate/")
    assert page.context["eds_challenge"] == ""
    assert "data-ncalayer" not in page.content.decode()
    refused = client.post(
        "/reauthenticate/",
        {
            "password": PASSWORDS["bank_a_maker"],
            "eds_cms": sign("QUlQUw==", auth_key(pki, "900101300111")),
        },
    )
    assert refused.status_code == 401


# --- R57.9: undoing an IIN binding ---------------------------------------------------------------


def test_r57_9_center_admin_undoes_an_iin_binding_with_a_reason(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = personas["bank_a_maker"]
    bind_iin(maker, "900101300999")
    maker_client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(maker_client, maker.email, PASSWORDS["bank_a_maker"], maker)
    assert maker_client.get("/profile/").status_code == 200
    admin = client_as("center_admin")
    detail = admin.get(f"/users/{maker.pk}/").content.decode()
    assert f"/users/{maker.pk}/unbind-iin/" in detail
    page = admin.get(f"/users/{maker.pk}/unbind-iin/")
    assert page.status_code == 200
    assert "••••••••0999" in page.content.decode()
    assert "900101300999" not in page.content.decode()
    # No reason: nothing changes.
    assert admin.post(f"/users/{maker.pk}/unbind-iin/", {"reason": ""}).status_code == 422
    maker.refresh_from_db()
    assert maker.iin == "900101300999"

    done = admin.post(f"/users/{maker.pk}/unbind-iin/", {"reason": "a colleague's EDS was used"})
    assert done.status_code == 302, done.content.decode()[-3000:]
    assert done["Location"] == f"/users/{maker.pk}/"
    maker.refresh_from_db()
    assert (maker.iin, maker.iin_bound_at, maker.iin_bound_by) == ("", None, "")
    event = AuditEvent.objects.get(event=EventType.IIN_UNBOUND, target_id=str(maker.pk))
    assert event.details["reason"] == "a colleague's EDS was used"
    assert event.details["iin"] == "••••••••0999"
    assert "900101300999" not in str(event.details)
    # The person's sessions ended: they sign in (and bind) again.
    assert maker_client.get("/profile/")["Location"].startswith("/login/")
    assert f"/users/{maker.pk}/unbind-iin/" not in admin.get(f"/users/{maker.pk}/").content.decode()


def test_r57_9_a_head_undoes_bindings_of_its_own_people_only(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    bind_iin(personas["bank_a_maker"], "900101300999")
    pk = personas["bank_a_maker"].pk
    assert (
        client_as("bank_b_head").post(f"/users/{pk}/unbind-iin/", {"reason": "x"}).status_code
        == 404
    )
    assert (
        client_as("bank_a_maker").post(f"/users/{pk}/unbind-iin/", {"reason": "x"}).status_code
        == 403
    )
    head = client_as("bank_a_head")
    assert head.post(f"/users/{pk}/unbind-iin/", {"reason": "left"})["Location"] == f"/users/{pk}/"
    assert User.objects.get(pk=pk).iin == ""


def test_r57_9_unbinding_an_unbound_account_or_ones_own_is_refused(
    personas: dict[str, User],
) -> None:
    import pytest

    from aips.core.errors import AppError
    from aips.shared.accounts import services

    admin = personas["center_admin"]
    with pytest.raises(AppError) as not_bound:
        services.iin_unbind(actor=admin, user=personas["bank_a_maker"], reason="x")
    assert not_bound.value.code == "iin_not_bound"
    bind_iin(admin, "900101300888")
    with pytest.raises(AppError) as own:
        services.iin_unbind(actor=admin, user=admin, reason="x")
    assert own.value.code == "self"


# --- R57.9: the user API ------------------------------------------------------------------------


def test_r57_9_the_user_api_says_who_is_iin_bound_without_the_iin(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = personas["bank_a_maker"]
    bind_iin(maker, "900101300999")
    admin = client_as("center_admin")
    body = admin.get(f"/api/v1/users/{maker.pk}").json()
    assert body["iin_bound"] is True
    assert body["iin_bound_by"] == "eds"
    assert body["iin_bound_at"]
    assert body["iin_masked"] == "••••••••0999"
    listed = admin.get("/api/v1/users?limit=200")
    assert "900101300999" not in listed.content.decode()
    viewer = next(u for u in listed.json()["items"] if u["id"] == personas["bank_a_viewer"].pk)
    assert (viewer["iin_bound"], viewer["iin_bound_by"], viewer["iin_bound_at"]) == (
        False,
        "",
        None,
    )
    assert viewer["iin_masked"] == ""


def test_r57_9_the_user_api_creates_an_invitation_that_requires_eds(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    payload = {
        "email": "eds.person@alataubank.example.kz",
        "surname": "Серикова",
        "given_name": "Алия",
        "position": "Analyst",
        "organization_id": personas["bank_a_maker"].organization_id,
        "phones": ["+77011234567"],
        "role": "org_viewer",
        "eds_required": True,
    }
    admin = client_as("center_admin")
    created = admin.post("/api/v1/users", payload, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["iin_bound"] is False
    assert Invitation.objects.get(user_id=created.json()["id"]).eds_required is True
    plain = {**payload, "email": "plain.person@alataubank.example.kz"}
    del plain["eds_required"]
    other = admin.post("/api/v1/users", plain, content_type="application/json")
    assert Invitation.objects.get(user_id=other.json()["id"]).eds_required is False
    # The JSON error shape stays: a wrong type is a field error, not a server error.
    wrong = admin.post(
        "/api/v1/users",
        {**payload, "email": "x.person@alataubank.example.kz", "eds_required": "maybe"},
        content_type="application/json",
    )
    assert wrong.status_code == 422
    assert "error" in wrong.json()
