"""Findings of the API fuzz test, kept as regression tests (R57.28.4): what the schema allows is
accepted, and what the code refuses is written in the schema."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from aips.api import api
from aips.conftest import card_data
from aips.core.moments import in_utc
from aips.core.strings import VISIBLE


def _post_card(client: Client, **overrides: Any) -> Any:
    data = json.loads(json.dumps(card_data(**overrides), default=str))
    return client.post("/api/v1/incidents", data, content_type="application/json")


def test_r57_28_4_offset_beyond_postgresql_range_is_stored_in_utc(
    client_as: Callable[[str | None], Client],
) -> None:
    # +16:12 is a valid RFC 3339 offset that PostgreSQL refused with a 500.
    response = _post_card(
        client_as("bank_a_maker"),
        started_at="2024-05-14T01:24:48+16:12",
        detected_at="2024-05-14T03:00:00+16:12",
    )
    assert response.status_code == 201, response.content
    assert response.json()["started_at"].startswith("2024-05-13T09:12:48")


def test_r57_28_4_moment_outside_utc_years_is_a_field_error(
    client_as: Callable[[str | None], Client],
) -> None:
    response = _post_card(
        client_as("bank_a_maker"),
        started_at="0001-01-01T00:00:00+05:00",
        detected_at="0001-01-01T01:00:00+05:00",
    )
    assert response.status_code == 422
    assert "started_at" in response.json()["error"]["fields"]


def test_r57_28_4_signal_filters_take_any_offset(
    client_as: Callable[[str | None], Client],
) -> None:
    analyst = client_as("center_analyst")
    from datetime import timedelta

    from django.utils import timezone

    # Within the histogram's 31 days of now, at an offset PostgreSQL does not take.
    since = (timezone.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+16:12")
    for path in ("/api/v1/signals", "/api/v1/signals/histogram"):
        ok = analyst.get(path, {"since": since})
        assert ok.status_code == 200, (path, ok.content)
        bad = analyst.get(path, {"until": "9999-12-31T23:59:59-01:00"})
        assert bad.status_code == 422, (path, bad.content)


def test_in_utc_keeps_the_instant() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    moment = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=16, minutes=12)))
    assert in_utc(moment) == moment
    assert in_utc(moment).tzinfo is UTC


def _schema(name: str) -> dict[str, Any]:
    return dict(api.get_openapi_schema()["components"]["schemas"][name])


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("AlertIn", "title"),
        ("AlertIn", "recommendations"),
        ("IncidentIn", "impact"),
        ("CommentIn", "body"),
        ("OrganizationIn", "name"),
        ("RequestIn", "subject"),
        ("ModuleIn", "name"),
        ("DeclineIn", "reason"),
    ],
)
def test_r57_28_4_required_text_is_non_blank_in_the_schema(component: str, field: str) -> None:
    prop = _schema(component)["properties"][field]
    assert prop["minLength"] == 1
    assert prop["pattern"] == VISIBLE


def test_r57_28_4_blank_required_text_is_refused_as_the_schema_says(
    client_as: Callable[[str | None], Client],
) -> None:
    # " \x1f" has a character but nothing str.strip() keeps: the pattern refuses it too.
    import re

    assert re.search(VISIBLE, " \x1f\t") is None
    assert re.search(VISIBLE, " x ") is not None
    response = _post_card(client_as("bank_a_maker"), title=" \x1f")
    assert response.status_code == 422
    assert "title" in response.json()["error"]["fields"]


def _operation(operation_id: str) -> dict[str, Any]:
    for methods in api.get_openapi_schema()["paths"].values():
        for operation in methods.values():
            if operation.get("operationId") == operation_id:
                return dict(operation)
    raise KeyError(operation_id)


def _branches(prop: dict[str, Any]) -> list[dict[str, Any]]:
    """A property and the alternatives of its anyOf (an optional field is `X | null`)."""
    return [prop, *prop.get("anyOf", [])]


def _post_org(client: Client, **overrides: Any) -> Any:
    data = {"name": "Schema Bank", "bin": "990840001239", "email": "soc@schema.example.kz"}
    return client.post(
        "/api/v1/organizations",
        {**data, "kind": "bank", **overrides},
        content_type="application/json",
    )


def test_r57_28_4_bin_and_email_are_written_in_the_schema() -> None:
    import re

    from aips.core.identifiers import BIN_PATTERN
    from aips.core.strings import EMAIL_MAX

    for component in ("OrganizationIn", "OrganizationPatch"):
        props = _schema(component)["properties"]
        assert any(b.get("pattern") == BIN_PATTERN for b in _branches(props["bin"]))
        assert any(
            b.get("format") == "email" and b.get("maxLength") == EMAIL_MAX
            for b in _branches(props["email"])
        )
    for component in ("UserIn", "UserPatch"):
        email = _schema(component)["properties"]["email"]
        assert any(b.get("format") == "email" for b in _branches(email))
    assert re.search(BIN_PATTERN, "990840001239")
    assert not re.search(BIN_PATTERN, "99084000123")
    assert not re.search(BIN_PATTERN, "99084000123x")


def test_r57_28_4_organization_bin_and_email_as_the_schema_says(
    client_as: Callable[[str | None], Client],
) -> None:
    admin = client_as("center_admin")
    # Outside the pattern: a field error, as before.
    response = _post_org(admin, bin="12345")
    assert response.status_code == 422
    assert "bin" in response.json()["error"]["fields"]
    # Within the pattern but with a wrong check digit: the description says why it is refused.
    response = _post_org(admin, bin="990840001230")
    assert response.status_code == 422
    assert "bin" in response.json()["error"]["fields"]
    # An address over the column's 254 characters was accepted by validate_email (320) and
    # then did not fit the column; now it is the field error the schema's maxLength announces.
    response = _post_org(admin, email="a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".kz")
    assert response.status_code == 422, response.content
    assert "email" in response.json()["error"]["fields"]
    response = _post_org(admin)
    assert response.status_code == 201, response.content


def test_r57_28_4_transition_names_are_the_machines_in_the_schema(
    client_as: Callable[[str | None], Client],
) -> None:
    from aips.center.alerts.lifecycle import ALERT_MACHINE
    from aips.center.incidents.lifecycle import CARD_MACHINE
    from aips.center.inquiries.lifecycle import INQUIRY_MACHINE, THREAD_MACHINE

    for operation_id, machine in (
        ("alerts_transition", ALERT_MACHINE),
        ("incidents_transition", CARD_MACHINE),
        ("requests_transition", INQUIRY_MACHINE),
        ("requests_thread_transition", THREAD_MACHINE),
    ):
        (name,) = [p for p in _operation(operation_id)["parameters"] if p["name"] == "name"]
        assert name["schema"]["type"] == "string"
        assert name["schema"]["enum"] == sorted(machine.transitions), operation_id
    # A name outside the list is answered as before: the action does not exist.
    maker = client_as("bank_a_maker")
    card = _post_card(maker).json()
    response = maker.post(
        f"/api/v1/incidents/{card['id']}/transitions/fly_away", {}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_transition"
    response = maker.post(
        f"/api/v1/incidents/{card['id']}/transitions/request_approval",
        {},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def test_r57_28_4_an_empty_upload_is_a_field_error_the_schema_announces(
    client_as: Callable[[str | None], Client],
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    for operation_id in (
        "incidents_attachment_add",
        "alerts_import",
        "requests_attachment_add",
        "requests_thread_attachment_add",
    ):
        body = _operation(operation_id)["requestBody"]["content"]["multipart/form-data"]
        file = body["schema"]["properties"]["file"]
        assert file["format"] == "binary"
        assert file["minLength"] == 1, operation_id
    maker = client_as("bank_a_maker")
    card = _post_card(maker).json()
    path = f"/api/v1/incidents/{card['id']}/attachments"
    # A zero-byte file was stored (201, size 0): nothing to read or scan, and the web form
    # refuses it.
    empty = maker.post(path, {"file": SimpleUploadedFile("log.txt", b"", "text/plain")})
    assert empty.status_code == 422, empty.content
    assert empty.json()["error"]["fields"]["file"] == ["The file is empty."]
    ok = maker.post(path, {"file": SimpleUploadedFile("log.txt", b"x", "text/plain")})
    assert ok.status_code == 201, ok.content


def test_r57_28_4_an_amount_string_is_what_the_pattern_admits(
    client_as: Callable[[str | None], Client],
) -> None:
    import re

    from aips.core.numbers import KZT_PATTERN

    prop = _schema("IncidentIn")["properties"]["transfers_amount_kzt"]
    (text,) = [b for b in _branches(prop) if b.get("type") == "string"]
    assert text["pattern"] == KZT_PATTERN
    (number,) = [b for b in _branches(prop) if b.get("type") == "number"]
    assert (number["minimum"], number["maximum"], number["multipleOf"]) == (0, 10**15, 0.01)
    for admitted in ("0", "7", "1250.5", "1250.50", "999999999999999.99", "1000000000000000.00"):
        assert re.search(KZT_PATTERN, admitted), admitted
    for refused in ("abc", "", "1e3", "-1", "0.001", "1000000000000000.01", "1234567890123456"):
        assert not re.search(KZT_PATTERN, refused), refused
    maker = client_as("bank_a_maker")
    # "abc" was schema-valid (pydantic's Decimal schema allows any string); it is still refused.
    bad = _post_card(maker, transfers_amount_kzt="abc")
    assert bad.status_code == 422
    assert "transfers_amount_kzt" in bad.json()["error"]["fields"]
    for good in ("999999999999999.99", 1e15, 0.1):
        response = _post_card(maker, transfers_amount_kzt=good)
        assert response.status_code == 201, (good, response.content)
