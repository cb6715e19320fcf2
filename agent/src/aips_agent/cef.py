"""Syslog (RFC 3164, RFC 5424) carrying ArcSight CEF, as SIEMs forward it (ArcSight, QRadar,
KUMA, MaxPatrol SIEM …), and the CEF → signal mapping (R67.8).

CEF: `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Ext`.
In the header `\\|` and `\\\\` are escapes; in the extension `\\=`, `\\\\`, `\\n` and `\\r`. An
extension value runs to the next ` key=`."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from aips_agent import signals as s
from aips_agent.events import AuthFailure, Connection, Dropped, Malformed, NoEventTime
from aips_agent.mappers import Item, MapContext, Mapper, _bsd_time, _epoch
from aips_agent.rules import CEF_PATTERNS, CEF_TARGETS, shipped

_PRI = re.compile(rb"^<(\d{1,3})>")
_BSD = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d) ")


@dataclass(slots=True)
class SyslogMessage:
    facility: int | None
    severity: int | None
    timestamp: str | None  # RFC 3339
    host: str | None
    app: str | None
    message: str


def _skip_sd(text: str) -> str:
    """The text after RFC 5424 STRUCTURED-DATA (`-` or `[id k="v"]…`; `\\]` is an escape)."""
    if text.startswith("- "):
        return text[2:]
    if text == "-":
        return ""
    i = 0
    while i < len(text) and text[i] == "[":
        in_quotes = False
        i += 1
        while i < len(text):
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_quotes = not in_quotes
            elif ch == "]" and not in_quotes:
                break
            i += 1
        i += 1
    return text[i:].lstrip(" ")


def parse_syslog(raw: bytes, tz: tzinfo) -> SyslogMessage:
    """One syslog message. Without a `<PRI>` the whole text is the message (raw CEF over TCP)."""
    raw = raw.rstrip(b"\r\n\x00")
    facility = severity = None
    match = _PRI.match(raw)
    if match:
        pri = int(match.group(1))
        if pri > 191:
            raise Malformed("PRI out of range")
        facility, severity = divmod(pri, 8)
        raw = raw[match.end() :]
    text = raw.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if match and text[:2] == "1 ":
        # RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [MSG]
        parts = text.split(" ", 6)
        if len(parts) < 7:
            if len(parts) == 6:
                parts.append("-")
            else:
                raise Malformed("short RFC 5424 header")
        _version, stamp, host, app, _proc, _msgid, rest = parts
        message = _skip_sd(rest)
        if message.startswith("\ufeff"):
            message = message[1:]
        return SyslogMessage(
            facility,
            severity,
            None if stamp == "-" else s.timestamp(stamp, tz),
            None if host == "-" else host,
            None if app == "-" else app,
            message,
        )
    bsd = _BSD.match(text)
    if bsd:
        at = _bsd_time(bsd.group(1), tz)
        rest = text[bsd.end() :]
        sender: str | None = None
        if not rest.startswith("CEF:"):
            sender, _, rest = rest.partition(" ")
        tag: str | None = None
        head, sep, tail = rest.partition(": ")
        if sep and " " not in head and not head.startswith("CEF:"):
            tag, rest = head.split("[", 1)[0], tail
        return SyslogMessage(
            facility, severity, at.isoformat() if at else None, sender or None, tag, rest
        )
    return SyslogMessage(facility, severity, None, None, None, text)


_HEADER_UNESCAPE = re.compile(r"\\([\\|])")
_EXT_KEY = re.compile(r"(?:^|(?<= ))([A-Za-z0-9_.\[\]-]+)=")
_EXT_UNESCAPE = re.compile(r"\\([\\=nr])")
_EXT_MAP = {"\\": "\\", "=": "=", "n": "\n", "r": "\r"}


@dataclass(slots=True)
class Cef:
    version: str
    vendor: str
    product: str
    device_version: str
    signature_id: str
    name: str
    severity: str
    ext: dict[str, str]


def _split_header(text: str) -> list[str]:
    fast = text.split("|", 7)
    if not any("\\" in part for part in fast[:7]):
        return fast  # no escapes in the header: the common case
    parts: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n and len(parts) < 7:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "|":
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def parse_cef(text: str) -> Cef:
    at = text.find("CEF:")
    if at < 0:
        raise Malformed("no CEF: header")
    body = text[at + 4 :]
    parts = body.split("|", 7) if "\\" not in body else _split_header(body)
    if len(parts) < 8:
        raise Malformed("a CEF header has 7 fields separated by |")
    head = parts if "\\" not in body else [_HEADER_UNESCAPE.sub(r"\1", p) for p in parts[:7]]
    vendor_, product, version, signature, name, severity = head[1:7]
    return Cef(
        head[0], vendor_, product, version, signature, name, severity, parse_extension(parts[7])
    )


_KEY = re.compile(r"[A-Za-z0-9_.\[\]-]+")
_LABELLED = re.compile(r"(?:^| )([A-Za-z0-9_]+)Label=")


def parse_extension(text: str) -> dict[str, str]:
    ext = _split_extension(text) if "\\" not in text else _regex_extension(text)
    # Custom fields: cs7=/login cs7Label=URLPath (any csN, cnN, c6aN, …) → also under the label.
    if "Label=" in text:
        for value_key in _LABELLED.findall(text):
            label = ext.get(value_key + "Label")
            if label and value_key in ext:
                ext.setdefault(label, ext[value_key])
    return ext


_NEXT_KEY = re.compile(r" ([A-Za-z0-9_.\[\]-]+)=")


def _split_extension(text: str) -> dict[str, str]:
    """Fast path without escapes, one pass in C: the first key is the (stripped) text before the
    first `=`; after it, each ` key=` (a space, then only key characters up to the `=`) starts
    the next value (an unescaped `=` inside a URL stays in its value). Values lose trailing
    spaces. A first "key" that is not one goes to the regex reader."""
    first, sep, rest = text.partition("=")
    if not sep:
        return {}
    key = first.strip()
    if not _KEY.fullmatch(key):
        return _regex_extension(text)
    parts = _NEXT_KEY.split(rest)
    ext = {key: parts[0].rstrip(" ")}
    for i in range(1, len(parts), 2):
        ext[parts[i]] = parts[i + 1].rstrip(" ")
    return ext


def _regex_extension(text: str) -> dict[str, str]:
    ext: dict[str, str] = {}
    matches = list(_EXT_KEY.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : end].rstrip(" ")
        if "\\" in value:
            value = _EXT_UNESCAPE.sub(lambda m: _EXT_MAP[m.group(1)], value)
        ext[match.group(1)] = value
    return ext


# --- CEF → kind: rules as data ------------------------------------------------------------

TARGETS = CEF_TARGETS


@dataclass
class CefRule:
    kind: str
    label: str = ""
    vendor: re.Pattern[str] | None = None
    product: re.Pattern[str] | None = None
    category: re.Pattern[str] | None = None
    name: re.Pattern[str] | None = None
    signature_id: re.Pattern[str] | None = None
    ext: dict[str, re.Pattern[str]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    origin: str = ""  # "configured rule 2" / "shipped rule 14", for explain

    def matches(self, cef: Cef) -> bool:
        return self.matches_header(cef) and self.matches_ext(cef)

    def matches_header(self, cef: Cef) -> bool:
        pairs = (
            (self.vendor, cef.vendor),
            (self.product, cef.product),
            (self.category, cef.ext.get("cat", "")),
            (self.name, cef.name),
            (self.signature_id, cef.signature_id),
        )
        return all(p is None or p.search(v) for p, v in pairs)

    def matches_ext(self, cef: Cef) -> bool:
        return all(p.search(cef.ext.get(key, "")) for key, p in self.ext.items())

    def describe(self) -> str:
        return f"{self.origin} ({self.label})" if self.label else self.origin


def compile_rules(
    raw: Iterable[dict[str, Any]], *, origin: str = "configured rule"
) -> list[CefRule]:
    rules = []
    for number, item in enumerate(raw, 1):
        patterns = {
            key: re.compile(str(item[key]), re.IGNORECASE) for key in CEF_PATTERNS if key in item
        }
        rules.append(
            CefRule(
                kind=str(item["kind"]),
                label=str(item.get("label", "")),
                ext={
                    k: re.compile(str(v), re.IGNORECASE) for k, v in (item.get("ext") or {}).items()
                },
                fields={str(k): str(v) for k, v in (item.get("fields") or {}).items()},
                origin=f"{origin} {number}",
                **patterns,
            )
        )
    return rules


def rule_set(options: dict[str, Any]) -> list[CefRule]:
    """The input's rules in the order they are tried: its own, then (unless `default_rules =
    false`) the shipped ones."""
    rules = compile_rules(options.get("rules") or [])
    if options.get("default_rules", True):
        rules += compile_rules(shipped()["cef"], origin="shipped rule")
    return rules


def kind_of(
    cef: Cef,
    rules: list[CefRule],
    default: str = "ignore",
    cache: dict[tuple[str, ...], list[CefRule]] | None = None,
) -> tuple[str, CefRule | None]:
    """The kind for this event and the rule that decided it (None: no rule matched, `default`).
    With a cache (one per mapper), the rules whose header patterns fit are found once per
    vendor, product, category, name and signature id; only extension conditions are checked
    per event."""
    if cache is None:
        candidates = _candidates(cef, rules)
    else:
        key = (cef.vendor, cef.product, cef.ext.get("cat", ""), cef.name, cef.signature_id)
        found = cache.get(key)
        if found is None:
            if len(cache) > 50_000:
                cache.clear()
            found = cache[key] = _candidates(cef, rules)
        candidates = found
    for rule in candidates:
        if not rule.ext or rule.matches_ext(cef):
            return rule.kind, rule
    return default, None


def _candidates(cef: Cef, rules: list[CefRule]) -> list[CefRule]:
    """The rules whose header patterns fit, up to the first without extension conditions."""
    out = []
    for rule in rules:
        if rule.matches_header(cef):
            out.append(rule)
            if not rule.ext:
                break
    return out


# --- CEF → signal ---------------------------------------------------------------------------

_CEF_SEVERITY_WORDS = {
    "low": "low",
    "medium": "medium",
    "high": "high",
    "very-high": "critical",
    "very high": "critical",
    "unknown": "medium",
}
_MONTH_TIME = (
    "%b %d %Y %H:%M:%S.%f %Z",
    "%b %d %Y %H:%M:%S %Z",
    "%b %d %Y %H:%M:%S.%f",
    "%b %d %Y %H:%M:%S",
    "%a %b %d %H:%M:%S %Y",
)


def _cef_time(value: str | None, tz: tzinfo) -> str | None:
    """CEF `rt`/`start`/`end`: milliseconds since the epoch or `MMM dd yyyy HH:mm:ss[.SSS]
    [zone]`, or RFC 3339. None when missing or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return s.timestamp(int(value), tz)
    for fmt in _MONTH_TIME:
        try:
            parsed = datetime.strptime(value, fmt)  # noqa: DTZ007 - zone below
        except ValueError:
            continue
        return parsed.replace(tzinfo=parsed.tzinfo or tz).isoformat()
    # "Nov 15 2019 15:52:28 UTC+06:00" or "... +0600": the zone strptime does not take.
    head, _, zone = value.rpartition(" ")
    if head and zone and zone.lstrip("UTCGM")[:1] in ("+", "-"):
        for fmt in _MONTH_TIME[2:4]:
            try:
                parsed = datetime.strptime(head, fmt)  # noqa: DTZ007 - zone below
                offset = datetime.strptime(zone.lstrip("UTCGM").replace(":", ""), "%z")
            except ValueError:
                continue
            return parsed.replace(tzinfo=offset.tzinfo).isoformat()
    return s.timestamp(value, tz)


_HASH_KEYS = (
    "fileHash",
    "oldFileHash",
    "md5",
    "sha1",
    "sha256",
    "TrendMicroDsFileMD5",
    "TrendMicroDsFileSHA1",
    "TrendMicroDsFileSHA256",
    "FTNTFGTfilehash",
    "FTNTFGTanalyticscksum",
)


def _hashes(ext: dict[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
    found: dict[str, str] = {}
    for key in (*extra, *_HASH_KEYS):
        value = ext.get(key, "").strip().lower()
        if not value or not all(c in "0123456789abcdef" for c in value):
            continue
        name = {32: "md5", 40: "sha1", 64: "sha256"}.get(len(value))
        if name:
            found.setdefault(name, value)
    return found


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# Where vendors keep a field, first found wins; a rule's `fields` is tried before these.
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "url": ("request", "requestUrl", "requestURL", "url"),
    "method": ("requestMethod", "requestmethod", "method", "http_method"),
    "host": ("requestHost", "dhost", "destinationHostName"),
    "status": ("httpStatus", "responseCode", "response_code", "http_status"),
    "file_name": ("filePath", "fname", "fileName", "filename"),
    "detection": ("threat", "FTNTFGTvirus", "virus"),
    "user": ("duser", "suser"),
    "process": ("sproc", "dproc", "deviceProcessName", "sourceProcessName"),
}


def _pick(ext: dict[str, str], rule: CefRule | None, name: str) -> str | None:
    if rule is not None and name in rule.fields:
        value = ext.get(rule.fields[name])
        if value:
            return value
    for key in _CANDIDATES.get(name, ()):
        value = ext.get(key)
        if value:
            return value
    return None


_HEADERS: dict[tuple[str, ...], tuple[Any, ...]] = {}  # header → its signal fields (few distinct)


def _header_fields(cef: Cef) -> tuple[str, str, str | None, str, str | None, str | None]:
    """(product, vendor, product_version, severity, rule_id, rule_name) of a CEF header."""
    word = _CEF_SEVERITY_WORDS.get(cef.severity.strip().lower())
    version = cef.device_version.strip()
    return (
        s.cut(cef.product, s.SHORT) or "CEF",
        s.cut(cef.vendor, s.SHORT) or "unknown",
        None
        if version.startswith("<") or version.lower() in ("", "unknown", "n/a")
        else s.cut(version, s.SHORT),
        word or s.severity_from_number(cef.severity, scale="cef"),
        s.cut(cef.signature_id, s.SHORT),
        s.cut(cef.name, s.NAME),
    )


def _event_time(cef: Cef, msg: SyslogMessage | None, ctx: MapContext, out: list[Item]) -> str:
    """The record's own time: `rt`, `end`, `start`, else the syslog header's; else the time it
    is read, with a counted NoEventTime beside the signal."""
    ext = cef.ext
    for key in ("rt", "end", "start", "deviceReceiptTime"):
        raw = ext.get(key)
        if raw:
            stamp = _cef_time(raw, ctx.tz)
            if stamp is not None:
                return stamp
            if msg is not None and msg.timestamp:
                return msg.timestamp
            out.append(NoEventTime(f"CEF {key}={raw[:40]!r} is not a time the agent reads"))
            return s.now_rfc3339()
    if msg is not None and msg.timestamp:
        return msg.timestamp
    out.append(NoEventTime("the CEF record has no rt, end or start and no syslog time"))
    return s.now_rfc3339()


def cef_to_items(
    cef: Cef,
    msg: SyslogMessage | None,
    ctx: MapContext,
    rules: list[CefRule],
    default: str = "ignore",
    cache: dict[tuple[str, ...], list[CefRule]] | None = None,
) -> list[Item]:
    kind, rule = kind_of(cef, rules, default, cache)
    trace = ctx.trace
    if kind == "ignore":
        if rule is not None:
            why = f"{rule.describe()}: not an attack"
        else:
            why = (
                f"no rule for vendor {cef.vendor!r}, product {cef.product!r}, signature "
                f"{cef.signature_id!r}, name {cef.name!r}: not sent (add a rule to map it)"
            )
        if trace is not None:
            trace.append(why)
        return [Dropped(why)]
    if trace is not None:
        trace.append(
            f"{rule.describe()} → {kind}" if rule is not None else f"default_kind → {kind}"
        )
    ext = cef.ext
    out: list[Item] = []
    observed = _event_time(cef, msg, ctx, out)
    src = s.ip(ext.get("src") or ext.get("c6a2"))
    dst = s.ip(ext.get("dst") or ext.get("c6a3"))
    header = (cef.product, cef.vendor, cef.device_version, cef.severity, cef.signature_id, cef.name)
    head = _HEADERS.get(header)
    if head is None:
        head = _header_fields(cef)
        if len(_HEADERS) > 50_000:
            _HEADERS.clear()
        _HEADERS[header] = head
    product, vendor, product_version, severity, rule_id, rule_name = head
    if rule is not None and "rule_name" in rule.fields and ext.get(rule.fields["rule_name"]):
        rule_name = s.cut(ext[rule.fields["rule_name"]], s.NAME)
    if kind == "auth_failure":
        account = ext.get("duser") or ext.get("suser")
        if not account:
            raise Malformed("an authentication failure without duser/suser")
        return [AuthFailure(_epoch(observed), account[:256], src, product, vendor)]
    if kind == "connection":
        if src is None:
            raise Malformed("a connection without src")
        return [
            Connection(
                _epoch(observed),
                src,
                dst,
                s.port(ext.get("dpt")),
                s.cut(ext.get("proto"), 16),
                product,
                vendor,
            )
        ]
    common: dict[str, Any] = {
        "id": s.new_id(),
        "observed_at": observed,
        "product": product,
        "vendor": vendor,
        "product_version": product_version,
        "sensor": s.cut(ext.get("dvchost") or (msg.host if msg else None), s.SHORT) or ctx.sensor,
        "severity": severity,
        "rule_id": rule_id,
        "rule_name": rule_name,
        "src_ip": src,
        "src_port": s.port(ext.get("spt")),
        "dst_ip": dst,
        "dst_port": s.port(ext.get("dpt")),
        "protocol": s.cut(ext.get("proto") or ext.get("app"), 16),
        "direction": ctx.networks.direction(src),
    }
    count = _int(ext.get("cnt") or ext.get("baseEventCount"))
    if count and count > 1:
        common["count"] = min(count, 1_000_000_000)
    first, last = _cef_time(ext.get("start"), ctx.tz), _cef_time(ext.get("end"), ctx.tz)
    if first and last and first <= last:
        common["first_seen"], common["last_seen"] = first, last
    if kind == "ids":
        out.append(_ids(ext, common))
        return out
    file_name = s.cut(_pick(ext, rule, "file_name"), s.TEXT)
    extra_hashes = [rule.fields[h] for h in ("md5", "sha1", "sha256") if rule and h in rule.fields]
    if kind == "waf":
        status = _int(_pick(ext, rule, "status"))
        out.append(
            s.WafSignal(
                url=s.cut(_pick(ext, rule, "url"), s.TEXT) or "/",
                method=s.cut(_pick(ext, rule, "method"), 16),
                host=s.cut(_pick(ext, rule, "host"), 255),
                status=status if status is not None and 100 <= status <= 599 else None,
                matched_rule=s.cut(rule_name, s.NAME),
                **common,
            )
        )
        return out
    if kind == "phishing":
        sender = (ext.get("suser") or ext.get("sender") or "").strip()
        if "<" in sender and ">" in sender:
            sender = sender[sender.find("<") + 1 : sender.rfind(">")]
        if "@" not in sender:
            raise Malformed("a phishing event without a sender address (suser)")
        urls = [u for u in (ext.get("request") or "").split(",") if u.strip()][:50]
        recipients = (ext.get("duser") or "").count("@")
        out.append(
            s.PhishingSignal(
                sender=sender[:320],
                recipient_count=max(1, recipients),
                subject=s.cut(ext.get("msg") or ext.get("subject"), s.TEXT),
                urls=[u.strip()[: s.TEXT] for u in urls],
                attachment_hashes=list(_hashes(ext, extra_hashes).values())[:1],
                **common,
            )
        )
        return out
    detection = s.cut(_pick(ext, rule, "detection") or cef.name, s.NAME) or "detection"
    host = s.cut(ext.get("dhost") or ext.get("shost") or ext.get("dvchost"), 255)
    if kind == "malware" and file_name:
        out.append(
            s.MalwareSignal(
                file_name=file_name,
                detection=detection,
                host=host,
                **_hashes(ext, extra_hashes),  # type: ignore[arg-type]
                **common,
            )
        )
        return out
    if kind in ("endpoint", "malware"):
        out.append(
            s.EndpointSignal(
                host=host or common["sensor"] or "unknown",
                detection=detection,
                file_name=file_name,
                process=s.cut(_pick(ext, rule, "process"), s.TEXT),
                user=s.cut(_pick(ext, rule, "user"), s.SHORT),
                **_hashes(ext, extra_hashes),  # type: ignore[arg-type]
                **common,
            )
        )
        return out
    if kind == "brute_force":
        account = ext.get("duser") or ext.get("suser")
        if not account:
            raise Malformed("a brute-force event without duser")
        out.append(
            s.BruteForceSignal(
                target_account=account[:256], attempts=common.get("count", 1), **common
            )
        )
        return out
    if kind == "scan":
        out.append(s.ScanSignal(**common))
        return out
    if kind == "spraying":
        accounts = [a for a in (ext.get("duser") or "").split(",") if a][:1000]
        out.append(
            s.SprayingSignal(
                accounts=accounts,
                account_count=max(1, len(accounts)),
                attempts=common.get("count", 1),
                **common,
            )
        )
        return out
    out.append(_ids(ext, common))
    return out


def _ids(ext: dict[str, str], common: dict[str, Any]) -> s.IdsSignal:
    act = ext.get("act")
    return s.IdsSignal(
        category=s.cut(ext.get("cat"), s.SHORT), action=act[:16] if act else None, **common
    )


def cef_mapper(ctx: MapContext) -> Mapper:
    """CEF lines (with or without a syslog header), from a file or a syslog listener."""
    rules = rule_set(ctx.options)
    default = str(ctx.options.get("default_kind", "ignore"))
    tz = ctx.tz
    cache: dict[tuple[str, ...], list[CefRule]] = {}

    def mapper(line: bytes) -> list[Item]:
        msg = parse_syslog(line, tz)
        if "CEF:" not in msg.message:
            raise Malformed("not a CEF message")
        return cef_to_items(parse_cef(msg.message), msg, ctx, rules, default, cache)

    return mapper
