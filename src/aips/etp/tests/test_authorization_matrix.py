"""The ETP's authorization matrix: every URL × every ETP persona → the expected status (R57.5).

The objects belong to participant 1 (their token, authenticator, browser session, saved filter
and notification): every other person, the operator's included, gets 404 for them, as if they
did not exist; seller A's lot preparer is the account the operator's administrator manages. A
URL of the ETP without a row fails `test_r57_5_every_etp_url_is_in_the_matrix`, so every app
that mounts a page adds its rows (`<app>/tests/matrix_rows.py`, listed below)."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from aips.etp.applications.tests.matrix_rows import ROWS as APPLICATION_ROWS
from aips.etp.auctions.tests.matrix_rows import ROWS as AUCTION_ROWS
from aips.etp.auctions.tests.matrix_rows_results import ROWS as AUCTION_RESULT_ROWS
from aips.etp.dataroom.tests.matrix_rows import ROWS as DATAROOM_ROWS
from aips.etp.devices.tests.matrix_rows import ROWS as DEVICE_ROWS
from aips.etp.lots.tests.matrix_rows import ROWS as LOTS_ROWS
from aips.etp.participants.tests.matrix_rows import ROWS as PARTICIPANT_ROWS
from aips.etp.portal.tests.matrix_rows import ROWS as PORTAL_ROWS
from aips.etp.questions.tests.matrix_rows import ROWS as QUESTION_ROWS
from aips.etp.tests.matrix import PARTICIPANTS, PERSONAS, Row, only, statuses

# The matrix objects are built once for this module; each case rolls back what it changes.
pytestmark = pytest.mark.usefixtures("_matrix_layer")

ADMIN = ("operator_admin",)
READERS = ("operator_admin", "operator_auditor")  # user:view, audit:view
P1 = "participant_person_1"
OWN = {"anon": 302, P1: 302}  # a person's own thing: the owner acts (302), the others get 404
MANAGED = lambda o: {"pk": o["managed_user"].pk}  # noqa: E731
NO_SESSION = "00000000-0000-4000-8000-000000000000"


def participant_audit_entry(o: dict[str, Any]) -> dict[str, Any]:
    """The journal entry of participant 1's token (the matrix objects create it)."""
    from aips.shared.audit.models import AuditEvent

    entry = AuditEvent.objects.get(event="token:created", target_id=str(o["token"].pk))
    return {"seq": entry.seq}


# The platform's pages and operations, as the ETP mounts them (aips/urls_etp.py, api_etp.py).
PLATFORM_ROWS = [
    Row("accounts:login", "GET", statuses(302, anon=200)),
    Row("accounts:logout", "POST", statuses(302)),
    Row("accounts:set_language", "POST", statuses(302), data={"language": "en", "next": "/"}),
    Row("accounts:invitation_accept", "GET", statuses(404), kwargs=lambda o: {"token": "none"}),
    Row("accounts:login_verify", "GET", statuses(302)),
    Row("accounts:login_enroll", "GET", statuses(302)),
    Row("accounts:reauthenticate", "GET", statuses(200, anon=302)),
    Row("accounts:password_reset", "GET", statuses(200)),
    Row(
        "accounts:password_reset_confirm",
        "GET",
        statuses(404),
        kwargs=lambda o: {"uidb64": "MQ", "token": "no-such-token"},
    ),
    Row("accounts:profile", "GET", statuses(200, anon=302)),
    Row("accounts:security", "GET", statuses(200, anon=302)),
    Row("accounts:recovery_codes", "GET", statuses(200, anon=302)),
    Row("accounts:recovery_codes_regenerate", "POST", statuses(302)),
    Row("accounts:totp_add", "GET", statuses(200, anon=302)),
    Row("accounts:eds_bind", "GET", statuses(200, anon=302)),
    Row(
        "accounts:factor_remove",
        "POST",
        statuses(404, **OWN),
        kwargs=lambda o: {"kind": "totp", "pk": o["device"].pk},
    ),
    Row(
        "accounts:session_end",
        "POST",
        statuses(404, **OWN),
        kwargs=lambda o: {"pk": o["session"].pk},
    ),
    Row("accounts:password_change", "GET", statuses(200, anon=302)),
    Row("accounts:token_list", "GET", statuses(200, anon=302)),
    Row(
        "accounts:token_revoke",
        "POST",
        statuses(404, **OWN),
        kwargs=lambda o: {"pk": o["token"].pk},
    ),
    Row("accounts:saved_filter_create", "POST", statuses(302)),
    Row(
        "accounts:saved_filter_delete",
        "POST",
        statuses(404, **OWN),
        kwargs=lambda o: {"pk": o["saved_filter"].pk},
    ),
    # Accounts are the operator administrator's; the auditor reads them.
    Row("accounts:user_list", "GET", only(200, READERS)),
    Row("accounts:user_create", "GET", only(200, ADMIN)),
    Row("accounts:user_detail", "GET", only(200, READERS), kwargs=MANAGED),
    Row("accounts:user_update", "GET", only(200, ADMIN), kwargs=MANAGED),
    Row("accounts:user_reinvite", "POST", only(302, ADMIN), kwargs=MANAGED),
    Row("accounts:user_block", "POST", only(302, ADMIN), kwargs=MANAGED, data={"reason": "left"}),
    Row("accounts:user_unblock", "POST", only(302, ADMIN), kwargs=MANAGED, data={"reason": "back"}),
    Row(
        "accounts:user_reset_mfa", "POST", only(302, ADMIN), kwargs=MANAGED, data={"reason": "lost"}
    ),
    Row("accounts:user_iin_unbind", "GET", only(200, ADMIN), kwargs=MANAGED),
    Row(
        "accounts:user_iin_unbind",
        "POST",
        only(302, ADMIN),
        kwargs=MANAGED,
        data={"reason": "wrong person"},
    ),
    Row("mfa:webauthn_authenticate_options", "POST", statuses(200, anon=401)),
    Row("mfa:webauthn_register_options", "POST", statuses(200, anon=302)),
    Row("mfa:webauthn_register_verify", "POST", statuses(400, anon=302)),
    Row("biometrics:sign_in_start", "POST", statuses(302)),
    Row("biometrics:password_start", "POST", statuses(302)),
    # The demo participants' IINs are bound (aips/demo_etp.py): the page sends them back.
    Row("biometrics:bind", "GET", statuses(200, anon=302, **dict.fromkeys(PARTICIPANTS, 302))),
    Row("biometrics:invite", "GET", statuses(404), kwargs=lambda o: {"token": "no-such-token"}),
    Row("biometrics:session", "GET", statuses(404), kwargs=lambda o: {"public_id": NO_SESSION}),
    Row(
        "biometrics:fake",
        "GET",
        statuses(404),
        kwargs=lambda o: {"provider_session_id": "fake-no-such-session"},
    ),
    Row("audit:list", "GET", only(200, READERS)),
    Row("audit:export", "GET", only(200, READERS)),
    Row("audit:detail", "GET", only(200, READERS), kwargs=participant_audit_entry),
    Row("notifications:list", "GET", statuses(200, anon=302)),
    Row(
        "notifications:read",
        "POST",
        statuses(404, **OWN),
        kwargs=lambda o: {"pk": o["notification"].pk},
    ),
    Row("notifications:read_all", "POST", statuses(302)),
    Row("api:api-root", "GET", statuses(404), api=True),
    Row("api:health", "GET", statuses(200), api=True),
    # From an allowed address (the test client's 127.0.0.1) for anyone; elsewhere 404 for all.
    Row("observability:metrics", "GET", statuses(200)),
    Row("api:openapi-json", "GET", statuses(200), api=True),
    Row("api:openapi-view", "GET", statuses(200), api=True),
    Row(
        "api:biometrics_webhook",
        "POST",
        statuses(401),
        kwargs=lambda o: {"provider": "fake"},
        data={},
        api=True,
    ),
]

