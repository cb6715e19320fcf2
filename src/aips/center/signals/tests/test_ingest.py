"""POST /api/v1/signals: validation, idempotency, partial batches, limits, tenant binding
(R67.3.6, R67.7, R67.8)."""

import gzip
import json
import uuid
from typing import Any

import pytest

from aips.center.signals.models import IndicatorSighting, Signal, SignalRollup
from aips.center.signals.schema import Kind
from aips.center.signals.tests.conftest import make_module, signal

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.mark.parametrize(
    ("clause", "kind"),
    [(f"r67_8_{n}", kind.value) for n, kind in enumerate(Kind, start=1)],
    ids=[f"r67_8_{n}_{kind.value}" for n, kind in enumerate(Kind, start=1)],
)
def test_r67_8_each_event_kind_is_accepted_and_stored(
    clause: str, kind: str, module_a: tuple[Any, str], agent: Any
) -> None:
    module, token = module_a
    item = signal(kind)
    response = agent(token, [item])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 1, body
    stored = Signal.objects.get(signal_id=item["id"])
    assert stored.kind == kind
    assert stored.organization_id == module.organization_id
    assert stored.module_id == module.pk


def test_r67_3_6_field_errors_name_the_field(module_a: tuple[Any, str], agent: Any) -> None:
    _module, token = module_a
    bad_port = signal("ids", src_port=70000)
    unknown = {**signal("waf"), "colour": "red"}
    no_zone = signal("ids", observed_at="2026-11-22T10:00:00")
    bad_ip = signal("ids", src_ip="300.1.1.1")
    good = signal("ids")
    response = agent(token, [bad_port, unknown, no_zone, bad_ip, good])
    body = response.json()
    assert response.status_code == 200
    assert (body["accepted"], body["rejected"]) == (1, 4)
    errors = [item.get("errors", {}) for item in body["items"]]
    assert "src_port" in errors[0]
    assert "colour" in json.dumps(errors[1])
    assert "observed_at" in errors[2]
    assert "src_ip" in errors[3]
    assert body["items"][4]["status"] == "accepted"
    assert [item["id"] for item in body["items"]] == [
        bad_port["id"],
        unknown["id"],
        no_zone["id"],
        bad_ip["id"],
        good["id"],
    ]
    assert Signal.objects.count() == 1


def test_r67_3_6_answer_items_in_order_with_errors_only_when_rejected(
    module_a: tuple[Any, str], agent: Any
) -> None:
    """The whole answer, item by item: an all-new batch (stored by one statement), then
    one mixing a stored item, a bad one, a new one and a copy of it."""
    _module, token = module_a
    first, second = signal("ids"), signal("waf")
    body = agent(token, [first, second]).json()
    assert body == {
        "accepted": 2,
        "duplicates": 0,
        "rejected": 0,
        "items": [
            {"index": 0, "id": first["id"], "status": "accepted"},
            {"index": 1, "id": second["id"], "status": "accepted"},
        ],
    }
    fresh = signal("scan")
    bad = signal("ids", src_port=70000)
    body = agent(token, [first, bad, fresh, fresh]).json()
    assert body["items"][1]["errors"].keys() == {"src_port"}
    body["items"][1]["errors"] = {}
    assert body == {
        "accepted": 1,
        "duplicates": 2,
        "rejected": 1,
        "items": [
            {"index": 0, "id": first["id"], "status": "duplicate"},
            {"index": 1, "id": bad["id"], "status": "rejected", "errors": {}},
            {"index": 2, "id": fresh["id"], "status": "accepted"},
            {"index": 3, "id": fresh["id"], "status": "duplicate"},
        ],
    }
    assert Signal.objects.count() == 3


def test_r67_3_6_resend_never_duplicates(module_a: tuple[Any, str], agent: Any) -> None:
    _module, token = module_a
    batch = [signal("scan") for _ in range(20)]
    first = agent(token, batch).json()
    again = agent(token, batch).json()
    assert (first["accepted"], first["duplicates"]) == (20, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 20)
    assert Signal.objects.count() == 20
    rollup = SignalRollup.objects.get(kind="scan")
    assert (rollup.accepted, rollup.duplicates) == (20, 20)


def test_r67_3_6_same_id_twice_in_one_batch_is_stored_once(
    module_a: tuple[Any, str], agent: Any
) -> None:
    _module, token = module_a
    item = signal("ids")
    body = agent(token, [item, item]).json()
    assert [i["status"] for i in body["items"]] == ["accepted", "duplicate"]
    assert Signal.objects.count() == 1


def test_r67_3_6_ndjson_and_gzip(module_a: tuple[Any, str], agent: Any) -> None:
    _module, token = module_a
    lines = "\n".join(json.dumps(signal("waf")) for _ in range(3)).encode()
    response = agent(token, lines, content_type="application/x-ndjson")
    assert response.json()["accepted"] == 3
    packed = gzip.compress(json.dumps([signal("ids") for _ in range(4)]).encode())
    response = agent(token, packed, HTTP_CONTENT_ENCODING="gzip")
    assert response.json()["accepted"] == 4


