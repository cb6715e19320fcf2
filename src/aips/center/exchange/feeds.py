"""The plain feeds: block-lists for firewalls and proxies, and the MISP feed (the format MISP's
"feeds" ingestion reads: `manifest.json`, one `<uuid>.json` per event, `hashes.csv`). Pure:
built from the alerts the views read for the caller."""

import hashlib
import uuid
from datetime import datetime
from typing import Any

from aips.center.alerts.models import Alert, ThreatLevel
from aips.center.exchange.stix import NAMESPACE, published

# Block-list name → the indicator types it lists (core/indicators.py KINDS).
BLOCKLISTS: dict[str, tuple[str, ...]] = {
    "ip": ("ip", "cidr"),
    "domain": ("domain",),
    "url": ("url",),
    "sha256": ("sha256",),
    "sha1": ("sha1",),
    "md5": ("md5",),
}


def blocklist_text(name: str, alerts: list[Alert], generated_at: datetime, scope: str) -> str:
    """One value per line, sorted and without repeats, after `# ` comment lines (generation
    time, scope, count): what firewalls' and proxies' external lists read."""
    kinds = BLOCKLISTS[name]
    values = sorted(
        {
            str(item.get("value", ""))
            for alert in alerts
            for item in alert.indicators
            if item.get("type") in kinds and item.get("value")
        }
    )
    header = [
        f"# AIPS block-list: {name}",
        f"# Generated: {generated_at.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"# Scope: {scope}",
        f"# Alerts: {len(alerts)}",
        f"# Entries: {len(values)}",
    ]
    return "\n".join([*header, *values]) + "\n"


# --- MISP -----------------------------------------------------------------------------------

# AIPS indicator type → (MISP attribute type, category).
MISP_TYPES: dict[str, tuple[str, str]] = {
    "ip": ("ip-dst", "Network activity"),
    "cidr": ("ip-dst", "Network activity"),
    "domain": ("domain", "Network activity"),
    "url": ("url", "Network activity"),
    "md5": ("md5", "Payload delivery"),
    "sha1": ("sha1", "Payload delivery"),
    "sha256": ("sha256", "Payload delivery"),
    "email": ("email-src", "Payload delivery"),
}
# MISP's threat levels: 1 high, 2 medium, 3 low, 4 undefined.
THREAT_LEVEL_IDS: dict[str, str] = {
    ThreatLevel.CRITICAL: "1",
    ThreatLevel.HIGH: "1",
    ThreatLevel.MEDIUM: "2",
    ThreatLevel.LOW: "3",
}


def event_uuid(alert: Alert) -> str:
    return str(uuid.uuid5(NAMESPACE, f"misp:event:{alert.pk}"))


def _timestamp(alert: Alert) -> str:
    return str(int(max(published(alert), alert.updated_at).timestamp()))


def _tags(alert: Alert) -> list[dict[str, str]]:
    tags = [{"name": f"tlp:{alert.tlp.lower()}", "colour": "#33FF00"}]
    if alert.threat_type is not None:
        tags.append({"name": f'aips:threat-type="{alert.threat_type.code}"', "colour": "#0088cc"})
    return tags


def _orgc(center_name: str, center_uuid: str) -> dict[str, str]:
    return {"name": center_name, "uuid": center_uuid}


def misp_attributes(alert: Alert) -> list[dict[str, Any]]:
    stamp = _timestamp(alert)
    out: list[dict[str, Any]] = []
    for item in alert.indicators:
        kind, value = str(item.get("type", "")), str(item.get("value", ""))
        if kind not in MISP_TYPES:
            continue
        misp_type, category = MISP_TYPES[kind]
        out.append(
            {
                "uuid": str(uuid.uuid5(NAMESPACE, f"misp:attribute:{alert.pk}:{kind}:{value}")),
                "type": misp_type,
                "category": category,
                "value": value,
                "to_ids": True,
                "comment": "",
                "timestamp": stamp,
                "disable_correlation": False,
                "deleted": False,
            }
        )
    for cve in alert.cve_ids:
        out.append(
            {
                "uuid": str(uuid.uuid5(NAMESPACE, f"misp:attribute:{alert.pk}:cve:{cve}")),
                "type": "vulnerability",
                "category": "External analysis",
                "value": cve,
                "to_ids": False,
                "comment": "",
                "timestamp": stamp,
                "disable_correlation": False,
                "deleted": False,
            }
        )
    return out


def _date(alert: Alert) -> str:
    return published(alert).date().isoformat()


def manifest_entry(alert: Alert, center_name: str, center_uuid: str) -> dict[str, Any]:
    return {
        "Orgc": _orgc(center_name, center_uuid),
        "Tag": _tags(alert),
        "info": f"{alert.reference} {alert.title}",
        "date": _date(alert),
        "analysis": "2",
        "threat_level_id": THREAT_LEVEL_IDS.get(alert.level, "4"),
        "timestamp": _timestamp(alert),
    }


def misp_event(alert: Alert, center_name: str, center_uuid: str) -> dict[str, Any]:
    """`{"Event": …}` as MISP's feed export writes it (PyMISP's `MISPEvent.to_feed()`)."""
    return {
        "Event": {
            "uuid": event_uuid(alert),
            "info": f"{alert.reference} {alert.title}",
            "date": _date(alert),
            "threat_level_id": THREAT_LEVEL_IDS.get(alert.level, "4"),
            "analysis": "2",
            "published": True,
            "timestamp": _timestamp(alert),
            "publish_timestamp": _timestamp(alert),
            "Orgc": _orgc(center_name, center_uuid),
            "Tag": _tags(alert),
            "Attribute": misp_attributes(alert),
            "EventReport": [
                {
                    "uuid": str(uuid.uuid5(NAMESPACE, f"misp:report:{alert.pk}")),
                    "name": alert.title,
                    "content": f"{alert.description}\n\n{alert.recommendations}",
                    "timestamp": _timestamp(alert),
                    "deleted": False,
                }
            ],
        }
    }


def hashes_csv(alerts: list[Alert]) -> str:
    """`hashes.csv`: the MD5 of each attribute value and its event's uuid, one per line (MISP
    reads it to correlate a feed without downloading every event)."""
    lines = []
    for alert in alerts:
        event = event_uuid(alert)
        for attribute in misp_attributes(alert):
            digest = hashlib.md5(str(attribute["value"]).encode(), usedforsecurity=False)
            lines.append(f"{digest.hexdigest()},{event}")
    return "\n".join(lines) + ("\n" if lines else "")
