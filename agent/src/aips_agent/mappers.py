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
from aips_agent.events import AuthFailure, Connection, Malformed

Item = s.Signal | AuthFailure | Connection
Mapper = Callable[[bytes], list[Item]]


@dataclass
class MapContext:
    sensor: str | None = None
    tz: tzinfo = UTC
    networks: s.Networks = field(default_factory=s.Networks)
    options: dict[str, Any] = field(default_factory=dict)


def _epoch(observed: str) -> float:
    try:
        return datetime.fromisoformat(observed).timestamp()
    except ValueError:
        return time.time()


def _observed(value: Any, ctx: MapContext) -> str:
    return s.timestamp(value, ctx.tz) or s.now_rfc3339()


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
            return [
                s.IdsSignal(
                    id=s.new_id(),
                    observed_at=_observed(eve.timestamp, ctx),
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
            ]
        if flows and kind in ("flow", "netflow"):
            src = s.ip(eve.src_ip)
            if src is None:
                return []
            observed = _observed(eve.timestamp, ctx)
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
        return []

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


def _modsec_time(value: Any, ctx: MapContext) -> str:
    if isinstance(value, str):
        stamp = _modsec_stamp(value, ctx.tz)  # one string per second: cached
        if stamp is not None:
            return stamp
    return _observed(value, ctx)


def _rank(severity: str) -> int:
    return s.SEVERITIES.index(severity)


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


class _MsDetails(msgspec.Struct):
    ruleId: Any = None  # ModSecurity's name
    severity: Any = ""


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
            return []
        request = tx.request
        headers = request.headers if request is not None else None
        response = tx.response
        return [
            _waf(
                observed=_modsec_time(tx.time_stamp, ctx),
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
                status=response.http_code if response is not None else None,
                version=tx.producer.modsecurity if tx.producer is not None else None,
            )
        ]

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
            return []
        version = None
        producer = tx.get("producer")
        if isinstance(producer, dict):
            version = producer.get("modsecurity")
        host = headers.get("Host") or headers.get("host")
        return [
            _waf(
                observed=_modsec_time(tx.get("time_stamp"), ctx),
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
                status=response.get("http_code"),
                version=version,
            )
        ]

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
            return []
        method, _, rest = str(request.get("request_line", "")).partition(" ")
        url = rest.rsplit(" ", 1)[0] if " HTTP/" in rest else rest
        headers = request.get("headers") or {}
        return [
            _waf(
                observed=_modsec_time(tx.get("time"), ctx),
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
                status=response.get("status"),
                version=audit.get("producer") if isinstance(audit.get("producer"), str) else None,
            )
        ]

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

_MALWARE_GROUPS = frozenset({"virustotal", "malware", "virus", "yara", "clamd", "trojan"})
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def _hash(value: Any, length: int) -> str | None:
    if isinstance(value, str) and len(value) == length and _HEX.match(value):
        return value.lower()
    return None


def wazuh(ctx: MapContext) -> Mapper:
    """Wazuh alerts.json → endpoint (R67.8.3) or, for malware detections on a file, malware
    (R67.8.4). Alerts below `min_level` (default 7) are routine and yield nothing."""
    min_level = int(ctx.options.get("min_level", 7))
    product = ctx.options.get("product", "Wazuh")
    vendor = ctx.options.get("vendor", "Wazuh")
    networks = ctx.networks

    def mapper(line: bytes) -> list[Item]:
        data = _decode_object(line)
        rule = data.get("rule")
        if not isinstance(rule, dict):
            raise Malformed("no rule object")
        try:
            level = int(rule.get("level", 0))
        except (TypeError, ValueError):
            raise Malformed("rule.level is not a number") from None
        if level < min_level:
            return []
        groups = {str(g).lower() for g in rule.get("groups") or []}
        agent = data.get("agent") or {}
        payload = data.get("data") or {}
        syscheck = data.get("syscheck") or {}
        vt = payload.get("virustotal") if isinstance(payload, dict) else None
        source = vt.get("source") if isinstance(vt, dict) else None
        file_name = None
        md5 = sha1 = sha256 = None
        if isinstance(source, dict):
            file_name = source.get("file")
            md5, sha1 = _hash(source.get("md5"), 32), _hash(source.get("sha1"), 40)
        if isinstance(syscheck, dict) and syscheck:
            file_name = file_name or syscheck.get("path")
            md5 = md5 or _hash(syscheck.get("md5_after"), 32)
            sha1 = sha1 or _hash(syscheck.get("sha1_after"), 40)
            sha256 = _hash(syscheck.get("sha256_after"), 64)
        if isinstance(payload, dict):
            file_name = file_name or payload.get("file") or payload.get("filename")
        src = s.ip(payload.get("srcip")) if isinstance(payload, dict) else None
        host = s.cut(agent.get("name") if isinstance(agent, dict) else None, 255)
        detection = s.cut(rule.get("description"), s.NAME) or "Wazuh rule"
        common: dict[str, Any] = {
            "id": s.new_id(),
            "observed_at": _observed(data.get("timestamp"), ctx),
            "product": product,
            "vendor": vendor,
            "sensor": s.cut((data.get("manager") or {}).get("name"), s.SHORT) or ctx.sensor,
            "severity": s.severity_from_number(level, scale="wazuh"),
            "rule_id": s.cut(rule.get("id"), s.SHORT),
            "rule_name": detection,
            "src_ip": src,
            "direction": networks.direction(src),
            "detection": detection,
            "md5": md5,
            "sha1": sha1,
            "sha256": sha256,
        }
        name = s.cut(file_name, s.TEXT)
        if groups & _MALWARE_GROUPS and name:
            return [s.MalwareSignal(file_name=name, host=host, **common)]
        return [
            s.EndpointSignal(
                host=host or ctx.sensor or "unknown",
                file_name=name,
                user=s.cut(payload.get("dstuser") if isinstance(payload, dict) else None, 128),
                **common,
            )
        ]

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
        return [
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
            if isinstance(wanted, list):
                if got not in wanted:
                    return []
            elif got != wanted:
                return []
        values: dict[str, Any] = {}
        for name, value in constants.items():
            values[name] = value
        for name, path in fields.items():
            coerced = _coerce(name, _path(data, path), ctx)
            if coerced is not None:
                values[name] = coerced
        values["id"] = s.new_id()
        values.setdefault("observed_at", s.now_rfc3339())
        values.setdefault("sensor", ctx.sensor)
        if "direction" not in values and values.get("src_ip"):
            values["direction"] = networks.direction(values["src_ip"])
        values = {k: v for k, v in values.items() if v is not None}
        try:
            signal: s.Signal = cls(**values)  # type: ignore[assignment]
        except TypeError as exc:
            raise Malformed(f"cannot make a {kind} signal: {exc}") from None
        return [signal]

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
