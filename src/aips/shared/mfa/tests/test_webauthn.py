"""WebAuthn second factor (R57.8: possession + inherence) and confirmation of a password change
with a user-verified assertion (R57.11), driven through the real endpoints with a software
authenticator (softkey.SoftKey)."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from aips.conftest import totp_code
from aips.demo import USERS
from aips.shared.accounts.models import User, UserSession
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.biometrics.tests.helpers import IIN_A, passed_password_check
from aips.shared.mfa import webauthn
from aips.shared.mfa.models import WebAuthnCredential
from aips.shared.mfa.tests.softkey import SoftKey
from aips.tests.conftest import _allow_async_unsafe, browser, page, steps  # noqa: F401 - fixtures

OPTIONS_URL = "/mfa/webauthn/authenticate/options/"
REGISTER_OPTIONS_URL = "/mfa/webauthn/register/options/"
REGISTER_VERIFY_URL = "/mfa/webauthn/register/verify/"
PASSWORDS = {person.key: person.password for person in USERS}
EMAILS = {person.key: person.email for person in USERS}
NEW_PASSWORD = "Brand-New-Passphrase-2026"


@pytest.fixture(autouse=True)
def _webauthn_site(settings: Any) -> None:
    settings.AIPS_WEBAUTHN_RP_ID = "testserver"
    settings.AIPS_WEBAUTHN_ORIGIN = "http://testserver"


def register(client: Client, key: SoftKey, *, name: str = "YubiKey 5", **answer: Any) -> Any:
    options = client.post(REGISTER_OPTIONS_URL)
    assert options.status_code == 200, options.content
    body = {"name": name, "credential": key.register(options.json(), **answer)}
    return client.post(REGISTER_VERIFY_URL, json.dumps(body), content_type="application/json")


@pytest.fixture
def maker_key(personas: dict[str, User], client_as: Callable[[str | None], Client]) -> SoftKey:
    """bank_a_maker with a registered security key (and the demo authenticator app)."""
    key = SoftKey()
    response = register(client_as("bank_a_maker"), key)
    assert response.status_code == 201, response.content
    return key


def password_step(persona: str) -> Client:
    """A browser that has passed the password step and now waits for the second factor."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["aips_language"] = "en"
    response = client.post("/login/", {"email": EMAILS[persona], "password": PASSWORDS[persona]})
    assert response.status_code == 302
    assert response["Location"] == "/login/verify/"
    return client


def request_options(client: Client) -> dict[str, Any]:
    response = client.post(OPTIONS_URL)
    assert response.status_code == 200, response.content
    options: dict[str, Any] = response.json()
    return options


def verify(client: Client, assertion: dict[str, Any] | str) -> Any:
    value = assertion if isinstance(assertion, str) else json.dumps(assertion)
    return client.post("/login/verify/", {"webauthn_response": value})


def signed_in(client: Client, user: User) -> bool:
    return bool(client.session.get("_auth_user_id") == str(user.pk))


# --- registration (R57.8) ---------------------------------------------------------------------


