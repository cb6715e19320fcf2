"""Vulnerability alert drafts from a CSAF 2.0 advisory or an NVD CVE JSON 2.0 record (R67.3.5).

Pure functions: bytes, text or an already parsed object in, a `VulnerabilityDraft` out. Anything
wrong with the input raises `ImportProblem`, whose message names the part that is wrong (a JSON
path such as “vulnerabilities[0].cve”) and is translated into the active language.

CVSS v3.0 / v3.1 / v4.0 vectors are parsed and scored by Red Hat's `cvss` package; the severity
comes from the score by the bands both specifications share (0 none, 0.1–3.9 low, 4.0–6.9 medium,
7.0–8.9 high, 9.0–10 critical).
"""

import json
import re
from dataclasses import dataclass, field
from typing import Literal, NoReturn, TypedDict
from urllib.parse import urlsplit

from cvss import CVSS2, CVSS3, CVSS4, CVSSError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_DESCRIPTION",
    "MAX_PRODUCTS",
    "MAX_REFERENCES",
    "MAX_VERSIONS",
    "AffectedProduct",
    "CvssSeverity",
    "CvssVersion",
    "ImportProblem",
    "ProductStatus",
    "VulnerabilityDraft",
    "detect_and_parse",
    "from_csaf",
    "from_nvd",
    "is_cve_id",
    "load_json",
    "read_limited",
    "score_cvss",
]

# Red Hat's largest advisories (kernel, OpenShift) run to about 20 MiB.
MAX_BYTES = 32 * 1024 * 1024
# Real advisories nest about 20 levels deep (a CSAF product tree: vendor → family → product →
# version, each level an object inside a list).
MAX_DEPTH = 64
MAX_VECTOR_LENGTH = 512
# What the alert model keeps (see aips.center.alerts.models.Alert and services._affected).
MAX_TITLE = 300
MAX_SOURCE = 300
MAX_NAME = 200
MAX_VERSION = 100
MAX_CPE = 300
MAX_URL = 2000
MAX_DESCRIPTION = 50000
MAX_PRODUCTS = 500
MAX_VERSIONS = 1000
MAX_REFERENCES = 500
MAX_JUSTIFICATION = 300

CvssVersion = Literal["3.0", "3.1", "4.0", ""]
# A product's status in a CSAF advisory, the groups of `product_status` folded into five.
Status = Literal["affected", "fixed", "not_affected", "under_investigation", "recommended"]
CvssSeverity = Literal["none", "low", "medium", "high", "critical", ""]

_CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}")
_VECTOR_PREFIX = re.compile(r"CVSS:(\d+\.\d+)/")
_QUOTED = re.compile(r'"([^"]*)"')
_VERSION_RANK = {"4.0": 2, "3.1": 1, "3.0": 0, "": -1}


class AffectedProduct(TypedDict):
    vendor: str
    product: str
    # Version texts: "2.4.58", "10.2.0 h1", ">= 2.4.0, < 2.4.59"; "*" when the source says every
    # version; empty when the source names no version.
    versions: list[str]
    # A CPE 2.3 name; for several versions of one product, the fields they share with the rest
    # as "*". Empty when the source gives none.
    cpe: str


class ProductStatus(TypedDict):
    product: str  # the full product name, a relationship resolved ("pkg as a component of X")
    status: Status
    justification: str  # why a product is not affected (a VEX flag or impact statement)


@dataclass
class VulnerabilityDraft:
    title: str
    description: str
    cve_ids: list[str] = field(default_factory=list)
    cvss_vector: str = ""
    cvss_version: CvssVersion = ""
    cvss_score: float | None = None
    cvss_severity: CvssSeverity = ""
    affected: list[AffectedProduct] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    recommendations: str = ""
    known_exploited: bool = False
    source: str = ""
    # The source's TLP as a TLP 2.0 label ("CLEAR" for CSAF's WHITE); empty when it gives none.
    tlp: str = ""
    # The vendor's own severity word (CSAF `document.aggregate_severity.text`) and the threat
    # level it maps to; the level is used when the draft has no CVSS v3/v4 score.
    vendor_severity: str = ""
    vendor_level: CvssSeverity = ""
    # A CVSS v2 vector and score, kept for display only (the alert scores v3.0 and later).
    cvss_v2: str = ""
    # CSAF: every product with its status (all `product_status` groups), in source order.
    statuses: list[ProductStatus] = field(default_factory=list)
    # A CSAF VEX document (`csaf_vex`): the draft says what the statuses are, not "apply a fix".
    vex: bool = False
    # What had to be cut to fit the alert, in words; also said at the end of the description.
    shortened: list[str] = field(default_factory=list)
    # CSAF `document.tracking` id and version: one advisory revision, imported once.
    tracking_id: str = ""
    tracking_version: str = ""


