"""A partner's intelligence read into drafts: a STIX 2.1 bundle (parsed by the `stix2` library,
custom properties allowed) or a MISP event JSON. Pure: no models, no settings; a bad file raises
`ImportRefused` with a message for the person who uploaded it.

What AIPS cannot keep is counted, never dropped silently: a pattern that is not a plain
comparison of an observable AIPS knows, or a value `core.indicators` refuses, is listed in the
draft's `skipped`, which the service writes into the draft's description."""

import json
import re
from dataclasses import dataclass, field
from typing import Any

import stix2
from django.utils.translation import gettext as _

from aips.center.exchange.stix import TLP1_IDS, TLP_BY_MARKING
from aips.core.indicators import CVE
from aips.core.tlp import Tlp

MAX_BYTES = 10 * 1024 * 1024
MAX_DRAFTS = 100
_ORDER = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED]
# `[type:path = 'value']` comparisons inside a STIX pattern (OR-ed ones included).
_COMPARISON = re.compile(
    r"(ipv4-addr|ipv6-addr|domain-name|url|email-addr|file):"
    r"(value|hashes\.(?:'[^']+'|[A-Za-z0-9-]+))\s*=\s*'((?:\\.|[^'\\])*)'"
)
_HASHES = {"MD5", "SHA-1", "SHA1", "SHA-256", "SHA256"}


class ImportRefused(Exception):
    pass


@dataclass
class Draft:
    title: str
    description: str
    tlp: str
    level: str = "medium"
    indicators: list[str] = field(default_factory=list)
    cve_ids: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    source: str = ""
    # The STIX objects the draft was made from (its report, then the members it took in).
    stix_ids: list[str] = field(default_factory=list)


def _strictest(levels: list[str], default: str = Tlp.AMBER) -> str:
    known = [Tlp(level) for level in levels if level in Tlp.values]
    if not known:
        return default
    return max(known, key=_ORDER.index).value


def _load(data: bytes) -> Any:
    if len(data) > MAX_BYTES:
        raise ImportRefused(
            _("The file is %(size)s bytes; at most %(limit)s are accepted.")
            % {"size": len(data), "limit": MAX_BYTES}
        )
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportRefused(
            _("The file is not JSON: %(error)s") % {"error": str(exc)[:200]}
        ) from exc


def pattern_values(pattern: str) -> tuple[list[str], bool]:
    """The values of a STIX pattern's equality comparisons, and whether the pattern held
    anything else (then the draft says it was not taken whole)."""
    values: list[str] = []
    for match in _COMPARISON.finditer(pattern):
        kind, path, raw = match.groups()
        value = raw.replace("\\'", "'").replace("\\\\", "\\")
        if kind == "file":
            algorithm = path.removeprefix("hashes.").strip("'").upper()
            if algorithm not in _HASHES:
                continue
        elif path != "value":
            continue
        values.append(value)
    rest = _COMPARISON.sub("", pattern)
    leftover = re.sub(r"[\[\]\s()]|\bOR\b", "", rest)
    return values, bool(leftover) or not values


def _marking_tlp(refs: list[str]) -> list[str]:
    out = []
    for ref in refs:
        if ref in TLP_BY_MARKING:
            out.append(TLP_BY_MARKING[ref].value)
        elif ref in TLP1_IDS:
            out.append(TLP1_IDS[ref].value)
    return out


def parse_stix(data: bytes) -> list[Draft]:
    """One draft per report (its indicators and vulnerabilities); indicators and
    vulnerabilities no report names make one more draft."""
    raw = _load(data)
    if not isinstance(raw, dict) or raw.get("type") != "bundle":
        raise ImportRefused(_("A STIX 2.1 bundle is expected (an object of type “bundle”)."))
    if raw.get("spec_version") not in (None, "2.1") or any(
        isinstance(o, dict) and o.get("spec_version") not in (None, "2.1")
        for o in raw.get("objects") or []
    ):
        raise ImportRefused(_("Only STIX 2.1 is read; this bundle declares another version."))
    try:
        bundle = stix2.parse(raw, allow_custom=True, version="2.1")
    except (stix2.exceptions.STIXError, ValueError, TypeError, KeyError) as exc:
        raise ImportRefused(
            _("The bundle is not valid STIX 2.1: %(error)s") % {"error": str(exc)[:500]}
        ) from exc
    objects = {str(o.get("id")): o for o in bundle.get("objects", []) if hasattr(o, "get")}
    identities = {i: o.get("name", "") for i, o in objects.items() if o["type"] == "identity"}
    reports = [o for o in objects.values() if o["type"] == "report"]
    claimed: set[str] = set()
    drafts: list[Draft] = []
    for report in reports[:MAX_DRAFTS]:
        refs = [str(r) for r in report.get("object_refs", [])]
        claimed.update(refs)
        members = [objects[r] for r in refs if r in objects]
        drafts.append(
            _draft(
                stix_ids=[str(report["id"]), *(str(m["id"]) for m in members)],
                title=str(report.get("name", "")),
                description=str(report.get("description", "")),
                members=members,
                markings=[str(m) for m in report.get("object_marking_refs", [])],
                source=identities.get(str(report.get("created_by_ref", "")), ""),
                references=[
                    str(e["url"]) for e in report.get("external_references", []) if e.get("url")
                ],
            )
        )
    loose = [
        o
        for i, o in objects.items()
        if o["type"] in ("indicator", "vulnerability") and i not in claimed
    ]
    if loose and len(drafts) < MAX_DRAFTS:
        drafts.append(
            _draft(
                stix_ids=[str(o["id"]) for o in loose],
                title=_("Indicators from a STIX bundle"),
                description="",
                members=loose,
                markings=[],
                source=next(iter(identities.values()), ""),
                references=[],
            )
        )
    if len(reports) > MAX_DRAFTS:
        raise ImportRefused(
            _("The bundle holds %(n)d reports; at most %(limit)d are imported at once.")
            % {"n": len(reports), "limit": MAX_DRAFTS}
        )
    if not drafts:
        raise ImportRefused(_("The bundle holds no report, indicator or vulnerability."))
    return drafts


