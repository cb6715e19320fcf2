"""What the sign-in and re-authentication pages tell a person, and where they lead."""

import time

from django.test import Client

from aips.conftest import sign_in, totp_code
from aips.shared.accounts import sessions
from aips.shared.accounts.models import User

ADMIN = ("admin@aips.example.kz", "Center-Admin-2026")


def test_r57_6_wrong_password_is_a_message_not_a_field_summary(
    personas: dict[str, User],
) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/login/", {"email": "maker@alataubank.example.kz", "password": "wrong-password-1"}
    )
    body = response.content.decode()
    assert response.status_code == 401
    assert "Wrong e-mail or password, or the account is not active." in body
    # No field carries a mark, so the page must not ask to correct "the fields marked below".
    assert "Please correct the fields marked below." not in body
    assert 'class="field invalid"' not in body


def test_r57_6_an_empty_field_is_still_marked_and_summarized(personas: dict[str, User]) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post("/login/", {"email": "", "password": "x"})
    body = response.content.decode()
    assert "Please correct the fields marked below." in body
    assert 'class="field invalid"' in body


def _stale_admin(personas: dict[str, User]) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, *ADMIN, personas["center_admin"])
    session = client.session
    session[sessions.REAUTH_AT] = time.time() - 11 * 60
    session.save()
    return client


def test_r57_4_reauthentication_after_a_post_returns_to_the_sending_page(
    personas: dict[str, User],
) -> None:
    client = _stale_admin(personas)
    response = client.post(
        "/users/new/", {"email": "x@example.kz"}, HTTP_REFERER="http://testserver/users/?q=a"
    )
    assert response.status_code == 302
    assert response["Location"] == "/reauthenticate/?next=%2Fusers%2F%3Fq%3Da"
    page = client.get(response["Location"])
    assert 'name="next" value="/users/?q=a"' in page.content.decode()
    done = client.post(
        "/reauthenticate/",
        {
            "password": ADMIN[1],
            "code": totp_code(personas["center_admin"], step_offset=1),
            "next": "/users/?q=a",
        },
    )
    assert done["Location"] == "/users/?q=a"


def test_r57_4_reauthentication_never_leads_off_site(personas: dict[str, User]) -> None:
    client = _stale_admin(personas)
    for referer in ("https://evil.example.com/users/", "http://testserver//evil.example.com/"):
        response = client.post("/users/new/", {}, HTTP_REFERER=referer)
        assert response["Location"] == "/reauthenticate/"
    for target in ("https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com/"):
        page = client.get("/reauthenticate/", {"next": target})
        assert 'name="next" value=""' in page.content.decode()
    # Opened from a page of the site, it returns there.
    page = client.get("/reauthenticate/", HTTP_REFERER="http://testserver/profile/tokens/")
    assert 'name="next" value="/profile/tokens/"' in page.content.decode()
