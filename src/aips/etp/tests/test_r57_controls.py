"""The platform's R57 controls hold on the ETP too, on its own settings, database and journal
(docs/compliance.md, "R57 on the ETP"): two factors before any page (R57.8), lockout with the
ETP's message (R57.7), sign-in rate limits (R57.28.1), TLS-only settings with HSTS (R57.25),
security headers and 405 for TRACE (R57.26), its own append-only journal (R57.17), and the one
error shape without internals on its API and pages (R57.26.5, R57.28.2)."""

import importlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connection, transaction
from django.test import Client

from aips.core.tests.pg_roles import owner_role
from aips.shared.accounts import services
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent, EventType

SELLER = ("lots@alataubank.example.kz", "Alatau-Lots-2026")
ERROR_KEYS = {"code", "message", "fields", "request_id"}


def _password_step(client: Client, email: str = SELLER[0], password: str = SELLER[1]) -> Any:
    return client.post("/login/", {"email": email, "password": password})


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == ERROR_KEYS
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return dict(body["error"])


def test_r57_8_etp_password_alone_reaches_no_page(personas: dict[str, User]) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert _password_step(client)["Location"] == "/login/verify/"
    for path in ("/workspace/", "/manage/lots/", "/profile/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/"), path
    assert client.get("/api/v1/me").status_code == 401


def test_r57_7_five_failed_passwords_lock_an_etp_account(personas: dict[str, User]) -> None:
    for _ in range(4):
        assert _password_step(Client(), SELLER[0], "wrong-password-x").status_code == 401
    locked = _password_step(Client(HTTP_ACCEPT_LANGUAGE="en"), SELLER[0], "wrong-password-x")
    assert locked.status_code == 429
    assert "contact the ETP operator" in locked.content.decode()
    # Even the right password is refused now, with the same answer.
    assert _password_step(Client(HTTP_ACCEPT_LANGUAGE="en")).status_code == 429
    assert services.is_locked_out(SELLER[0])
    assert AuditEvent.objects.filter(event=EventType.LOCKED_OUT).exists()


def test_r57_28_1_etp_sign_in_rate_limited_per_address(
    personas: dict[str, User], settings: Any
) -> None:
    settings.AIPS_AUTH_RATE_IP = "3/m"
    client = Client(REMOTE_ADDR="10.1.2.3")
    responses = [_password_step(client, f"x{i}@example.kz", "p") for i in range(4)]
    assert [r.status_code for r in responses] == [401, 401, 401, 429]
    assert int(responses[3]["Retry-After"]) >= 1
    # The ETP's counters are its own when both systems share one cache.
    assert django_settings.CACHES["default"]["KEY_PREFIX"] == "etp"


def test_r57_25_etp_sends_hsts_over_tls(db: None, settings: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("path", ["/login/", "/", "/api/v1/health", "/api/v1/public/lots"])
def test_r57_26_etp_security_headers_on_pages_and_api(db: None, path: str) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(path)
    assert response.status_code == 200, path
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/login/", "/api/v1/health"])
def test_r57_26_etp_trace_is_405(db: None, path: str) -> None:
    response = Client().generic("TRACE", path)
    assert response.status_code == 405
    assert "TRACE" not in response["Allow"]


def test_r57_26_2_etp_sign_in_is_never_cached_and_not_autocompleted(db: None) -> None:
    response = Client().get("/login/")
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert 'autocomplete="off"' in html
    assert 'type="password"' in html


def test_r57_26_2_etp_registration_passwords_are_not_autocompleted(db: None) -> None:
    response = Client().get("/register/")
    assert "no-store" in response["Cache-Control"]
    fields = re.findall(r"<input[^>]*type=\"password\"[^>]*>", response.content.decode())
    assert len(fields) == 2
    assert all('autocomplete="off"' in field for field in fields)


def test_r57_17_etp_journal_is_its_own_and_append_only(
    personas: dict[str, User],
) -> None:
    aips_settings = importlib.import_module("aips.settings")
    for name in ("AIPS_AUDIT_KEY_FILE", "AIPS_AUDIT_ANCHOR_FILE", "AIPS_AUDIT_ARCHIVE_DIR"):
        assert getattr(django_settings, name) != getattr(aips_settings, name), name
    assert AuditEvent.objects.exists()  # the demo's accounts were journaled in the ETP's database
    with (
        owner_role(),
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditevent SET event = 'x' WHERE seq = 1")


def test_r57_28_2_etp_api_errors_have_one_shape(
    client_as: Callable[[str | None], Client],
) -> None:
    anonymous = Client().get("/api/v1/me")
    assert anonymous.status_code == 401
    assert _error(anonymous)["code"] == "unauthorized"
    participant = client_as("participant_person_1")
    forbidden = participant.post("/api/v1/lots", {}, content_type="application/json")
    assert forbidden.status_code == 403
    assert _error(forbidden)["code"] == "forbidden"
    seller = client_as("seller_b_maker")
    for path in ("/api/v1/lots/999999", "/api/v1/no-such-thing"):
        missing = seller.get(path)
        assert missing.status_code == 404, path
        assert _error(missing)["code"] == "not_found"


def test_r57_26_5_etp_error_pages_show_only_the_request_id(
    client_as: Callable[[str | None], Client],
) -> None:
    response = client_as("seller_b_maker").get("/manage/lots/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert f'<code id="request-id">{response["X-Request-ID"]}</code>' in html
    assert "Traceback" not in html