def test_r57_8_registration_through_the_endpoints_keeps_the_key_and_audits_it(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = personas["bank_a_maker"]
    client = client_as("bank_a_maker")
    options = client.post(REGISTER_OPTIONS_URL).json()
    assert options["rp"] == {"id": "testserver", "name": "AIPS"}
    assert options["user"]["name"] == maker.email
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    assert {p["alg"] for p in options["pubKeyCredParams"]} >= {-7}

    key = SoftKey()
    body = {"name": "Office key", "credential": key.register(options)}
    response = client.post(REGISTER_VERIFY_URL, json.dumps(body), content_type="application/json")

    assert response.status_code == 201, response.content
    credential = WebAuthnCredential.objects.get(user=maker)
    assert response.json() == {"id": credential.pk, "name": "Office key"}
    assert credential.credential_id == key.id
    assert bytes(credential.public_key) == key.cose_public_key()
    assert credential.sign_count == 0
    assert credential.transports == ["usb", "nfc"]
    event = AuditEvent.objects.get(event=EventType.WEBAUTHN_REGISTERED, actor=maker)
    assert event.organization_id == maker.organization_id
    assert event.details["credential_id"] == credential.pk
    assert event.details["user_verified"] is True
    # The next registration excludes the key already there.
    again = client.post(REGISTER_OPTIONS_URL).json()
    assert [c["id"] for c in again["excludeCredentials"]] == [key.id]
    assert again["excludeCredentials"][0]["transports"] == ["usb", "nfc"]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"uv": False}, id="without-user-verification"),
        pytest.param({"origin": "https://evil.example.com"}, id="wrong-origin"),
        pytest.param({"rp_id": "evil.example.com"}, id="wrong-rp-id"),
    ],
)
def test_r57_8_registration_refuses_unverified_or_foreign_answers(
    personas: dict[str, User], client_as: Callable[[str | None], Client], answer: dict[str, Any]
) -> None:
    response = register(client_as("bank_a_maker"), SoftKey(), **answer)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webauthn_invalid"
    assert response.json()["error"]["message"]
    assert not WebAuthnCredential.objects.exists()
    assert not AuditEvent.objects.filter(event=EventType.WEBAUTHN_REGISTERED).exists()


