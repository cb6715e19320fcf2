"""The canonical form of a signed act (issue 16, item 4): deterministic bytes, and the parts
around the reason that the browser completes exactly as the server does."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aips.shared.eds.canonical import (
    ActDocument,
    FileDigest,
    canonical_json,
    normalize_reason,
)


def _document(**overrides: object) -> ActDocument:
    fields: dict[str, object] = {
        "kind": "incident_card",
        "item_id": 7,
        "reference": "INC-000007",
        "version": 2,
        "content": {"title": "Ақпараттық қауіпсіздік", "amount": Decimal("10.50"), "b": [1, 2]},
        "decision": "approve",
        "person_id": 3,
        "person_name": "Сүлейменов Ерлан",
        "iin": "850101300111",
        "organization_bin": "990140000123",
        "organization_name": "Alatau Bank",
        "files": (FileDigest(name="a.txt", size=3, sha256="AB" * 32),),
    }
    fields.update(overrides)
    return ActDocument(**fields)  # type: ignore[arg-type]


def test_canonical_json_is_sorted_compact_utf8_and_has_no_floats() -> None:
    data = canonical_json({"b": 1.5, "a": {"z": datetime(2024, 1, 2, 3, 4, tzinfo=UTC), "y": "ё"}})
    assert data == '{"a":{"y":"ё","z":"2024-01-02T03:04:00+00:00"},"b":"1.5"}'.encode()
    assert canonical_json({"x": 1, "y": 2}) == canonical_json({"y": 2, "x": 1})
    with pytest.raises(ValueError, match="NaN"):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        canonical_json({"x": object()})


def test_act_document_names_everything_signed() -> None:
    tree = json.loads(_document(reason="  ok\r\n").to_bytes())
    assert tree == {
        "decision": {"name": "approve", "reason": "ok"},
        "files": [{"name": "a.txt", "sha256": "ab" * 32, "size": 3}],
        "format": "aips-signed-act/1",
        "item": {"id": 7, "kind": "incident_card", "reference": "INC-000007"},
        "organization": {"bin": "990140000123", "name": "Alatau Bank"},
        "signer": {"iin": "850101300111", "name": "Сүлейменов Ерлан", "person_id": 3},
        "version": {
            "content": {"amount": "10.50", "b": [1, 2], "title": "Ақпараттық қауіпсіздік"},
            "number": 2,
        },
    }


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "plain",
        'quotes " and \\ backslash',
        "Cyrillic кириллица, Kazakh қазақша, emoji 🙂",
        "lines\r\nand\rbreaks\n\ttab",
        "control \x01\x1f and \u2028 separators",
        "  \n spaced \t\n",
    ],
)
def test_the_parts_around_the_reason_rebuild_the_document(reason: str) -> None:
    document = _document(reason=reason)
    before, after = document.around_reason()
    # What eds-approval.js does: before + JSON.stringify(normalized reason) + after.
    middle = json.dumps(normalize_reason(reason), ensure_ascii=False).encode()
    assert before + middle + after == document.to_bytes()


def test_reason_normalization_matches_the_script() -> None:
    assert normalize_reason("\r\n a\r\nb\rc \t\n") == "a\nb\nc"
    # Only spaces, tabs and line breaks are trimmed, as in eds-approval.js.
    assert normalize_reason("\u00a0x\u00a0") == "\u00a0x\u00a0"
