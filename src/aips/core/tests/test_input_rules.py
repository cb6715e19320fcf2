"""No input makes a 5xx (R57.28.2) and every input is checked at the entry (R57.28.4): the text
rule (NUL, lone surrogates), the numeric bounds, the size and depth limits, and the shape of query
parameters. The cases are generated from the OpenAPI schema, so a new operation or field is
covered without a new test; the first test fails when a number in a request has no bounds."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from aips.api import api
from aips.core.api_parser import MAX_JSON_DEPTH, too_deep
from aips.core.permissions import role_has_perm
from aips.shared.accounts.models import User

BIG = 2**64  # past SQLite's INTEGER and PostgreSQL's bigint
# The signal batch has its own decoder and its own tests (aips.center.signals.tests).
OWN_DECODER = {"signals_ingest"}
# Who may call an operation: the first persona whose role holds its permission.
PERSONA_ORDER = [
    "bank_a_maker",
    "bank_a_head",
    "center_analyst",
    "center_admin",
    "auditor",
    "bank_a_viewer",
]
UNSAFE = {"nul": "a\x00b", "surrogate": "a\ud800b"}


def _schema() -> dict[str, Any]:
    return dict(api.get_openapi_schema())


SCHEMA = _schema()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SCHEMA["components"]["schemas"][name]
    return schema


def _variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema)
    options = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if options:
        return [v for o in options for v in _variants(o)]
    return [schema]


def _operations() -> Iterator[dict[str, Any]]:
    for path, methods in SCHEMA["paths"].items():
        for method, op in methods.items():
            content = op.get("requestBody", {}).get("content", {})
            yield {
                "id": op["operationId"],
                "method": method,
                "path": path,
                "params": op.get("parameters", []),
                "body": content.get("application/json", {}).get("schema"),
                "multipart": "multipart/form-data" in content,
            }


OPERATIONS = list(_operations())


def _unbounded(schema: dict[str, Any], where: str, seen: set[str]) -> Iterator[str]:
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen = seen | {schema["$ref"]}
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _unbounded(option, where, seen)
    if schema.get("type") in ("integer", "number"):
        low = "minimum" in schema or "exclusiveMinimum" in schema
        high = "maximum" in schema or "exclusiveMaximum" in schema
        if not (low and high):
            yield where
    for name, sub in schema.get("properties", {}).items():
        yield from _unbounded(sub, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties", "prefixItems"):
        sub = schema.get(key)
        if isinstance(sub, dict):
            yield from _unbounded(sub, f"{where}[]", seen)
        elif isinstance(sub, list):
            for item in sub:
                yield from _unbounded(item, f"{where}[]", seen)


def test_r57_28_4_every_number_in_a_request_has_a_minimum_and_a_maximum() -> None:
    """The guard for the numeric-bounds rule (`aips.core.numbers`): an integer or number in a
    path, query or JSON body without both bounds fails here, naming the operation and field."""
    missing: list[str] = []
    for op in OPERATIONS:
        for param in op["params"]:
            missing += _unbounded(
                param["schema"], f"{op['id']} {param['in']}:{param['name']}", set()
            )
        if op["body"] is not None:
            missing += _unbounded(op["body"], f"{op['id']} body", set())
    assert not missing, missing
    assert len(OPERATIONS) > 40


def test_r57_28_4_every_request_body_is_documented_with_its_own_fields() -> None:
    """Two body schemas with one class name share one OpenAPI component, so the schema (and the
    guard above) would describe the other one's fields. Each body must match its component."""
    import typing

    from pydantic import BaseModel

    wrong = []
    components = SCHEMA["components"]["schemas"]
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    if model.__ninja_param_source__ != "body":
                        continue
                    for field in model.model_fields.values():
                        for cls in typing.get_args(field.annotation) or (field.annotation,):
                            if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
                                continue
                            documented = components.get(cls.__name__, {}).get("properties", {})
                            if set(documented) != set(cls.model_fields):
                                wrong.append(f"{operation.operation_id}: {cls.__qualname__}")
    assert not wrong, wrong


# --- calling every operation as someone allowed to -----------------------------------------------


def _perm_of(operation_id: str) -> Any:
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                if (
                    operation.operation_id or api.get_openapi_operation_id(operation)
                ) == operation_id:
                    # A public operation (the biometric providers' signed webhook) has none.
                    callbacks = operation.auth_callbacks
                    return getattr(callbacks[0], "perm", None) if callbacks else None
    raise LookupError(operation_id)


