"""The ingest application in front of Django (ingest_wsgi): the same answers and stored rows as
the path it replaced, Django's headers, token revocation across processes, and the one code
path (R67.3.6, R67.7, R67.8)."""

import gzip
import json
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext as _

from aips.center.integrations.models import IntegrationModule, ModuleActor
from aips.center.integrations.services import module_authenticate
from aips.center.signals import ingest_wsgi, schema, services
from aips.center.signals.models import IndicatorSighting, Signal, SignalRollup
from aips.center.signals.schema import Kind
from aips.center.signals.tests.conftest import IngestClient, signal
from aips.core.errors import AppError, ValidationFailed
from aips.core.ratelimit import LocalWindow

pytestmark = pytest.mark.django_db(transaction=False)

# --- the path before ingest_wsgi, kept here as the reference --------------------------------


def _staged_insert_postgres(rows: list[tuple[Any, ...]]) -> set[int]:
    """The previous PostgreSQL insert: COPY into a temporary stage, INSERT … SELECT … ON
    CONFLICT DO NOTHING RETURNING joined back to the stage's positions, TRUNCATE."""
    cols = ", ".join(services.COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS signal_stage "
            "(LIKE signals_signal INCLUDING DEFAULTS, position int) ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy(f"COPY signal_stage ({cols}, position) FROM STDIN") as copy:
            for position, row in enumerate(rows):
                copy.write_row((*row[:-1], services._json.encode(row[-1]).decode(), position))
        cursor.execute(
            f"WITH new AS (INSERT INTO signals_signal ({cols}) SELECT {cols} FROM signal_stage "  # noqa: S608
            "ON CONFLICT DO NOTHING RETURNING signal_id, observed_at) "
            "SELECT s.position FROM signal_stage s JOIN new USING (signal_id, observed_at)"
        )
        inserted = {position for (position,) in cursor.fetchall()}
        cursor.execute("TRUNCATE signal_stage")
    return inserted


def _previous_read_body(body: bytes, encoding: str) -> bytes:
    limit = schema.MAX_BATCH_BYTES
    if len(body) > limit:
        raise services.BatchTooLarge(_("A batch may be at most %(n)d bytes.") % {"n": limit})
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise ValidationFailed.field("Content-Encoding", _("Only gzip is accepted."))
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise ValidationFailed.field("body", _("The gzip data is damaged.")) from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise services.BatchTooLarge(
            _("A batch may be at most %(n)d bytes uncompressed.") % {"n": limit}
        )
    return data


def _previous_answer(
    actor: ModuleActor, body: bytes, *, ndjson: bool, encoding: str, monkeypatch: Any
) -> tuple[int, Any]:
    """What the ninja operation answered (status, JSON) for a module it had admitted."""
    with monkeypatch.context() as patched:
        patched.setattr(services, "_insert_postgres", _staged_insert_postgres)
        # Item by item, as every batch was decoded before.
        patched.setattr(schema, "decode_batch", lambda body: None)
        try:
            data = _previous_read_body(body, encoding)
            result = services.signals_ingest(actor=actor, body=data, ndjson=ndjson)
        except AppError as exc:
            return exc.status, {"error": {"code": exc.code, "message": exc.message,
                                          "fields": exc.fields, "request_id": ""}}  # fmt: skip
    return 200, {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": result.rejected,
        "items": [
            {"index": r.index, "id": r.id, "status": r.status, "errors": r.errors}
            if r.errors
            else {"index": r.index, "id": r.id, "status": r.status}
            for r in result.items
        ],
    }


def _batches() -> Iterator[tuple[bytes, str, str]]:
    """(body, content type, encoding): valid, invalid, re-sent and in-batch duplicate items,
    NDJSON and gzip, and bodies refused whole."""
    valid = [signal(kind.value) for kind in Kind for _ in range(3)]
    twin = signal("phishing")
    later = {**twin, "observed_at": (datetime.now(UTC) - timedelta(minutes=2)).isoformat()}
    changed = {**valid[0], "product": "Another"}  # same key, other content: still a duplicate
    invalid = [
        signal("ids", src_port=70000),
        {**signal("waf"), "colour": "red"},
        signal("ids", observed_at="2026-11-22T10:00:00"),
        signal("ids", src_ip="300.1.1.1"),
        signal("scan", observed_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()),
        {"kind": "ids", "id": "not-a-uuid"},
        {**signal("ids"), "product": "a\u0000b"},
    ]
    first = [*valid, twin, twin, later, *invalid]
    # Every item well-typed (decoded whole), one refused by the checks after decoding, a twin.
    typed = [signal("ids"), signal("scan", src_ip="300.1.1.1"), signal("waf")]
    typed += [typed[0], signal("scan", ports=[22])]
    yield json.dumps(typed).encode(), "application/json", ""
    yield json.dumps(first).encode(), "application/json", ""
    yield json.dumps([*first, changed]).encode(), "application/json", ""  # all re-sent
    fresh = [signal(kind.value) for kind in Kind]
    lines = "\n".join(json.dumps(i) for i in [*valid[:5], *fresh, fresh[0]]).encode()
    yield lines, "application/x-ndjson", ""
    packed = gzip.compress(json.dumps([*fresh[:3], signal("malware"), *invalid[:2]]).encode())
    yield packed, "application/json", "gzip"
    yield b'{"not": "a list"}', "application/json", ""
    yield b"[" * 100_000, "application/json", ""
    yield b"not gzip", "application/json", "gzip"
    yield b"[]", "application/json", "br"
    yield json.dumps([signal("ids") for _ in range(1001)]).encode(), "application/json", ""
    yield gzip.compress(b"[" + b" " * (5 * 1024 * 1024) + b"]"), "application/json", "gzip"


def _stored(organization_id: int) -> dict[tuple[str, str], dict[str, Any]]:
    rows = Signal.objects.filter(organization_id=organization_id).values()
    skip = {"seq", "organization_id", "module_id", "received_at"}
    return {
        (str(r["signal_id"]), r["observed_at"].isoformat()): {
            k: v for k, v in r.items() if k not in skip
        }
        for r in rows
    }


def test_r67_3_6_answers_and_rows_are_those_of_the_previous_path(
    module_a: tuple[Any, str], module_b: tuple[Any, str], agent: Any, monkeypatch: Any
) -> None:
    """Bank A's module sends each batch through the previous path, bank B's through the
    dispatcher: item for item the same answers, and the same rows, rollups and sightings."""
    monkeypatch.setattr(ingest_wsgi, "_budget", LocalWindow())
    module, _token = module_a
    actor = module_authenticate(token=_token)
    assert actor is not None
    new_module, new_token = module_b
    for body, content_type, encoding in _batches():
        ndjson = content_type == "application/x-ndjson"
        status, expected = _previous_answer(
            actor, body, ndjson=ndjson, encoding=encoding, monkeypatch=monkeypatch
        )
        extra = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}
        response = agent(
            new_token, body, content_type=content_type, HTTP_X_REQUEST_ID="cmp-request-1", **extra
        )
        answer = response.json()
        assert response["X-Request-ID"] == "cmp-request-1"
        if "error" in answer:
            assert answer["error"]["request_id"] == "cmp-request-1"
            answer["error"]["request_id"] = ""
        else:
            assert response["X-AIPS-Signal-Schema"] == schema.SCHEMA_VERSION
        assert (response.status_code, answer) == (status, expected), body[:200]
        assert response["Content-Type"] == "application/json"
    a, b = module.organization_id, new_module.organization_id
    assert _stored(a) == _stored(b)
    assert len(_stored(b)) == 3 + 3 * len(Kind) + 2 + len(Kind) + 1
    rollups = {
        org: sorted(
            SignalRollup.objects.filter(organization_id=org).values_list(
                "kind", "accepted", "duplicates", "rejected"
            )
        )
        for org in (a, b)
    }
    assert rollups[a] == rollups[b]
    sightings = {
        org: sorted(
            IndicatorSighting.objects.filter(organization_id=org).values_list(
                "type", "value", "count", "first_seen", "last_seen"
            )
        )
        for org in (a, b)
    }
    assert sightings[a] == sightings[b]
    assert sightings[b]


