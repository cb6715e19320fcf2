"""Native records → signal schema v1 (R67.8). One mapper per input type; each takes one line
(bytes, without its newline) and returns what it found: signals, detector observations, or
nothing for a record that is not an IS event (a Suricata `stats` line, a ClamAV `OK`). A record
that cannot be read raises Malformed, which the input counts and skips."""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any

import msgspec

from aips_agent import signals as s
from aips_agent.events import AuthFailure, Connection, Dropped, Malformed, NoEventTime
from aips_agent.rules import shipped

Item = s.Signal | AuthFailure | Connection | Dropped | NoEventTime
Mapper = Callable[[bytes], list[Item]]


@dataclass
class MapContext:
    sensor: str | None = None
    tz: tzinfo = UTC
    networks: s.Networks = field(default_factory=s.Networks)
    options: dict[str, Any] = field(default_factory=dict)
    # `aips-agent explain` sets a list: the mappers append why each record became what it did.
    trace: list[str] | None = None

    def why(self, text: str) -> None:
        if self.trace is not None:
            self.trace.append(text)


def _epoch(observed: str) -> float:
    try:
        return datetime.fromisoformat(observed).timestamp()
    except ValueError:
        return time.time()


def _observed(value: Any, ctx: MapContext, out: list[Item], what: str = "timestamp") -> str:
    """The record's own time; when missing or unreadable, the time it is read, with a counted
    NoEventTime appended to `out` (never silently)."""
    stamp = s.timestamp(value, ctx.tz)
    if stamp is not None:
        return stamp
    if value is None or value == "":
        out.append(NoEventTime(f"the record has no {what}"))
    else:
        out.append(NoEventTime(f"{what} {str(value)[:40]!r} is not a time the agent reads"))
    return s.now_rfc3339()


_json_any = msgspec.json.Decoder()


def _decode_object(line: bytes) -> dict[str, Any]:
    try:
        data = _json_any.decode(line)
    except msgspec.DecodeError as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Malformed("not a JSON object")
    return data


# --- Suricata EVE JSON ---------------------------------------------------------------------


class EveAlert(msgspec.Struct):
    action: str | None = None
    signature_id: int | None = None
    signature: str | None = None
    category: str | None = None
    severity: int | None = None
    rev: int | None = None


class Eve(msgspec.Struct):
    event_type: str | None = None
    timestamp: str | None = None
    src_ip: str | None = None
    src_port: int | None = None
    dest_ip: str | None = None
    dest_port: int | None = None
    proto: str | None = None
    host: str | None = None
    alert: EveAlert | None = None


_eve = msgspec.json.Decoder(Eve)


def suricata_eve(ctx: MapContext) -> Mapper:
    """EVE JSON: `alert` → ids (R67.8.1); `flow`/`netflow` → scan-detector observations."""
    product = ctx.options.get("product", "Suricata")
    vendor = ctx.options.get("vendor", "OISF")
    version = s.cut(ctx.options.get("product_version"), s.SHORT)
    flows = bool(ctx.options.get("flows_to_detectors", True))
    networks = ctx.networks

    def mapper(line: bytes) -> list[Item]:
        try:
            eve = _eve.decode(line)
        except msgspec.DecodeError as exc:
            raise Malformed(f"not an EVE record: {exc}") from None
        kind = eve.event_type
        if kind == "alert":
            alert = eve.alert
            if alert is None:
                raise Malformed("alert event without an alert object")
            src = s.ip(eve.src_ip)
            action = alert.action
            out: list[Item] = []
            observed = _observed(eve.timestamp, ctx, out)
            ctx.why("EVE alert → ids")
            out.append(
                s.IdsSignal(
                    id=s.new_id(),
                    observed_at=observed,
                    product=product,
                    vendor=vendor,
                    product_version=version,
                    sensor=s.cut(eve.host, s.SHORT) or ctx.sensor,
                    severity=s.severity_from_number(alert.severity, scale="suricata"),
                    rule_id=None if alert.signature_id is None else str(alert.signature_id),
                    rule_name=s.cut(alert.signature, s.NAME),
                    src_ip=src,
                    src_port=s.port(eve.src_port),
                    dst_ip=s.ip(eve.dest_ip),
                    dst_port=s.port(eve.dest_port),
                    protocol=s.cut(eve.proto, 16),
                    direction=networks.direction(src),
                    category=s.cut(alert.category, s.SHORT),
                    action=action[:16] if action else None,
                )
            )
            return out
        if flows and kind in ("flow", "netflow"):
            src = s.ip(eve.src_ip)
            if src is None:
                return []
            ctx.why(f"EVE {kind} → a connection for the scan detector")
            observed = _observed(eve.timestamp, ctx, [])
            return [
                Connection(
                    at=_epoch(observed),
                    src_ip=src,
                    dst_ip=s.ip(eve.dest_ip),
                    dst_port=s.port(eve.dest_port),
                    protocol=s.cut(eve.proto, 16),
                    product=product,
                    vendor=vendor,
                )
            ]
        if kind is None:
            raise Malformed("no event_type")
        ctx.why(f"EVE {kind}: not an alert")
        return [Dropped(f"EVE event_type {kind!r} is not an alert")]

    return mapper