@pytest.fixture
def call(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> Callable[..., Any]:
    """call(op, path_values, body=None, query="") as a persona allowed to run the operation
    (an agent token for the agents' operations)."""
    clients: dict[str, Client] = {}
    agent_token: list[str] = []

    def run(op: dict[str, Any], path: dict[str, Any], body: Any = None, query: str = "") -> Any:
        perm = _perm_of(op["id"])
        url = op["path"]
        for param in op["params"]:
            if param["in"] == "path":
                url = url.replace("{" + param["name"] + "}", str(path.get(param["name"], "1")))
        extra: dict[str, Any] = {}
        if op["id"].startswith("integrations_heartbeat"):
            if not agent_token:
                from aips.center.signals.tests.conftest import make_module

                agent_token.append(make_module(personas["bank_a_head"].organization)[1])
            client = Client()
            extra["HTTP_AUTHORIZATION"] = f"Bearer {agent_token[0]}"
        elif perm is None:
            client = Client()
        else:
            key = next(k for k in PERSONA_ORDER if role_has_perm(personas[k].role, perm))
            client = clients.setdefault(key, client_as(key))
        data = body if isinstance(body, str) else json.dumps(body if body is not None else {})
        return client.generic(
            op["method"].upper(),
            url + (f"?{query}" if query else ""),
            data if op["method"] != "get" else "",
            content_type="application/json",
            **extra,
        )

    return run


def _fields(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, (response.status_code, response.content[:300])
    return dict(response.json()["error"]["fields"])


def _named(response: Any, field: str) -> bool:
    """A 422 whose field errors name `field` (or a part of it, like `affected.0.product`)."""
    if response.status_code != 422:
        return False
    fields = response.json()["error"]["fields"]
    return any(name == field or name.startswith(f"{field}.") for name in fields)


def _by_area(cases: Iterator[tuple[Any, ...]]) -> list[Any]:
    """One test per API area (organizations, incidents, …) over all of its cases: the cases are
    many and each test loads the demo data, so grouping keeps the suite fast; a failure lists
    every operation and field that broke the rule."""
    areas: dict[str, list[tuple[Any, ...]]] = {}
    for case in cases:
        areas.setdefault(case[0]["path"].split("/")[3], []).append(case)
    return [pytest.param(cases, id=area) for area, cases in sorted(areas.items())]


def _show(op: dict[str, Any], what: str, response: Any) -> str:
    return f"{op['id']} {what}: {response.status_code} {response.content[:200]!r}"


# --- numbers ------------------------------------------------------------------------------------


def _int_params() -> Iterator[tuple[Any, ...]]:
    for op in OPERATIONS:
        for param in op["params"]:
            if any(v.get("type") == "integer" for v in _variants(param["schema"])):
                yield (op, param)


@pytest.mark.parametrize("cases", _by_area(_int_params()))
def test_r57_28_4_out_of_range_id_in_path_or_query_is_a_field_error(
    call: Callable[..., Any], cases: list[tuple[Any, ...]]
) -> None:
    """Huge ids overflowed SQLite (13 operations); negative ones are refused as well."""
    broken = []
    for op, param in cases:
        name = param["name"]
        for value in (BIG, -1, 0):
            if param["in"] == "path":
                response = call(op, {name: value})
                # Django's <int:…> takes digits only: a negative id is no such URL.
                if value < 0 and response.status_code == 404:
                    continue
            else:
                response = call(op, {}, query=f"{name}={value}")
            if value == 0 and name == "organization_id" and param["in"] == "query":
                continue  # never an id; refused or not, it only must not fail
            if not _named(response, name):
                broken.append(_show(op, f"{param['in']}:{name}={value}", response))
    assert not broken, broken


def _huge(schema: dict[str, Any]) -> Any:
    """A value of `schema`'s shape whose numbers are out of range, or None if it has none."""
    for variant in _variants(schema):
        kind = variant.get("type")
        if kind == "integer":
            return BIG
        if kind == "number":
            return 1.7976931348623157e308
        if kind == "array" and (inner := _huge(variant.get("items", {}))) is not None:
            return [inner]
        if kind == "object" and isinstance(variant.get("additionalProperties"), dict):
            inner = _huge(variant["additionalProperties"])
            if inner is not None:
                return {"k": inner}
    return None


def _body_fields(kind: Callable[[dict[str, Any]], Any]) -> Iterator[tuple[Any, ...]]:
    for op in OPERATIONS:
        if op["body"] is None or op["id"] in OWN_DECODER:
            continue
        for variant in _variants(op["body"]):
            for name, sub in variant.get("properties", {}).items():
                value = kind(sub)
                if value is not None:
                    yield (op, name, value)


@pytest.mark.parametrize("cases", _by_area(_body_fields(_huge)))
def test_r57_28_4_out_of_range_number_in_a_body_is_a_field_error(
    call: Callable[..., Any], cases: list[tuple[Any, ...]]
) -> None:
    broken = []
    for op, field, value in cases:
        response = call(op, {}, {field: value})
        if not _named(response, field):
            broken.append(_show(op, field, response))
    assert not broken, broken


# --- text ---------------------------------------------------------------------------------------


def _with_text(schema: dict[str, Any], text: str) -> Any:
    """A value of `schema`'s shape with `text` in its first string, or None if it has none."""
    for variant in _variants(schema):
        kind = variant.get("type")
        if kind == "string" and "enum" not in variant and "format" not in variant:
            return text
        if kind == "array":
            inner = _with_text(variant.get("items", {}), text)
            if inner is not None:
                return [inner]
        if kind == "object":
            for name, sub in variant.get("properties", {}).items():
                inner = _with_text(sub, text)
                if inner is not None:
                    return {name: inner}
            if isinstance(variant.get("additionalProperties"), dict):
                return {text: 1}
    return None


@pytest.mark.parametrize("cases", _by_area(_body_fields(lambda s: _with_text(s, "{unsafe}"))))
def test_r57_28_4_nul_or_lone_surrogate_in_any_text_field_is_a_field_error(
    call: Callable[..., Any], cases: list[tuple[Any, ...]]
) -> None:
    """Every text field of every JSON body (14 gave 500 on PostgreSQL with NUL, 12 with a lone
    surrogate): refused before any service or database sees it, naming the field."""
    broken = []
    for op, field, value in cases:
        for kind, unsafe in UNSAFE.items():
            # json.dumps writes both as \u escapes, as a client would send them.
            escaped = json.dumps(unsafe)[1:-1]
            response = call(op, {}, json.dumps({field: value}).replace("{unsafe}", escaped))
            text = response.content.decode()
            if not _named(response, field) or ("NUL" if kind == "nul" else "surrogate") not in text:
                broken.append(_show(op, f"{field} ({kind})", response))
    assert not broken, broken


def _text_params() -> Iterator[tuple[Any, ...]]:
    for op in OPERATIONS:
        for param in op["params"]:
            if any(v.get("type") == "string" for v in _variants(param["schema"])):
                yield (op, param)


@pytest.mark.parametrize("cases", _by_area(_text_params()))
def test_r57_28_4_nul_in_a_path_or_query_parameter_is_a_field_error(
    call: Callable[..., Any], cases: list[tuple[Any, ...]]
) -> None:
    broken = []
    for op, param in cases:
        name = param["name"]
        if param["in"] == "path":
            response = call(op, {name: "a%00b"})
        else:
            response = call(op, {}, query=f"{name}=a%00b")
        if not _named(response, name):
            broken.append(_show(op, f"{param['in']}:{name}", response))
    assert not broken, broken


def _scalar_query_params() -> Iterator[tuple[Any, ...]]:
    for op in OPERATIONS:
        for param in op["params"]:
            if param["in"] == "query" and not any(
                v.get("type") == "array" for v in _variants(param["schema"])
            ):
                yield (op, param)


@pytest.mark.parametrize("cases", _by_area(_scalar_query_params()))
def test_r57_28_4_array_or_object_in_a_scalar_query_parameter_is_a_field_error(
    call: Callable[..., Any], cases: list[tuple[Any, ...]]
) -> None:
    broken = []
    for op, param in cases:
        for shape in ("{name}=1&{name}=2", "{name}[]=1", "{name}[a]=1"):
            query = shape.format(name=param["name"])
            response = call(op, {}, query=query)
            if not _named(response, param["name"]):
                broken.append(_show(op, query, response))
    assert not broken, broken


# --- the findings, one by one -------------------------------------------------------------------


def _card_id(personas: dict[str, User]) -> int:
    from aips.center.incidents import services
    from aips.conftest import card_data

    return int(services.card_create(actor=personas["bank_a_maker"], **card_data()).pk)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("transfers_amount_kzt", 1.7976931348623157e308),
        ("transfers_amount_kzt", 1e17),
        ("transfers_amount_kzt", "1e17"),
        ("transfers_amount_kzt", "1000000000000000.01"),
        ("transfers_amount_kzt", "0.001"),
        ("transfers_amount_kzt", -1),
        ("downtime_minutes", 1e22),
        ("downtime_minutes", 2**31),
        ("transfers_count", 2**31),
    ],
)
def test_r57_28_4_out_of_range_card_number_is_refused_and_the_card_stays_readable(
    personas: dict[str, User],
    client_as: Callable[[str | None], Client],
    field: str,
    value: Any,
) -> None:
    maker = client_as("bank_a_maker")
    card_id = _card_id(personas)
    url = f"/api/v1/incidents/{card_id}"
    response = maker.patch(url, json.dumps({field: value}), content_type="application/json")
    assert field in _fields(response)
    assert maker.get(url).status_code == 200
    assert maker.get("/api/v1/incidents").status_code == 200
    assert maker.get(f"/incidents/{card_id}/").status_code == 200