def test_r67_3_6_limits_give_413(module_a: tuple[Any, str], agent: Any) -> None:
    _module, token = module_a
    response = agent(token, [signal("ids") for _ in range(1001)])
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "batch_too_large"
    bomb = gzip.compress(b"[" + b" " * (5 * 1024 * 1024) + b"]")
    response = agent(token, bomb, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    assert Signal.objects.count() == 0


def test_r67_3_6_unreadable_batch_gives_422(module_a: tuple[Any, str], agent: Any) -> None:
    _module, token = module_a
    response = agent(token, b'{"not": "a list"}')
    assert response.status_code == 422
    assert "body" in response.json()["error"]["fields"]


def test_r67_7_rate_limit_gives_429_with_retry_after(
    module_a: tuple[Any, str], agent: Any, settings: Any, monkeypatch: Any
) -> None:
    from aips.center.signals import ingest_wsgi
    from aips.core.ratelimit import LocalWindow

    # Module ids are reused after other tests' rollbacks; start this one's window empty.
    monkeypatch.setattr(ingest_wsgi, "_budget", LocalWindow())
    _module, token = module_a
    settings.AIPS_SIGNAL_RATE = "2/m"
    assert agent(token, [signal("ids")]).status_code == 200
    assert agent(token, [signal("ids")]).status_code == 200
    response = agent(token, [signal("ids")])
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_r67_7_token_of_a_writes_only_as_a(
    module_a: tuple[Any, str], module_b: tuple[Any, str], agent: Any
) -> None:
    module, token = module_a
    # Nothing in the body can choose the organization: unknown fields are refused.
    forged = {**signal("ids"), "organization_id": module_b[0].organization_id}
    body = agent(token, [forged, signal("ids")]).json()
    assert body["items"][0]["status"] == "rejected"
    assert set(Signal.objects.values_list("organization_id", flat=True)) == {module.organization_id}


def test_r67_7_revoked_or_unknown_token_is_refused_at_once(
    module_a: tuple[Any, str], agent: Any
) -> None:
    from aips.center.integrations.services import module_revoke, token_issue
    from aips.core.actors import SystemActor

    module, token = module_a
    assert agent(token, [signal("ids")]).status_code == 200
    module, new_token = token_issue(actor=SystemActor(label="test"), module=module)
    assert agent(token, [signal("ids")]).status_code == 401  # rotated: the old token is dead
    assert agent(new_token, [signal("ids")]).status_code == 200
    module_revoke(actor=SystemActor(label="test"), module=module)
    assert agent(new_token, [signal("ids")]).status_code == 401
    assert agent("aipsa_" + "x" * 43, [signal("ids")]).status_code == 401


def test_r67_7_a_persons_token_cannot_send_signals(personas: dict[str, Any], agent: Any) -> None:
    from aips.shared.accounts import services as account_services

    _token, raw = account_services.token_create(actor=personas["bank_a_head"], name="mine")
    assert agent(raw, [signal("ids")]).status_code == 401


def test_r67_8_indicators_are_counted_per_organization(
    module_a: tuple[Any, str], module_b: tuple[Any, str], agent: Any
) -> None:
    agent(module_a[1], [signal("ids", src_ip="185.220.101.4"), signal("ids", src_ip="10.1.1.1")])
    agent(module_b[1], [signal("phishing", src_ip=None)])
    sightings = set(IndicatorSighting.objects.values_list("type", "value", "organization_id"))
    a, b = module_a[0].organization_id, module_b[0].organization_id
    assert ("ip", "185.220.101.4", a) in sightings
    assert not any(value == "10.1.1.1" for _t, value, _o in sightings)  # private: not an IOC
    assert ("email", "billing@evil-bank.example", b) in sightings
    assert ("domain", "evil-bank.example", b) in sightings
    assert ("url", "https://evil-bank.example/verify", b) in sightings


def test_r67_3_6_module_last_seen_is_updated(module_a: tuple[Any, str], agent: Any) -> None:
    module, token = module_a
    agent(token, [signal("ids")])
    module.refresh_from_db()
    assert module.last_seen_at is not None


def test_r67_3_6_ids_are_unique_per_organization(
    module_a: tuple[Any, str], module_b: tuple[Any, str], agent: Any
) -> None:
    # Another organization cannot pre-empt a signal by guessing its id.
    item = signal("ids", id=str(uuid.uuid4()))
    assert agent(module_b[1], [item]).json()["accepted"] == 1
    assert agent(module_a[1], [item]).json()["accepted"] == 1
    assert Signal.objects.count() == 2


def test_r67_7_second_module_of_same_org(personas: dict[str, Any], agent: Any) -> None:
    _module, token = make_module(personas["bank_a_head"].organization, name="soar")
    assert agent(token, [signal("ids")]).json()["accepted"] == 1


def test_r67_3_6_crash_after_commit_then_resend_stores_each_signal_once(
    transactional_db: None, module_a: tuple[Any, str], agent: Any, monkeypatch: Any
) -> None:
    """The server dies after committing a batch but before answering; the agent, having no
    answer, sends the same batch again: every signal is stored exactly once."""
    from aips.center.signals import services
    from aips.center.signals.tests.conftest import IngestClient

    _module, token = module_a
    batch = [signal(kind.value) for kind in Kind for _ in range(5)]

    def die(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process killed between commit and answer")

    monkeypatch.setattr(services, "module_seen", die)
    response = IngestClient().post(
        "/api/v1/signals",
        json.dumps(batch),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 500  # no answer the agent could act on
    assert Signal.objects.count() == len(batch)  # ...but the batch was committed
    monkeypatch.undo()
    again = agent(token, batch).json()
    assert (again["accepted"], again["duplicates"]) == (0, len(batch))
    assert Signal.objects.count() == len(batch)
    assert Signal.objects.values("signal_id").distinct().count() == len(batch)