# --- ModSecurity JSON audit log ------------------------------------------------------------

_MODSEC_V2_FIELD = re.compile(r'\[(id|msg|severity|tag) "((?:[^"\\]|\\.)*)"\]')
_MODSEC_SEVERITY = {
    "0": "critical",
    "1": "critical",
    "2": "high",
    "3": "medium",
    "4": "low",
    "5": "info",
    "6": "info",
    "7": "info",
    "EMERGENCY": "critical",
    "ALERT": "critical",
    "CRITICAL": "high",
    "ERROR": "medium",
    "WARNING": "low",
    "NOTICE": "info",
}


@lru_cache(maxsize=4096)
def _modsec_stamp(value: str, tz: tzinfo) -> str | None:
    for fmt in ("%a %b %d %H:%M:%S %Y", "%d/%b/%Y:%H:%M:%S.%f %z", "%d/%b/%Y:%H:%M:%S %z"):
        try:
            parsed = datetime.strptime(value.strip(), fmt)  # noqa: DTZ007 - zone below
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=tz)
        return parsed.isoformat()
    return None


def _modsec_time(value: Any, ctx: MapContext, out: list[Item]) -> str:
    if isinstance(value, str):
        stamp = _modsec_stamp(value, ctx.tz)  # one string per second: cached
        if stamp is not None:
            return stamp
    return _observed(value, ctx, out, "time_stamp")


# The Apache / nginx error-log line ModSecurity writes for each rule match:
#   [Mon Dec 23 13:12:31 2013] [error] [client 173.255.225.101] ModSecurity: … [id "960015"]
#   … Access denied with code 403 (phase 2). … [uri "/"] [unique_id "…"]
#   2019/02/07 13:30:12 [error] 7741#7741: *12 [client 1.2.3.4] ModSecurity: … , client: …,
#   request: "GET /x HTTP/1.1", host: "example.org"
_ERRLOG_FIELD = re.compile(r'\[(\w+) "((?:[^"\\]|\\.)*)"\]')
_ERRLOG_APACHE_TIME = re.compile(
    r"^\[(?P<time>\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4})\]"
)
_ERRLOG_NGINX_TIME = re.compile(r"^(?P<time>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) ")
_ERRLOG_CLIENT = re.compile(r"\[client (?P<ip>[0-9A-Fa-f:.]+?)(?::(?P<port>\d+))?\]")
_ERRLOG_DENIED = re.compile(
    r"Access denied with (?:code|connection close|redirection to \S+ using status)"
    r" ?\(?(?P<code>\d{3})?"
)
_PRODUCER_URL = re.compile(r"\s*\(https?://[^)]*\)")
_ERRLOG_REQUEST = re.compile(r'request: "(?P<method>[A-Z]+) (?P<url>\S+)')
_ERRLOG_HOST = re.compile(r'host: "(?P<host>[^"]+)"')


def _errlog_time(line: str, ctx: MapContext, out: list[Item]) -> str:
    match = _ERRLOG_APACHE_TIME.match(line)
    if match:
        text = " ".join(match.group("time").split())
        for fmt in ("%a %b %d %H:%M:%S.%f %Y", "%a %b %d %H:%M:%S %Y"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=ctx.tz).isoformat()
            except ValueError:
                continue
    match = _ERRLOG_NGINX_TIME.match(line)
    if match:
        try:
            parsed = datetime.strptime(match.group("time"), "%Y/%m/%d %H:%M:%S")  # noqa: DTZ007
            return parsed.replace(tzinfo=ctx.tz).isoformat()
        except ValueError:
            pass
    out.append(NoEventTime("the error-log line has no time the agent reads"))
    return s.now_rfc3339()


def _rank(severity: str) -> int:
    return s.SEVERITIES.index(severity)


def _denied_status(texts: Any) -> str | None:
    """The status ModSecurity answered when it intercepted the request, from its own words:
    "Access denied with code 403 (phase 2)" (v2's `audit_data.action.message` and `messages`,
    a v3 message's text); "connection close" has no code and counts as 403."""
    for text in texts:
        if isinstance(text, str) and "Access denied" in text:
            denied = _ERRLOG_DENIED.search(text)
            if denied:
                return denied.group("code") or "403"
    return None


def _modsec_version(producer: Any) -> str | None:
    """ModSecurity's own signature: v3 `producer.modsecurity` ("ModSecurity v3.0.12 (Linux)",
    else the connector's); v2 `audit_data.producer`, a string, or a list whose first item is
    ModSecurity's and the rest the components' ("OWASP_CRS/3.3.5"), its URL left out."""
    if isinstance(producer, dict):
        producer = producer.get("modsecurity") or producer.get("connector")
    elif isinstance(producer, list):
        producer = producer[0] if producer else None
    if not isinstance(producer, str) or not producer.strip():
        return None
    return _PRODUCER_URL.sub("", producer).strip()


# The v3 record as the fast path reads it: only the fields the signal needs (msgspec skips the
# rest without building it). Any record that does not fit these shapes (v2, a string where an
# object should be, …) is read again by the general path, which decides exactly as before.


