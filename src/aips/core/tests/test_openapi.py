"""The OpenAPI schema documents every operation's error responses with the one error shape
(R57.28.2), so clients and the fuzz test know what each operation may answer."""

from typing import Any

import pytest
from django.test import Client

from aips.api import api
from aips.core.openapi import ERROR_REF

ERROR = {"application/json": {"schema": {"$ref": ERROR_REF}}}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.get_openapi_schema()
    return [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def test_r57_28_2_error_schema_is_the_api_error_shape() -> None:
    components = api.get_openapi_schema()["components"]["schemas"]
    assert components["Error"]["required"] == ["error"]
    detail = components["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message", "fields", "request_id"}


@pytest.mark.parametrize(
    ("method", "path", "operation"), _operations(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_r57_28_2_every_operation_documents_its_errors(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    responses = {int(code): response for code, response in operation["responses"].items()}
    errors = {code: r for code, r in responses.items() if code >= 400 and code != 503}
    # Every error response has the one shape.
    for code, response in errors.items():
        assert response["content"] == ERROR, (code, path)
    expected = {429}
    if operation.get("security"):
        expected |= {401, 403}
    if any(p["in"] == "path" for p in operation.get("parameters", [])):
        expected.add(404)
    if operation.get("parameters") or "requestBody" in operation:
        expected.add(422)
    if "requestBody" in operation:
        expected |= {400, 413}
    assert expected <= set(errors), (method, path, sorted(errors))


def test_r57_28_2_writes_on_an_object_document_conflicts() -> None:
    by_id = {op["operationId"]: op for _m, _p, op in _operations()}
    for operation_id in (
        "incidents_transition",
        "incidents_update",
        "alerts_accept",
        "requests_answer_update",
        "correlations_promote",
        "integrations_token",
    ):
        assert 409 in by_id[operation_id]["responses"], operation_id
    assert 409 not in by_id["incidents_get"]["responses"]
    assert 409 not in by_id["organizations_update"]["responses"]


@pytest.mark.django_db
def test_r57_28_2_served_schema_documents_errors() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert "Error" in schema["components"]["schemas"]
    assert "401" in schema["paths"]["/api/v1/incidents"]["get"]["responses"]


@pytest.mark.django_db
def test_r57_26_api_reference_page_runs_under_the_strict_csp() -> None:
    """/api/v1/docs is Swagger UI from this server's static files: no inline script (its settings
    are a JSON data block), no CDN, and the site's CSP unchanged (no 'unsafe-inline' or
    'unsafe-eval')."""
    import json
    import re

    from django.contrib.staticfiles import finders

    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe" not in csp
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    for attrs, body in scripts:
        if 'type="application/json"' in attrs:
            settings = json.loads(body)  # data, never run: CSP does not apply, nor is needed
            assert settings["url"] == "/api/v1/openapi.json"
            assert settings["validatorUrl"] is None
        else:
            assert "src=" in attrs, attrs
            assert not body.strip(), attrs
    assert " style=" not in html
    assert "<style" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {
        "swagger-ui-bundle.js",
        "swagger-ui-init.js",
        "swagger-ui.css",
    }
    for asset in assets:
        assert asset.startswith("/static/"), asset  # same origin, nothing from a CDN
        assert finders.find(asset.removeprefix("/static/")), asset