def test_r57_28_4_the_largest_admitted_numbers_fit_the_columns(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    """What the bounds admit is stored and read back on both databases (PostgreSQL's integer,
    DECIMAL(18, 2))."""
    maker = client_as("bank_a_maker")
    card_id = _card_id(personas)
    url = f"/api/v1/incidents/{card_id}"
    top = {
        "downtime_minutes": 2**31 - 1,
        "transfers_count": 2**31 - 1,
        "transfers_amount_kzt": "1000000000000000",
    }
    response = maker.patch(url, json.dumps(top), content_type="application/json")
    assert response.status_code == 200, response.content
    card = maker.get(url).json()
    assert card["downtime_minutes"] == 2**31 - 1
    assert card["transfers_count"] == 2**31 - 1
    assert float(card["transfers_amount_kzt"]) == 1e15
    exact = maker.patch(
        url, json.dumps({"transfers_amount_kzt": 12.34}), content_type="application/json"
    )
    assert exact.status_code == 200
    assert maker.get(f"/incidents/{card_id}/").status_code == 200


def test_r57_28_2_body_over_the_limit_is_413_before_it_is_read(
    client_as: Callable[[str | None], Client], settings: Any
) -> None:
    maker = client_as("bank_a_maker")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    big = b"[" + b" " * limit + b"]"
    response = maker.post("/api/v1/incidents", big, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    # Only the declared length: refused without reading a body that never arrives.
    declared = maker.generic(
        "POST",
        "/api/v1/incidents",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(limit + 1),
    )
    assert declared.status_code == 413


def test_r57_28_2_multipart_over_the_upload_limit_is_413(
    personas: dict[str, User], client_as: Callable[[str | None], Client], settings: Any
) -> None:
    maker = client_as("bank_a_maker")
    response = maker.generic(
        "POST",
        f"/api/v1/incidents/{_card_id(personas)}/attachments",
        b"--B--\r\n",
        content_type="multipart/form-data; boundary=B",
        CONTENT_LENGTH=str(settings.AIPS_UPLOAD_MAX_BYTES + 1),
    )
    assert response.status_code == 413


def test_r57_28_4_deep_nesting_is_refused_without_recursion(
    client_as: Callable[[str | None], Client],
) -> None:
    maker = client_as("bank_a_maker")
    for body in ("[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1"):
        response = maker.post("/api/v1/incidents", body, content_type="application/json")
        assert "__all__" in _fields(response)
    for depth, refused in ((MAX_JSON_DEPTH, False), (MAX_JSON_DEPTH + 1, True)):
        body = '{"title": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
        assert too_deep(json.loads(body)) is refused
        response = maker.post("/api/v1/incidents", body, content_type="application/json")
        assert ("__all__" in _fields(response)) is refused
    # Brackets inside strings do not count.
    assert not too_deep(["[" * 100 + '\\"{' * 100])


@pytest.mark.parametrize(
    "body", ['{"title": NaN}', '{"title": Infinity}', "{", b'{"title": "\xff"}', "[1,]"]
)
def test_r57_28_2_malformed_json_is_a_400(
    client_as: Callable[[str | None], Client], body: str | bytes
) -> None:
    response = client_as("bank_a_maker").post(
        "/api/v1/incidents", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def _multipart(file_name: bytes) -> bytes:
    return (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="'
        + file_name
        + b'"\r\nContent-Type: text/plain\r\n\r\nevidence\r\n--B--\r\n'
    )


def test_r57_28_4_upload_file_names(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    """A long name is shortened to the column's 255 characters, keeping its extension; one whose
    part header is over Django's 1 KiB is refused as malformed (400); NUL is a field error."""
    maker = client_as("bank_a_maker")
    url = f"/api/v1/incidents/{_card_id(personas)}/attachments"
    kind = "multipart/form-data; boundary=B"
    shortened = maker.generic("POST", url, _multipart(b"n" * 600 + b".txt"), content_type=kind)
    assert shortened.status_code == 201, shortened.content
    name = shortened.json()["file_name"]
    assert len(name) <= 255
    assert name.endswith(".txt")
    too_long = maker.generic("POST", url, _multipart(b"n" * 2000 + b".txt"), content_type=kind)
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "bad_request"
    nul = maker.generic("POST", url, _multipart(b"a\x00b.txt"), content_type=kind)
    assert nul.status_code in (201, 422)  # Django may drop the NUL; it never reaches a column
    if nul.status_code == 201:
        assert "\x00" not in nul.json()["file_name"]


# --- the web forms ------------------------------------------------------------------------------


def _card_form(**changes: str) -> dict[str, str]:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.localtime()
    form = {
        "kind": "unauthorized_access",
        "title": "Access",
        "tlp": "AMBER",
        "detected_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        "started_at": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S"),
        "affected_systems": "Front end",
        "impact": "Exposure",
        "measures": "Blocked",
    }
    form.update(changes)
    return form


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "a\x00b"),
        ("impact", "a\x00b"),
        ("downtime_minutes", str(10**22)),
        ("downtime_minutes", str(2**31)),
        ("transfers_count", str(2**31)),
        ("transfers_amount_kzt", "1.7976931348623157e308"),
        ("transfers_amount_kzt", "1e17"),
        ("transfers_amount_kzt", "0.001"),
    ],
)
def test_r57_28_4_web_card_form_refuses_bad_text_and_numbers_as_field_errors(
    client_as: Callable[[str | None], Client], field: str, value: str
) -> None:
    response = client_as("bank_a_maker").post("/incidents/new/", _card_form(**{field: value}))
    assert response.status_code == 422
    assert field in response.context["form"].errors


