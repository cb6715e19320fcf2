"""One error shape for the API, request-id-only error pages for people (R57.26.5, R57.28.2)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from aips.api import api

ERROR_KEYS = {"code", "message", "fields", "request_id"}


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == ERROR_KEYS
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return dict(body["error"])


@pytest.mark.django_db
def test_r57_28_2_api_401_shape() -> None:
    response = Client().get("/api/v1/organizations")
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_r57_28_2_api_403_and_404_shapes(client_as: Callable[[str | None], Client]) -> None:
    maker = client_as("bank_a_maker")
    forbidden = maker.post("/api/v1/organizations", {}, content_type="application/json")
    assert forbidden.status_code == 403
    assert _error(forbidden)["code"] == "forbidden"
    missing = maker.get("/api/v1/organizations/999999")
    assert missing.status_code == 404
    assert _error(missing)["code"] == "not_found"
    unknown = maker.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404
    assert _error(unknown)["code"] == "not_found"


def test_r57_28_4_api_422_names_the_fields(client_as: Callable[[str | None], Client]) -> None:
    admin = client_as("center_admin")
    response = admin.post(
        "/api/v1/organizations",
        {"name": "X", "bin": "12", "email": "x@example.kz", "kind": "bank"},
        content_type="application/json",
    )
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == ["bin"]
    schema_error = admin.post(
        "/api/v1/organizations", {"name": "X", "kind": "castle"}, content_type="application/json"
    )
    assert schema_error.status_code == 422
    assert {"bin", "email", "kind"} <= set(_error(schema_error)["fields"])


def test_r57_28_4_api_rejects_malformed_json(client_as: Callable[[str | None], Client]) -> None:
    response = client_as("center_admin").post(
        "/api/v1/organizations", "{not json", content_type="application/json"
    )
    assert response.status_code in (400, 422)
    _error(response)


def test_r57_28_1_api_429_with_retry_after(
    client_as: Callable[[str | None], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import cache

    cache.clear()
    for throttle in api.throttle:  # type: ignore[union-attr]
        monkeypatch.setattr(throttle, "num_requests", 2)
    client = client_as("bank_a_maker")
    codes = [client.get("/api/v1/organizations").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    response = client.get("/api/v1/organizations")
    assert _error(response)["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
    cache.clear()


def test_r57_26_5_api_500_shows_no_internals(
    client_as: Callable[[str | None], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aips.shared.organizations import selectors

    def boom(**_: Any) -> None:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(selectors, "organization_list", boom)
    response = client_as("center_admin").get("/api/v1/organizations")
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "internal_error"
    assert "secret" not in response.content.decode()


def test_r57_26_5_html_500_shows_only_the_request_id(
    personas: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aips.shared.organizations import selectors

    def boom(**_: Any) -> None:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(selectors, "organization_list", boom)
    client = Client(raise_request_exception=False)
    client.force_login(personas["center_admin"])
    response = client.get("/organizations/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "secret" not in html
    assert "Traceback" not in html
    assert response["X-Request-ID"] in html


@pytest.mark.parametrize(("path", "status"), [("/no-such-page/", 404), ("/users/new/", 403)])
def test_r57_26_5_html_error_pages_show_request_id(
    client_as: Callable[[str | None], Client], path: str, status: int
) -> None:
    response = client_as("bank_a_maker").get(path)
    assert response.status_code == status
    assert f'<code id="request-id">{response["X-Request-ID"]}</code>' in response.content.decode()


@pytest.mark.django_db
def test_caller_request_id_is_kept_only_when_safe() -> None:
    client = Client()
    assert client.get("/api/v1/health", HTTP_X_REQUEST_ID="agent-42-abcdef")["X-Request-ID"] == (
        "agent-42-abcdef"
    )
    unsafe = client.get("/api/v1/health", HTTP_X_REQUEST_ID="bad\nid value")["X-Request-ID"]
    assert unsafe != "bad\nid value"
    assert len(unsafe) == 32


@pytest.mark.django_db
def test_health_checks_the_database() -> None:
    response = Client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["checks"]["database"] == "ok"
