"""Account security (R57.4, R57.7, R57.8, R57.26, R57.28): two factors for everyone, lockout and
blocking, sessions, re-authentication, password change and reset, rate limits, headers."""

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from aips.conftest import sign_in, totp_code
from aips.core.tests.test_authorization_matrix import ROWS, perform
from aips.shared.accounts import services, sessions
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType
from aips.shared.biometrics.tests.helpers import passed_password_check
from aips.shared.mfa.models import RecoveryCode
from aips.shared.notifications.services import drain_outbox

MAKER = ("maker@alataubank.example.kz", "Alatau-Maker-2026")


def _password_step(client: Client, email: str = MAKER[0], password: str = MAKER[1]) -> Any:
    return client.post("/login/", {"email": email, "password": password})


@pytest.fixture
def browser(personas: dict[str, User]) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


# --- R57.8: the second factor -------------------------------------------------------------------


def test_r57_8_second_factor_cannot_be_skipped_on_any_url(
    matrix_objects: dict[str, Any], settings: Any
) -> None:
    """After the password alone, every URL of the authorization matrix answers exactly as it
    answers an anonymous visitor: nothing is reachable with one factor. (Except the pages of
    the second step itself.)"""
    second_step = {
        "accounts:login_verify",
        "accounts:login_enroll",
        "mfa:webauthn_authenticate_options",
    }
    settings.AIPS_AUTH_RATE_IP = settings.AIPS_AUTH_RATE_ACCOUNT = "1000/m"
    settings.AIPS_BAD_TOKEN_RATE_IP = "1000/m"
    for row in ROWS:
        if row.name in second_step:
            continue
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        assert _password_step(browser)["Location"] == "/login/verify/"
        url, response = perform(browser, row, matrix_objects)
        assert response.status_code == row.expect["anon"], f"{row.method} {url}"


def test_r57_8_totp_code_replay_and_far_drift_rejected(
    browser: Client, personas: dict[str, User]
) -> None:
    maker = personas["bank_a_maker"]
    _password_step(browser)
    far = browser.post("/login/verify/", {"code": totp_code(maker, step_offset=3)})
    assert far.status_code == 401
    code = totp_code(maker)
    assert browser.post("/login/verify/", {"code": code})["Location"] == "/"
    again = Client(HTTP_ACCEPT_LANGUAGE="en")
    _password_step(again)
    replay = again.post("/login/verify/", {"code": code})
    assert replay.status_code == 401
    assert "not valid" in replay.content.decode()
    assert (
        again.post("/login/verify/", {"code": totp_code(maker, step_offset=1)}).status_code == 302
    )