class _MsHeaders(msgspec.Struct):
    Host: Any = None
    host: Any = None


class _MsRequest(msgspec.Struct):
    uri: Any = None
    method: Any = None
    headers: _MsHeaders | None = None


class _MsResponse(msgspec.Struct):
    http_code: Any = None


class _MsProducer(msgspec.Struct):
    modsecurity: Any = None
    connector: Any = None


class _MsDetails(msgspec.Struct):
    ruleId: Any = None  # ModSecurity's name
    severity: Any = ""
    match: Any = None
    data: Any = None


class _MsMessage(msgspec.Struct):
    message: Any = None
    details: _MsDetails | None = None


class _MsTransaction(msgspec.Struct):
    client_ip: Any = None
    time_stamp: Any = None
    client_port: Any = None
    host_ip: Any = None
    host_port: Any = None
    request: _MsRequest | None = None
    response: _MsResponse | None = None
    producer: _MsProducer | None = None
    messages: list[_MsMessage] | None = None


class _MsRecord(msgspec.Struct):
    transaction: _MsTransaction | None = None
    audit_data: Any = msgspec.UNSET  # present: v2, the general path
    request: Any = msgspec.UNSET  # present: maybe v2 (`request_line`), the general path


_modsec_v3 = msgspec.json.Decoder(_MsRecord)


