"""The signal schema, version 1 (R67.3.6, R67.8): one typed struct per event kind of R67.8,
decoded by msgspec. Unknown fields are refused and every string, list and number is bounded, so
a batch's cost is known before anything is stored. docs/signals.md is the reader's version of
this file; the OpenAPI schema is generated from it."""

import json
import re
import socket
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from aips.core.text import find_unsafe_text, unsafe_text_message

SCHEMA_VERSION = "1"
MAX_BATCH_ITEMS = 1000
MAX_BATCH_BYTES = 4 * 1024 * 1024
# Accepted clock skew ahead of the server, and the oldest signal still taken (online retention).
MAX_FUTURE = timedelta(hours=1)


class Kind(StrEnum):
    """The eight IS events of R67.8, in its order."""

    IDS = "ids"  # 1: malicious activity detected by IPS/IDS
    WAF = "waf"  # 2: malicious activity detected by a WAF
    ENDPOINT = "endpoint"  # 3: malicious activity detected by endpoint protection
    MALWARE = "malware"  # 4: receipt of malicious code
    PHISHING = "phishing"  # 5: receipt of a phishing message
    SCAN = "scan"  # 6: network scanning
    BRUTE_FORCE = "brute_force"  # 7: password guessing against one account (external zone)
    SPRAYING = "spraying"  # 8: one password across many accounts (external zone)


KIND_CLAUSE = {kind: f"R67.8.{n}" for n, kind in enumerate(Kind, start=1)}


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_RANK = {s: n for n, s in enumerate(Severity)}


class Direction(StrEnum):
    EXTERNAL = "external"
    INTERNAL = "internal"


Short = Annotated[str, Meta(min_length=1, max_length=128)]
Name = Annotated[str, Meta(min_length=1, max_length=512)]
Text = Annotated[str, Meta(max_length=2048)]
Url = Annotated[str, Meta(min_length=1, max_length=2048)]
Ip = Annotated[str, Meta(min_length=2, max_length=45)]
Port = Annotated[int, Meta(ge=0, le=65535)]
Count = Annotated[int, Meta(ge=1, le=1_000_000_000)]
Md5 = Annotated[str, Meta(pattern="^[0-9a-fA-F]{32}$")]
Sha1 = Annotated[str, Meta(pattern="^[0-9a-fA-F]{40}$")]
Sha256 = Annotated[str, Meta(pattern="^[0-9a-fA-F]{64}$")]
AnyHash = Annotated[str, Meta(pattern="^([0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")]
Email = Annotated[str, Meta(min_length=3, max_length=320, pattern="^[^@\\s]+@[^@\\s]+$")]
SignalId = Annotated[
    uuid.UUID,
    Meta(description="A UUID the sender assigns once; re-sending the same id never duplicates."),
]


class _Base(
    msgspec.Struct, forbid_unknown_fields=True, tag_field="kind", kw_only=True, omit_defaults=True
):
    id: SignalId
    observed_at: datetime
    product: Short
    vendor: Short
    product_version: Short | None = None
    sensor: Short | None = None
    severity: Severity = Severity.MEDIUM
    rule_id: Short | None = None
    rule_name: Name | None = None
    src_ip: Ip | None = None
    src_port: Port | None = None
    dst_ip: Ip | None = None
    dst_port: Port | None = None
    protocol: Annotated[str, Meta(min_length=1, max_length=16)] | None = None
    direction: Direction | None = None
    count: Count = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None


class IdsSignal(_Base, tag="ids", kw_only=True):
    """R67.8.1 — an IDS/IPS alert (Suricata, Snort, a NGFW's IPS)."""

    category: Short | None = None
    action: Annotated[str, Meta(max_length=16)] | None = None


class WafSignal(_Base, tag="waf", kw_only=True):
    """R67.8.2 — a request a WAF judged malicious."""

    url: Url
    method: Annotated[str, Meta(min_length=1, max_length=16)] | None = None
    host: Annotated[str, Meta(max_length=255)] | None = None
    status: Annotated[int, Meta(ge=100, le=599)] | None = None
    matched_rule: Name | None = None


class EndpointSignal(_Base, tag="endpoint", kw_only=True):
    """R67.8.3 — endpoint protection (EDR/EPP/AV on a host) detected malicious activity."""

    host: Annotated[str, Meta(min_length=1, max_length=255)]
    detection: Name
    file_name: Text | None = None
    md5: Md5 | None = None
    sha1: Sha1 | None = None
    sha256: Sha256 | None = None
    process: Text | None = None
    user: Short | None = None


class MalwareSignal(_Base, tag="malware", kw_only=True):
    """R67.8.4 — malicious code received (mail, web download, file share)."""

    file_name: Text
    detection: Name
    md5: Md5 | None = None
    sha1: Sha1 | None = None
    sha256: Sha256 | None = None
    host: Annotated[str, Meta(max_length=255)] | None = None


