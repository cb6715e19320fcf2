"""AIPS signal schema v1 as the agent sends it (the server's `aips.center.signals.schema` is the
authority; docs/signals.md is its reader's version). The server refuses unknown fields, so every
field here is one the server declares, None values and defaults are omitted, and strings are cut
to the server's limits before they leave, so a long rule name never costs a whole signal.

Times travel as RFC 3339 strings with a zone. A signal's id is a UUID assigned once, when the
signal is made; the spool keeps it, so a re-send after a crash is recognised by the server."""

import ipaddress
import os
import re
import socket
from collections import deque
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any

import msgspec

KINDS = ("ids", "waf", "endpoint", "malware", "phishing", "scan", "brute_force", "spraying")
SEVERITIES = ("info", "low", "medium", "high", "critical")

# The server's bounds (schema.py): Short 128, Name 512, Text/Url 2048.
SHORT = 128
NAME = 512
TEXT = 2048


class _Base(msgspec.Struct, tag_field="kind", kw_only=True, omit_defaults=True):
    id: str
    observed_at: str
    product: str
    vendor: str
    product_version: str | None = None
    sensor: str | None = None
    severity: str = "medium"
    rule_id: str | None = None
    rule_name: str | None = None
    src_ip: str | None = None
    src_port: int | None = None
    dst_ip: str | None = None
    dst_port: int | None = None
    protocol: str | None = None
    direction: str | None = None
    count: int = 1
    first_seen: str | None = None
    last_seen: str | None = None


class IdsSignal(_Base, tag="ids", kw_only=True):
    category: str | None = None
    action: str | None = None


class WafSignal(_Base, tag="waf", kw_only=True):
    url: str
    method: str | None = None
    host: str | None = None
    status: int | None = None
    matched_rule: str | None = None


class EndpointSignal(_Base, tag="endpoint", kw_only=True):
    host: str
    detection: str
    file_name: str | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    process: str | None = None
    user: str | None = None


class MalwareSignal(_Base, tag="malware", kw_only=True):
    file_name: str
    detection: str
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    host: str | None = None


class PhishingSignal(_Base, tag="phishing", kw_only=True):
    sender: str
    recipient_count: int = 1
    subject: str | None = None
    urls: list[str] = []
    attachment_hashes: list[str] = []


class ScanSignal(_Base, tag="scan", kw_only=True):
    ports: list[int] = []
    targets: list[str] = []
    port_count: int | None = None
    target_count: int | None = None


class BruteForceSignal(_Base, tag="brute_force", kw_only=True):
    target_account: str
    attempts: int


class SprayingSignal(_Base, tag="spraying", kw_only=True):
    accounts: list[str] = []
    account_count: int
    attempts: int


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
SIGNAL_TYPES: dict[str, type[_Base]] = {
    "ids": IdsSignal,
    "waf": WafSignal,
    "endpoint": EndpointSignal,
    "malware": MalwareSignal,
    "phishing": PhishingSignal,
    "scan": ScanSignal,
    "brute_force": BruteForceSignal,
    "spraying": SprayingSignal,
}
FIELDS: dict[str, frozenset[str]] = {
    kind: frozenset(cls.__struct_fields__) for kind, cls in SIGNAL_TYPES.items()
}

_encoder = msgspec.json.Encoder()
encode = _encoder.encode


_ID_BATCH = 1024
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
_ids: deque[str] = deque()


def _more_ids() -> None:
    """Make _ID_BATCH ids from ONE os.urandom call. One call per id cost a system call and,
    worse, a GIL hand-off per event (os.urandom releases the GIL) with four busy threads."""
    h = os.urandom(16 * _ID_BATCH).hex()
    variant = _VARIANT
    _ids.extend(
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-4{h[i + 13 : i + 16]}-"
        f"{variant[h[i + 16]]}{h[i + 17 : i + 20]}-{h[i + 20 : i + 32]}"
        for i in range(0, 32 * _ID_BATCH, 32)
    )


