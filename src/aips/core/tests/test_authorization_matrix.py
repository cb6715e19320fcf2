"""Every URL × every persona → the expected status (R57.5, R67.4).

Objects in the matrix belong to bank A, so bank B's people must get 404 where they hold the
permission ("not yours" looks exactly like "missing") and 403 where their role lacks it. A URL
that is added without a row here fails `test_every_url_is_in_the_matrix`."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from aips.center.alerts.tests.matrix_rows import ROWS as CSAF_BATCH_ROWS
from aips.center.exchange.tests.matrix_rows import ROWS as EXCHANGE_ROWS
from aips.center.inquiries.tests.matrix_rows import ROWS as INQUIRY_ROWS
from aips.center.integrations.tests.matrix_rows import ROWS as INTEGRATION_ROWS
from aips.center.signals.tests.matrix_rows import ROWS as SIGNAL_ROWS
from aips.core.tests.matrix import (
    BANK_A,
    CENTER,
    PERSONAS,
    Row,
    only,
    statuses,
)
from aips.shared.biometrics.tests.matrix_rows import ROWS as BIOMETRIC_ROWS
from aips.shared.workflow.tests.matrix_rows import ROWS as EDS_APPROVAL_ROWS

# The matrix objects are built once for this module; each case rolls back what it changes.
pytestmark = pytest.mark.usefixtures("_matrix_layer")

ORG_EDITORS = ("bank_a_head", "bank_a_maker", "bank_b_head", "bank_b_maker")
ORG_EDITORS_A = ("bank_a_head", "bank_a_maker")
COMMENTERS_A = ("center_admin", "center_analyst", "bank_a_head", "bank_a_maker")
B_404 = {"bank_b_head": 404, "bank_b_maker": 404}
B_EDIT_404 = B_404
CARD = lambda o: {"pk": o["card"].pk}  # noqa: E731
ALERT_EDITORS = ("center_admin", "center_analyst", *ORG_EDITORS)
API_ALERT_DRAFT = lambda o: {"alert_id": o["alert"].pk}  # noqa: E731
API_PUBLISHED = lambda o: {"alert_id": o["published_alert"].pk}  # noqa: E731
API_RECIPIENT = lambda o: {  # noqa: E731
    "alert_id": o["published_alert"].pk,
    "recipient_id": o["alert_recipient"].pk,
}
API_CARD = lambda o: {"card_id": o["card"].pk}  # noqa: E731
BANK_A_ORG = lambda o: {"pk": o["bank_a"].pk}  # noqa: E731
BANK_A_USER = lambda o: {"pk": o["bank_a_maker"].pk}  # noqa: E731
BANK_A_REQUEST = lambda o: {"pk": o["request"].pk}  # noqa: E731
API_ORG = lambda o: {"org_id": o["bank_a"].pk}  # noqa: E731
ALERT_EDITORS = ("center_admin", "center_analyst", *ORG_EDITORS)
# Bank A's own draft alert: the center never sees an organization's drafts.
ALERT = lambda o: {"pk": o["alert"].pk}  # noqa: E731
# Bank A's acknowledgement of the center's published TLP:GREEN alert (bank B holds its own).
ALERT_RECIPIENT = lambda o: {  # noqa: E731
    "pk": o["published_alert"].pk,
    "rid": o["alert_recipient"].pk,
}
API_USER = lambda o: {"user_id": o["bank_a_maker"].pk}  # noqa: E731


def bank_a_audit_entry(o: dict[str, Any]) -> dict[str, Any]:
    """The journal entry for bank A's token (matrix_objects creates it), by its sequence number."""
    from aips.shared.audit.models import AuditEvent

    entry = AuditEvent.objects.get(event="token:created", target_id=str(o["token"].pk))
    assert entry.organization_id == o["bank_a"].pk
    return {"seq": entry.seq}


def bank_a_maker_saved_filter(o: dict[str, Any]) -> dict[str, Any]:
    from aips.shared.accounts.models import SavedFilter

    saved, _created = SavedFilter.objects.get_or_create(
        user=o["bank_a_maker"], list_name="incidents", name="matrix", defaults={"query_string": ""}
    )
    return {"pk": saved.pk}


def moved_day(o: dict[str, Any]) -> dict[str, Any]:
    """A Saturday the center declared a working day (the calendar is not tenant data)."""
    from datetime import date

    from aips.shared.workdays.models import MovedDay

    day, _created = MovedDay.objects.get_or_create(
        date=date(2027, 1, 9), defaults={"kind": "working", "note": "matrix"}
    )
    return {"pk": day.pk}