def test_r57_8_registration_challenge_is_single_use(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    client = client_as("bank_a_maker")
    options = client.post(REGISTER_OPTIONS_URL).json()
    first = {"name": "A", "credential": SoftKey().register(options)}
    assert (
        client.post(
            REGISTER_VERIFY_URL, json.dumps(first), content_type="application/json"
        ).status_code
        == 201
    )
    second = {"name": "B", "credential": SoftKey().register(options)}
    response = client.post(REGISTER_VERIFY_URL, json.dumps(second), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webauthn_no_challenge"
    assert WebAuthnCredential.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [b"", b"{}", b"[]", b"not json", b'{"credential": "abc"}', b'{"credential": {"id": 1}}'],
)
def test_r57_8_registration_with_a_malformed_answer_is_400_json(
    personas: dict[str, User], client_as: Callable[[str | None], Client], body: bytes
) -> None:
    client = client_as("bank_a_maker")
    client.post(REGISTER_OPTIONS_URL)
    response = client.post(REGISTER_VERIFY_URL, body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields", "request_id"}
    assert not WebAuthnCredential.objects.exists()


def test_r57_8_the_same_key_cannot_be_registered_twice(
    personas: dict[str, User], client_as: Callable[[str | None], Client], maker_key: SoftKey
) -> None:
    response = register(client_as("bank_b_maker"), maker_key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webauthn_duplicate"
    assert WebAuthnCredential.objects.count() == 1


# --- signing in with password + security key (R57.8) ------------------------------------------


def test_r57_8_authentication_options_need_a_password_step_or_a_session(
    personas: dict[str, User], client_as: Callable[[str | None], Client], maker_key: SoftKey
) -> None:
    anonymous = Client().post(OPTIONS_URL)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"

    options = request_options(password_step("bank_a_maker"))
    assert options["rpId"] == "testserver"
    assert options["userVerification"] == "required"
    assert [c["id"] for c in options["allowCredentials"]] == [maker_key.id]

    # A signed-in person without a key gets options too, with nothing to choose from.
    assert request_options(client_as("bank_a_head"))["allowCredentials"] == []


def test_r57_8_password_then_security_key_signs_in(
    personas: dict[str, User], maker_key: SoftKey
) -> None:
    maker = personas["bank_a_maker"]
    client = password_step("bank_a_maker")
    assertion = maker_key.assertion(request_options(client))

    response = verify(client, assertion)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in(client, maker)
    assert UserSession.objects.get(user=maker).second_factor == "webauthn"
    assert AuditEvent.objects.filter(
        event=EventType.LOGIN_SUCCEEDED, actor=maker, details__second_factor="webauthn"
    ).exists()
    credential = WebAuthnCredential.objects.get(user=maker)
    assert credential.sign_count == 1
    assert credential.last_used_at is not None
    assert client.get("/").status_code == 200


def test_r57_8_assertion_without_user_verification_is_refused(
    personas: dict[str, User], maker_key: SoftKey
) -> None:
    client = password_step("bank_a_maker")
    response = verify(client, maker_key.assertion(request_options(client), uv=False))
    assert response.status_code == 401
    assert not signed_in(client, personas["bank_a_maker"])
    assert WebAuthnCredential.objects.get().sign_count == 0
    assert AuditEvent.objects.filter(
        event=EventType.MFA_FAILED, target_id=str(personas["bank_a_maker"].pk)
    ).exists()


def test_r57_8_replayed_assertion_is_refused(personas: dict[str, User], maker_key: SoftKey) -> None:
    maker = personas["bank_a_maker"]
    client = password_step("bank_a_maker")
    assertion = maker_key.assertion(request_options(client))
    assert verify(client, assertion).status_code == 302
    client.post("/logout/")

    # The same answer again, in a new sign-in whose challenge is different.
    again = password_step("bank_a_maker")
    request_options(again)
    assert verify(again, assertion).status_code == 401
    assert not signed_in(again, maker)


def test_r57_8_a_challenge_is_used_once_and_only_the_latest_counts(
    personas: dict[str, User], maker_key: SoftKey
) -> None:
    maker = personas["bank_a_maker"]
    client = password_step("bank_a_maker")
    stale = request_options(client)
    request_options(client)  # asking again replaces the challenge
    assert verify(client, maker_key.assertion(stale)).status_code == 401

    # The failed try consumed the current challenge, so a correct answer to it fails as well.
    current = request_options(client)
    assertion = maker_key.assertion(current)
    client.post("/login/verify/", {"webauthn_response": "{}"})
    assert verify(client, assertion).status_code == 401
    assert not signed_in(client, maker)

    # With fresh options, the key signs in.
    assert verify(client, maker_key.assertion(request_options(client))).status_code == 302
    assert signed_in(client, maker)


def test_r57_8_sign_count_regression_is_refused(
    personas: dict[str, User], maker_key: SoftKey
) -> None:
    client = password_step("bank_a_maker")
    assert verify(client, maker_key.assertion(request_options(client))).status_code == 302
    WebAuthnCredential.objects.update(sign_count=5)
    client.post("/logout/")

    client = password_step("bank_a_maker")
    cloned = maker_key.assertion(request_options(client), sign_count=3)
    assert verify(client, cloned).status_code == 401
    assert WebAuthnCredential.objects.get().sign_count == 5


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"origin": "https://evil.example.com"}, id="wrong-origin"),
        pytest.param({"rp_id": "evil.example.com"}, id="wrong-rp-id"),
    ],
)
def test_r57_8_assertion_for_another_site_is_refused(
    personas: dict[str, User], maker_key: SoftKey, answer: dict[str, Any]
) -> None:
    client = password_step("bank_a_maker")
    response = verify(client, maker_key.assertion(request_options(client), **answer))
    assert response.status_code == 401
    assert not signed_in(client, personas["bank_a_maker"])


@pytest.mark.parametrize(
    "garbage",
    [
        "not json",
        "[]",
        '{"id": "x"}',
        '{"id": "!!", "rawId": "!!", "type": "public-key", "response": {"clientDataJSON": "!!", '
        '"authenticatorData": "!!", "signature": "!!"}}',
    ],
)
def test_r57_8_malformed_assertion_is_refused_not_a_server_error(
    personas: dict[str, User], maker_key: SoftKey, garbage: str
) -> None:
    client = password_step("bank_a_maker")
    request_options(client)
    assert verify(client, garbage).status_code == 401


def test_r57_8_another_users_key_is_refused(personas: dict[str, User], maker_key: SoftKey) -> None:
    # The head passed their own password step, then offers the maker's key.
    client = password_step("bank_a_head")
    options = request_options(client)
    assert options["allowCredentials"] == []
    response = verify(client, maker_key.assertion(options))
    assert response.status_code == 401
    assert not signed_in(client, personas["bank_a_head"])
    assert WebAuthnCredential.objects.get().sign_count == 0