def modsecurity(ctx: MapContext) -> Mapper:
    """ModSecurity audit log, JSON format (v3 `transaction{…messages}`; v2 `audit_data`) → waf
    (R67.8.2). A transaction without rule messages is not an attack and yields nothing."""
    product = ctx.options.get("product", "ModSecurity")
    vendor = ctx.options.get("vendor", "OWASP")
    networks = ctx.networks
    severities = _MODSEC_SEVERITY
    rank = {name: n for n, name in enumerate(s.SEVERITIES)}

    def mapper(line: bytes) -> list[Item]:
        if not line.lstrip().startswith(b"{"):
            return _error_log(line.decode("utf-8", "replace"))
        try:
            record = _modsec_v3.decode(line)
        except msgspec.DecodeError:
            return _general(line)
        tx = record.transaction
        if tx is None:
            raise Malformed("no transaction object")
        if record.audit_data is not msgspec.UNSET or record.request is not msgspec.UNSET:
            return _general(line)
        best: tuple[str, Any, Any] | None = None
        best_rank = -1
        for message in tx.messages or ():
            details = message.details
            if details is None:
                sev, rule_id = "medium", None
            else:
                sev = severities.get(str(details.severity).upper(), "medium")
                rule_id = details.ruleId
            if rank[sev] > best_rank:
                best, best_rank = (sev, rule_id, message.message), rank[sev]
        if best is None:
            ctx.why("a transaction without rule messages: not an attack")
            return [Dropped("a ModSecurity transaction without rule messages")]
        request = tx.request
        headers = request.headers if request is not None else None
        response = tx.response
        texts = [
            text
            for message in tx.messages or ()
            for text in (
                message.message,
                *((message.details.match, message.details.data) if message.details else ()),
            )
        ]
        status = _denied_status(texts) or (response.http_code if response is not None else None)
        producer = tx.producer
        version = (
            _modsec_version({"modsecurity": producer.modsecurity, "connector": producer.connector})
            if producer is not None
            else None
        )
        out: list[Item] = []
        made: list[Item] = [
            _waf(
                observed=_modsec_time(tx.time_stamp, ctx, out),
                severity=best[0],
                rule_id=best[1],
                rule_name=best[2],
                src=tx.client_ip,
                src_port=tx.client_port,
                dst=tx.host_ip,
                dst_port=tx.host_port,
                url=request.uri if request is not None else None,
                method=request.method if request is not None else None,
                host=(headers.Host or headers.host) if headers is not None else None,
                status=status,
                version=version,
            )
        ]
        return out + made  # a NoEventTime first when the time was missing

    def _general(line: bytes) -> list[Item]:
        data = _decode_object(line)
        tx = data.get("transaction")
        if not isinstance(tx, dict):
            raise Malformed("no transaction object")
        if "audit_data" in data or "request_line" in (data.get("request") or {}):
            return _modsec_v2(data, tx)
        request = tx.get("request") or {}
        response = tx.get("response") or {}
        headers = request.get("headers") or {}
        messages = tx.get("messages") or []
        if not isinstance(messages, list):
            raise Malformed("messages is not a list")
        best: tuple[str, str | None, str | None] | None = None
        for message in messages:
            if not isinstance(message, dict):
                continue
            details = message.get("details") or {}
            sev = _MODSEC_SEVERITY.get(str(details.get("severity", "")).upper(), "medium")
            candidate = (sev, details.get("ruleId"), message.get("message"))
            if best is None or _rank(sev) > _rank(best[0]):
                best = candidate
        if best is None:
            ctx.why("a transaction without rule messages: not an attack")
            return [Dropped("a ModSecurity transaction without rule messages")]
        version = _modsec_version(tx.get("producer"))
        texts: list[Any] = []
        for message in messages:
            if isinstance(message, dict):
                details = message.get("details")
                texts.append(message.get("message"))
                if isinstance(details, dict):
                    texts += [details.get("match"), details.get("data")]
        status = _denied_status(texts) or response.get("http_code")
        host = headers.get("Host") or headers.get("host")
        out: list[Item] = []
        made: list[Item] = [
            _waf(
                observed=_modsec_time(tx.get("time_stamp"), ctx, out),
                severity=best[0],
                rule_id=best[1],
                rule_name=best[2],
                src=tx.get("client_ip"),
                src_port=tx.get("client_port"),
                dst=tx.get("host_ip"),
                dst_port=tx.get("host_port"),
                url=request.get("uri"),
                method=request.get("method"),
                host=host,
                status=status,
                version=version,
            )
        ]
        return out + made  # a NoEventTime first when the time was missing

    def _modsec_v2(data: dict[str, Any], tx: dict[str, Any]) -> list[Item]:
        request = data.get("request") or {}
        response = data.get("response") or {}
        audit = data.get("audit_data") or {}
        messages = audit.get("messages") or []
        best: tuple[str, str | None, str | None] | None = None
        for text in messages:
            if not isinstance(text, str):
                continue
            found = dict(_MODSEC_V2_FIELD.findall(text))
            sev = _MODSEC_SEVERITY.get(found.get("severity", "").upper(), "medium")
            if best is None or _rank(sev) > _rank(best[0]):
                best = (sev, found.get("id"), found.get("msg"))
        if best is None:
            ctx.why("a transaction without rule messages: not an attack")
            return [Dropped("a ModSecurity transaction without rule messages")]
        # An interception is `action.intercepted` with the words of the rule that denied
        # ("Access denied with code 403 (phase 2)"); the response may say otherwise (an
        # ErrorDocument's redirect, a body already sent), so ModSecurity's own code wins.
        action = audit.get("action")
        intercepted = isinstance(action, dict) and action.get("intercepted") is True
        status = _denied_status(
            [action.get("message") if isinstance(action, dict) else None, *messages]
        )
        if status is None and intercepted:
            code = s.port(response.get("status"))
            status = str(code) if code is not None and code >= 400 else "403"
        if status is None:
            status = response.get("status")
        method, _, rest = str(request.get("request_line", "")).partition(" ")
        url = rest.rsplit(" ", 1)[0] if " HTTP/" in rest else rest
        headers = request.get("headers") or {}
        out: list[Item] = []
        made: list[Item] = [
            _waf(
                observed=_modsec_time(tx.get("time"), ctx, out),
                severity=best[0],
                rule_id=best[1],
                rule_name=best[2],
                src=tx.get("remote_address"),
                src_port=tx.get("remote_port"),
                dst=tx.get("local_address"),
                dst_port=tx.get("local_port"),
                url=url,
                method=method,
                host=headers.get("Host") or headers.get("host"),
                status=status,
                version=_modsec_version(audit.get("producer")),
            )
        ]
        return out + made  # a NoEventTime first when the time was missing

    def _error_log(line: str) -> list[Item]:
        at = line.find("ModSecurity:")
        if at < 0:
            ctx.why("an error-log line that is not ModSecurity's")
            return [Dropped("an error-log line without ModSecurity:")]
        text = line[at:]
        found: dict[str, str] = {}
        for key, value in _ERRLOG_FIELD.findall(text):
            found.setdefault(key, value)
        if "id" not in found and "msg" not in found:
            ctx.why("a ModSecurity line without a rule id or message (engine notice)")
            return [Dropped("a ModSecurity line without a rule id or message")]
        out: list[Item] = []
        observed = _errlog_time(line, ctx, out)
        client = _ERRLOG_CLIENT.search(line)
        denied = _ERRLOG_DENIED.search(text)
        status = (denied.group("code") or "403") if denied else None
        request = _ERRLOG_REQUEST.search(text)
        host = _ERRLOG_HOST.search(text)
        ctx.why(
            "ModSecurity error-log rule match"
            + (f", access denied with {status}" if status else ", detection only")
            + " → waf"
        )
        out.append(
            _waf(
                observed=observed,
                severity=severities.get(found.get("severity", "").upper(), "medium"),
                rule_id=found.get("id"),
                rule_name=found.get("msg"),
                src=client.group("ip") if client else None,
                src_port=client.group("port") if client else None,
                dst=None,
                dst_port=None,
                url=found.get("uri") or (request.group("url") if request else None),
                method=request.group("method") if request else None,
                host=found.get("hostname") or (host.group("host") if host else None),
                status=status,
                version=None,
            )
        )
        return out

    def _waf(
        *,
        observed: str,
        severity: str,
        rule_id: Any,
        rule_name: Any,
        src: Any,
        src_port: Any,
        dst: Any,
        dst_port: Any,
        url: Any,
        method: Any,
        host: Any,
        status: Any,
        version: Any,
    ) -> s.WafSignal:
        src_ip = s.ip(src) if isinstance(src, str) else None
        code = s.port(status)
        name = s.cut(rule_name, s.NAME)
        return s.WafSignal(
            id=s.new_id(),
            observed_at=observed,
            product=product,
            vendor=vendor,
            product_version=s.cut(version, s.SHORT),
            sensor=ctx.sensor,
            severity=severity,
            rule_id=s.cut(rule_id, s.SHORT),
            rule_name=name,
            src_ip=src_ip,
            src_port=s.port(src_port),
            dst_ip=s.ip(dst) if isinstance(dst, str) else None,
            dst_port=s.port(dst_port),
            protocol="tcp",
            direction=networks.direction(src_ip),
            url=s.cut(url, s.TEXT) or "/",
            method=s.cut(method, 16),
            host=s.cut(host, 255),
            status=code if code is not None and 100 <= code <= 599 else None,
            matched_rule=name,
        )

    return mapper