class PhishingSignal(_Base, tag="phishing", kw_only=True):
    """R67.8.5 — a phishing message received."""

    sender: Email
    recipient_count: Annotated[int, Meta(ge=1, le=1_000_000)] = 1
    subject: Text | None = None
    urls: Annotated[list[Url], Meta(max_length=50)] = []
    attachment_hashes: Annotated[list[AnyHash], Meta(max_length=50)] = []


class ScanSignal(_Base, tag="scan", kw_only=True):
    """R67.8.6 — one source scanning for active network services."""

    ports: Annotated[list[Port], Meta(max_length=1000)] = []
    targets: Annotated[list[Ip], Meta(max_length=1000)] = []
    port_count: Annotated[int, Meta(ge=0, le=65536)] | None = None
    target_count: Annotated[int, Meta(ge=0, le=16_777_216)] | None = None


class BruteForceSignal(_Base, tag="brute_force", kw_only=True):
    """R67.8.7 — excessive password guessing for one account from the external zone."""

    target_account: Annotated[str, Meta(min_length=1, max_length=256)]
    attempts: Count


class SprayingSignal(_Base, tag="spraying", kw_only=True):
    """R67.8.8 — one password tried across many accounts from the external zone."""

    accounts: Annotated[list[Annotated[str, Meta(max_length=256)]], Meta(max_length=1000)] = []
    account_count: Annotated[int, Meta(ge=1, le=10_000_000)]
    attempts: Count


Signal = (
    IdsSignal
    | WafSignal
    | EndpointSignal
    | MalwareSignal
    | PhishingSignal
    | ScanSignal
    | BruteForceSignal
    | SprayingSignal
)
SIGNAL_TYPES: tuple[type[_Base], ...] = (
    IdsSignal,
    WafSignal,
    EndpointSignal,
    MalwareSignal,
    PhishingSignal,
    ScanSignal,
    BruteForceSignal,
    SprayingSignal,
)
COMMON_FIELDS = frozenset(_Base.__struct_fields__)

_decoder = msgspec.json.Decoder(Signal)
_batch_decoder = msgspec.json.Decoder(list[Signal])
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")


class BatchError(ValueError):
    """The batch as a whole cannot be read (not JSON, not a list, nested too deep)."""


# A NUL (escaped, or raw inside a string) or an escaped UTF-16 surrogate (\ud800-\udfff;
# \ud000-\ud7ff match too, harmlessly) anywhere in the body: only then are the items scanned
# for unsafe text (R57.28.4). The usual batch has neither a NUL nor a backslash, and those two
# single-byte searches run at memchr speed, so the usual path stays as it was.
_UNSAFE_ESCAPE = re.compile(rb"\\u(?:0000|[dD])")
_LIST_PATH = re.compile(r"\.(\d+)(?=\.|$)")


def needs_text_scan(body: bytes) -> bool:
    """Whether `body` may hold a NUL or a lone surrogate, so its items must be scanned."""
    if b"\x00" in body:
        return True
    return b"\\" in body and _UNSAFE_ESCAPE.search(body) is not None


def split_batch(body: bytes, *, ndjson: bool) -> list[msgspec.Raw | bytes]:
    """The items of a JSON array or NDJSON body, each still undecoded, so that one bad item
    never spoils the others."""
    if ndjson:
        return [line for line in body.split(b"\n") if line.strip()]
    try:
        return list(_raw_list.decode(body))
    except RecursionError:
        raise BatchError("nested too deep") from None
    except msgspec.DecodeError as exc:
        if not needs_text_scan(body):
            raise BatchError(str(exc)) from exc
        # msgspec refuses a lone surrogate, or a raw NUL inside a string, anywhere in the array,
        # which would refuse the whole batch for one item. Python's parser takes both; each item
        # is written back with ASCII escapes and then refused on its own by decode_item.
        return _split_tolerant(body, exc)


def decode_batch(body: bytes) -> list[Any] | None:
    """Every item of a JSON array at once, in one C pass, or None when any item (or the array)
    is not valid: the caller then takes the batch item by item, which names each bad one."""
    try:
        return list(_batch_decoder.decode(body))
    except (msgspec.DecodeError, RecursionError):
        return None


def _split_tolerant(body: bytes, first: Exception) -> list[msgspec.Raw | bytes]:
    try:
        data = json.loads(body, strict=False)
    except (ValueError, RecursionError):
        raise BatchError(str(first)) from first
    if not isinstance(data, list):
        raise BatchError(str(first)) from first
    return [json.dumps(item, ensure_ascii=True).encode() for item in data]


def _field_of(message: str) -> tuple[str, str]:
    match = _PATH.search(message)
    if match is None:
        return "", message
    path = match.group("path").lstrip(".")
    return path, message[: match.start()]


