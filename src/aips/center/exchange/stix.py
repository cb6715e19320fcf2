"""Published alerts as STIX 2.1 objects, built with the `stix2` library (OASIS's own), never by
hand: the alert is a `report`, its indicators `indicator` objects with STIX patterns, a
vulnerability alert's CVEs `vulnerability` objects, the center an `identity` (every object's
`created_by_ref`), and the alert's TLP one of the five TLP 2.0 marking definitions OASIS publishes
under fixed ids.

Ids are UUIDv5 of the alert's id (and the indicator's value, the CVE id), so exporting the same
alert again gives the same objects; `modified` moves when the alert changes."""

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stix2

from aips.center.alerts.models import Alert, AlertKind
from aips.core.tlp import Tlp

# The namespace of every id AIPS gives a STIX object (a constant: changing it changes every id).
NAMESPACE = uuid.UUID("6c3e4bd4-7a0e-5b3e-9d5b-1f0a9d2c4e71")

# TLP 2.0 marking definitions as OASIS publishes them (cti-stix-common-objects,
# extension-definition-specifications/tlp-2.0): fixed ids, one extension, one creation time.
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
TLP2_IDS: dict[str, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_BY_MARKING = {marking: Tlp(level) for level, marking in TLP2_IDS.items()}
# TLP 1.0 markings a partner's bundle may still carry (the library's constants).
TLP1_IDS = {
    stix2.TLP_WHITE.id: Tlp.CLEAR,
    stix2.TLP_GREEN.id: Tlp.GREEN,
    stix2.TLP_AMBER.id: Tlp.AMBER,
    stix2.TLP_RED.id: Tlp.RED,
}


def tlp_marking(level: str) -> stix2.MarkingDefinition:
    """The TLP 2.0 marking definition, exactly as published, parsed by the library."""
    tlp = Tlp(level)
    parsed = stix2.parse(
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": TLP2_IDS[tlp],
            "created": TLP2_CREATED,
            "name": f"TLP:{tlp.value}",
            "extensions": {
                TLP2_EXTENSION: {
                    "extension_type": "property-extension",
                    "tlp_2_0": tlp.value.lower(),
                }
            },
        },
        allow_custom=True,
    )
    if not isinstance(parsed, stix2.MarkingDefinition):
        raise TypeError(parsed)
    return parsed


def published(alert: Alert) -> datetime:
    """When the alert was published (its STIX `created`, TAXII's `date_added`)."""
    return alert.published_at or alert.updated_at


def _id(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, ':'.join(str(p) for p in parts))}"