# --- Wazuh alerts.json ---------------------------------------------------------------------

_HEX = re.compile(r"^[0-9a-fA-F]+$")


def _hash(value: Any, length: int) -> str | None:
    if isinstance(value, str) and len(value) == length and _HEX.match(value):
        return value.lower()
    return None


@dataclass
class WazuhRule:
    kind: str
    label: str = ""
    groups: frozenset[str] = frozenset()
    rule_id: re.Pattern[str] | None = None
    where: dict[str, re.Pattern[str]] = field(default_factory=dict)
    min_level: int | None = None
    fields: dict[str, str] = field(default_factory=dict)
    origin: str = ""

    def matches(self, data: dict[str, Any], groups: set[str], rule_id: str) -> bool:
        if self.groups and not self.groups & groups:
            return False
        if self.rule_id is not None and not self.rule_id.search(rule_id):
            return False
        for path, pattern in self.where.items():
            value = _path(data, path)
            if value is None or not pattern.search(str(value)):
                return False
        return True

    def describe(self) -> str:
        return f"{self.origin} ({self.label})" if self.label else self.origin


def wazuh_rules(options: dict[str, Any]) -> list[WazuhRule]:
    """The input's own `[[inputs.rules]]`, then (unless `default_rules = false`) the shipped."""
    raw: list[tuple[str, list[dict[str, Any]]]] = [("configured rule", options.get("rules") or [])]
    if options.get("default_rules", True):
        raw.append(("shipped rule", shipped()["wazuh"]))
    rules = []
    for origin, items in raw:
        for number, item in enumerate(items, 1):
            rules.append(
                WazuhRule(
                    kind=str(item["kind"]),
                    label=str(item.get("label", "")),
                    groups=frozenset(str(g).lower() for g in item.get("groups") or ()),
                    rule_id=re.compile(str(item["rule_id"])) if "rule_id" in item else None,
                    where={
                        str(k): re.compile(str(v), re.IGNORECASE)
                        for k, v in (item.get("where") or {}).items()
                    },
                    min_level=item.get("min_level"),
                    fields={str(k): str(v) for k, v in (item.get("fields") or {}).items()},
                    origin=f"{origin} {number}",
                )
            )
    return rules


def _defender_path(value: str) -> str:
    """Defender's `file:_C:\\x.exe; webfile:_…|url|pid:…` → `C:\\x.exe`."""
    first = value.split(";", 1)[0].split("|", 1)[0].strip()
    for prefix in ("file:_", "webfile:_", "containerfile:_"):
        if first.startswith(prefix):
            first = first[len(prefix) :]
    return first.replace("\\\\", "\\")