def _unsafe_fields(raw: msgspec.Raw | bytes) -> tuple[dict[str, str], str | None]:
    """The field errors for NUL or lone surrogates in one item (and its id, when readable)."""
    try:
        data = json.loads(bytes(raw), strict=False)
    except (ValueError, RecursionError):
        return {}, None  # not JSON at all: msgspec says so
    try:
        found = list(find_unsafe_text(data))
    except RecursionError:
        return {"": "nested too deep"}, None
    errors: dict[str, str] = {}
    for path, message in found:
        name = "" if path == "__all__" else _LIST_PATH.sub(r"[\1]", path)
        errors.setdefault(name, message)
    return errors, _id_of(data)


def decode_item(
    raw: msgspec.Raw | bytes, *, now: datetime, max_age: timedelta, scan: bool = False
) -> Any:
    """One signal, validated; raises ItemInvalid naming each bad field. With `scan` (the batch
    may hold a NUL or a lone surrogate) the item's text is checked first."""
    if scan:
        unsafe, signal_id = _unsafe_fields(raw)
        if unsafe:
            raise ItemInvalid(unsafe, signal_id=signal_id)
    try:
        item = _decoder.decode(raw)
    except RecursionError:
        raise ItemInvalid({"": "nested too deep"}, signal_id=None) from None
    except msgspec.ValidationError as exc:
        field, message = _field_of(str(exc))
        raise ItemInvalid({field or "kind": message}, signal_id=_peek_id(raw)) from None
    except msgspec.DecodeError as exc:
        raise ItemInvalid({"": f"not valid JSON: {exc}"}, signal_id=None) from None
    errors = check(item, now=now, max_age=max_age)
    if errors:
        raise ItemInvalid(errors, signal_id=str(item.id))
    return item


def _peek_id(raw: msgspec.Raw | bytes) -> str | None:
    try:
        data = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None
    return _id_of(data)


def _id_of(data: Any) -> str | None:
    value = data.get("id") if isinstance(data, dict) else None
    if not isinstance(value, str) or len(value) > 64 or unsafe_text_message(value) is not None:
        return None  # echoed in the answer, so only a short and safe one
    return value


class ItemInvalid(ValueError):
    def __init__(self, fields: dict[str, str], *, signal_id: str | None) -> None:
        super().__init__("invalid signal")
        self.fields = fields
        self.signal_id = signal_id


def _ip_error(value: str | None) -> str | None:
    if value is None:
        return None
    # inet_pton is the C parser, many times faster than ipaddress on the hot path.
    family = socket.AF_INET6 if ":" in value else socket.AF_INET
    try:
        socket.inet_pton(family, value)
    except OSError:
        return "not an IP address"
    return None


def check(item: Any, *, now: datetime, max_age: timedelta) -> dict[str, str]:
    """What msgspec's types cannot say: real IPs, UUIDs, time-zone aware and sane times."""
    errors: dict[str, str] = {}
    for name in ("observed_at", "first_seen", "last_seen"):
        value = getattr(item, name)
        if value is None:
            continue
        if value.tzinfo is None:
            errors[name] = "give a time zone (e.g. 2026-11-22T10:00:00Z)"
        elif value > now + MAX_FUTURE:
            errors[name] = "is in the future"
        elif name == "observed_at" and value < now - max_age:
            errors[name] = f"is older than {max_age.days} days"
    if (
        item.first_seen is not None
        and item.last_seen is not None
        and item.first_seen.tzinfo is not None
        and item.last_seen.tzinfo is not None
        and item.first_seen > item.last_seen
    ):
        errors["first_seen"] = "is after last_seen"
    for name in ("src_ip", "dst_ip"):
        problem = _ip_error(getattr(item, name))
        if problem:
            errors[name] = problem
    if isinstance(item, ScanSignal):
        for index, target in enumerate(item.targets):
            if _ip_error(target):
                errors[f"targets[{index}]"] = "not an IP address"
                break
    return errors


# Each kind's own fields, in declaration order (looked up once per kind, not per signal).
_DETAIL_FIELDS: dict[type, tuple[str, ...]] = {}


def details_of(item: Any) -> dict[str, Any]:
    """The kind-specific fields, stored as one JSON document beside the common columns."""
    names = _DETAIL_FIELDS.get(type(item))
    if names is None:
        names = tuple(n for n in item.__struct_fields__ if n not in COMMON_FIELDS)
        _DETAIL_FIELDS[type(item)] = names
    details = {}
    for name in names:
        value = getattr(item, name)
        if value is not None and value != [] and value != "":
            details[name] = value
    return details


def json_schema() -> dict[str, Any]:
    """The batch's JSON Schema, for the OpenAPI document (its definitions go to components)."""
    schema, components = msgspec.json.schema_components(
        [list[Signal]],
        ref_template="#/components/schemas/{name}",
    )
    return {"items": schema[0], "components": components}
