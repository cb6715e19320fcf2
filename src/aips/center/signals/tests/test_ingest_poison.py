"""One poisoned item never spoils its batch (R67.7, R57.28.4): a NUL or a lone UTF-16 surrogate
anywhere in a signal — a field, a list item, a key — rejects that item with a field error and
the rest is stored; a body nested 100,000 deep is refused as a whole with 422, never a 5xx."""

import json
from typing import Any

import pytest

from aips.center.signals import schema
from aips.center.signals.models import Signal
from aips.center.signals.tests.conftest import signal

pytestmark = pytest.mark.django_db(transaction=False)


def _with(item: dict[str, Any], raw_field: str, raw_value: str) -> str:
    """`item` as JSON with one field's value replaced by raw JSON text (e.g. a lone \\ud800),
    which json.dumps would never write."""
    text = json.dumps({**item, raw_field: "@@"})
    return text.replace('"@@"', raw_value)


@pytest.mark.parametrize("ndjson", [False, True], ids=["json", "ndjson"])
def test_r57_28_4_r67_8_nul_and_lone_surrogates_reject_only_their_item(
    module_a: tuple[Any, str], agent: Any, ndjson: bool
) -> None:
    _module, token = module_a
    good = [signal("ids"), signal("phishing"), signal("waf")]
    nul = signal("ids")
    high = signal("ids")
    low = signal("endpoint")
    in_list = signal("phishing")
    in_key = signal("ids")
    raw_items = [
        json.dumps(good[0]),
        _with(nul, "rule_name", '"ET \\u0000 EXPLOIT"'),
        _with(high, "rule_name", '"x\\ud800y"'),
        json.dumps(good[1]),
        _with(low, "detection", '"\\udc00"'),
        _with(in_list, "urls", '["https://a.example/", "https://b.example/\\ud83d"]'),
        json.dumps(in_key)[:-1] + ', "bad\\u0000key": 1}',
        json.dumps(good[2]),
    ]
    body = "\n".join(raw_items) if ndjson else "[" + ",".join(raw_items) + "]"
    response = agent(
        token,
        body,
        content_type="application/x-ndjson" if ndjson else "application/json",
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (3, 5), answer
    by_index = {item["index"]: item for item in answer["items"]}
    assert [by_index[i]["status"] for i in (0, 3, 7)] == ["accepted"] * 3
    assert "rule_name" in by_index[1]["errors"]
    assert "NUL" in by_index[1]["errors"]["rule_name"]
    assert by_index[1]["id"] == nul["id"]
    assert "rule_name" in by_index[2]["errors"]
    assert "surrogate" in by_index[2]["errors"]["rule_name"]
    assert by_index[2]["id"] == high["id"]
    assert "detection" in by_index[4]["errors"]
    assert "urls[1]" in by_index[5]["errors"]
    assert by_index[6]["status"] == "rejected"
    assert by_index[6]["id"] == in_key["id"]
    assert set(Signal.objects.values_list("rule_name", flat=True)) >= {good[0]["rule_name"]}
    assert Signal.objects.count() == 3


def test_r57_28_4_nul_in_every_text_field_is_a_field_error(
    module_a: tuple[Any, str], agent: Any
) -> None:
    """Every string field of every kind, so no column ever sees a NUL (PostgreSQL refuses it)."""
    _module, token = module_a
    items: list[str] = []
    expected: list[str] = []
    for kind_type in schema.SIGNAL_TYPES:
        kind = kind_type.__struct_config__.tag
        assert isinstance(kind, str)
        base = signal(kind)
        for name in kind_type.__struct_fields__:
            value = base.get(name)
            if not isinstance(value, str) or name in ("id", "observed_at", "severity"):
                continue
            items.append(_with(signal(kind), name, json.dumps(value[:1] + "\u0000")))
            expected.append(name)
    good = signal("scan")
    items.append(json.dumps(good))
    response = agent(token, "[" + ",".join(items) + "]")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["rejected"] == len(expected)
    assert answer["accepted"] == 1
    for item, name in zip(answer["items"], expected, strict=False):
        assert item["status"] == "rejected"
        assert name in item["errors"], (name, item)
    assert list(Signal.objects.values_list("signal_id", flat=True)) == [
        __import__("uuid").UUID(good["id"])
    ]


@pytest.mark.parametrize("ndjson", [False, True], ids=["json", "ndjson"])
@pytest.mark.parametrize("opener", ["[", "{"])
def test_r57_28_4_r67_7_a_body_nested_100000_deep_is_422(
    module_a: tuple[Any, str], agent: Any, ndjson: bool, opener: str
) -> None:
    _module, token = module_a
    body = opener * 100_000
    response = agent(
        token,
        body,
        content_type="application/x-ndjson" if ndjson else "application/json",
    )
    if ndjson:
        # One line, one item: that item is rejected; nothing else in the batch to store.
        assert response.status_code in (200, 422), response.content
        if response.status_code == 200:
            assert response.json()["rejected"] == 1
    else:
        assert response.status_code == 422, response.content
        assert response.json()["error"]["code"] == "validation_error"
    deep_item = "[" + json.dumps(signal("ids")) + "," + "[" * 100_000 + "]" * 100_000 + "]"
    response = agent(token, deep_item)
    assert response.status_code in (200, 422), response.content
    if response.status_code == 200:
        answer = response.json()
        assert (answer["accepted"], answer["rejected"]) == (1, 1)
    assert Signal.objects.count() <= 1


def test_r57_28_4_a_raw_nul_byte_inside_a_string_rejects_only_its_item(
    module_a: tuple[Any, str], agent: Any
) -> None:
    """Strictly not JSON (a control character unescaped), but one such item must not cost its
    batch: it is refused like an escaped NUL."""
    _module, token = module_a
    good, bad = signal("ids"), signal("ids")
    body = (
        "[" + json.dumps(good) + "," + _with(bad, "rule_name", '"raw \x00 byte"') + "]"
    ).encode()
    response = agent(token, body)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert [i["status"] for i in answer["items"]] == ["accepted", "rejected"]
    assert "NUL" in answer["items"][1]["errors"]["rule_name"]
    assert answer["items"][1]["id"] == bad["id"]
    assert Signal.objects.count() == 1