def bank_a_head_notification(o: dict[str, Any]) -> dict[str, Any]:
    """The head's "awaits your approval" notification about the matrix card (submitted_card)."""
    from aips.shared.notifications.models import Notification

    item = Notification.objects.filter(
        user=o["bank_a_head"], kind="incident.approval_requested"
    ).first()
    assert item is not None
    return {"pk": item.pk}


ROWS = [
    # --- web UI --------------------------------------------------------------------------
    Row("core:home", "GET", statuses(200, anon=302)),
    # Search and the indicator page answer everyone signed in; each shows only what the reader
    # may see (core/tests/test_search.py proves bank B finds nothing of bank A's).
    Row("core:search", "GET", statuses(200, anon=302), data={"q": "INC-999999"}),
    Row("core:indicator", "GET", statuses(200, anon=302), data={"value": "203.0.113.7"}),
    Row("accounts:login", "GET", statuses(302, anon=200)),
    Row("accounts:logout", "POST", statuses(302)),
    Row("accounts:set_language", "POST", statuses(302), data={"language": "en", "next": "/"}),
    Row(
        "accounts:invitation_accept",
        "GET",
        statuses(404),
        kwargs=lambda o: {"token": "no-such-token"},
    ),
    Row("accounts:profile", "GET", statuses(200, anon=302)),
    Row("accounts:token_list", "GET", statuses(200, anon=302)),
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
    Row("accounts:security", "GET", statuses(200, anon=302)),
    Row("accounts:recovery_codes", "GET", statuses(200, anon=302)),
    Row("accounts:recovery_codes_regenerate", "POST", statuses(302)),
    Row("accounts:totp_add", "GET", statuses(200, anon=302)),
    Row("accounts:eds_bind", "GET", statuses(200, anon=302)),
    Row(
        "accounts:factor_remove",
        "POST",
        statuses(404, anon=302, bank_a_maker=302),
        kwargs=lambda o: {"kind": "totp", "pk": o["maker_device"].pk},
    ),
    Row(
        "accounts:session_end",
        "POST",
        statuses(404, anon=302, bank_a_maker=302),
        kwargs=lambda o: {"pk": o["maker_session"].pk},
    ),
    Row("accounts:password_change", "GET", statuses(200, anon=302)),
    Row(
        "accounts:user_block",
        "POST",
        only(302, ("center_admin", "bank_a_head"), bank_b_head=404),
        kwargs=BANK_A_USER,
        data={"reason": "left the bank"},
    ),
    Row(
        "accounts:user_unblock",
        "POST",
        only(302, ("center_admin", "bank_a_head"), bank_b_head=404),
        kwargs=BANK_A_USER,
        data={"reason": "back from leave"},
    ),
    Row(
        "accounts:user_reset_mfa",
        "POST",
        only(302, ("center_admin", "bank_a_head"), bank_b_head=404),
        kwargs=BANK_A_USER,
        data={"reason": "lost phone"},
    ),
    Row(
        "accounts:user_iin_unbind",
        "GET",
        only(200, ("center_admin", "bank_a_head"), bank_b_head=404),
        kwargs=BANK_A_USER,
    ),
    Row(
        "accounts:user_iin_unbind",
        "POST",
        only(302, ("center_admin", "bank_a_head"), bank_b_head=404),
        kwargs=BANK_A_USER,
        data={"reason": "wrong person's EDS"},
    ),
    Row("mfa:webauthn_authenticate_options", "POST", statuses(200, anon=401)),
    Row("mfa:webauthn_register_options", "POST", statuses(200, anon=302)),
    Row("mfa:webauthn_register_verify", "POST", statuses(400, anon=302)),
    # An empty form is refused with a message and a redirect; a saved filter is its owner's alone.
    Row("accounts:saved_filter_create", "POST", statuses(302)),
    Row(
        "accounts:saved_filter_delete",
        "POST",
        statuses(404, anon=302, bank_a_maker=302),
        kwargs=bank_a_maker_saved_filter,
    ),
    Row(
        "accounts:token_revoke",
        "POST",
        statuses(404, anon=302, bank_a_maker=302),
        kwargs=lambda o: {"pk": o["token"].pk},
    ),
    Row("organizations:list", "GET", statuses(200, anon=302)),
    Row("organizations:create", "GET", only(200, ("center_admin",))),
    Row(
        "organizations:detail",
        "GET",
        statuses(200, anon=302, bank_b_head=404, bank_b_maker=404),
        kwargs=BANK_A_ORG,
    ),
    Row("organizations:update", "GET", only(200, ("center_admin",)), kwargs=BANK_A_ORG),
    Row("accounts:user_list", "GET", only(200, (*CENTER, "bank_a_head", "bank_b_head"))),
    Row("accounts:user_create", "GET", only(200, ("center_admin",))),
    Row(
        "accounts:user_detail",
        "GET",
        only(200, (*CENTER, "bank_a_head"), bank_b_head=404),
        kwargs=BANK_A_USER,
    ),
    Row("accounts:user_update", "GET", only(200, ("center_admin",)), kwargs=BANK_A_USER),
    Row("accounts:user_reinvite", "POST", only(302, ("center_admin",)), kwargs=BANK_A_USER),
    Row(
        "accounts:user_request_list",
        "GET",
        only(200, ("center_admin", "auditor", "bank_a_head", "bank_b_head")),
    ),
    Row("accounts:user_request_create", "GET", only(200, ("bank_a_head", "bank_b_head"))),
    Row(
        "accounts:user_request_detail",
        "GET",
        only(200, ("center_admin", "auditor", "bank_a_head"), bank_b_head=404),
        kwargs=BANK_A_REQUEST,
    ),
    Row(
        "accounts:user_request_decide",
        "POST",
        only(422, ("center_admin",)),
        kwargs=BANK_A_REQUEST,
        data={"decision": "reject", "comment": ""},
    ),
    Row("audit:list", "GET", only(200, ("center_admin", "auditor", "bank_a_head", "bank_b_head"))),
    Row(
        "audit:detail",
        "GET",
        only(200, ("center_admin", "auditor", "bank_a_head"), bank_b_head=404),
        kwargs=bank_a_audit_entry,
    ),
    Row(
        "audit:export",
        "GET",
        only(200, ("center_admin", "auditor", "bank_a_head", "bank_b_head")),
    ),
    Row("patches:report", "GET", only(200, ("center_admin", "auditor"))),
    Row("workdays:calendar", "GET", statuses(200, anon=302)),
    Row(
        "workdays:day_set",
        "POST",
        only(302, ("center_admin",)),
        data={"date": "2027-01-16", "kind": "working", "note": "matrix"},
    ),
    Row("workdays:day_remove", "POST", only(302, ("center_admin",)), kwargs=moved_day),
    Row("notifications:list", "GET", statuses(200, anon=302)),
    Row(
        "notifications:read",
        "POST",
        statuses(404, anon=302, bank_a_head=302),
        kwargs=bank_a_head_notification,
    ),
    Row("notifications:read_all", "POST", statuses(302)),
    Row("incidents:list", "GET", statuses(200, anon=302)),
    Row("incidents:list_csv", "GET", statuses(200, anon=302)),
    Row("incidents:create", "GET", only(200, ORG_EDITORS)),
    Row("incidents:detail", "GET", statuses(200, anon=302, **B_404), kwargs=CARD),
    Row("incidents:update", "GET", only(302, ORG_EDITORS_A, **B_EDIT_404), kwargs=CARD),
    Row(
        "incidents:transition",
        "POST",
        only(302, ("center_admin", "center_analyst"), **B_404),
        kwargs=lambda o: {"pk": o["card"].pk, "name": "accept"},
    ),
    Row(
        "incidents:comment",
        "POST",
        only(302, COMMENTERS_A, **B_404),
        kwargs=CARD,
        data={"body": "seen"},
    ),
    Row(
        "incidents:attachment_upload",
        "POST",
        only(302, ORG_EDITORS_A, **B_EDIT_404),
        kwargs=CARD,
    ),
    Row(
        "incidents:attachment_download",
        "GET",
        statuses(200, anon=302, **B_404),
        kwargs=lambda o: {"pk": o["card"].pk, "attachment_pk": o["attachment"].pk},
    ),
    Row("alerts:list", "GET", statuses(200, anon=302)),
    Row("alerts:list_csv", "GET", statuses(200, anon=302)),
    Row("alerts:create", "GET", only(200, ALERT_EDITORS)),
    Row("alerts:import", "GET", only(200, ALERT_EDITORS)),
    Row(
        "alerts:detail",
        "GET",
        statuses(404, anon=302, **dict.fromkeys(BANK_A, 200)),
        kwargs=ALERT,
    ),
    Row(
        "alerts:update",
        "GET",
        only(200, ORG_EDITORS_A, center_admin=404, center_analyst=404, **B_404),
        kwargs=ALERT,
    ),
    Row(
        "alerts:transition",
        "POST",
        statuses(404, anon=302, bank_a_head=302, bank_a_maker=302, bank_a_viewer=403),
        kwargs=lambda o: {"pk": o["alert"].pk, "name": "request_approval"},
    ),
    Row(
        "alerts:recipient_accept",
        "POST",
        only(302, ("bank_a_head",), bank_b_head=404),
        kwargs=ALERT_RECIPIENT,
    ),
    Row(
        "alerts:recipient_decline",
        "POST",
        only(302, ("bank_a_head",), bank_b_head=404),
        kwargs=ALERT_RECIPIENT,
        data={"reason": "not applicable"},
    ),
    Row(
        "alerts:recipient_processed",
        "POST",
        only(302, ORG_EDITORS_A, **B_404),
        kwargs=ALERT_RECIPIENT,
    ),
    Row("alerts:compliance", "GET", only(200, CENTER)),
    Row("alerts:compliance_csv", "GET", only(200, CENTER)),
    Row("alerts:threat_types", "GET", only(200, ("center_admin",))),
    # --- API -----------------------------------------------------------------------------
    Row("api:incidents_list", "GET", statuses(200, anon=401), api=True),
    Row("api:incidents_create", "POST", only(422, ORG_EDITORS, anon=401), data={}, api=True),
    Row("api:incidents_get", "GET", statuses(200, anon=401, **B_404), kwargs=API_CARD, api=True),
    Row(
        "api:incidents_update",
        "PATCH",
        only(409, ORG_EDITORS_A, anon=401, **B_EDIT_404),
        kwargs=API_CARD,
        data={},
        api=True,
    ),
    Row(
        "api:incidents_transition",
        "POST",
        only(200, ("center_admin", "center_analyst"), anon=401, **B_404),
        kwargs=lambda o: {"card_id": o["card"].pk, "name": "accept"},
        data={},
        api=True,
    ),
    Row(
        "api:incidents_comments",
        "GET",
        statuses(200, anon=401, **B_404),
        kwargs=API_CARD,
        api=True,
    ),
    Row(
        "api:incidents_comment_add",
        "POST",
        only(201, COMMENTERS_A, anon=401, **B_404),
        kwargs=API_CARD,
        data={"body": "seen"},
        api=True,
    ),
    Row(
        "api:incidents_versions",
        "GET",
        statuses(200, anon=401, **B_404),
        kwargs=API_CARD,
        api=True,
    ),
    Row(
        "api:incidents_attachment_add",
        "POST",
        # The file is checked before the card is looked up, so bank B learns nothing either way.
        only(422, ORG_EDITORS, anon=401),
        kwargs=API_CARD,
        data={},
        api=True,
    ),
    Row("api:alerts_list", "GET", statuses(200, anon=401), api=True),
    Row(
        "api:alerts_create",
        "POST",
        only(422, ALERT_EDITORS, anon=401),
        data={},
        api=True,
    ),
    Row("api:alerts_import", "POST", only(422, ALERT_EDITORS, anon=401), data={}, api=True),
    Row(
        "api:alerts_get",
        "GET",
        only(200, BANK_A, anon=401, other=404),
        kwargs=API_ALERT_DRAFT,
        api=True,
    ),
    Row(
        "api:alerts_transition",
        "POST",
        only(200, ORG_EDITORS_A, anon=401, other=404, bank_a_viewer=403),
        kwargs=lambda o: {"alert_id": o["alert"].pk, "name": "request_approval"},
        data={},
        api=True,
    ),
    Row(
        "api:alerts_recipients",
        "GET",
        statuses(200, anon=401),
        kwargs=API_PUBLISHED,
        api=True,
    ),
    Row(
        "api:alerts_accept",
        "POST",
        only(200, ("bank_a_head",), anon=401, bank_b_head=404),
        kwargs=API_RECIPIENT,
        api=True,
    ),
    Row(
        "api:alerts_decline",
        "POST",
        only(200, ("bank_a_head",), anon=401, bank_b_head=404),
        kwargs=API_RECIPIENT,
        data={"reason": "not applicable"},
        api=True,
    ),
    Row(
        "api:alerts_processed",
        "POST",
        only(409, ORG_EDITORS_A, anon=401, **B_404),
        kwargs=API_RECIPIENT,
        api=True,
    ),
    Row("api:api-root", "GET", statuses(404), api=True),
    Row("api:health", "GET", statuses(200), api=True),
    # From an allowed address (the test client's 127.0.0.1) for anyone; elsewhere 404 for all.
    Row("observability:metrics", "GET", statuses(200)),
    Row("api:openapi-json", "GET", statuses(200), api=True),
    # The API reference is as public as the schema it shows.
    Row("api:openapi-view", "GET", statuses(200), api=True),
    Row("api:organizations_list", "GET", statuses(200, anon=401), api=True),
    Row(
        "api:organizations_create",
        "POST",
        only(422, ("center_admin",), anon=401),
        data={},
        api=True,
    ),
    Row(
        "api:organizations_get",
        "GET",
        statuses(200, anon=401, bank_b_head=404, bank_b_maker=404),
        kwargs=API_ORG,
        api=True,
    ),
    Row(
        "api:organizations_update",
        "PATCH",
        only(200, ("center_admin",), anon=401),
        kwargs=API_ORG,
        data={},
        api=True,
    ),
    Row(
        "api:users_list",
        "GET",
        only(200, (*CENTER, "bank_a_head", "bank_b_head"), anon=401),
        api=True,
    ),
    Row(
        "api:users_create",
        "POST",
        only(422, ("center_admin",), anon=401),
        data={},
        api=True,
    ),
    Row(
        "api:users_get",
        "GET",
        only(200, (*CENTER, "bank_a_head"), anon=401, bank_b_head=404),
        kwargs=API_USER,
        api=True,
    ),
    Row(
        "api:users_update",
        "PATCH",
        only(200, ("center_admin",), anon=401),
        kwargs=API_USER,
        data={},
        api=True,
    ),
    *INQUIRY_ROWS,
    *SIGNAL_ROWS,
    *INTEGRATION_ROWS,
    *EDS_APPROVAL_ROWS,
    *BIOMETRIC_ROWS,
    *EXCHANGE_ROWS,
    *CSAF_BATCH_ROWS,
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


def test_r57_5_every_url_is_in_the_matrix() -> None:
    missing = _all_url_names() - {row.name for row in ROWS}
    assert not missing, f"add these URLs to the authorization matrix: {sorted(missing)}"


def test_r57_5_every_row_names_every_persona() -> None:
    for row in ROWS:
        assert set(row.expect) == set(PERSONAS), row.name


def perform(client: Client, row: Row, objects: dict[str, Any]) -> tuple[str, Any]:
    url = reverse(row.name, kwargs=row.kwargs(objects))
    if row.api:
        body = json.dumps(row.data) if row.data is not None else None
        return url, client.generic(row.method, url, body or "", content_type="application/json")
    form = "&".join(f"{k}={v}" for k, v in (row.data or {}).items())
    return url, client.generic(
        row.method, url, form, content_type="application/x-www-form-urlencoded"
    )


def _personas_to_run(row: Row) -> list[str]:
    """Every persona on SQLite. On PostgreSQL a representative subset, since the rules are the
    same Python on both and only the queries differ: for each distinct expected status of the
    row, the first persona (in PERSONAS order) expecting it -- so every URL runs at least once
    allowed and once refused, and every kind of refusal (302, 401, 403, 404) it has."""
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


@pytest.mark.parametrize(("row", "persona"), _cases())
def test_r57_5_r67_4_authorization_matrix(
    row: Row,
    persona: str,
    matrix_objects: dict[str, Any],
    client_as: Callable[[str | None], Client],
) -> None:
    client = client_as(None if persona == "anon" else persona)
    url, response = perform(client, row, matrix_objects)
    expected = row.expect[persona]
    assert response.status_code == expected, (
        f"{row.method} {url} as {persona}: {response.status_code}, expected {expected}"
    )
    if row.api and response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "fields", "request_id"}
        assert error["request_id"] == response["X-Request-ID"]


def test_r57_5_a_url_without_a_row_fails_the_coverage_check() -> None:
    # The check above on a matrix that lost a URL's rows: it must name that URL.
    dropped = ROWS[0].name
    rows = [row for row in ROWS if row.name != dropped]
    assert _all_url_names() - {row.name for row in rows} == {dropped}