def wazuh(ctx: MapContext) -> Mapper:
    """Wazuh alerts.json, mapped by what the alert is — its rule groups and id (rules as data,
    shipped defaults in default_rules.toml) — never by its level alone: VirusTotal and
    Microsoft Defender detections → malware (R67.8.4), repeated authentication failures →
    brute_force (R67.8.7), single failures → the agent's detectors, rootcheck → endpoint
    (R67.8.3), web attacks → waf; vulnerability-detector findings (inventory) and every alert no
    rule knows are dropped and counted. Signals below `min_level` (default 7) are dropped too."""
    min_level = int(ctx.options.get("min_level", 7))
    product = ctx.options.get("product", "Wazuh")
    vendor = ctx.options.get("vendor", "Wazuh")
    networks = ctx.networks
    rules = wazuh_rules(ctx.options)

    def mapper(line: bytes) -> list[Item]:
        data = _decode_object(line)
        rule = data.get("rule")
        if not isinstance(rule, dict):
            raise Malformed("no rule object")
        try:
            level = int(rule.get("level", 0))
        except (TypeError, ValueError):
            raise Malformed("rule.level is not a number") from None
        groups = {str(g).lower() for g in rule.get("groups") or []}
        rule_id = str(rule.get("id", ""))
        chosen = next((r for r in rules if r.matches(data, groups, rule_id)), None)
        description = s.cut(rule.get("description"), s.NAME) or "Wazuh rule"
        if chosen is None:
            why = (
                f"no rule for Wazuh rule {rule_id} (groups {', '.join(sorted(groups)) or 'none'}): "
                "not sent (add a rule to map it)"
            )
            ctx.why(why)
            return [Dropped(why)]
        kind = chosen.kind
        if kind == "ignore":
            why = f"{chosen.describe()}: not an attack"
            ctx.why(why)
            return [Dropped(why)]
        floor = chosen.min_level if chosen.min_level is not None else min_level
        if kind != "auth_failure" and level < floor:
            why = f"{chosen.describe()}, but level {level} is below min_level {floor}"
            ctx.why(why)
            return [Dropped(why)]
        ctx.why(f"{chosen.describe()} → {kind}")
        agent: dict[str, Any] = data["agent"] if isinstance(data.get("agent"), dict) else {}

        def pick(name: str, *defaults: str) -> Any:
            for path in (chosen.fields.get(name), *defaults):
                if path:
                    value = _path(data, path)
                    if value not in (None, "", []):
                        return value
            return None

        out: list[Item] = []
        observed = _observed(data.get("timestamp"), ctx, out)
        src = s.ip(str(pick("src_ip", "data.srcip", "data.src_ip") or "")) or None
        user = pick("user", "data.dstuser", "data.srcuser", "data.win.eventdata.targetUserName")
        if kind == "auth_failure":
            if not user:
                raise Malformed("an authentication failure without a user (data.dstuser)")
            return [AuthFailure(_epoch(observed), str(user)[:256], src, product, vendor)]
        file_name = pick("file_name", "syscheck.path", "data.file", "data.filename", "data.title")
        if isinstance(file_name, str) and ("file:_" in file_name or "webfile:_" in file_name):
            file_name = _defender_path(file_name)
        hashes: dict[str, Any] = {
            "md5": _hash(pick("md5", "syscheck.md5_after"), 32),
            "sha1": _hash(pick("sha1", "syscheck.sha1_after"), 40),
            "sha256": _hash(pick("sha256", "syscheck.sha256_after"), 64),
        }
        host = s.cut(agent.get("name"), 255)
        detection = s.cut(pick("detection"), s.NAME) or description
        common: dict[str, Any] = {
            "id": s.new_id(),
            "observed_at": observed,
            "product": product,
            "vendor": vendor,
            "product_version": s.cut(pick("product_version"), s.SHORT),
            "sensor": s.cut((data.get("manager") or {}).get("name"), s.SHORT) or ctx.sensor,
            "severity": s.severity_from_number(level, scale="wazuh"),
            "rule_id": s.cut(rule_id, s.SHORT),
            "rule_name": description,
            "src_ip": src,
            "direction": networks.direction(src),
        }
        name = s.cut(file_name, s.TEXT)
        if kind == "malware" and name:
            out.append(
                s.MalwareSignal(file_name=name, host=host, detection=detection, **hashes, **common)
            )
        elif kind in ("malware", "endpoint"):
            out.append(
                s.EndpointSignal(
                    host=host or ctx.sensor or "unknown",
                    detection=detection,
                    file_name=name,
                    user=s.cut(user, 128),
                    **hashes,
                    **common,
                )
            )
        elif kind == "brute_force":
            if not user:
                raise Malformed("a brute-force alert without a user (data.dstuser)")
            attempts = rule.get("frequency") or rule.get("firedtimes") or 1
            out.append(
                s.BruteForceSignal(
                    target_account=str(user)[:256],
                    attempts=max(1, int(attempts)) if str(attempts).isdigit() else 1,
                    **common,
                )
            )
        elif kind == "waf":
            status = s.port(pick("status"))
            method = pick("method")
            out.append(
                s.WafSignal(
                    url=s.cut(pick("url", "data.url"), s.TEXT) or "/",
                    method=s.cut(method, 16)
                    if isinstance(method, str) and method.isalpha()
                    else None,
                    status=status if status is not None and 100 <= status <= 599 else None,
                    matched_rule=description,
                    **common,
                )
            )
        elif kind == "ids":
            out.append(s.IdsSignal(category=s.cut(", ".join(sorted(groups)), s.SHORT), **common))
        else:
            cls = s.SIGNAL_TYPES[kind]
            try:
                out.append(cls(**common))  # type: ignore[arg-type]
            except TypeError as exc:
                raise Malformed(f"cannot make a {kind} signal from this alert: {exc}") from None
        return out

    return mapper


# --- ClamAV log lines ----------------------------------------------------------------------

_CLAM_TIME = re.compile(r"^(?P<time>\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}) -> ")
_SYSLOG_3164 = re.compile(r"^(?P<time>\w{3} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) (?P<tag>[^:]+): ")
_ISO_PREFIX = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r" (?P<host>\S+) (?P<tag>[^:]+): "
)


def _bsd_time(text: str, tz: tzinfo) -> datetime | None:
    """An RFC 3164 stamp ("Nov 22 10:00:00") has no year: the year that puts it nearest now."""
    now = datetime.now(tz)
    try:
        parsed = datetime.strptime(f"{now.year} {' '.join(text.split())}", "%Y %b %d %H:%M:%S")  # noqa: DTZ007
    except ValueError:
        return None
    parsed = parsed.replace(tzinfo=tz)
    if (parsed - now).days > 31:  # December's line read in January
        parsed = parsed.replace(year=now.year - 1)
    return parsed