def test_r57_8_a_challenge_issued_to_one_user_does_not_serve_another(
    personas: dict[str, User], maker_key: SoftKey
) -> None:
    request = RequestFactory().post("/")
    request.session = Client().session
    options = webauthn.authentication_options(request, personas["bank_a_head"])
    assertion = json.dumps(maker_key.assertion(options))
    assert not webauthn.authentication_verify(request, personas["bank_a_maker"], assertion)


def test_r57_8_a_challenge_expires(personas: dict[str, User], maker_key: SoftKey) -> None:
    maker = personas["bank_a_maker"]
    request = RequestFactory().post("/")
    request.session = Client().session
    options = webauthn.authentication_options(request, maker)
    request.session[webauthn.AUTHENTICATION_KEY]["at"] -= webauthn.CHALLENGE_SECONDS + 1
    assert not webauthn.authentication_verify(
        request, maker, json.dumps(maker_key.assertion(options))
    )
    options = webauthn.authentication_options(request, maker)
    assert webauthn.authentication_verify(request, maker, json.dumps(maker_key.assertion(options)))
    last_used = WebAuthnCredential.objects.get().last_used_at
    assert last_used is not None
    assert last_used <= timezone.now()


def test_r57_8_reauthentication_accepts_password_and_security_key(
    personas: dict[str, User], client_as: Callable[[str | None], Client], maker_key: SoftKey
) -> None:
    client = client_as("bank_a_maker")
    assertion = maker_key.assertion(request_options(client))
    response = client.post(
        "/reauthenticate/",
        {"password": PASSWORDS["bank_a_maker"], "webauthn_response": json.dumps(assertion)},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        event=EventType.REAUTHENTICATED, actor=personas["bank_a_maker"]
    ).exists()


# --- changing the password needs the user-verified key (R57.11) --------------------------------


def change_password(client: Client, maker: User, **extra: str) -> Any:
    # The biometric check R57.11 asks for comes first; the key is the additional factor.
    passed_password_check(client, maker)
    return client.post(
        "/profile/password/",
        {
            "current_password": PASSWORDS["bank_a_maker"],
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
            "code": totp_code(maker),
            **extra,
        },
    )


def test_r57_11_password_change_needs_the_security_key_not_just_a_code(
    personas: dict[str, User], client_as: Callable[[str | None], Client], maker_key: SoftKey
) -> None:
    maker = personas["bank_a_maker"]
    client = client_as("bank_a_maker")
    form_page = client.get("/profile/password/")
    assert form_page.status_code == 200
    assert b"data-webauthn-authenticate" in form_page.content

    response = change_password(client, maker)

    assert response.status_code == 422
    maker.refresh_from_db()
    assert maker.check_password(PASSWORDS["bank_a_maker"])
    assert not maker.check_password(NEW_PASSWORD)


def test_r57_11_password_change_refuses_an_assertion_without_user_verification(
    personas: dict[str, User], client_as: Callable[[str | None], Client], maker_key: SoftKey
) -> None:
    maker = personas["bank_a_maker"]
    client = client_as("bank_a_maker")
    assertion = maker_key.assertion(request_options(client), uv=False)
    response = change_password(client, maker, webauthn_response=json.dumps(assertion))
    assert response.status_code == 422
    maker.refresh_from_db()
    assert maker.check_password(PASSWORDS["bank_a_maker"])


def test_r57_11_password_change_with_a_verified_security_key(
    personas: dict[str, User], client_as: Callable[[str | None], Client], maker_key: SoftKey
) -> None:
    maker = personas["bank_a_maker"]
    client = client_as("bank_a_maker")
    assertion = maker_key.assertion(request_options(client))

    response = change_password(client, maker, code="", webauthn_response=json.dumps(assertion))

    assert response.status_code == 302
    assert response["Location"] == "/profile/security/"
    maker.refresh_from_db()
    assert maker.check_password(NEW_PASSWORD)
    assert WebAuthnCredential.objects.get().sign_count == 1
    # The session survives its own password change.
    assert client.get("/profile/security/").status_code == 200