def test_r57_28_4_web_form_with_a_lone_surrogate_in_utf8_is_not_a_5xx(
    client_as: Callable[[str | None], Client],
) -> None:
    """A form body cannot carry a lone surrogate: its UTF-8 form (ED A0 80) is invalid and
    Django decodes it as U+FFFD, so what is stored is printable."""
    from urllib.parse import urlencode

    body = urlencode(_card_form()) + "&title=%ED%A0%80"
    response = client_as("bank_a_maker").post(
        "/incidents/new/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (302, 422)


def test_r57_28_4_web_publish_ignores_out_of_range_organization_ids(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    from aips.center.alerts import services as alert_services
    from aips.conftest import alert_data

    alert = alert_services.alert_create(actor=personas["center_analyst"], **alert_data())
    response = client_as("center_analyst").post(
        f"/alerts/{alert.pk}/do/publish_direct/",
        {"organizations": [str(2**70), "²", "-1"], "confirm": "yes"},
    )
    assert response.status_code < 500


def test_r57_28_4_web_pages_answer_nul_and_huge_ids_in_the_url_without_a_5xx(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    """Query values that pages read without a form, filters, paging cursors and ids in paths."""
    huge = str(10**22)
    card_id = _card_id(personas)
    pages = {
        "center_admin": [
            "/signals/?indicator=a%00b",
            "/signals/?cursor=a%00b",
            "/signals/indicator/?value=a%00b",
            "/signals/indicator/?value=x&cursor=a%00b",
            f"/signals/?organization={huge}",
            f"/signals/{huge}/",
            "/incidents/?q=a%00b&kind=a%00b&organization=a%00b",
            "/alerts/?q=a%00b&state=a%00b",
            "/requests/?q=a%00b&box=a%00b",
            "/integrations/?q=a%00b&health=a%00b",
            f"/incidents/{huge}/",
            f"/alerts/{huge}/",
        ],
        "bank_a_maker": [f"/incidents/{huge}/edit/", f"/incidents/{card_id}/do/a%00b/"],
    }
    broken = []
    for who, urls in pages.items():
        client = client_as(who)
        client.raise_request_exception = False
        for url in urls:
            method = client.post if "/do/" in url else client.get
            response = method(url)
            if response.status_code >= 500:
                broken.append(f"{who} {url}: {response.status_code}")
    assert not broken, broken