def test_r57_8_enrolment_is_forced_and_recovery_codes_shown_once(
    personas: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        person = services.user_create(
            actor=personas["center_admin"],
            organization_id=personas["bank_a_head"].organization_id,
            email="new.person@alataubank.example.kz",
            surname="Abenov",
            given_name="Ruslan",
            position="Analyst",
            phones=["8 701 222 33 44"],
            role="org_viewer",
        )
    drain_outbox()
    token = re.search(r"/invite/([\w-]+)/", str(mail.outbox[-1].body))
    assert token is not None
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    password = "Quiet-River-Stone-91"
    client.post(f"/invite/{token.group(1)}/", {"password": password, "password_again": password})
    assert _password_step(client, person.email, password)["Location"] == "/login/enroll/"
    assert client.get("/").status_code == 302
    assert client.get("/login/verify/")["Location"] == "/login/enroll/"
    page = client.get("/login/enroll/")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=person, confirmed=False)
    code = f"{totp(device.bin_key):06d}"
    done = client.post("/login/enroll/", {"code": code})
    assert done["Location"] == "/profile/security/recovery-codes/"
    shown = client.get(done["Location"]).content.decode()
    codes = re.findall(r"<code>([A-Z0-9-]{19})</code>", shown)
    assert len(codes) == 10
    stored = set(RecoveryCode.objects.filter(user=person).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not any(c in stored or c.replace("-", "") in stored for c in codes)
    assert "<code>" not in client.get("/profile/security/recovery-codes/").content.decode()
    assert client.get("/").status_code == 200


def test_r57_8_recovery_code_works_once(browser: Client, personas: dict[str, User]) -> None:
    from aips.shared.mfa.services import recovery_codes_regenerate

    maker = personas["bank_a_maker"]
    code = recovery_codes_regenerate(user=maker)[0]
    _password_step(browser)
    assert browser.post("/login/verify/", {"code": code.lower()})["Location"] == "/"
    other = Client()
    _password_step(other)
    assert other.post("/login/verify/", {"code": code}).status_code == 401
    assert AuditEvent.objects.filter(event=EventType.RECOVERY_CODE_USED).count() == 1


def test_r57_8_pending_password_step_expires(
    browser: Client, personas: dict[str, User], settings: Any
) -> None:
    _password_step(browser)
    settings.AIPS_PREAUTH_SECONDS = 0
    time.sleep(0.01)
    assert (
        browser.post("/login/verify/", {"code": totp_code(personas["bank_a_maker"])})["Location"]
        == "/login/"
    )


# --- R57.7: lockout and blocking ------------------------------------------------------------------


def test_r57_7_five_failed_passwords_lock_the_account_until_unblocked(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    for _ in range(4):
        assert _password_step(Client(), MAKER[0], "wrong-password-x").status_code == 401
    locked = _password_step(Client(), MAKER[0], "wrong-password-x")
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    # Even the right password is refused now, with the same message.
    right = _password_step(Client(HTTP_ACCEPT_LANGUAGE="en"))
    assert right.status_code == 429
    assert AuditEvent.objects.filter(event=EventType.LOCKED_OUT).exists()
    maker = personas["bank_a_maker"]
    assert services.is_locked_out(maker.email)
    head = client_as("bank_a_head")
    assert (
        head.post(f"/users/{maker.pk}/unblock/", {"reason": "called the user"}).status_code == 302
    )
    assert not services.is_locked_out(maker.email)
    assert _password_step(Client())["Location"] == "/login/verify/"
    assert AuditEvent.objects.filter(event=EventType.LOCKOUT_CLEARED).exists()


def test_r57_7_failed_second_factors_count_toward_lockout(personas: dict[str, User]) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    _password_step(client)
    statuses = [client.post("/login/verify/", {"code": "000000"}).status_code for _ in range(5)]
    assert statuses[:4] == [401] * 4
    assert statuses[4] == 429
    assert AuditEvent.objects.filter(event=EventType.MFA_FAILED).count() >= 4
    assert _password_step(Client()).status_code == 429


def test_r57_7_one_address_guessing_many_accounts_is_locked(personas: dict[str, User]) -> None:
    emails = [f"guess{i}@example.kz" for i in range(5)]
    codes = [_password_step(Client(), email, "Wrong-Password-1").status_code for email in emails]
    assert codes[-1] == 429
    # The same address is now refused even for a real account with the right password.
    assert _password_step(Client()).status_code == 429
    # Another address is not affected.
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert _password_step(other)["Location"] == "/login/verify/"


def test_r57_7_blocking_ends_sessions_and_tokens_at_once(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = personas["bank_a_maker"]
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(browser, *MAKER, maker)
    assert browser.get("/").status_code == 200
    _token, raw = services.token_create(actor=maker, name="siem")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/organizations").status_code == 200

    head = client_as("bank_a_head")
    response = head.post(f"/users/{maker.pk}/block/", {"reason": "suspicious activity"})
    assert response.status_code == 302
    maker.refresh_from_db()
    assert maker.is_blocked
    assert browser.get("/").status_code == 302
    assert api.get("/api/v1/organizations").status_code == 401
    assert _password_step(Client()).status_code == 401
    event = AuditEvent.objects.get(event=EventType.USER_BLOCKED)
    assert event.details["reason"] == "suspicious activity"
    assert event.details["sessions_ended"] == 1

    client_as("center_admin").post(f"/users/{maker.pk}/unblock/", {"reason": "cleared"})
    assert _password_step(Client())["Location"] == "/login/verify/"


def test_r57_7_block_needs_a_reason_and_not_oneself(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    from aips.core.errors import AppError, ValidationFailed

    with pytest.raises(ValidationFailed):
        services.user_block(
            actor=personas["center_admin"], user=personas["bank_a_maker"], reason=""
        )
    with pytest.raises(AppError):
        services.user_block(
            actor=personas["bank_a_head"], user=personas["bank_a_head"], reason="oops"
        )


def test_r57_7_reset_second_factors_forces_new_enrolment(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = personas["bank_a_maker"]
    client_as("center_admin").post(f"/users/{maker.pk}/reset-second-factors/", {"reason": "lost"})
    assert _password_step(Client())["Location"] == "/login/enroll/"
    assert AuditEvent.objects.filter(event=EventType.MFA_RESET).exists()


# --- sessions and re-authentication -------------------------------------------------------------


def test_r57_7_idle_and_absolute_session_limits(personas: dict[str, User], settings: Any) -> None:
    maker = personas["bank_a_maker"]
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(browser, *MAKER, maker)
    session = browser.session
    session[sessions.LAST_SEEN] = time.time() - settings.AIPS_SESSION_IDLE_SECONDS - 5
    session.save()
    assert browser.get("/")["Location"].startswith("/login/")
    assert AuditEvent.objects.filter(event=EventType.SESSION_EXPIRED).count() == 1

    other = Client()
    # A second sign-in in the same 30 s needs the next code: the first one cannot be replayed.
    other.post("/login/", {"email": MAKER[0], "password": MAKER[1]})
    other.post("/login/verify/", {"code": totp_code(maker, step_offset=1)})
    session = other.session
    session[sessions.AUTH_AT] = time.time() - settings.SESSION_COOKIE_AGE - 5
    session.save()
    assert other.get("/")["Location"].startswith("/login/")


def test_r57_7_my_sessions_page_ends_another_session(personas: dict[str, User]) -> None:
    maker = personas["bank_a_maker"]
    laptop, phone = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(laptop, *MAKER, maker)
    phone.post("/login/", {"email": MAKER[0], "password": MAKER[1]})
    phone.post("/login/verify/", {"code": totp_code(maker, step_offset=1)})
    page = laptop.get("/profile/security/")
    listed = list(page.context["user_sessions"])
    assert len(listed) == 2
    phone_row = next(s for s in listed if s.session_key == phone.session.session_key)
    assert laptop.post(f"/profile/sessions/{phone_row.pk}/end/").status_code == 302
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 200


def test_r57_4_sensitive_actions_need_recent_reauthentication(personas: dict[str, User]) -> None:
    admin = personas["center_admin"]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, "admin@aips.example.kz", "Center-Admin-2026", admin)
    session = client.session
    session[sessions.REAUTH_AT] = time.time() - 11 * 60
    session.save()
    response = client.get("/users/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/reauthenticate/?next=")
    wrong = client.post(
        "/reauthenticate/?next=/users/new/",
        {"password": "Center-Admin-2026", "code": "123456", "next": "/users/new/"},
    )
    assert wrong.status_code == 401
    ok = client.post(
        "/reauthenticate/",
        {
            "password": "Center-Admin-2026",
            "code": totp_code(admin, step_offset=1),
            "next": "/users/new/",
        },
    )
    assert ok["Location"] == "/users/new/"
    assert client.get("/users/new/").status_code == 200
    assert client.post("/profile/tokens/", {"name": "x"}).status_code == 200


# --- passwords (R57.11 for TOTP users; WebAuthn users are covered in mfa/tests, the biometric
# check itself in biometrics/tests) ---------------------------------------------------------------


def test_r57_11_password_change_needs_current_password_and_fresh_totp(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    maker = personas["bank_a_maker"]
    client = client_as("bank_a_maker")
    passed_password_check(client, maker)  # R57.11's biometric check, on top of the TOTP
    new = "Granite-Meadow-Lantern-7"
    base = {"current_password": MAKER[1], "new_password": new, "new_password_again": new}
    assert client.post("/profile/password/", {**base, "code": ""}).status_code == 422
    wrong_current = {**base, "current_password": "nope", "code": totp_code(maker)}
    assert client.post("/profile/password/", wrong_current).status_code == 422
    ok = client.post("/profile/password/", {**base, "code": totp_code(maker, step_offset=1)})
    assert ok.status_code == 302
    maker.refresh_from_db()
    assert maker.check_password(new)
    assert client.get("/").status_code == 200  # this session survives its own change
    assert AuditEvent.objects.filter(event=EventType.PASSWORD_CHANGED).exists()


def test_r57_7_password_reset_never_reveals_accounts(
    personas: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    drain_outbox()  # the demo people's invitations
    mail.outbox.clear()
    pages = []
    for email in ("maker@alataubank.example.kz", "nobody@nowhere.example.kz"):
        with django_capture_on_commit_callbacks(execute=True):
            pages.append(
                Client(HTTP_ACCEPT_LANGUAGE="en").post("/password-reset/", {"email": email})
            )
    assert pages[0].status_code == pages[1].status_code == 200

    def neutral(page: Any) -> str:
        html = page.content.decode().replace(page["X-Request-ID"], "")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert neutral(pages[0]) == neutral(pages[1])
    drain_outbox()
    assert len(mail.outbox) == 1
    link = re.search(r"http://[^/]+(/password-reset/[^/]+/[^/]+/)", str(mail.outbox[0].body))
    assert link is not None
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    new = "Silver-Birch-Harbour-3"
    done = client.post(link.group(1), {"password": new, "password_again": new})
    assert done["Location"] == "/login/"
    assert client.get(link.group(1)).status_code == 404
    # The second factor is still required after a reset.
    assert _password_step(Client(), MAKER[0], new)["Location"] == "/login/verify/"


# --- R57.28.1: rate limits ------------------------------------------------------------------------


def test_r57_28_1_sign_in_rate_limited_per_address_with_retry_after(
    personas: dict[str, User], settings: Any
) -> None:
    settings.AIPS_AUTH_RATE_IP = "3/m"
    client = Client(REMOTE_ADDR="10.1.1.1")
    responses = [_password_step(client, f"x{i}@example.kz", "p") for i in range(4)]
    assert [r.status_code for r in responses] == [401, 401, 401, 429]
    assert int(responses[3]["Retry-After"]) >= 1


def test_r57_28_1_failed_api_authentications_rate_limited(
    personas: dict[str, User], settings: Any
) -> None:
    settings.AIPS_BAD_TOKEN_RATE_IP = "3/m"
    client = Client(HTTP_AUTHORIZATION="Bearer aips_guess")
    codes = [client.get("/api/v1/organizations").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    response = client.get("/api/v1/organizations")
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
    # Once the address is over its budget, even a valid token waits: guessing is not rewarded.
    maker = personas["bank_a_maker"]
    _token, raw = services.token_create(actor=maker, name="x")
    valid = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/organizations")
    assert valid.status_code == 429


# --- R57.26: the pages themselves -----------------------------------------------------------------

AUTH_PAGES = ["/login/", "/password-reset/"]


@pytest.mark.parametrize("path", AUTH_PAGES)
def test_r57_26_2_auth_pages_are_never_cached(db: None, path: str) -> None:
    response = Client().get(path)
    assert "no-store" in response["Cache-Control"]


def test_r57_26_2_code_fields_and_login_autocomplete(browser: Client) -> None:
    html = browser.get("/login/").content.decode()
    assert re.search(r'<form[^>]*autocomplete="off"', html)
    assert 'type="password"' in html
    _password_step(browser)
    verify = browser.get("/login/verify/")
    assert "no-store" in verify["Cache-Control"]
    assert 'autocomplete="one-time-code"' in verify.content.decode()


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_r57_26_4_cyber_hygiene_notice_in_every_language(db: None, language: str) -> None:
    html = Client(HTTP_ACCEPT_LANGUAGE=language).get("/login/").content.decode()
    assert 'id="cyber-hygiene"' in html
    assert f'<html lang="{language}">' in html


def test_r57_26_security_headers_on_every_html_page(
    client_as: Callable[[str | None], Client], matrix_objects: dict[str, Any]
) -> None:
    objects = matrix_objects
    client = client_as("center_admin")
    seen = 0
    for row in ROWS:
        if row.api or row.method != "GET":
            continue
        try:
            url = reverse(row.name, kwargs=row.kwargs(objects))
        except KeyError:
            continue
        response = client.get(url)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        csp = response["Content-Security-Policy"]
        assert "unsafe-inline" not in csp, url
        assert "frame-ancestors 'none'" in csp, url
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]
        seen += 1
    assert seen > 15


def test_r57_25_hsts_in_production(db: None, settings: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_r57_26_1_every_page_shows_branding_and_public_contacts(
    client_as: Callable[[str | None], Client],
) -> None:
    for client, path in ((Client(), "/login/"), (client_as("bank_a_maker"), "/")):
        html = client.get(path).content.decode()
        assert 'class="brand"' in html
        assert "aips/logo" in html
        assert 'id="public-contacts"' in html
        assert "aips.example.kz" in html


def test_r57_26_3_secrets_are_masked(client_as: Callable[[str | None], Client]) -> None:
    html = client_as("bank_a_maker").get("/profile/password/").content.decode()
    assert html.count('type="password"') == 3