ROWS = [
    *PORTAL_ROWS,
    *LOTS_ROWS,
    *PARTICIPANT_ROWS,
    *QUESTION_ROWS,
    *APPLICATION_ROWS,
    *AUCTION_ROWS,
    *AUCTION_RESULT_ROWS,
    *DATAROOM_ROWS,
    *DEVICE_ROWS,
    *PLATFORM_ROWS,
]


def _all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern):
                assert p.name, f"URL pattern {p.pattern} has no name"
                names.add(f"{namespace}{p.name}")

    walk(get_resolver().url_patterns, "")
    return names


def test_r57_5_every_etp_url_is_in_the_matrix() -> None:
    missing = _all_url_names() - {row.name for row in ROWS}
    assert not missing, f"add these URLs to the ETP's authorization matrix: {sorted(missing)}"
    assert not {row.name for row in ROWS} - _all_url_names(), "a row names no ETP URL"


def test_r57_5_a_url_without_a_row_fails_the_coverage_check() -> None:
    dropped = ROWS[0].name
    rows = [row for row in ROWS if row.name != dropped]
    assert _all_url_names() - {row.name for row in rows} == {dropped}


def test_r57_5_every_etp_row_names_every_persona() -> None:
    for row in ROWS:
        assert set(row.expect) == set(PERSONAS), row.name


def _personas_to_run(row: Row) -> list[str]:
    """Every persona on SQLite; on PostgreSQL the first persona expecting each distinct status
    (the same rule as AIPS's matrix: the rules are Python, only the queries differ)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return list(PERSONAS)
    first: dict[int, str] = {}
    for persona in PERSONAS:
        first.setdefault(row.expect[persona], persona)
    return [persona for persona in PERSONAS if persona in first.values()]


def _cases() -> list[Any]:
    return [
        pytest.param(row, persona, id=f"{row.name}-{row.method}-{persona}")
        for row in ROWS
        for persona in _personas_to_run(row)
    ]


def _perform(client: Client, row: Row, objects: dict[str, Any]) -> tuple[str, Any]:
    url = reverse(row.name, kwargs=row.kwargs(objects))
    if row.api:
        body = json.dumps(row.data) if row.data is not None else ""
        return url, client.generic(row.method, url, body, content_type="application/json")
    form = "&".join(f"{k}={v}" for k, v in (row.data or {}).items())
    return url, client.generic(
        row.method, url, form, content_type="application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize(("row", "persona"), _cases())
def test_r57_5_etp_authorization_matrix(
    row: Row,
    persona: str,
    matrix_objects: dict[str, Any],
    client_as: Callable[[str | None], Client],
) -> None:
    client = client_as(None if persona == "anon" else persona)
    url, response = _perform(client, row, matrix_objects)
    expected = row.expect[persona]
    assert response.status_code == expected, (
        f"{row.method} {url} as {persona}: {response.status_code}, expected {expected}"
    )
    if row.api and response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "fields", "request_id"}
        assert error["request_id"] == response["X-Request-ID"]
