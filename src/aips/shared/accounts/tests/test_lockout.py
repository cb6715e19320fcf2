"""Lockout stops guessing (R57.7; issue 13.4): while an account is locked, every page
that takes its password answers a right and a wrong one identically, from any address, without
reaching the second factor and without resetting the counters; after the cool-off the right
password works again."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration
from django.conf import settings
from django.test import Client

from aips.conftest import totp_code
from aips.shared.accounts import services
from aips.shared.accounts.models import User

MAKER = ("maker@alataubank.example.kz", "Alatau-Maker-2026")
WRONG = "Wrong-Guess-2026"
_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture(autouse=True)
def _generous_rates(settings: Any) -> None:
    # The fixed-window rate limits answer 429 too; lift them so what is compared is the lock.
    settings.AIPS_AUTH_RATE_IP = settings.AIPS_AUTH_RATE_ACCOUNT = "1000/m"


def _login(password: str, address: str = "127.0.0.1", email: str = MAKER[0]) -> Any:
    """The password step from a fresh browser; the response's `client` is that browser."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=address)
    response = client.post("/login/", {"email": email, "password": password})
    assert response.client is client
    return response


def _lock(address: str = "127.0.0.1") -> None:
    for _ in range(5):
        _login(WRONG, address)
    assert services.is_locked_out(MAKER[0])


def _fingerprint(response: Any) -> tuple[Any, ...]:
    """Everything a guesser could compare, except the per-response CSRF token."""
    cookies = sorted(
        (name, morsel["max-age"], morsel["path"]) for name, morsel in response.cookies.items()
    )
    return (
        response.status_code,
        response.get("Location"),
        response.get("Retry-After"),
        _CSRF.sub(b"", response.content),
        cookies,
    )


@pytest.mark.parametrize("address", ["127.0.0.1", "10.20.30.40"])
def test_r57_7_locked_account_answers_right_and_wrong_password_alike(
    personas: dict[str, User], address: str
) -> None:
    """The finding: from a second address, the wrong password got 429 but the right one went on
    to the second factor. From the locking address and from any other, both now get the same
    429 page and neither session may open the second-factor step."""
    _lock()
    failures_before = sum(a.failures_since_start for a in AccessAttempt.objects.all())
    right = _login(MAKER[1], address)
    wrong = _login(WRONG, address)
    assert right.status_code == 429
    assert _fingerprint(right) == _fingerprint(wrong)
    assert (
        right["Retry-After"]
        == wrong["Retry-After"]
        == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    )
    assert b"Too many failed attempts" in right.content
    for response in (right, wrong):
        client = response.client
        assert client.get("/login/verify/")["Location"] == "/login/"
        assert client.post("/login/verify/", {"code": totp_code(personas["bank_a_maker"])})[
            "Location"
        ] == ("/login/")
        assert client.get("/").status_code == 302
    # The right password neither cleared nor paused the count: it is a refused attempt too.
    failures_after = sum(a.failures_since_start for a in AccessAttempt.objects.all())
    assert failures_after == failures_before + 2
    assert services.is_locked_out(MAKER[0])


def test_r57_7_lock_is_per_account_whatever_the_spelling(personas: dict[str, User]) -> None:
    _lock("10.0.0.1")
    right = _login(MAKER[1], "10.0.0.2", email="  Maker@AlatauBank.example.KZ ")
    assert right.status_code == 429


def test_r57_7_right_password_works_again_after_the_cool_off(
    personas: dict[str, User], settings: Any
) -> None:
    _lock()
    assert _login(MAKER[1], "10.20.30.40").status_code == 429
    # Travel past the cool-off: every recorded attempt becomes older than the lock lasts.
    past = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - past)
    for expiration in AccessAttemptExpiration.objects.all():
        AccessAttemptExpiration.objects.filter(pk=expiration.pk).update(
            expires_at=expiration.expires_at - past
        )
    assert not services.is_locked_out(MAKER[0])
    right = _login(MAKER[1], "10.20.30.40")
    assert right["Location"] == "/login/verify/"
    client = right.client
    done = client.post("/login/verify/", {"code": totp_code(personas["bank_a_maker"])})
    assert done["Location"] == "/"


def test_r57_7_second_factor_step_is_refused_once_locked(personas: dict[str, User]) -> None:
    """A browser that passed the password step before the lock cannot finish with a right code
    while the account is locked."""
    early = _login(MAKER[1], "10.1.1.1")
    assert early["Location"] == "/login/verify/"
    _lock("10.2.2.2")
    client = early.client
    right = client.post("/login/verify/", {"code": totp_code(personas["bank_a_maker"])})
    assert right.status_code == 429
    assert client.get("/").status_code == 302


def test_r57_7_enrolment_is_refused_once_locked(personas: dict[str, User]) -> None:
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=personas["bank_a_maker"]).delete()
    early = _login(MAKER[1], "10.1.1.1")
    assert early["Location"] == "/login/enroll/"
    client = early.client
    assert client.get("/login/enroll/").status_code == 200
    _lock("10.2.2.2")
    device = TOTPDevice.objects.get(user=personas["bank_a_maker"], confirmed=False)
    right = client.post("/login/enroll/", {"code": f"{totp(device.bin_key):06d}"})
    assert right.status_code == 429
    assert client.get("/").status_code == 302
    assert not TOTPDevice.objects.filter(user=personas["bank_a_maker"], confirmed=True).exists()


@pytest.mark.parametrize(
    ("url", "right_form", "wrong_form"),
    [
        (
            "/reauthenticate/",
            {"password": MAKER[1]},
            {"password": WRONG},
        ),
        (
            "/profile/password/",
            {"current_password": MAKER[1], "new_password": "Fresh-Meadow-Lark-73"},
            {"current_password": WRONG, "new_password": "Fresh-Meadow-Lark-73"},
        ),
    ],
)
def test_r57_7_pages_that_ask_the_password_again_do_not_check_it_while_locked(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    url: str,
    right_form: dict[str, str],
    wrong_form: dict[str, str],
) -> None:
    """Someone holding a session (a stolen one, say) cannot use re-authentication or the
    password change to go on guessing while the lock holds: both answers are the lock page, the
    session ends and the password is unchanged."""
    maker = personas["bank_a_maker"]
    # Signed in first: a completed sign-in clears the account's failures.
    clients = [client_as("bank_a_maker"), client_as("bank_a_maker")]
    _lock("10.2.2.2")
    answers = []
    for client, form in zip(clients, (right_form, wrong_form), strict=True):
        code = totp_code(maker)
        data = {**form, "code": code, "new_password_again": form.get("new_password", "")}
        answers.append(client.post(url, data))
        assert client.get("/").status_code == 302
    assert answers[0].status_code == 429
    assert _fingerprint(answers[0]) == _fingerprint(answers[1])
    maker.refresh_from_db()
    assert maker.check_password(MAKER[1])
