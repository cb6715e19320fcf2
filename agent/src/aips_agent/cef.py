"""Syslog (RFC 3164, RFC 5424) carrying ArcSight CEF, as SIEMs forward it (ArcSight, QRadar,
KUMA, MaxPatrol SIEM …), and the CEF → signal mapping (R67.8).

CEF: `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Ext`.
In the header `\\|` and `\\\\` are escapes; in the extension `\\=`, `\\\\`, `\\n` and `\\r`. An
extension value runs to the next ` key=`."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from aips_agent import signals as s
from aips_agent.events import AuthFailure, Connection, Malformed
from aips_agent.mappers import Item, MapContext, Mapper, _bsd_time, _epoch, _observed

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
_CUSTOM_STRINGS = tuple((f"cs{n}Label", f"cs{n}") for n in range(1, 7))


def parse_extension(text: str) -> dict[str, str]:
    ext = _split_extension(text) if "\\" not in text else _regex_extension(text)
    # Custom strings: cs1=… cs1Label=name → also under their label.
    if "cs1Label" in ext or "cs2Label" in ext or "cs3Label" in ext:
        for label_key, value_key in _CUSTOM_STRINGS:
            label = ext.get(label_key)
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


# --- CEF → kind ----------------------------------------------------------------------------

DEFAULT_RULES: tuple[tuple[str, str], ...] = (
    # (regex over "vendor product category name", kind); the first match wins; fallback "ids".
    (
        r"\bwaf\b|web application firewall|modsecurity|imperva|fortiweb|asm\b|appfw|\bptaf\b"
        r"|application firewall|cloudflare",
        "waf",
    ),
    (r"phish|mail ?gateway|e-?mail security|\bsmtp\b|\bmail\b", "phishing"),
    (r"sandbox|antivirus|anti-virus|malware|virus|\bav\b|kata\b|\bclam", "malware"),
    (
        r"endpoint|\bedr\b|\bepp\b|\bxdr\b|defender|kaspersky|eset|crowdstrike|sentinel ?one"
        r"|symantec|trend micro|sophos|\bkes\b",
        "endpoint",
    ),
)
TARGETS = (*s.KINDS, "auth_failure", "connection", "ignore")


@dataclass
class CefRule:
    kind: str
    vendor: re.Pattern[str] | None = None
    product: re.Pattern[str] | None = None
    category: re.Pattern[str] | None = None
    name: re.Pattern[str] | None = None
    signature_id: re.Pattern[str] | None = None

    def matches(self, cef: Cef) -> bool:
        pairs = (
            (self.vendor, cef.vendor),
            (self.product, cef.product),
            (self.category, cef.ext.get("cat", "")),
            (self.name, cef.name),
            (self.signature_id, cef.signature_id),
        )
        return all(p is None or p.search(v) for p, v in pairs)


def compile_rules(raw: Iterable[dict[str, Any]]) -> list[CefRule]:
    rules = []
    for item in raw:
        patterns = {
            key: re.compile(str(item[key]), re.IGNORECASE)
            for key in ("vendor", "product", "category", "name", "signature_id")
            if key in item
        }
        rules.append(CefRule(kind=str(item["kind"]), **patterns))
    return rules


_DEFAULT = [(re.compile(p, re.IGNORECASE), k) for p, k in DEFAULT_RULES]


def kind_of(
    cef: Cef, rules: list[CefRule], default: str, cache: dict[tuple[str, ...], str] | None = None
) -> str:
    """The kind for this event; with a cache (one per mapper), decided once per vendor,
    product, category and name."""
    if cache is None:
        return _kind_of(cef, rules, default)
    key = (cef.vendor, cef.product, cef.ext.get("cat", ""), cef.name, cef.signature_id)
    kind = cache.get(key)
    if kind is None:
        if len(cache) > 50_000:
            cache.clear()
        kind = cache[key] = _kind_of(cef, rules, default)
    return kind


def _kind_of(cef: Cef, rules: list[CefRule], default: str) -> str:
    for rule in rules:
        if rule.matches(cef):
            return rule.kind
    text = f"{cef.vendor} {cef.product} {cef.ext.get('cat', '')}"
    for pattern, kind in _DEFAULT:
        if pattern.search(text):
            return kind
    return default


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
)


def _cef_time(value: str | None, tz: tzinfo) -> str | None:
    """CEF `rt`/`start`/`end`: milliseconds since the epoch or `MMM dd yyyy HH:mm:ss[.SSS]`."""
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
    return s.timestamp(value, tz)


def _hashes(ext: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key in ("fileHash", "oldFileHash", "md5", "sha1", "sha256"):
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


_HEADERS: dict[tuple[str, ...], tuple[Any, ...]] = {}  # header → its signal fields (few distinct)


def _header_fields(cef: Cef) -> tuple[str, str, str | None, str, str | None, str | None]:
    """(product, vendor, product_version, severity, rule_id, rule_name) of a CEF header."""
    word = _CEF_SEVERITY_WORDS.get(cef.severity.strip().lower())
    return (
        s.cut(cef.product, s.SHORT) or "CEF",
        s.cut(cef.vendor, s.SHORT) or "unknown",
        s.cut(cef.device_version, s.SHORT),
        word or s.severity_from_number(cef.severity, scale="cef"),
        s.cut(cef.signature_id, s.SHORT),
        s.cut(cef.name, s.NAME),
    )


def cef_to_items(
    cef: Cef,
    msg: SyslogMessage | None,
    ctx: MapContext,
    rules: list[CefRule],
    default: str,
    cache: dict[tuple[str, ...], str] | None = None,
) -> list[Item]:
    kind = kind_of(cef, rules, default, cache)
    if kind == "ignore":
        return []
    ext = ext_ = cef.ext
    tz = ctx.tz
    observed = (
        _cef_time(ext.get("rt") or ext.get("end") or ext.get("start"), tz)
        or (msg.timestamp if msg else None)
        or _observed(None, ctx)
    )
    src = s.ip(ext.get("src") or ext.get("c6a2"))
    dst = s.ip(ext.get("dst") or ext.get("c6a3"))
    header = (cef.product, cef.vendor, cef.device_version, cef.severity, cef.signature_id, cef.name)
    fields = _HEADERS.get(header)
    if fields is None:
        fields = _header_fields(cef)
        if len(_HEADERS) > 50_000:
            _HEADERS.clear()
        _HEADERS[header] = fields
    product, vendor, product_version, severity, rule_id, rule_name = fields
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
    count = _int(ext.get("cnt"))
    if count and count > 1:
        common["count"] = min(count, 1_000_000_000)
    first, last = _cef_time(ext.get("start"), tz), _cef_time(ext.get("end"), tz)
    if first and last and first <= last:
        common["first_seen"], common["last_seen"] = first, last
    if kind == "ids":  # the most common kind first; the same as the fall-through at the end
        act = ext.get("act")
        return [
            s.IdsSignal(
                category=s.cut(ext.get("cat"), s.SHORT), action=act[:16] if act else None, **common
            )
        ]
    file_name = s.cut(ext.get("fname") or ext.get("filePath"), s.TEXT)
    host = s.cut(ext.get("dhost") or ext.get("shost") or ext.get("dvchost"), 255)
    if kind == "waf":
        url = ext.get("request") or ext.get("requestUrl")
        return [
            s.WafSignal(
                url=s.cut(url, s.TEXT) or "/",
                method=s.cut(ext.get("requestMethod"), 16),
                host=s.cut(ext.get("dhost"), 255),
                status=_int(ext.get("httpStatus") or ext.get("responseCode"))
                if (_int(ext.get("httpStatus") or ext.get("responseCode")) or 0) in range(100, 600)
                else None,
                matched_rule=s.cut(cef.name, s.NAME),
                **common,
            )
        ]
    if kind == "phishing":
        sender = (ext.get("suser") or ext.get("sender") or "").strip()
        if "<" in sender and ">" in sender:
            sender = sender[sender.find("<") + 1 : sender.rfind(">")]
        if "@" in sender:
            urls = [u for u in (ext.get("request") or "").split(",") if u.strip()][:50]
            recipients = (ext.get("duser") or "").count("@")
            return [
                s.PhishingSignal(
                    sender=sender[:320],
                    recipient_count=max(1, recipients),
                    subject=s.cut(ext.get("msg") or ext.get("subject"), s.TEXT),
                    urls=[u.strip()[: s.TEXT] for u in urls],
                    attachment_hashes=list(_hashes(ext).values())[:1],
                    **common,
                )
            ]
        kind = "malware" if file_name else "ids"  # no sender: cannot be a phishing signal
    if kind == "malware" and file_name:
        return [
            s.MalwareSignal(
                file_name=file_name,
                detection=s.cut(cef.name, s.NAME) or "malware",
                host=host,
                **_hashes(ext_),  # type: ignore[arg-type]
                **common,
            )
        ]
    if kind in ("endpoint", "malware"):
        return [
            s.EndpointSignal(
                host=host or common["sensor"] or "unknown",
                detection=s.cut(cef.name, s.NAME) or "detection",
                file_name=file_name,
                process=s.cut(ext.get("sproc") or ext.get("dproc"), s.TEXT),
                user=s.cut(ext.get("duser") or ext.get("suser"), s.SHORT),
                **_hashes(ext_),  # type: ignore[arg-type]
                **common,
            )
        ]
    if kind == "brute_force":
        account = ext.get("duser") or ext.get("suser")
        if not account:
            raise Malformed("a brute-force event without duser")
        return [
            s.BruteForceSignal(
                target_account=account[:256], attempts=common.get("count", 1), **common
            )
        ]
    if kind in ("scan", "spraying"):
        if kind == "scan":
            return [s.ScanSignal(**common)]
        accounts = [a for a in (ext.get("duser") or "").split(",") if a][:1000]
        return [
            s.SprayingSignal(
                accounts=accounts,
                account_count=max(1, len(accounts)),
                attempts=common.get("count", 1),
                **common,
            )
        ]
    act = ext.get("act")
    return [
        s.IdsSignal(
            category=s.cut(ext.get("cat"), s.SHORT), action=act[:16] if act else None, **common
        )
    ]


def cef_mapper(ctx: MapContext) -> Mapper:
    """CEF lines (with or without a syslog header), from a file or a syslog listener."""
    rules = compile_rules(ctx.options.get("rules") or [])
    default = str(ctx.options.get("default_kind", "ids"))
    tz = ctx.tz
    cache: dict[tuple[str, ...], str] = {}

    def mapper(line: bytes) -> list[Item]:
        msg = parse_syslog(line, tz)
        if "CEF:" not in msg.message:
            raise Malformed("not a CEF message")
        return cef_to_items(parse_cef(msg.message), msg, ctx, rules, default, cache)

    return mapper
