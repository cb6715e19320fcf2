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