def log_prefix(line: str, tz: tzinfo) -> tuple[str | None, str | None, str]:
    """(time, host, rest) of a syslog-file line; time as RFC 3339."""
    match = _SYSLOG_3164.match(line)
    if match:
        at = _bsd_time(match.group("time"), tz)
        return (at.isoformat() if at else None, match.group("host"), line[match.end() :])
    match = _ISO_PREFIX.match(line)
    if match:
        return s.timestamp(match.group("time"), tz), match.group("host"), line[match.end() :]
    return None, None, line


def clamav(ctx: MapContext) -> Mapper:
    """ClamAV (clamd log, clamscan output, syslog) `path: Signature FOUND` → malware (R67.8.4)."""
    product = ctx.options.get("product", "ClamAV")
    vendor = ctx.options.get("vendor", "Cisco Talos")

    def mapper(line: bytes) -> list[Item]:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("latin-1")
        text = text.rstrip()
        if not text.endswith(" FOUND"):
            return []
        observed = None
        host = None
        match = _CLAM_TIME.match(text)
        if match:
            try:
                observed = (
                    datetime.strptime(" ".join(match.group("time").split()), "%a %b %d %H:%M:%S %Y")
                    .replace(tzinfo=ctx.tz)
                    .isoformat()
                )
            except ValueError:
                observed = None
            text = text[match.end() :]
        else:
            observed, host, text = log_prefix(text, ctx.tz)
        body = text[: -len(" FOUND")]
        path, sep, detection = body.rpartition(": ")
        if not sep or not path.strip() or not detection.strip():
            raise Malformed("a FOUND line without `path: signature`")
        ctx.why("ClamAV FOUND → malware")
        out: list[Item] = []
        if observed is None:
            out.append(NoEventTime("the ClamAV line has no time (clamscan output)"))
        made: list[Item] = [
            s.MalwareSignal(
                id=s.new_id(),
                observed_at=observed or s.now_rfc3339(),
                product=product,
                vendor=vendor,
                sensor=ctx.sensor,
                severity=str(ctx.options.get("severity", "high")),
                rule_name=s.cut(detection, s.NAME),
                file_name=s.cut(path, s.TEXT) or path,
                detection=s.cut(detection, s.NAME) or detection,
                host=s.cut(host or ctx.sensor, 255),
            )
        ]
        return out + made  # a NoEventTime first when the time was missing

    return mapper


# --- JSON lines with a configured field mapping --------------------------------------------

_LIST_FIELDS = frozenset({"urls", "attachment_hashes", "ports", "targets", "accounts"})
_INT_FIELDS = frozenset(
    {
        "src_port",
        "dst_port",
        "count",
        "status",
        "recipient_count",
        "port_count",
        "target_count",
        "attempts",
        "account_count",
    }
)
_TIME_FIELDS = frozenset({"observed_at", "first_seen", "last_seen"})


