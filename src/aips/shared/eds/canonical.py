"""The canonical form of a signed act (issue 16, item 4): the exact bytes an IS-unit head signs
with EDS when an approval or a decision is the legal act, and that a bundle carries later.

Canonical JSON: keys sorted, no insignificant whitespace, UTF-8 (not escaped to ASCII, so a
reader of the exported bundle reads the Kazakh and Russian text), no floats (a float in an item's
content becomes its decimal text, as a Decimal or a moment does). The same bytes are handed to
NCALayer (base64) and checked by the service; nothing else is signed.

The one part the browser adds is the reason the person types: the document is built around it
(`ActDocument.around_reason`), the page gives the bytes before and after the reason's JSON
string, and the script (`static/aips/eds-approval.js`) puts `JSON.stringify(reason)` between
them. `JSON.stringify` escapes a string exactly as `json.dumps(..., ensure_ascii=False)` does
(`"`, `\\`, the short escapes and `\\u00xx` for other control characters), so both sides make
the same bytes. The reason is normalized first the same way on both sides (`normalize_reason`)."""

import base64
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

FORMAT = "aips-signed-act/1"
# A placeholder no content can contain (a NUL is refused by every input rule), replaced by the
# reason's JSON string; it splits the document into the parts around the reason.
_HOLE = "\x00reason\x00"


def jsonable(value: Any) -> Any:
    """`value` as plain JSON values: a Decimal, a float, a moment, a date or a UUID becomes its
    text, a tuple a list; mapping keys become strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a signed document cannot hold NaN or infinity")
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [jsonable(v) for v in value]
    raise TypeError(f"not part of a signed document: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """Deterministic bytes of `value` (after `jsonable`): sorted keys, compact, UTF-8."""
    return json.dumps(
        jsonable(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def normalize_reason(text: str) -> str:
    """Line breaks as LF (a browser submits a textarea with CRLF) and no spaces, tabs or line
    breaks at either end. eds-approval.js does exactly the same before signing."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip(" \t\n")


@dataclass(frozen=True)
class FileDigest:
    """A file of the approved version, by the digest stored when it was uploaded (never
    re-read while signing)."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ActDocument:
    """What is signed: which item (kind, id, reference), which version and its content, the
    decision with its reason, who decides for which organization, and the files' digests."""

    kind: str  # "incident_card", "alert", "request", "request_answer"
    item_id: int
    reference: str
    version: int
    content: Mapping[str, Any]
    decision: str  # "approve", "accept", "decline", "approve_answer"
    person_id: int
    person_name: str
    iin: str
    organization_bin: str
    organization_name: str
    files: tuple[FileDigest, ...] = field(default=())
    reason: str = ""

    def _tree(self, reason: str) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "item": {"kind": self.kind, "id": self.item_id, "reference": self.reference},
            "version": {"number": self.version, "content": self.content},
            "files": [
                {"name": f.name, "size": f.size, "sha256": f.sha256.lower()} for f in self.files
            ],
            "decision": {"name": self.decision, "reason": reason},
            "signer": {"person_id": self.person_id, "name": self.person_name, "iin": self.iin},
            "organization": {"bin": self.organization_bin, "name": self.organization_name},
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self._tree(normalize_reason(self.reason)))

    def around_reason(self) -> tuple[bytes, bytes]:
        """The bytes before and after the reason's JSON string (with its quotes)."""
        whole = canonical_json(self._tree(_HOLE))
        hole = json.dumps(_HOLE, ensure_ascii=False).encode("utf-8")
        before, _sep, after = whole.partition(hole)
        return before, after

    def with_reason(self, reason: str) -> "ActDocument":
        return ActDocument(**{**self.__dict__, "reason": reason})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
