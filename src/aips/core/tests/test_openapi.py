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