def _draft(
    *,
    stix_ids: list[str],
    title: str,
    description: str,
    members: list[Any],
    markings: list[str],
    source: str,
    references: list[str],
) -> Draft:
    levels = _marking_tlp(markings)
    draft = Draft(
        title=title[:300] or _("Imported STIX report"),
        description=description,
        tlp=Tlp.AMBER,
        source=source[:300],
        references=[r for r in references if r.startswith(("https://", "http://"))][:100],
        stix_ids=stix_ids,
    )
    for obj in members:
        levels += _marking_tlp([str(m) for m in obj.get("object_marking_refs", [])])
        if obj["type"] == "indicator":
            if obj.get("pattern_type") != "stix":
                draft.skipped.append(f"{obj.get('pattern_type')}: {str(obj.get('pattern'))[:200]}")
                continue
            values, partial = pattern_values(str(obj["pattern"]))
            draft.indicators.extend(values)
            if partial:
                draft.skipped.append(str(obj["pattern"])[:200])
        elif obj["type"] == "vulnerability":
            names = [str(obj.get("name", ""))] + [
                str(e.get("external_id", ""))
                for e in obj.get("external_references", [])
                if e.get("source_name") == "cve"
            ]
            draft.cve_ids.extend(n for n in names if CVE.match(n) and n not in draft.cve_ids)
    # A stricter marking anywhere keeps the whole draft at that level; none given: AMBER.
    draft.tlp = _strictest(levels)
    return draft


# --- MISP -----------------------------------------------------------------------------------

_MISP_INDICATORS = {
    "ip-dst",
    "ip-src",
    "domain",
    "hostname",
    "url",
    "link",
    "md5",
    "sha1",
    "sha256",
    "email",
    "email-src",
    "email-dst",
    "uri",
}
_MISP_COMPOSITE = {
    "ip-dst|port",
    "ip-src|port",
    "domain|ip",
    "hostname|port",
    "filename|md5",
    "filename|sha1",
    "filename|sha256",
}
_MISP_LEVELS = {"1": "high", "2": "medium", "3": "low", "4": "medium"}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def parse_misp(data: bytes) -> Draft:
    """A MISP event (`{"Event": …}`, as MISP exports and feeds serve it) as one draft."""
    raw = _load(data)
    event = raw.get("Event", raw) if isinstance(raw, dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("info"), str):
        raise ImportRefused(_("A MISP event is expected (an object with “Event” and “info”)."))
    attributes = _list(event.get("Attribute"))
    for obj in _list(event.get("Object")):
        if isinstance(obj, dict):
            attributes.extend(_list(obj.get("Attribute")))
    tags = [str(t.get("name", "")).lower() for t in _list(event.get("Tag")) if isinstance(t, dict)]
    levels = [
        t.removeprefix("tlp:").upper().replace("WHITE", "CLEAR")
        for t in tags
        if t.startswith("tlp:")
    ]
    reports = [
        str(r.get("content") or "") for r in _list(event.get("EventReport")) if isinstance(r, dict)
    ]
    orgc = event.get("Orgc")
    draft = Draft(
        title=str(event["info"])[:300] or _("Imported MISP event"),
        description="\n\n".join(r for r in reports if r),
        tlp=_strictest(levels),
        level=_MISP_LEVELS.get(str(event.get("threat_level_id", "")), "medium"),
        source=str(orgc.get("name") or "")[:300] if isinstance(orgc, dict) else "",
    )
    for attribute in attributes:
        if not isinstance(attribute, dict) or attribute.get("deleted"):
            continue
        kind, value = str(attribute.get("type", "")), str(attribute.get("value", ""))
        if kind == "vulnerability" and CVE.match(value.upper()):
            draft.cve_ids.append(value.upper())
        elif kind in _MISP_INDICATORS:
            draft.indicators.append(value)
        elif kind in _MISP_COMPOSITE:
            first, _bar, second = value.partition("|")
            draft.indicators.append(second if kind.startswith("filename") else first)
            if kind == "domain|ip":
                draft.indicators.append(second)
        else:
            draft.skipped.append(f"{kind}: {value[:200]}")
    return draft
