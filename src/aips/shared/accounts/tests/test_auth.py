"""Signing in, personal API tokens and the user's language."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aips.conftest import sign_in, totp_code
from aips.shared.accounts import services
from aips.shared.accounts.models import ApiToken, User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.organizations import services as org_services


def test_r57_6_r57_8_login_with_email_password_and_totp_with_audit(
    personas: dict[str, User],
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = sign_in(
        client, "Maker@AlatauBank.example.kz", "Alatau-Maker-2026", personas["bank_a_maker"]
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert AuditEvent.objects.filter(
        event=EventType.LOGIN_SUCCEEDED, actor=personas["bank_a_maker"]
    ).exists()
    logout = client.post("/logout/")
    assert logout.status_code == 302
    assert "cookies" in logout["Clear-Site-Data"]
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("email", ["maker@alataubank.example.kz", "nobody@example.kz"])
def test_r57_6_failed_login_is_generic_and_audited(personas: dict[str, User], email: str) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/login/", {"email": email, "password": "wrong-password-1"}
    )
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.content.decode()
    assert AuditEvent.objects.filter(event=EventType.LOGIN_FAILED, actor_label=email).exists()


def test_r57_6_login_redirect_stays_on_site(personas: dict[str, User]) -> None:
    client = Client()
    client.post(
        "/login/?next=https://evil.example.com/",
        {"email": "maker@alataubank.example.kz", "password": "Alatau-Maker-2026"},
    )
    response = client.post("/login/verify/", {"code": totp_code(personas["bank_a_maker"])})
    assert response["Location"] == "/"


def test_r67_5_suspended_organization_cannot_sign_in(personas: dict[str, User]) -> None:
    bank = personas["bank_b_maker"].organization
    client = Client()
    client.force_login(personas["bank_b_maker"])
    org_services.organization_update(
        actor=personas["center_admin"], organization=bank, status="suspended"
    )
    assert client.get("/").status_code == 302
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/login/", {"email": "maker@saryarkabank.example.kz", "password": "Saryarka-Maker-2026"}
    )
    assert response.status_code == 401


def test_r57_6_personal_api_token_shown_once_hashed_and_revocable(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    page = client_as("bank_a_maker").post("/profile/tokens/", {"name": "SOAR"})
    assert page.status_code == 200
    raw = page.context["new_secret"]
    assert raw.startswith("aips_")
    token = ApiToken.objects.get(user=personas["bank_a_maker"])
    assert raw not in (token.token_hash, token.prefix)
    assert raw.startswith(token.prefix)

    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    listed = bearer.get("/api/v1/organizations")
    assert listed.status_code == 200
    assert [o["id"] for o in listed.json()["items"]] == [personas["bank_a_maker"].organization_id]
    assert bearer.get("/api/v1/users").status_code == 403
    assert (
        Client(HTTP_AUTHORIZATION="Bearer aips_forged").get("/api/v1/organizations").status_code
        == 401
    )

    client_as("bank_a_maker").post(f"/profile/tokens/{token.pk}/revoke/")
    assert bearer.get("/api/v1/organizations").status_code == 401
    assert AuditEvent.objects.filter(event=EventType.TOKEN_REVOKED).exists()


def test_r57_6_expired_token_and_deactivated_user_are_refused(personas: dict[str, User]) -> None:
    maker = personas["bank_a_maker"]
    token, raw = services.token_create(
        actor=maker, name="short", expires_at=timezone.now() + timedelta(hours=1)
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/organizations").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/organizations").status_code == 401
    _t2, raw2 = services.token_create(actor=maker, name="second")
    services.user_update(actor=personas["center_admin"], user=maker, is_active=False)
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {raw2}").get("/api/v1/organizations").status_code == 401
    )


def test_session_api_writes_need_csrf(personas: dict[str, User]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["center_admin"])
    response = client.patch(
        f"/api/v1/organizations/{personas['bank_a_head'].organization_id}",
        {"name_en": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/organizations").status_code == 200


def test_anonymous_kazakh_visitor_gets_kazakh(db: None) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="kk").get("/login/")
    assert response.status_code == 200
    assert '<html lang="kk">' in response.content.decode()
    assert response["Content-Language"] == "kk"


def test_language_switch_becomes_the_users_preference(personas: dict[str, User]) -> None:
    maker = personas["bank_a_maker"]
    client = Client()
    client.force_login(maker)
    response = client.post("/i18n/setlang/", {"language": "kk", "next": "/profile/"})
    assert response.status_code == 302
    maker.refresh_from_db()
    assert maker.language == "kk"
    fresh = Client()  # another browser, no language cookie: the preference applies
    fresh.force_login(maker)
    assert '<html lang="kk">' in fresh.get("/").content.decode()


def test_r57_26_2_login_form_disables_autocomplete(db: None) -> None:
    html = Client().get("/login/").content.decode()
    assert 'autocomplete="off"' in html
    assert 'type="password"' in html
    assert 'id="cyber-hygiene"' in html