def test_r57_26_headers_are_those_of_djangos_api_answers(
    module_a: tuple[Any, str], agent: Any, settings: Any
) -> None:
    """The security and language headers of an answer from Django's API (the agent's
    heartbeat) are on the ingest answers too, success and error alike."""
    _module, token = module_a
    django = Client().post(
        "/api/v1/integrations/heartbeat",
        json.dumps({"version": "1.0"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert django.status_code == 200, django.content
    compared = {
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
        "X-Frame-Options",
        "Content-Security-Policy",
        "Permissions-Policy",
        "Cross-Origin-Resource-Policy",
        "Content-Language",
        "Vary",
    }
    expected = {name: django[name] for name in compared if name in django}
    assert expected["Content-Language"] == "ru"
    ok = agent(token, [signal("ids")], HTTP_ACCEPT_LANGUAGE="ru")
    refused = agent(token, b"{}", HTTP_ACCEPT_LANGUAGE="ru")
    for response in (ok, refused):
        assert {name: response[name] for name in expected} == expected
    assert refused.status_code == 422
    with translation.override("ru"):
        assert refused.json()["error"]["message"] == str(ValidationFailed().message)


def test_r57_28_1_bad_tokens_are_answered_and_limited_per_address(
    module_a: tuple[Any, str], agent: Any, settings: Any
) -> None:
    settings.AIPS_BAD_TOKEN_RATE_IP = "2/m"
    first = agent("aipsa_" + "y" * 43, [signal("ids")], REMOTE_ADDR="198.51.100.77")
    assert first.status_code == 401
    assert first["WWW-Authenticate"] == 'Bearer realm="aips"'
    assert first.json()["error"]["code"] == "unauthorized"
    agent("nonsense", [signal("ids")], REMOTE_ADDR="198.51.100.77")
    limited = agent("aipsa_" + "z" * 43, [signal("ids")], REMOTE_ADDR="198.51.100.77")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    # Another address, and a valid token, are not held up.
    assert agent("x", [signal("ids")], REMOTE_ADDR="198.51.100.78").status_code == 401
    assert agent(module_a[1], [signal("ids")], REMOTE_ADDR="198.51.100.77").status_code == 200


def test_r67_7_no_credentials_and_a_deactivated_organization_are_refused(
    module_a: tuple[Any, str], agent: Any
) -> None:
    from aips.shared.organizations.models import OrganizationStatus

    module, token = module_a
    response = IngestClient().post("/api/v1/signals", b"[]", content_type="application/json")
    assert response.status_code == 401
    assert agent(token, [signal("ids")]).status_code == 200
    organization = module.organization
    organization.status = OrganizationStatus.SUSPENDED
    organization.save()
    assert agent(token, [signal("ids")]).status_code == 401


def test_r67_7_a_change_outside_this_process_is_seen_within_a_second(
    module_a: tuple[Any, str], agent: Any
) -> None:
    """A revocation this process did not make (no post_save here): the cached token lives at
    most TTL_ALONE without a listener; with one (PostgreSQL) the NOTIFY ends it sooner."""
    module, token = module_a
    assert agent(token, [signal("ids")]).status_code == 200
    IntegrationModule.objects.filter(pk=module.pk).update(revoked_at=datetime.now(UTC))
    if connection.vendor == "postgresql":
        pytest.skip("uncommitted here; the NOTIFY test covers PostgreSQL")
    deadline = time.monotonic() + ingest_wsgi.TTL_ALONE + 0.5
    while agent(token, [signal("ids")]).status_code == 200:
        assert time.monotonic() < deadline, "the revoked token is still taken"
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")
def test_r67_7_revocation_notifies_every_process(module_a: tuple[Any, str], agent: Any) -> None:
    """PostgreSQL: another process revokes the module (its post_save sends the NOTIFY in its
    transaction); this process's listener empties the cache, and the token is refused."""
    module, token = module_a
    assert agent(token, [signal("ids")]).status_code == 200
    deadline = time.monotonic() + 5
    while not ingest_wsgi.tokens.listening:
        assert time.monotonic() < deadline, "the listener did not start"
        time.sleep(0.05)
    assert agent(token, [signal("ids")]).status_code == 200  # cached now, for TTL_LISTENING
    with transaction.atomic():
        # As the other process: a change its post_save receiver would announce, without this
        # process's receiver running.
        IntegrationModule.objects.filter(pk=module.pk).update(revoked_at=datetime.now(UTC))
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [ingest_wsgi.CHANNEL])
    deadline = time.monotonic() + 1.0
    while agent(token, [signal("ids")]).status_code == 200:
        assert time.monotonic() < deadline, "the revoked token is still taken after 1 s"
        time.sleep(0.05)


def test_r67_3_6_the_ninja_operation_is_declared_but_never_serves(
    module_a: tuple[Any, str],
) -> None:
    from aips.api import api

    operations = {
        op["operationId"]
        for ops in api.get_openapi_schema()["paths"].values()
        for op in ops.values()
    }
    assert "signals_ingest" in operations
    # Django alone (not the dispatcher) reaches the declaration, which refuses to serve.
    response = Client(raise_request_exception=False).post(
        "/api/v1/signals",
        b"[]",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {module_a[1]}",
    )
    assert response.status_code == 500
    # The entry point production serves answers it.
    from aips.wsgi import application

    assert application is not None
    assert IngestClient().post(
        "/api/v1/signals", b"[]", content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {module_a[1]}",
    ).json() == {"accepted": 0, "duplicates": 0, "rejected": 0, "items": []}  # fmt: skip


def test_r67_3_6_postgres_stores_a_batch_in_one_statement(
    module_a: tuple[Any, str], agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No staging table and no TRUNCATE: a new batch is one plain insert, prepared once per
    connection (the rest of the request is the commit). A re-sent batch, or one with a key
    twice, costs that insert, which fails and stores nothing, then the one that skips them."""
    import psycopg
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's insert")
    _module, token = module_a
    agent(token, [signal("ids")])  # the token is looked up and module_seen written once
    prepared: list[tuple[str, Any]] = []
    every: list[str] = []
    real = psycopg.Cursor.execute

    def spy(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        prepared.append((str(query), kwargs.get("prepare")))
        every.append(str(query))
        return real(self, query, params, **kwargs)

    def inserts() -> list[str]:
        found = [q for q, prepare in prepared if "INSERT INTO signals_signal (" in q and prepare]
        assert len(found) == sum("INSERT INTO signals_signal (" in q for q, _p in prepared)
        prepared.clear()
        return ["skips stored" if "ON CONFLICT DO NOTHING" in q else "plain" for q in found]

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    batch = [signal(kind.value) for kind in Kind]
    with CaptureQueriesContext(connection) as queries:
        assert agent(token, batch).json()["accepted"] == len(Kind)
        assert inserts() == ["plain"]
        body = agent(token, [signal("waf"), *batch[:2]]).json()
        assert (body["accepted"], body["duplicates"]) == (1, 2)
        assert inserts() == ["plain", "skips stored"]
        twice = signal("ids")
        body = agent(token, [twice, twice]).json()
        assert (body["accepted"], body["duplicates"]) == (1, 1)
        assert inserts() == ["plain", "skips stored"]
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any("TEMP" in s or "TRUNCATE" in s or "COPY" in s for s in statements + every)
    assert not any("INSERT INTO signals_signal (" in s for s in statements)


def test_r67_7_a_lookup_that_raced_a_revocation_is_not_kept(
    module_a: tuple[Any, str], monkeypatch: Any
) -> None:
    """A request reads the module while another process revokes it: the notification's clear
    comes between the read and the store, so what was read is not kept."""
    _module, token = module_a
    real = module_authenticate

    def read_then_revoked(**kwargs: Any) -> Any:
        actor = real(**kwargs)
        ingest_wsgi.tokens.clear()  # the NOTIFY arrives while this look-up is under way
        return actor

    monkeypatch.setattr(ingest_wsgi, "module_authenticate", read_then_revoked)
    assert ingest_wsgi._lookup(token, None) is not None  # this request was admitted...
    assert ingest_wsgi.tokens.get((token, None)) is None  # ...but nothing was kept