def _quote(value: str) -> str:
    """A string literal of the STIX patterning language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_of(kind: str, value: str) -> str | None:
    """The STIX pattern of one normalized indicator (core/indicators.py), or None for a kind
    STIX has no observable for (none of AIPS's today; a future kind is skipped, not guessed)."""
    quoted = _quote(value)
    if kind in ("ip", "cidr"):
        family = "ipv6-addr" if ":" in value else "ipv4-addr"
        return f"[{family}:value = {quoted}]"
    simple = {"domain": "domain-name", "url": "url", "email": "email-addr"}
    if kind in simple:
        return f"[{simple[kind]}:value = {quoted}]"
    hashes = {"md5": "MD5", "sha1": "'SHA-1'", "sha256": "'SHA-256'"}
    if kind in hashes:
        return f"[file:hashes.{hashes[kind]} = {quoted}]"
    return None


@dataclass(frozen=True)
class Entry:
    """One STIX object of a TAXII collection, with the time it was added (the alert's
    publication: TAXII's `date_added`)."""

    obj: Any
    date_added: datetime
    alert: Alert

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    @property
    def version(self) -> datetime | None:
        value = self.obj.get("modified") or self.obj.get("created")
        return value if isinstance(value, datetime) else None


def center_identity(name: str, pk: int) -> stix2.Identity:
    return stix2.Identity(
        id=_id("identity", "organization", pk),
        created="2020-01-01T00:00:00.000Z",
        modified="2020-01-01T00:00:00.000Z",
        name=name,
        identity_class="organization",
        sectors=["government-regulatory"],
    )


def alert_objects(alert: Alert, identity: stix2.Identity, base_url: str = "") -> list[Any]:
    """The alert's objects: its indicators and vulnerabilities, then the report naming them.
    The caller adds the identity and the marking definition once per bundle."""
    created = published(alert)
    modified = max(created, alert.updated_at)
    marking = [TLP2_IDS[Tlp(alert.tlp)]]
    common: dict[str, Any] = {
        "created": created,
        "modified": modified,
        "created_by_ref": identity.id,
        "object_marking_refs": marking,
    }
    objects: list[Any] = []
    for item in alert.indicators:
        kind, value = str(item.get("type", "")), str(item.get("value", ""))
        pattern = pattern_of(kind, value)
        if pattern is None:
            continue
        valid_until = (
            alert.valid_until if alert.valid_until and alert.valid_until > created else None
        )
        objects.append(
            stix2.Indicator(
                id=_id("indicator", "alert", alert.pk, kind, value),
                name=value,
                description=alert.title,
                indicator_types=["malicious-activity"],
                pattern=pattern,
                pattern_type="stix",
                valid_from=created,
                valid_until=valid_until,
                labels=[kind],
                **common,
            )
        )
    for cve in alert.cve_ids:
        objects.append(
            stix2.Vulnerability(
                id=_id("vulnerability", "alert", alert.pk, cve),
                name=cve,
                external_references=[
                    {
                        "source_name": "cve",
                        "external_id": cve,
                        "url": f"https://nvd.nist.gov/vuln/detail/{cve}",
                    }
                ],
                **common,
            )
        )
    references: list[dict[str, str]] = [
        {
            "source_name": "aips",
            "external_id": alert.reference,
            **({"url": f"{base_url}/alerts/{alert.pk}/"} if base_url else {}),
        }
    ]
    references += [{"source_name": "reference", "url": url} for url in alert.references[:100]]
    refs = [o.id for o in objects] or [identity.id]
    report_types = ["vulnerability"] if alert.kind == AlertKind.VULNERABILITY else ["threat-report"]
    labels = [f"level:{alert.level}"]
    if alert.threat_type is not None:
        labels.append(f"threat-type:{alert.threat_type.code}")
    description = alert.description
    if alert.recommendations:
        description = f"{description}\n\n{alert.recommendations}"
    objects.append(
        stix2.Report(
            id=_id("report", "alert", alert.pk),
            name=alert.title,
            description=description,
            published=created,
            report_types=report_types,
            object_refs=refs,
            labels=labels,
            external_references=references,
            **common,
        )
    )
    return objects


def iter_entries(
    alerts: Iterable[Alert], identity: stix2.Identity, base_url: str = ""
) -> Iterator[Entry]:
    """Every object of these alerts in publication order, the identity and each marking once
    (added with the first alert that names it). Lazy: building an object with the library
    costs most of a millisecond, so a page of a feed builds only what it shows."""
    seen: set[str] = set()
    for alert in alerts:
        when = published(alert)
        shared = [identity, tlp_marking(alert.tlp)]
        for obj in [*shared, *alert_objects(alert, identity, base_url)]:
            if obj.id in seen:
                continue
            seen.add(obj.id)
            yield Entry(obj=obj, date_added=when, alert=alert)


def entries_for(alerts: list[Alert], identity: stix2.Identity, base_url: str = "") -> list[Entry]:
    return list(iter_entries(alerts, identity, base_url))


def bundle_of(alerts: list[Alert], identity: stix2.Identity, base_url: str = "") -> stix2.Bundle:
    """A STIX bundle of these alerts (a download, or what a test validates)."""
    return stix2.Bundle(
        objects=[e.obj for e in entries_for(alerts, identity, base_url)], allow_custom=True
    )