class ImportProblem(Exception):
    """What is wrong with an imported file, in words for the person who uploaded it.

    `field` is the JSON path of the offending part ("" for the file as a whole; "cvss_vector" from
    `score_cvss`); `detail` is the underlying library's own (English) text, for logs.
    """

    def __init__(self, message: str, field: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail

    def __str__(self) -> str:
        return self.message


def is_cve_id(value: str) -> bool:
    return _CVE_ID.fullmatch(value) is not None


# --- CVSS -----------------------------------------------------------------------------------


def _severity(score: float) -> CvssSeverity:
    if score == 0:
        return "none"
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "medium"
    if score < 9.0:
        return "high"
    return "critical"


def score_cvss(vector: str) -> tuple[CvssVersion, float, CvssSeverity]:
    """(version, base score, severity) of a CVSS v3.0, v3.1 or v4.0 vector string."""
    where = "cvss_vector"
    text = vector.strip() if isinstance(vector, str) else ""
    if not text:
        raise ImportProblem(_("The CVSS vector is empty."), where)
    if len(text) > MAX_VECTOR_LENGTH:
        raise ImportProblem(
            _("The CVSS vector is too long (%(length)d characters).") % {"length": len(text)},
            where,
        )
    match = _VECTOR_PREFIX.match(text)
    if match is None:
        raise ImportProblem(
            _("The CVSS vector must start with “CVSS:3.1/”, “CVSS:3.0/” or “CVSS:4.0/”."), where
        )
    version = match.group(1)
    if version not in ("3.0", "3.1", "4.0"):
        raise ImportProblem(
            _("CVSS version %(version)s is not supported; use 3.1 or 4.0.") % {"version": version},
            where,
        )
    # The package reports empty fields only by quoting the whole vector; name the spot here.
    for position, part in enumerate(text.split("/")[1:], start=1):
        if not part:
            raise ImportProblem(
                _("The CVSS vector has an empty part (after the %(ordinal)d. “/”).")
                % {"ordinal": position},
                where,
            )
    try:
        if version == "4.0":
            score = float(CVSS4(text).base_score)
        else:
            score = float(CVSS3(text).scores()[0])
    except (CVSSError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise _vector_problem(exc, text) from exc
    if not 0.0 <= score <= 10.0:  # pragma: no cover - the package clamps
        raise ImportProblem(_("The CVSS vector could not be scored."), where)
    known: CvssVersion = "4.0" if version == "4.0" else "3.1" if version == "3.1" else "3.0"
    return known, score, _severity(score)


def _vector_problem(exc: Exception, vector: str) -> ImportProblem:
    detail = str(exc)
    quoted = [q for q in _QUOTED.findall(detail) if q and q != vector]
    where = "cvss_vector"
    if "Missing mandatory" in detail and quoted:
        message = _("The CVSS vector lacks the required metrics %(metrics)s.") % {
            "metrics": quoted[-1]
        }
    elif "Duplicate metric" in detail and quoted:
        message = _("The CVSS vector gives the metric “%(part)s” twice.") % {"part": quoted[-1]}
    elif quoted:
        message = _("The CVSS vector is malformed at “%(part)s”.") % {"part": quoted[-1][:40]}
    else:
        message = _("The CVSS vector is malformed.")
    return ImportProblem(message, where, detail)


# --- JSON access ----------------------------------------------------------------------------


def _json_reason(msg: str) -> str:
    reasons = {
        "Expecting value": _("a value is expected"),
        "Expecting ',' delimiter": _("a comma is expected"),
        "Expecting ':' delimiter": _("a colon is expected"),
        "Expecting property name enclosed in double quotes": _(
            "a property name in double quotes is expected"
        ),
        "Unterminated string starting at": _("a string is not closed"),
        "Invalid control character at": _("a string holds a control character"),
        "Invalid \\escape": _("a string holds an invalid escape"),
        "Invalid \\uXXXX escape": _("a string holds an invalid escape"),
        "Extra data": _("there is more text after the end of the document"),
    }
    for start, reason in reasons.items():
        if msg.startswith(start):
            return reason
    return msg


# What may be left of a literal or a number when a file is cut off inside it.
_PARTIAL_TOKEN = re.compile(r"\s*(t(r(ue?)?)?|f(a(l(se?)?)?)?|n(u(ll?)?)?|-|[.eE][+-]?)\s*")


def _cut_off(text: str, exc: json.JSONDecodeError) -> bool:
    """Whether the JSON error means the file stops early rather than being wrong midway."""
    if exc.pos >= len(text.rstrip()):
        return True
    # An unterminated string runs to the end of the text.
    if exc.msg.startswith("Unterminated string"):
        return True
    return _PARTIAL_TOKEN.fullmatch(text, exc.pos) is not None


def _reject_constant(name: str) -> NoReturn:
    raise ImportProblem(
        _("The file is not valid JSON: %(name)s is not a JSON number.") % {"name": name}
    )


def _check_depth(root: object) -> None:
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value  # type: ignore[assignment]
        else:
            continue
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(r"\[\]|\{\}")


def _check_text_depth(text: str) -> None:
    """The nesting limit for valid JSON text, at regular-expression speed: with the strings and
    scalars gone, each pass removes the innermost level of brackets."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _level in range(MAX_DEPTH):
        if not brackets:
            return
        brackets = _EMPTY_PAIR.sub("", brackets)
    if brackets:
        raise _too_deep()


def _too_deep() -> ImportProblem:
    return ImportProblem(
        _("The file is nested too deeply (more than %(limit)d levels).") % {"limit": MAX_DEPTH}
    )


def _too_big(size: int) -> ImportProblem:
    return ImportProblem(
        _("The file is too big: %(size)s MiB; at most %(limit)s MiB is accepted.")
        % {"size": f"{size / 1024 / 1024:.1f}", "limit": f"{MAX_BYTES / 1024 / 1024:g}"}
    )


def read_limited(stream: object, size: int | None = None) -> bytes:
    """An uploaded file's bytes, read no further than the limit: a bigger file is refused with
    its real size (`size` as the upload reports it, else what was read)."""
    if size is not None and size > MAX_BYTES:
        raise _too_big(size)
    read = getattr(stream, "read", None)
    if read is None:
        raise ImportProblem(_("The file could not be read."))
    data = read(MAX_BYTES + 1)
    if not isinstance(data, bytes):
        raise ImportProblem(_("The file could not be read."))
    if len(data) > MAX_BYTES:
        raise _too_big(max(size or 0, len(data)))
    return data


def load_json(data: bytes | str | dict[str, object]) -> dict[str, object]:
    """The uploaded file (or the API body) as a JSON object, with size and nesting checked."""
    if isinstance(data, dict):
        _check_depth(data)
        return data
    if isinstance(data, str):
        if len(data) > MAX_BYTES:
            raise _too_big(len(data))
        raw = data.encode("utf-8", "surrogatepass")
    elif isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
    else:
        raise ImportProblem(_("The file could not be read."))
    if len(raw) > MAX_BYTES:
        raise _too_big(len(raw))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # cut in the middle of a character
            raise ImportProblem(_("The file ends too early; it may be cut off.")) from exc
        raise ImportProblem(
            _("The file is not UTF-8 text (an invalid byte at position %(position)d).")
            % {"position": exc.start}
        ) from exc
    if not text.strip():
        raise ImportProblem(_("The file is empty."))
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if _cut_off(text, exc):
            reason = _("the file ends too early; it may be cut off")
        else:
            reason = _json_reason(exc.msg)
        raise ImportProblem(
            _("The file is not valid JSON: line %(line)d column %(column)d: %(reason)s.")
            % {"line": exc.lineno, "column": exc.colno, "reason": reason},
            detail=str(exc),
        ) from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise ImportProblem(
            _("The file is not valid JSON: %(reason)s.") % {"reason": str(exc)[:200]},
            detail=str(exc),
        ) from exc
    if not isinstance(doc, dict):
        raise ImportProblem(
            _("The file should hold one JSON object; it holds %(kind)s.") % {"kind": _kind(doc)}
        )
    _check_text_depth(text)
    return doc


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return _("an object")
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, bool):
        return _("true or false")
    if isinstance(value, int | float):
        return _("a number")
    return _("null")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _wrong_type(path: str, expected: str, value: object) -> NoReturn:
    raise ImportProblem(
        _("“%(path)s” should be %(expected)s, not %(kind)s.")
        % {"path": path, "expected": expected, "kind": _kind(value)},
        path,
    )


def _missing(path: str) -> NoReturn:
    raise ImportProblem(_("“%(path)s” is missing.") % {"path": path}, path)


def _obj(parent: dict[str, object], key: str, path: str) -> dict[str, object] | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        _wrong_type(_join(path, key), _("an object"), value)
    return value


def _req_obj(parent: dict[str, object], key: str, path: str) -> dict[str, object]:
    value = _obj(parent, key, path)
    if value is None:
        _missing(_join(path, key))
    return value


def _items(parent: dict[str, object], key: str, path: str) -> list[tuple[str, dict[str, object]]]:
    """(path, object) for each element of an optional list of objects."""
    value = parent.get(key)
    if value is None:
        return []
    where = _join(path, key)
    if not isinstance(value, list):
        _wrong_type(where, _("a list"), value)
    out: list[tuple[str, dict[str, object]]] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            _wrong_type(_join(where, index), _("an object"), item)
        out.append((_join(where, index), item))
    return out


def _strings(parent: dict[str, object], key: str, path: str) -> list[tuple[str, str]]:
    value = parent.get(key)
    if value is None:
        return []
    where = _join(path, key)
    if not isinstance(value, list):
        _wrong_type(where, _("a list"), value)
    out: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            _wrong_type(_join(where, index), _("text"), item)
        out.append((_join(where, index), item))
    return out


def _str(parent: dict[str, object], key: str, path: str) -> str:
    value = parent.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        _wrong_type(_join(path, key), _("text"), value)
    return _clean(value)


def _req_str(parent: dict[str, object], key: str, path: str) -> str:
    value = _str(parent, key, path)
    if not value:
        _missing(_join(path, key))
    return value


def _clean(text: str) -> str:
    # PostgreSQL stores no NUL characters, in text or in jsonb.
    return text.replace("\x00", "").strip()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cve(value: str, path: str) -> str:
    if not is_cve_id(value):
        raise ImportProblem(
            _("“%(path)s” is not a CVE id (CVE-YYYY-NNNN): “%(value)s”.")
            % {"path": path, "value": _cut(value, 40)},
            path,
        )
    return value


def _url(value: str) -> str | None:
    """The address when it is a plain http(s) URL the alert can link to."""
    text = value.strip()
    if not text or len(text) > MAX_URL or any(ch.isspace() or ord(ch) < 32 for ch in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text


def _add_unique(items: list[str], value: str) -> None:
    if value and value not in items:
        items.append(value)


def _scored(vector: str, path: str) -> tuple[float, int, str, CvssVersion, CvssSeverity]:
    try:
        version, score, severity = score_cvss(vector)
    except ImportProblem as exc:
        raise ImportProblem(
            _("“%(path)s”: %(problem)s") % {"path": path, "problem": exc.message}, path, exc.detail
        ) from exc
    return score, _VERSION_RANK[version], vector.strip(), version, severity


# --- CPE 2.3 ----------------------------------------------------------------------------------


def _split_cpe(name: str) -> list[str] | None:
    """The 13 fields of a CPE 2.3 formatted string (escapes kept), or None if it is not one."""
    if not name.startswith("cpe:2.3:"):
        return None
    fields: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in name:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
    fields.append("".join(current))
    if escaped or len(fields) != 13 or fields[2] not in ("a", "o", "h", "*"):
        return None
    if any(not f for f in fields) or fields[4] in ("*", "-"):
        return None
    return fields


def _cpe_text(value: str) -> str:
    """A CPE field for people: escapes removed, "*" and "-" (any / not applicable) as empty."""
    if value in ("*", "-"):
        return ""
    return re.sub(r"\\(.)", r"\1", value)


def _common_cpe(names: list[str]) -> str:
    """One CPE for several: the fields they all share, the others as "*"."""
    split = [f for f in (_split_cpe(n) for n in names) if f is not None]
    if not split:
        return ""
    if len({":".join(f) for f in split}) == 1:
        name = ":".join(split[0])
    else:
        name = ":".join(
            column[0] if len(set(column)) == 1 else "*" for column in zip(*split, strict=True)
        )
    return name if len(name) <= MAX_CPE else ""


class _Group:
    """Affected versions of one vendor's product, in the order the source lists them; what is
    over the alert's limits is counted, never dropped unsaid."""

    def __init__(self) -> None:
        self.order: list[tuple[str, str]] = []
        self.versions: dict[tuple[str, str], list[str]] = {}
        self.cpes: dict[tuple[str, str], list[str]] = {}
        self.dropped_products: set[tuple[str, str]] = set()
        self.dropped_versions: dict[tuple[str, str], set[str]] = {}

    def add(self, vendor: str, product: str, version: str, cpe: str) -> None:
        key = (_cut(vendor, MAX_NAME), _cut(product, MAX_NAME))
        if key not in self.versions:
            if len(self.order) >= MAX_PRODUCTS:
                self.dropped_products.add(key)
                return
            self.order.append(key)
            self.versions[key] = []
            self.cpes[key] = []
        text = _cut(version, MAX_VERSION)
        versions = self.versions[key]
        if text and text not in versions and len(versions) >= MAX_VERSIONS:
            self.dropped_versions.setdefault(key, set()).add(text)
        else:
            _add_unique(versions, text)
        _add_unique(self.cpes[key], cpe)

    def shortened(self) -> list[str]:
        notes: list[str] = []
        if self.dropped_products:
            notes.append(
                ngettext(
                    "%(count)d more product is not in the list of affected products (at most "
                    "%(limit)d are kept).",
                    "%(count)d more products are not in the list of affected products (at most "
                    "%(limit)d are kept).",
                    len(self.dropped_products),
                )
                % {"count": len(self.dropped_products), "limit": MAX_PRODUCTS}
            )
        for (vendor, product), dropped in self.dropped_versions.items():
            notes.append(
                ngettext(
                    "%(product)s: %(count)d more version is not listed (at most %(limit)d are "
                    "kept).",
                    "%(product)s: %(count)d more versions are not listed (at most %(limit)d "
                    "are kept).",
                    len(dropped),
                )
                % {
                    "product": f"{vendor} {product}".strip(),
                    "count": len(dropped),
                    "limit": MAX_VERSIONS,
                }
            )
        return notes

    def result(self) -> list[AffectedProduct]:
        return [
            AffectedProduct(
                vendor=vendor,
                product=product,
                versions=self.versions[(vendor, product)],
                cpe=_common_cpe(self.cpes[(vendor, product)]),
            )
            for vendor, product in self.order
        ]


def _references_fit(references: list[str]) -> tuple[list[str], list[str]]:
    if len(references) <= MAX_REFERENCES:
        return references, []
    extra = len(references) - MAX_REFERENCES
    note = ngettext(
        "%(count)d more reference is not listed (at most %(limit)d are kept).",
        "%(count)d more references are not listed (at most %(limit)d are kept).",
        extra,
    ) % {"count": extra, "limit": MAX_REFERENCES}
    return references[:MAX_REFERENCES], [note]


def _fit_text(text: str, shortened: list[str], limit: int = MAX_DESCRIPTION) -> str:
    """The text, with what was cut on import said at its end, in at most `limit` characters."""
    tail = ""
    if shortened:
        tail = "\n\n" + _("Shortened on import:") + "\n" + "\n".join(f"- {n}" for n in shortened)
    if len(text) + len(tail) <= limit:
        return text + tail
    cut_note = "- " + _(
        "The text is %(total)d characters long; the first %(shown)d are shown. The full text "
        "is in the source advisory."
    )
    room = limit - len(tail) - len(cut_note) - 200
    if not tail:
        tail = "\n\n" + _("Shortened on import:")
    note = cut_note % {"total": len(text), "shown": max(room, 0)}
    return (text[: max(room, 0)].rstrip() + "…" + tail + "\n" + note)[:limit]


# --- NVD CVE API 2.0 --------------------------------------------------------------------------

_NVD_METRICS = ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30")


def from_nvd(data: bytes | str | dict[str, object]) -> VulnerabilityDraft:
    """A draft from an NVD CVE API 2.0 response holding one CVE, or from one `cve` object."""
    return _nvd(load_json(data))


def _nvd(doc: dict[str, object]) -> VulnerabilityDraft:
    if "vulnerabilities" in doc:
        version = doc.get("version")
        if version is not None and version != "2.0":
            raise ImportProblem(
                _("This is not an NVD CVE JSON 2.0 record: “version” is “%(version)s”.")
                % {"version": _cut(str(version), 20)},
                "version",
            )
        fmt = doc.get("format")
        if fmt is not None and fmt != "NVD_CVE":
            raise ImportProblem(
                _("This is not an NVD CVE record: “format” is “%(format)s”.")
                % {"format": _cut(str(fmt), 40)},
                "format",
            )
        records = _items(doc, "vulnerabilities", "")
        if not records:
            raise ImportProblem(_("The NVD file holds no CVE record."), "vulnerabilities")
        if len(records) > 1:
            raise ImportProblem(
                ngettext(
                    "The NVD file holds %(count)d record; import one at a time.",
                    "The NVD file holds %(count)d records; import one at a time.",
                    len(records),
                )
                % {"count": len(records)},
                "vulnerabilities",
            )
        path, item = records[0]
        return _nvd_cve(_req_obj(item, "cve", path), _join(path, "cve"))
    if isinstance(doc.get("cve"), dict):
        return _nvd_cve(_req_obj(doc, "cve", ""), "cve")
    return _nvd_cve(doc, "")


def _nvd_cve(cve: dict[str, object], path: str) -> VulnerabilityDraft:
    cve_id = _cve(_req_str(cve, "id", path), _join(path, "id"))
    if _str(cve, "vulnStatus", path).lower() == "rejected":
        raise ImportProblem(
            _("%(cve)s has been rejected; there is nothing to alert about.") % {"cve": cve_id},
            _join(path, "vulnStatus"),
        )

    descriptions = [
        (_str(d, "lang", p).lower(), _str(d, "value", p))
        for p, d in _items(cve, "descriptions", path)
    ]
    descriptions = [(lang, text) for lang, text in descriptions if text]
    if not descriptions:
        raise ImportProblem(
            _("“%(path)s” holds no description.") % {"path": _join(path, "descriptions")},
            _join(path, "descriptions"),
        )
    description = next(
        (text for lang, text in descriptions if lang.startswith("en")), descriptions[0][1]
    )

    name = _str(cve, "cisaVulnerabilityName", path)
    if name:
        title = f"{cve_id}: {name}"
    else:
        first = re.split(r"(?<=[.!?])\s", description, maxsplit=1)[0]
        title = f"{cve_id}: {first}"

    best: tuple[float, int, str, CvssVersion, CvssSeverity] | None = None
    metrics = _obj(cve, "metrics", path)
    if metrics is not None:
        metrics_path = _join(path, "metrics")
        for key in _NVD_METRICS:
            entries = _items(metrics, key, metrics_path)
            # The NVD's own ("Primary") assessment before a CNA's ("Secondary").
            entries.sort(key=lambda pe: _str(pe[1], "type", pe[0]).lower() != "primary")
            for entry_path, entry in entries:
                data = _obj(entry, "cvssData", entry_path)
                if data is None:
                    continue
                data_path = _join(entry_path, "cvssData")
                vector = _str(data, "vectorString", data_path)
                if vector:
                    best = _scored(vector, _join(data_path, "vectorString"))
                    break
            if best is not None:
                break

    group = _Group()
    for conf_path, conf in _items(cve, "configurations", path):
        for node_path, node in _items(conf, "nodes", conf_path):
            for match_path, match in _items(node, "cpeMatch", node_path):
                if match.get("vulnerable") is False:
                    continue  # a platform the vulnerable product runs on, not affected itself
                criteria = _req_str(match, "criteria", match_path)
                fields = _split_cpe(criteria)
                if fields is None:
                    raise ImportProblem(
                        _("“%(path)s” is not a CPE 2.3 name: “%(value)s”.")
                        % {"path": _join(match_path, "criteria"), "value": _cut(criteria, 80)},
                        _join(match_path, "criteria"),
                    )
                group.add(
                    _cpe_text(fields[3]),
                    _cpe_text(fields[4]),
                    _nvd_version(fields, match, match_path),
                    criteria,
                )

    references: list[str] = []
    for ref_path, ref in _items(cve, "references", path):
        url = _url(_str(ref, "url", ref_path))
        if url:
            _add_unique(references, url)

    cvss_v2 = ""
    if metrics is not None:
        for entry_path, entry in _items(metrics, "cvssMetricV2", _join(path, "metrics")):
            data = _obj(entry, "cvssData", entry_path)
            v2 = _v2(data) if data is not None else None
            if v2 is not None:
                cvss_v2 = f"{v2[1]} ({v2[0]:.1f})"
                break
    if cvss_v2 and best is None:
        description = description + "\n\n" + _("CVSS v2 (for reference): %(v2)s") % {"v2": cvss_v2}
    shortened = group.shortened()
    references, cut_refs = _references_fit(references)
    shortened += cut_refs

    draft = VulnerabilityDraft(
        title=_cut(title, MAX_TITLE),
        description=_fit_text(description, shortened),
        cve_ids=[cve_id],
        affected=group.result(),
        references=references,
        cvss_v2=cvss_v2,
        vendor_level=_v2_level(cvss_v2),
        shortened=shortened,
        recommendations=_str(cve, "cisaRequiredAction", path),
        known_exploited=bool(_str(cve, "cisaExploitAdd", path)),
        source="NVD",
    )
    if best is not None:
        draft.cvss_score, _rank, draft.cvss_vector, draft.cvss_version, draft.cvss_severity = best
    return draft


def _v2_level(cvss_v2: str) -> CvssSeverity:
    """The CVSS v2 bands (low < 4.0 ≤ medium < 7.0 ≤ high) of a "vector (score)" text."""
    match = re.search(r"\((\d+(?:\.\d+)?)\)$", cvss_v2)
    if match is None:
        return ""
    score = float(match.group(1))
    return "high" if score >= 7.0 else "medium" if score >= 4.0 else "low"


def _nvd_version(fields: list[str], match: dict[str, object], path: str) -> str:
    bounds = [
        (">=", _str(match, "versionStartIncluding", path)),
        (">", _str(match, "versionStartExcluding", path)),
        ("<=", _str(match, "versionEndIncluding", path)),
        ("<", _str(match, "versionEndExcluding", path)),
    ]
    ranges = ", ".join(f"{op} {value}" for op, value in bounds if value)
    if ranges:
        return ranges
    version, update = fields[5], fields[6]
    if version == "*":
        return "*"
    text = _cpe_text(version)
    if text and _cpe_text(update):
        text = f"{text} {_cpe_text(update)}"
    return text


# --- CSAF 2.0 ---------------------------------------------------------------------------------

_NOTE_CATEGORIES = ("summary", "description", "details", "general")
_AFFECTED_STATUSES = ("first_affected", "known_affected", "last_affected")
_MAX_BRANCH_DEPTH = 30
_NEGATED = re.compile(
    r"\b(no|not|none|never|without|unknown|unaware|unlikely|unproven|n/a)\b", re.IGNORECASE
)
_EXPLOITED = re.compile(
    r"exploited|in the wild|\bactive(ly)?\b|\bKEV\b|"
    r"(exploitation|attacks?)\b.{0,40}\b(observed|detected|reported|seen|ongoing)",
    re.IGNORECASE,
)


def _says_exploited(details: str) -> bool:
    """Whether an exploit_status text reports exploitation: in some clause that says so and does
    not deny it ("Actively exploited; no fix yet" yes, "No known exploitation" no)."""
    return any(
        _EXPLOITED.search(clause) and not _NEGATED.search(clause)
        for clause in re.split(r"[.;,]+(?:\s|$)|\n", details)
    )


@dataclass
class _Product:
    vendor: str = ""
    family: str = ""
    product: str = ""
    version: str = ""
    cpe: str = ""
    name: str = ""
    # For a relationship ("component X of platform Y"): the platform's name and the full name.
    platform: str = ""
    full: str = ""

    def display(self) -> tuple[str, str, str]:
        vendor, product, version = self.vendor, self.product or self.family, self.version
        fields = _split_cpe(self.cpe) if self.cpe else None
        if fields is not None:
            vendor = vendor or _cpe_text(fields[3])
            product = product or _cpe_text(fields[4])
            version = version or _cpe_text(fields[5])
        if self.platform:
            # A package of a platform (Red Hat: "kernel-0:4.18… as a component of RHEL 8"): one
            # line per platform (and component product), the packages as its versions.
            product = f"{product} ({self.platform})" if product else self.platform
            return vendor, product, version or self.name
        return vendor, product or self.name, version

    def full_name(self) -> str:
        if self.full:
            return self.full
        vendor, product, version = self.display()
        return self.name or " ".join(p for p in (vendor, product, version) if p)


def from_csaf(data: bytes | str | dict[str, object]) -> VulnerabilityDraft:
    """A draft from a CSAF 2.0 advisory: all its CVE ids, the highest CVSS score among them."""
    return _csaf(load_json(data))


def _remediation_label(category: str) -> str:
    labels = {
        "vendor_fix": _("Vendor fix"),
        "mitigation": _("Mitigation"),
        "workaround": _("Workaround"),
        "none_available": _("No fix available"),
        "no_fix_planned": _("No fix planned"),
    }
    return labels.get(category, "")


_STATUS_GROUPS: dict[str, Status] = {
    "known_affected": "affected",
    "first_affected": "affected",
    "last_affected": "affected",
    "fixed": "fixed",
    "first_fixed": "fixed",
    "under_investigation": "under_investigation",
    "recommended": "recommended",
    "known_not_affected": "not_affected",
}
# CSAF 2.0 carries TLP 1.0 labels; WHITE is TLP 2.0's CLEAR.
_TLP_LABELS = {
    "WHITE": "CLEAR",
    "CLEAR": "CLEAR",
    "GREEN": "GREEN",
    "AMBER": "AMBER",
    "AMBER+STRICT": "AMBER+STRICT",
    "RED": "RED",
}
_VENDOR_LEVELS: dict[str, CvssSeverity] = {
    "critical": "critical",
    "important": "high",
    "high": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "none": "none",
    "informational": "none",
}


def _status_word(status: Status) -> str:
    words = {
        "affected": _("affected"),
        "fixed": _("fixed"),
        "not_affected": _("not affected"),
        "under_investigation": _("under investigation"),
        "recommended": _("recommended"),
    }
    return words[status]


def _justification_label(label: str) -> str:
    labels = {
        "component_not_present": _("the component is not present"),
        "vulnerable_code_not_present": _("the vulnerable code is not present"),
        "vulnerable_code_cannot_be_controlled_by_adversary": _(
            "the vulnerable code cannot be controlled by an adversary"
        ),
        "vulnerable_code_not_in_execute_path": _("the vulnerable code is not in the execute path"),
        "inline_mitigations_already_exist": _("inline mitigations already exist"),
    }
    return labels.get(label, label.replace("_", " "))


def _csaf(doc: dict[str, object]) -> VulnerabilityDraft:
    document = _obj(doc, "document", "")
    if document is None:
        raise ImportProblem(
            _("This is not a CSAF 2.0 advisory: “document” is missing."), "document"
        )
    version = document.get("csaf_version")
    if version is None:
        raise ImportProblem(
            _("This is not a CSAF 2.0 advisory: “document.csaf_version” is missing."),
            "document.csaf_version",
        )
    if version == "2.1":
        raise ImportProblem(
            _(
                "This is a CSAF 2.1 advisory; CSAF 2.1 is not supported yet. Import the "
                "publisher's CSAF 2.0 version of it."
            ),
            "document.csaf_version",
        )
    if version != "2.0":
        raise ImportProblem(
            _("This is not a CSAF 2.0 advisory: “document.csaf_version” is “%(version)s”.")
            % {"version": _cut(str(version), 20)},
            "document.csaf_version",
        )
    category = _req_str(document, "category", "document")
    title = _req_str(document, "title", "document")
    tracking = _req_obj(document, "tracking", "document")
    tracking_id = _req_str(tracking, "id", "document.tracking")
    tracking_version = _str(tracking, "version", "document.tracking")
    publisher = _req_str(_req_obj(document, "publisher", "document"), "name", "document.publisher")
    vex = category == "csaf_vex"

    tlp = ""
    distribution = _obj(document, "distribution", "document")
    if distribution is not None:
        tlp_obj = _obj(distribution, "tlp", "document.distribution")
        if tlp_obj is not None:
            label = _str(tlp_obj, "label", "document.distribution.tlp").strip().upper()
            tlp = _TLP_LABELS.get(label, "")
    vendor_severity = ""
    aggregate = _obj(document, "aggregate_severity", "document")
    if aggregate is not None:
        vendor_severity = _str(aggregate, "text", "document.aggregate_severity").strip()

    products = _product_tree(doc)

    vulnerabilities = _items(doc, "vulnerabilities", "")
    if not vulnerabilities:
        raise ImportProblem(
            _("The advisory lists no vulnerabilities (“vulnerabilities” is missing or empty)."),
            "vulnerabilities",
        )

    cve_ids: list[str] = []
    references: list[str] = []
    group = _Group()
    best: tuple[float, int, str, CvssVersion, CvssSeverity] | None = None
    best_v2: tuple[float, str] | None = None
    known_exploited = False
    # (label, details, url) → the CVE ids it is for, in order of first mention.
    remediations: dict[tuple[str, str, str], list[str]] = {}
    sections: list[str] = [_notes(document, "document")]
    statuses: list[ProductStatus] = []
    seen_status: set[tuple[str, str]] = set()
    status_lines: list[str] = []
    not_affected: set[str] = set()

    for ref_path, ref in _items(document, "references", "document"):
        url = _url(_str(ref, "url", ref_path))
        if url:
            _add_unique(references, url)

    for vpath, vuln in vulnerabilities:
        cve = _str(vuln, "cve", vpath)
        if "cve" in vuln:
            _cve(cve, _join(vpath, "cve"))
            _add_unique(cve_ids, cve)
        label = cve or _str(vuln, "title", vpath)

        vuln_text = _notes(vuln, vpath)
        vuln_title = _str(vuln, "title", vpath)
        heading = ": ".join(part for part in (cve, vuln_title) if part)
        if vuln_text or heading:
            sections.append("\n".join(part for part in (heading, vuln_text) if part))

        for spath, score in _items(vuln, "scores", vpath):
            for key in ("cvss_v4", "cvss_v3"):
                metric = _obj(score, key, spath)
                if metric is None:
                    continue
                mpath = _join(spath, key)
                vector = _req_str(metric, "vectorString", mpath)
                candidate = _scored(vector, _join(mpath, "vectorString"))
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
            v2 = _obj(score, "cvss_v2", spath)
            if v2 is not None:
                v2_candidate = _v2(v2)
                if v2_candidate is not None and (best_v2 is None or v2_candidate > best_v2):
                    best_v2 = v2_candidate

        justifications = _justifications(vuln, vpath)
        status = _obj(vuln, "product_status", vpath)
        if status is not None:
            status_path = _join(vpath, "product_status")
            for key, folded in _STATUS_GROUPS.items():
                for ppath, product_id in _strings(status, key, status_path):
                    product = products.get(product_id)
                    if product is None:
                        raise ImportProblem(
                            _(
                                "“%(path)s” names the product “%(id)s”, which the product tree "
                                "does not define."
                            )
                            % {"path": ppath, "id": _cut(product_id, 80)},
                            ppath,
                        )
                    full = product.full_name() or product_id
                    why = justifications.get(product_id, "") if folded == "not_affected" else ""
                    if (full, folded) not in seen_status:
                        seen_status.add((full, folded))
                        statuses.append(
                            ProductStatus(product=full, status=folded, justification=why)
                        )
                    line = f"{full}: {_status_word(folded)}"
                    line = f"{line} ({why})" if why else line
                    if len(vulnerabilities) > 1 and label:
                        line = f"{label}: {line}"
                    _add_unique(status_lines, line)
                    if folded == "not_affected":
                        not_affected.add(line)
                        continue
                    vendor, name, product_version = product.display()
                    if folded != "affected":
                        product_version = (
                            _("%(status)s: %(version)s")
                            % {"status": _status_word(folded), "version": product_version}
                            if product_version
                            else _status_word(folded)
                        )
                    group.add(vendor, name, product_version, product.cpe)

        for rpath, remediation in _items(vuln, "remediations", vpath):
            details = _req_str(remediation, "details", rpath)
            url = _url(_str(remediation, "url", rpath)) or ""
            rlabel = _remediation_label(_str(remediation, "category", rpath))
            remediations.setdefault((rlabel, details, url), [])
            _add_unique(remediations[(rlabel, details, url)], label)

        for tpath, threat in _items(vuln, "threats", vpath):
            if _str(threat, "category", tpath) == "exploit_status" and _says_exploited(
                _str(threat, "details", tpath)
            ):
                known_exploited = True

        for ref_path, ref in _items(vuln, "references", vpath):
            url = _url(_str(ref, "url", ref_path))
            if url:
                _add_unique(references, url)

    if not cve_ids:
        raise ImportProblem(
            _("The advisory names no CVE id (“vulnerabilities[].cve”)."), "vulnerabilities"
        )

    several = len(vulnerabilities) > 1
    lines: list[str] = []
    for (rlabel, details, url), labels in remediations.items():
        head = rlabel
        if several and labels:
            head = f"{head} ({', '.join(labels)})" if head else ", ".join(labels)
        line = f"{head}: {details}" if head else details
        lines.append(f"{line} {url}" if url else line)

    if vex:
        counts = {s: sum(1 for p in statuses if p["status"] == s) for s in _STATUS_GROUPS.values()}
        if statuses and counts["not_affected"] == len(statuses):
            lines.insert(
                0,
                _(
                    "The vendor states that no product this document names is affected; "
                    "nothing needs to be done for them."
                ),
            )
        lines.insert(0, _("Product status according to the vendor (VEX):"))
        lines[1:1] = [f"- {line}" for line in status_lines]
    not_affected_lines = [line for line in status_lines if line in not_affected]
    if not_affected_lines and not vex:
        # The affected, fixed and other products are in the draft's list of affected products.
        sections.append(
            _("Not affected according to the vendor:")
            + "\n"
            + "\n".join(f"- {line}" for line in not_affected_lines)
        )
    if best is None and vendor_severity:
        sections.append(_("Severity according to the vendor: %(text)s") % {"text": vendor_severity})
    cvss_v2 = ""
    if best_v2 is not None:
        cvss_v2 = f"{best_v2[1]} ({best_v2[0]:.1f})"
        sections.append(_("CVSS v2 (for reference): %(v2)s") % {"v2": cvss_v2})

    shortened = group.shortened()
    references, cut_refs = _references_fit(references)
    shortened += cut_refs
    draft = VulnerabilityDraft(
        title=_cut(title, MAX_TITLE),
        description=_fit_text("\n\n".join(s for s in sections if s) or title, shortened),
        cve_ids=cve_ids,
        affected=group.result(),
        references=references,
        recommendations=_fit_text("\n".join(lines), []),
        known_exploited=known_exploited,
        source=_cut(f"CSAF: {publisher} {tracking_id}", MAX_SOURCE),
        tlp=tlp,
        vendor_severity=_cut(vendor_severity, 100),
        vendor_level=_VENDOR_LEVELS.get(vendor_severity.lower(), ""),
        cvss_v2=cvss_v2,
        statuses=statuses,
        vex=vex,
        shortened=shortened,
        tracking_id=_cut(tracking_id.strip(), 200),
        tracking_version=_cut(tracking_version.strip(), 50),
    )
    if best is not None:
        draft.cvss_score, _rank, draft.cvss_vector, draft.cvss_version, draft.cvss_severity = best
    return draft


def _v2(metric: dict[str, object]) -> tuple[float, str] | None:
    """(score, vector) of a CVSS v2 block, or None when it cannot be scored."""
    vector = metric.get("vectorString")
    if not isinstance(vector, str) or not vector.strip() or len(vector) > MAX_VECTOR_LENGTH:
        return None
    try:
        score = float(CVSS2(vector.strip()).scores()[0])
    except (CVSSError, ArithmeticError, LookupError, TypeError, ValueError):
        return None
    return score, vector.strip()


def _justifications(vuln: dict[str, object], path: str) -> dict[str, str]:
    """Product id → why it is not affected: a VEX flag's label, else an impact statement."""
    out: dict[str, str] = {}
    for fpath, flag in _items(vuln, "flags", path):
        text = _justification_label(_str(flag, "label", fpath))
        for _p, product_id in _strings(flag, "product_ids", fpath):
            if text:
                out.setdefault(product_id, _cut(text, MAX_JUSTIFICATION))
    for tpath, threat in _items(vuln, "threats", path):
        if _str(threat, "category", tpath) != "impact":
            continue
        text = _str(threat, "details", tpath).strip()
        for _p, product_id in _strings(threat, "product_ids", tpath):
            if text:
                out.setdefault(product_id, _cut(text, MAX_JUSTIFICATION))
    return out


def _notes(owner: dict[str, object], path: str) -> str:
    parts: list[str] = []
    for npath, note in _items(owner, "notes", path):
        if _str(note, "category", npath) in _NOTE_CATEGORIES:
            _add_unique(parts, _str(note, "text", npath))
    return "\n\n".join(parts)


def _helper_cpe(product: dict[str, object], path: str) -> str:
    helper = _obj(product, "product_identification_helper", path)
    if helper is None:
        return ""
    return _str(helper, "cpe", _join(path, "product_identification_helper"))


def _product_tree(doc: dict[str, object]) -> dict[str, _Product]:
    """Every product id the advisory defines, with its vendor, product name and version."""
    tree = _obj(doc, "product_tree", "")
    products: dict[str, _Product] = {}
    if tree is None:
        return products

    stack: list[tuple[str, dict[str, object], _Product, int]] = [
        (path, branch, _Product(), 1) for path, branch in _items(tree, "branches", "product_tree")
    ]
    stack.reverse()
    while stack:
        path, branch, inherited, depth = stack.pop()
        if depth > _MAX_BRANCH_DEPTH:
            raise ImportProblem(
                _("“%(path)s”: the product tree is nested too deeply.") % {"path": path}, path
            )
        category = _str(branch, "category", path)
        name = _str(branch, "name", path)
        here = _Product(**inherited.__dict__)
        if category == "vendor":
            here.vendor = name
        elif category == "product_family":
            here.family = f"{here.family} {name}".strip()
        elif category == "product_name":
            here.product = name
        elif category in ("product_version", "product_version_range"):
            here.version = name
        elif category in ("service_pack", "patch_level"):
            here.version = f"{here.version} {name}".strip()
        product = _obj(branch, "product", path)
        if product is not None:
            ppath = _join(path, "product")
            product_id = _req_str(product, "product_id", ppath)
            here.name = _str(product, "name", ppath)
            here.cpe = _helper_cpe(product, ppath)
            products[product_id] = here
        children = _items(branch, "branches", path)
        stack.extend((cpath, child, here, depth + 1) for cpath, child in reversed(children))

    for path, full in _items(tree, "full_product_names", "product_tree"):
        product_id = _req_str(full, "product_id", path)
        name = _str(full, "name", path)
        products[product_id] = _Product(name=name, cpe=_helper_cpe(full, path))

    for path, relation in _items(tree, "relationships", "product_tree"):
        full = _req_obj(relation, "full_product_name", path)
        fpath = _join(path, "full_product_name")
        product_id = _req_str(full, "product_id", fpath)
        full_name = _str(full, "name", fpath)
        component = products.get(_str(relation, "product_reference", path))
        platform = products.get(_str(relation, "relates_to_product_reference", path))
        platform_name = ""
        if platform is not None:
            platform_name = platform.name or " ".join(p for p in platform.display()[1:] if p)
        if component is not None:
            resolved = _Product(**component.__dict__)
            resolved.vendor = resolved.vendor or (platform.vendor if platform else "")
            resolved.platform = platform_name
            resolved.full = full_name
            resolved.cpe = resolved.cpe or _helper_cpe(full, fpath)
            products[product_id] = resolved
        else:
            products[product_id] = _Product(name=full_name, platform=platform_name, full=full_name)
    return products


# --- Either -----------------------------------------------------------------------------------


def _not_an_advisory(doc: dict[str, object]) -> None:
    """CSAF's distribution files (ROLIE feeds, provider and aggregator metadata) named for what
    they are, with where the advisories are."""
    feed = doc.get("feed")
    if isinstance(feed, dict):
        entries = feed.get("entry")
        count = len(entries) if isinstance(entries, list) else 0
        raise ImportProblem(
            ngettext(
                "This is a ROLIE feed of CSAF advisories (“%(title)s”, %(count)d entry), not an "
                "advisory: download the advisory from the entry's link and import that file.",
                "This is a ROLIE feed of CSAF advisories (“%(title)s”, %(count)d entries), not "
                "an advisory: download the advisories from the entries' links and import them "
                "one by one.",
                count,
            )
            % {"title": _cut(str(feed.get("title") or ""), 100), "count": count}
        )
    if isinstance(doc.get("service"), dict) or isinstance(doc.get("categories"), dict):
        raise ImportProblem(
            _(
                "This is a ROLIE service or category document of a CSAF provider, not an "
                "advisory: import the advisories its feeds list one by one."
            )
        )
    if "canonical_url" in doc and ("metadata_version" in doc or "role" in doc):
        publisher = doc.get("publisher")
        name = publisher.get("name") if isinstance(publisher, dict) else ""
        raise ImportProblem(
            _(
                "This is the provider metadata (provider-metadata.json) of the CSAF provider "
                "“%(name)s”, not an advisory: import the advisories its ROLIE feeds or "
                "directories list one by one."
            )
            % {"name": _cut(str(name or ""), 100)}
        )
    if isinstance(doc.get("aggregator"), dict):
        raise ImportProblem(
            _(
                "This is the metadata of a CSAF aggregator (aggregator.json), not an advisory: "
                "import the advisories of the providers it lists one by one."
            )
        )


def detect_and_parse(data: bytes | str | dict[str, object]) -> VulnerabilityDraft:
    """A draft from whichever of the two formats the file is, told apart by its shape."""
    doc = load_json(data)
    if "document" in doc:
        return _csaf(doc)
    _not_an_advisory(doc)
    if "CVE_Items" in doc or "CVE_data_type" in doc:
        raise ImportProblem(
            _(
                "This is an NVD JSON 1.1 feed, which the NVD no longer publishes; use a CVE "
                "record from the NVD CVE API 2.0."
            )
        )
    if "cveMetadata" in doc or doc.get("dataType") == "CVE_RECORD":
        raise ImportProblem(
            _(
                "This is a CVE JSON 5 record from cve.org; use the NVD CVE API 2.0 record of the "
                "same CVE, or the vendor's CSAF advisory."
            )
        )
    vulnerabilities = doc.get("vulnerabilities")
    nvd_response = any(key in doc for key in ("format", "totalResults", "resultsPerPage"))
    if isinstance(vulnerabilities, list) and (
        nvd_response
        or (
            vulnerabilities
            and all(isinstance(v, dict) and isinstance(v.get("cve"), dict) for v in vulnerabilities)
        )
    ):
        return _nvd(doc)
    if isinstance(doc.get("cve"), dict):
        return _nvd(doc)
    if isinstance(doc.get("id"), str) and any(
        key in doc for key in ("descriptions", "metrics", "sourceIdentifier", "vulnStatus")
    ):
        return _nvd(doc)
    if isinstance(vulnerabilities, list):
        raise ImportProblem(
            _("This is not a CSAF 2.0 advisory: “document” is missing."), "document"
        )
    raise ImportProblem(
        _(
            "The file is neither a CSAF 2.0 advisory (it has no “document”) nor an NVD CVE "
            "JSON 2.0 record (it has no “vulnerabilities” list or “cve” object)."
        )
    )