# --- the browser side (static/aips/webauthn.js) with Chromium's virtual authenticator ---------


@pytest.mark.browser
def test_r57_8_r57_11_browser_adds_a_key_signs_in_and_changes_the_password_with_it(
    transactional_db: None,
    live_server: Any,
    personas: dict[str, User],
    settings: Any,
    request: pytest.FixtureRequest,
) -> None:
    """The page script: registration from the security page, sign-in with the key instead of a
    code, and the password change confirmed with the key (a CTAP2 authenticator that verifies
    its user, as a fingerprint reader would)."""
    from playwright.sync_api import expect

    tab: Any = request.getfixturevalue("page")
    step: Any = request.getfixturevalue("steps")
    settings.AIPS_WEBAUTHN_RP_ID = "localhost"
    settings.AIPS_WEBAUTHN_ORIGIN = live_server.url
    maker = personas["bank_a_maker"]
    alerts: list[str] = []

    def on_dialog(dialog: Any) -> None:
        if dialog.type == "prompt":
            dialog.accept("Laptop fingerprint")
        else:
            alerts.append(dialog.message)
            dialog.dismiss()

    tab.on("dialog", on_dialog)
    assert live_server.url.startswith("http://localhost:"), live_server.url
    tab.goto("/login/")
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    def password_step() -> None:
        tab.get_by_label("E-mail").fill(maker.email)
        tab.get_by_label("Password").fill(PASSWORDS["bank_a_maker"])
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.get_by_role("heading", name="Confirm it is you")).to_be_visible()

    with step("sign in with password and authenticator code"):
        password_step()
        tab.get_by_label("Code from your authenticator app").fill(totp_code(maker))
        tab.get_by_role("button", name="Continue").click()
        expect(tab.get_by_role("button", name="Sign out")).to_be_visible()

    with step("R57.8 add a security key on the security page"):
        tab.goto("/profile/security/")
        tab.get_by_role("button", name="Add a security key").click()
        expect(tab.get_by_role("cell", name="Laptop fingerprint")).to_be_visible()
        assert alerts == []
        assert WebAuthnCredential.objects.filter(user=maker, name="Laptop fingerprint").exists()

    with step("R57.8 sign in again with password and the key"):
        tab.get_by_role("button", name="Sign out").click()
        password_step()
        tab.get_by_role("button", name="Use my security key").click()
        expect(tab.get_by_role("button", name="Sign out")).to_be_visible()
        assert alerts == []
        assert UserSession.objects.filter(user=maker, second_factor="webauthn").exists()

    with step("R57.11 change the password, confirmed with a biometric check and the key"):
        User.objects.filter(pk=maker.pk).update(iin=IIN_A)
        tab.goto("/profile/password/")
        tab.get_by_role("button", name="Identify with biometrics").click()
        tab.get_by_role("button", name="Pass: a live face that matches").click()
        expect(tab.get_by_text("Biometric check passed. Now change your password.")).to_be_visible()
        tab.locator("#id_current_password").fill(PASSWORDS["bank_a_maker"])
        tab.locator("#id_new_password").fill(NEW_PASSWORD)
        tab.locator("#id_new_password_again").fill(NEW_PASSWORD)
        tab.get_by_role("button", name="Confirm with my security key and save").click()
        expect(tab.get_by_text("Your password has been changed.")).to_be_visible()
        assert alerts == []
        maker.refresh_from_db()
        assert maker.check_password(NEW_PASSWORD)

    with step("without WebAuthn in the browser the key buttons are hidden"):
        plain = tab.context.new_page()
        plain.add_init_script("delete window.PublicKeyCredential;")
        plain.goto("/profile/security/")
        expect(plain.get_by_role("link", name="Add an authenticator app")).to_be_visible()
        expect(plain.get_by_role("button", name="Add a security key")).to_be_hidden()
        plain.close()