def _path(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _coerce(name: str, value: Any, ctx: MapContext) -> Any:
    if value is None or value == "" or value == []:
        return None
    if name in _TIME_FIELDS:
        return s.timestamp(value, ctx.tz)
    if name in _INT_FIELDS:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if name in ("src_ip", "dst_ip"):
        return s.ip(str(value))
    if name in _LIST_FIELDS:
        items = value if isinstance(value, list) else [v for v in str(value).split(",") if v]
        if name == "ports":
            return [p for p in (s.port(v) for v in items) if p is not None][:1000]
        if name == "targets":
            return [a for a in (s.ip(str(v)) for v in items) if a][:1000]
        if name == "attachment_hashes":
            return [str(v).strip().lower() for v in items][:50]
        return [str(v).strip()[: s.TEXT] for v in items if str(v).strip()][:50]
    if name == "severity":
        return s.severity_from_number(value, scale="cef")
    if name == "sender" and isinstance(value, str):
        # "Name <user@host>" → user@host
        start, end = value.find("<"), value.rfind(">")
        return value[start + 1 : end].strip() if 0 <= start < end else value.strip()
    limit = s.NAME if name in ("rule_name", "detection", "matched_rule") else s.TEXT
    if name in ("host", "method", "protocol", "action", "user", "product", "vendor", "sensor"):
        limit = {"host": 255, "method": 16, "protocol": 16, "action": 16}.get(name, s.SHORT)
    if name in ("rule_id", "category", "product_version"):
        limit = s.SHORT
    return s.cut(value, limit)


def jsonl(ctx: MapContext) -> Mapper:
    """One JSON object per line, mapped by the configuration: `kind`, `fields` (signal field →
    dotted path in the record), `constants` (fixed values) and `match` (path → required value;
    records that do not match are not events). Typically a mail gateway's phishing verdicts."""
    kind = str(ctx.options["kind"])
    cls = s.SIGNAL_TYPES[kind]
    fields: dict[str, str] = dict(ctx.options.get("fields") or {})
    constants: dict[str, Any] = dict(ctx.options.get("constants") or {})
    match: dict[str, Any] = dict(ctx.options.get("match") or {})
    constants.setdefault("product", "JSON lines")
    constants.setdefault("vendor", "unknown")
    networks = ctx.networks

    def mapper(line: bytes) -> list[Item]:
        data = _decode_object(line)
        for path, wanted in match.items():
            got = _path(data, path)
            if got not in wanted if isinstance(wanted, list) else got != wanted:
                ctx.why(f"{path} is {got!r}, not {wanted!r}: not an event")
                return [Dropped(f"{path} does not match")]
        values: dict[str, Any] = {}
        for name, value in constants.items():
            values[name] = value
        for name, path in fields.items():
            coerced = _coerce(name, _path(data, path), ctx)
            if coerced is not None:
                values[name] = coerced
        values["id"] = s.new_id()
        out: list[Item] = []
        if "observed_at" not in values:
            where = fields.get("observed_at")
            out.append(
                NoEventTime(
                    f"{where} is missing or not a time"
                    if where
                    else "no field is mapped to observed_at"
                )
            )
            values["observed_at"] = s.now_rfc3339()
        values.setdefault("sensor", ctx.sensor)
        if "direction" not in values and values.get("src_ip"):
            values["direction"] = networks.direction(values["src_ip"])
        values = {k: v for k, v in values.items() if v is not None}
        try:
            signal: s.Signal = cls(**values)  # type: ignore[assignment]
        except TypeError as exc:
            raise Malformed(f"cannot make a {kind} signal: {exc}") from None
        ctx.why(f"matched the input's mapping → {kind}")
        out.append(signal)
        return out

    return mapper


# --- authentication logs (detectors only) --------------------------------------------------

_SSHD_FAILED = re.compile(
    r"Failed (?:password|publickey|keyboard-interactive/pam|none) for (?:invalid user )?"
    r"(?P<user>.*?) from (?P<ip>[0-9A-Fa-f:.]+) port (?P<port>\d+)"
)


def sshd(ctx: MapContext) -> Mapper:
    """OpenSSH `Failed password for [invalid user] X from IP port N ssh2` → brute-force and
    spraying detectors (R67.8.7, R67.8.8)."""
    product = ctx.options.get("product", "OpenSSH")
    vendor = ctx.options.get("vendor", "OpenBSD")

    def mapper(line: bytes) -> list[Item]:
        text = line.decode("utf-8", "replace")
        if "Failed " not in text:
            return []
        match = _SSHD_FAILED.search(text)
        if match is None:
            return []
        observed, _host, _rest = log_prefix(text, ctx.tz)
        at = _epoch(observed) if observed else time.time()
        return [
            AuthFailure(
                at=at,
                account=match.group("user")[:256] or "?",
                src_ip=s.ip(match.group("ip")),
                product=product,
                vendor=vendor,
            )
        ]

    return mapper


_DOTNET_DATE = re.compile(r"/Date\((?P<ms>-?\d+)(?:[+-]\d{4})?\)/")


def windows_4625(ctx: MapContext) -> Mapper:
    """Windows Security event 4625 (an account failed to log on) exported as JSON — flat
    (NXLog), Winlogbeat (`winlog.event_data`) or PowerShell (`Id`, `Properties`) — → the
    brute-force and spraying detectors."""
    product = ctx.options.get("product", "Windows Security")
    vendor = ctx.options.get("vendor", "Microsoft")

    def mapper(line: bytes) -> list[Item]:
        data = _decode_object(line)
        winlog: dict[str, Any] = data["winlog"] if isinstance(data.get("winlog"), dict) else {}
        event_id = data.get("EventID", data.get("Id", winlog.get("event_id")))
        if isinstance(event_id, dict):  # some exports nest {"value": 4625}
            event_id = event_id.get("value")
        try:
            if int(str(event_id)) != 4625:
                return []
        except ValueError:
            raise Malformed("EventID is not a number") from None
        event_data = winlog.get("event_data") or data.get("EventData") or data
        if not isinstance(event_data, dict):
            raise Malformed("event data is not an object")
        user = event_data.get("TargetUserName")
        address = event_data.get("IpAddress")
        properties = data.get("Properties")
        if user is None and isinstance(properties, list) and len(properties) > 19:
            values = [p.get("Value") if isinstance(p, dict) else p for p in properties]
            user, address = values[5], values[19]
        if not user:
            raise Malformed("4625 without TargetUserName")
        domain = event_data.get("TargetDomainName")
        account = f"{domain}\\{user}" if domain and domain not in ("-", ".") else str(user)
        stamp = data.get("TimeCreated", data.get("@timestamp", data.get("EventTime")))
        if isinstance(stamp, dict):
            stamp = stamp.get("SystemTime")
        at = None
        if isinstance(stamp, str):
            dotnet = _DOTNET_DATE.match(stamp)
            if dotnet:
                at = int(dotnet.group("ms")) / 1000
            else:
                observed = s.timestamp(stamp, ctx.tz)
                at = _epoch(observed) if observed else None
        return [
            AuthFailure(
                at=at if at is not None else time.time(),
                account=account[:256],
                src_ip=s.ip(address) if isinstance(address, str) else None,
                product=product,
                vendor=vendor,
            )
        ]

    return mapper


FACTORIES: dict[str, Callable[[MapContext], Mapper]] = {
    "suricata_eve": suricata_eve,
    "modsecurity": modsecurity,
    "wazuh": wazuh,
    "clamav": clamav,
    "jsonl": jsonl,
    "sshd": sshd,
    "windows_4625": windows_4625,
}