def new_id() -> str:
    """A random (version 4) UUID in canonical form, as str(uuid.uuid4()): the same 122 random
    bits from os.urandom, version 4, variant RFC 4122. Thread-safe without a lock: popleft is
    atomic, and two threads refilling at once only add more random ids."""
    while True:
        try:
            return _ids.popleft()
        except IndexError:
            _more_ids()


def cut(value: Any, limit: int) -> str | None:
    """A string bounded by the server's limit, or None for nothing."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else str(value).strip()
    return text[:limit] or None  # limit > 0: empty only when the text is


def port(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= 65535 else None


_IPV4 = re.compile(
    r"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$"
)


def ip(value: str | None) -> str | None:
    """A valid IP address in canonical form, or None (the server refuses anything else)."""
    if not value:
        return None
    if _IPV4.match(value):
        return value  # dotted decimal without leading zeros is already canonical
    return _ip_slow(value)


@lru_cache(maxsize=65536)
def _ip_slow(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        return None


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat()


@lru_cache(maxsize=4096)
def _parse_cached(text: str, default_tz: tzinfo) -> str | None:
    return _parse(text, default_tz)


def _parse(text: str, default_tz: tzinfo) -> str | None:
    value = text.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed.isoformat()


def timestamp(value: Any, default_tz: tzinfo = UTC) -> str | None:
    """An ISO 8601 / RFC 3339 time (or a Unix time in seconds or milliseconds) as RFC 3339 with
    a zone; a time without a zone is read in default_tz. None when it cannot be read."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    if len(value) > 40:
        return None
    if len(value) >= 20 and value[10] == "T" and value[-6] in "+-" and value[-3] == ":":
        try:  # already RFC 3339 with an offset: checked, and passed on as it is
            datetime.fromisoformat(value)
        except ValueError:
            return None
        return value
    if value.isdigit():
        return timestamp(int(value), default_tz)
    # Many events of one source share a second; the cache makes repeated stamps nearly free.
    return _parse_cached(value, default_tz)


def severity_from_number(value: Any, *, scale: str) -> str:
    """Map a product's numeric severity to ours.

    scale: "suricata" (1 high … 3 low, 4 info), "cef" (0–10), "wazuh" (rule level 0–15)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        if isinstance(value, str) and value.strip().lower() in SEVERITIES:
            return value.strip().lower()
        named = {"very-high": "critical", "unknown": "medium", "warning": "low", "error": "high"}
        if isinstance(value, str) and value.strip().lower() in named:
            return named[value.strip().lower()]
        return "medium"
    if scale == "suricata":
        return {1: "high", 2: "medium", 3: "low"}.get(n, "info" if n > 3 else "critical")
    if scale == "wazuh":
        if n >= 13:
            return "critical"
        if n >= 10:
            return "high"
        if n >= 7:
            return "medium"
        if n >= 4:
            return "low"
        return "info"
    # CEF 0-10: 0-3 low, 4-6 medium, 7-8 high, 9-10 very high.
    if n >= 9:
        return "critical"
    if n >= 7:
        return "high"
    if n >= 4:
        return "medium"
    if n >= 1:
        return "low"
    return "info"


class Networks:
    """The organization's internal address space; everything else is the external zone."""

    DEFAULT = (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )

    def __init__(self, cidrs: list[str] | tuple[str, ...] = DEFAULT) -> None:
        self.networks = [ipaddress.ip_network(c, strict=False) for c in cidrs]
        self._v4 = [
            (int(n.network_address), int(n.netmask)) for n in self.networks if n.version == 4
        ]
        self._cache: dict[str, bool] = {}

    def is_internal(self, address: str | None) -> bool:
        if not address:
            return False
        known = self._cache.get(address)
        if known is not None:
            return known
        if _IPV4.match(address):
            number = int.from_bytes(socket.inet_aton(address), "big")
            result = False
            for net, mask in self._v4:
                if number & mask == net:
                    result = True
                    break
        else:
            try:
                parsed = ipaddress.ip_address(address)
            except ValueError:
                return False
            result = any(parsed in net for net in self.networks)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[address] = result
        return result

    def direction(self, src: str | None) -> str | None:
        if not src:
            return None
        known = self._cache.get(src)
        if known is None:
            known = self.is_internal(src)
        return "internal" if known else "external"
