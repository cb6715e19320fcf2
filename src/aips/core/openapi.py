"""The error responses of the OpenAPI schema. Every 4xx/5xx under /api/ has the one shape of
`aips.core.api_errors`; ninja only documents what an operation returns on success, so the codes
that an operation can answer with are derived here from what the operation is: authenticated,
with a path id, a write, with a body, throttled."""

from typing import Any

ERROR_REF = "#/components/schemas/Error"

ERROR_SCHEMAS: dict[str, Any] = {
    "Error": {
        "title": "Error",
        "description": "Every error under /api/ has this shape.",
        "type": "object",
        "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
        "required": ["error"],
    },
    "ErrorDetail": {
        "title": "ErrorDetail",
        "type": "object",
        "properties": {
            "code": {
                "type": "string",
                "description": "Stable machine-readable code, e.g. `validation_error`, "
                "`not_found`, `not_editable`, `rate_limited`.",
            },
            "message": {"type": "string", "description": "In the caller's language."},
            "fields": {
                "type": "object",
                "description": "Field name → messages; `__all__` for the request as a whole.",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
            "request_id": {
                "type": "string",
                "description": "The X-Request-ID of the request, also in the server log.",
            },
        },
        "required": ["code", "message", "fields", "request_id"],
    },
}

DESCRIPTIONS = {
    400: "The body is not well-formed JSON (or not the declared media type).",
    401: "No credentials, or an unknown, expired or revoked token.",
    403: "The caller's role lacks the permission, the object is another organization's, or a "
    "browser session's CSRF token or recent re-authentication is missing.",
    404: "No such object, or one the caller may not see.",
    409: "The object's state does not allow this now (already decided, not editable, revoked).",
    413: "The body or the uploaded file is over its size limit.",
    422: "Some fields are not valid: `fields` names each with its messages.",
    429: "Too many requests; retry after the number of seconds in `Retry-After`.",
}

TEXT_RULE = (
    " Every error answers with the `Error` shape. No text anywhere in a request (body, query, "
    "path) may contain the NUL character (U+0000) or an unpaired UTF-16 surrogate: such a value "
    "is refused with 422 naming the field."
)

# Writes on an existing object that change nothing's state and check none: they cannot conflict.
_NO_CONFLICT = frozenset(
    {
        "incidents_comment_add",
        "integrations_update",
        "organizations_update",
        "requests_comment_add",
        "requests_thread_comment_add",
        "users_update",
    }
)
# Operations whose body names another object by id: one the caller cannot see is "not found".
_BODY_REFERS = frozenset({"integrations_create"})


def error_codes(method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer with, in order."""
    parameters = operation.get("parameters", [])
    has_path_id = any(p.get("in") == "path" for p in parameters)
    has_body = "requestBody" in operation
    authenticated = bool(operation.get("security"))
    write = method.lower() != "get"
    codes = set()
    if has_body:
        codes |= {400, 413}
    # Every operation is throttled (anonymous callers too); every authenticated one checks a
    # permission.
    codes.add(429)
    if authenticated:
        codes |= {401, 403}
    if has_path_id or operation.get("operationId") in _BODY_REFERS:
        codes.add(404)
    if write and has_path_id and operation.get("operationId") not in _NO_CONFLICT:
        codes.add(409)
    if parameters or has_body:
        codes.add(422)
    return sorted(codes)


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the Error components and each operation's error responses to `schema` (in place)."""
    schema.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    info = schema.setdefault("info", {})
    info["description"] = info.get("description", "") + TEXT_RULE
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in error_codes(method, operation):
                # Ninja keys responses by int status, as json.dumps expects them sortable.
                responses[code] = {
                    "description": DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
                }
    return schema
