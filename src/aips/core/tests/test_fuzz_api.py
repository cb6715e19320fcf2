"""The API fuzz test (R57.28.4): schemathesis generates requests from the OpenAPI schema, valid
ones and invalid ones, for every operation and as at least two personas, and sends them through
the whole WSGI stack (middleware, authentication, throttles, the one error shape). Every answer
must be a non-5xx whose status is documented for the operation and whose body and content type
match the schema.

Bounded for CI: AIPS_FUZZ_EXAMPLES (default 12 on SQLite, 4 on PostgreSQL) examples per
operation, persona and mode (valid/invalid), derandomized so every run sends the same requests.
A deeper run: AIPS_FUZZ_EXAMPLES=200 pytest src/aips/core/tests/test_fuzz_api.py."""

import copy
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aips.api import api
from aips.center.signals.ingest_wsgi import dispatcher

# The matrix objects are built once for this module; each operation rolls back what it changes.
pytestmark = pytest.mark.usefixtures("_matrix_layer")


def _examples() -> int:
    """AIPS_FUZZ_EXAMPLES, else 12 on SQLite and 4 on PostgreSQL: the handlers are the same
    Python on both, so the second database needs only enough requests to reach its queries."""
    from django.db import connection

    default = "4" if connection.vendor == "postgresql" else "12"
    return int(os.environ.get("AIPS_FUZZ_EXAMPLES", default))


SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(api.get_openapi_schema()))
# NUL is refused in every text, as the API description says (a JSON Schema string cannot say
# it); generating it would make valid-looking requests that are rightly refused.
SCHEMA.config.generation.update(allow_x00=False)
OPERATIONS = {
    operation.definition.raw["operationId"]: operation
    for operation in (result.ok() for result in SCHEMA.get_all_operations())  # type: ignore[union-attr]
}
# People with a personal API token; the agent operations take an integration module's token.
PERSONAS = ("bank_a_maker", "center_analyst", "center_admin")
MODULES = ("bank_a", "bank_b")
AGENT_OPERATIONS = {"signals_ingest", "integrations_heartbeat"}


def _not_a_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code}: {response.text[:500]}")
    return None


CHECKS = [
    _not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def _in_test_transaction() -> Iterator[None]:
    # As django.test.Client does: the WSGI handler would otherwise close the test's connection
    # (it is inside the test's transaction, so autocommit looks "not restored").
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def _unthrottled(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The fuzz sends thousands of requests a minute from one address and a few tokens.
    settings.AIPS_BAD_TOKEN_RATE_IP = "1000000/m"
    settings.AIPS_SIGNAL_RATE = "1000000/m"
    for throttle in api.throttle:  # type: ignore[union-attr]
        monkeypatch.setattr(throttle, "num_requests", 1_000_000)


@pytest.fixture
def world(matrix_objects: dict[str, Any]) -> dict[str, Any]:
    """Tokens for the personas and modules, and the ids of real objects to aim at."""
    from aips.center.signals.tests.conftest import make_module
    from aips.shared.accounts import services as account_services

    o = matrix_objects
    tokens = {key: account_services.token_create(actor=o[key], name="fuzz")[1] for key in PERSONAS}
    for key in MODULES:
        org = o[f"{key}_head"].organization
        tokens[key] = make_module(org, name=f"fuzz-{key}")[1]
    ids: dict[str, list[Any]] = {
        "alert_id": [o["alert"].pk, o["published_alert"].pk],
        "recipient_id": [o["alert_recipient"].pk],
        "card_id": [o["card"].pk],
        "finding_id": [o["finding"].pk],
        "module_id": [o["integration_module"].pk],
        "org_id": [o["bank_a"].pk],
        "request_id": [o["inquiry_sent"].pk, o["inquiry_draft"].pk, o["inquiry_to_a"].pk],
        "thread_id": [o["inquiry_thread_a"].pk, o["inquiry_center_thread"].pk],
        "seq": [o["signal_a"].seq],
        "user_id": [o["bank_a_viewer"].pk],
        "value": ["185.220.101.4"],
    }
    return {"tokens": tokens, "ids": ids}


def _fuzz(operation: Any, token: str, ids: dict[str, list[Any]], mode: GenerationMode) -> None:
    # As aips.wsgi.application: the signal batch goes to its own application.
    app = dispatcher(WSGIHandler())
    path_names = [p.name for p in operation.path_parameters]
    # Half the time a path parameter names a real object, so the handlers behind the 404 run.
    real_ids = st.fixed_dictionaries(
        {
            name: st.one_of(st.none(), st.sampled_from(ids[name]))
            for name in path_names
            if name in ids
        }
    )

    @hsettings(
        max_examples=_examples(),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        print_blob=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode), chosen=real_ids)
    def run(case: Any, chosen: dict[str, Any]) -> None:
        if mode is GenerationMode.POSITIVE:
            for name, value in chosen.items():
                if value is not None:
                    case.path_parameters[name] = value
        # A savepoint per request: a failed statement on PostgreSQL must not poison the rest.
        savepoint = transaction.savepoint()
        response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
        if response.status_code >= 500:
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # An operation without inputs (health) has nothing to make invalid.
        if mode is not GenerationMode.NEGATIVE:
            raise


@pytest.mark.usefixtures("_in_test_transaction", "_unthrottled")
@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_r57_28_4_fuzz_operation(operation_id: str, world: dict[str, Any]) -> None:
    operation = OPERATIONS[operation_id]
    callers = MODULES if operation_id in AGENT_OPERATIONS else PERSONAS
    for caller in callers:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, world["tokens"][caller], world["ids"], mode)


def test_every_operation_is_fuzzed() -> None:
    documented = {
        operation["operationId"]
        for operations in api.get_openapi_schema()["paths"].values()
        for operation in operations.values()
    }
    assert documented == set(OPERATIONS)
    assert len(PERSONAS) >= 2
    assert len(MODULES) >= 2
