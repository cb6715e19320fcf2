"""TAXII 2.1's wire format: media types, the error object, timestamps, the collections AIPS
offers and the paging of an envelope. Pure: the views read the alerts and pass them in."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from aips.center.exchange.stix import NAMESPACE, Entry
from aips.core.tlp import Tlp

TAXII_TYPE = "application/taxii+json;version=2.1"
STIX_TYPE = "application/stix+json;version=2.1"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    tlp: str | None  # None: every label the caller may read
    # An organization's submissions collection: written (drafts for its maker-checker), not read.
    submissions: bool = False


def submissions_collection(organization_id: int) -> Collection:
    """Where an organization's makers add STIX objects: one per organization, its id derived
    from the organization's, so it never changes and guessing another's gains nothing (a
    caller is only ever offered, and may only write, its own)."""
    return Collection(
        id=str(uuid.uuid5(NAMESPACE, f"taxii:collection:submissions:{organization_id}")),
        title=_("Submissions"),
        description=_(
            "Add STIX 2.1 objects here: they become draft alerts of your organization, which "
            "its head approves before they reach the center."
        ),
        tlp=None,
        submissions=True,
    )


def collections(submitter_organization_id: int | None = None) -> list[Collection]:
    """One collection of everything the caller may read, and one per TLP label: a SIEM that
    may only take TLP:CLEAR and GREEN polls those two; and, for a caller who may submit, its
    organization's submissions collection."""
    out = [
        Collection(
            id=str(uuid.uuid5(NAMESPACE, "taxii:collection:alerts")),
            title=_("Published alerts"),
            description=_("Every published alert you may read, with its indicators."),
            tlp=None,
        )
    ]
    for level in Tlp:
        out.append(
            Collection(
                id=str(uuid.uuid5(NAMESPACE, f"taxii:collection:{level.value}")),
                title=_("Published alerts, %(tlp)s") % {"tlp": level.label},
                description=_("The published alerts labelled %(tlp)s that you may read.")
                % {"tlp": level.label},
                tlp=level.value,
            )
        )
    if submitter_organization_id is not None:
        out.append(submissions_collection(submitter_organization_id))
    return out


def collection(
    collection_id: str, submitter_organization_id: int | None = None
) -> Collection | None:
    return next((c for c in collections(submitter_organization_id) if c.id == collection_id), None)


def collection_json(c: Collection) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "can_read": not c.submissions,
        "can_write": c.submissions,
        "media_types": [STIX_TYPE],
    }


def timestamp(value: datetime) -> str:
    """TAXII's timestamps: UTC, microseconds, `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime | None:
    try:
        value = parse_datetime(text.strip())
    except ValueError:
        return None
    if value is None or value.tzinfo is None:
        return None
    return value


def accepts(request: HttpRequest, media_type: str = "application/taxii+json") -> bool:
    """The Accept header admits TAXII 2.1 (or anything); a missing header admits it too."""
    header = request.headers.get("Accept", "").strip()
    if not header:
        return True
    for part in header.split(","):
        kind, *params = (p.strip().lower() for p in part.split(";"))
        if kind in ("*/*", "application/*"):
            return True
        if kind == media_type:
            versions = [p.split("=", 1)[1] for p in params if p.startswith("version=")]
            if not versions or "2.1" in versions:
                return True
    return False


def response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    out = HttpResponse(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        content_type=TAXII_TYPE,
    )
    for name, value in (headers or {}).items():
        out[name] = value
    return out


def error(request: HttpRequest, status: int, title: str, description: str = "") -> HttpResponse:
    """TAXII 2.1's error message (section 3.6.1): the TAXII endpoints answer with it instead of
    the API's error shape, since TAXII clients read this one; the request id goes in
    `error_id` so a report can be matched with the logs."""
    body: dict[str, Any] = {"title": title, "http_status": str(status)}
    if description:
        body["description"] = description
    request_id = getattr(request, "request_id", "") or request.headers.get("X-Request-ID", "")
    if request_id:
        body["error_id"] = str(request_id)
    return response(body, status)


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    more: bool
    next: str | None


def paginate(entries: list[Entry], *, limit: int, start: int) -> Page:
    window = entries[start : start + limit]
    more = start + limit < len(entries)
    return Page(entries=window, more=more, next=str(start + limit) if more else None)


def range_headers(page: Page) -> dict[str, str]:
    if not page.entries:
        return {}
    return {
        "X-TAXII-Date-Added-First": timestamp(page.entries[0].date_added),
        "X-TAXII-Date-Added-Last": timestamp(page.entries[-1].date_added),
    }


def matches(entry: Entry, filters: dict[str, list[str]]) -> bool:
    """`match[id]`, `match[type]`, `match[version]` and `match[spec_version]` (TAXII 5.5)."""
    if (ids := filters.get("id")) and entry.id not in ids:
        return False
    if (types := filters.get("type")) and str(entry.obj["type"]) not in types:
        return False
    if (specs := filters.get("spec_version")) and "2.1" not in specs:
        return False
    versions = filters.get("version")
    if versions and not {"all", "first", "last"} & set(versions):
        version = entry.version
        wanted = {parse_timestamp(v) for v in versions}
        if version is None or version not in wanted:
            return False
    return True


def status_json(
    status_id: str,
    created_at: datetime,
    successes: list[dict[str, str]],
    failures: list[dict[str, str]],
    pendings: list[dict[str, str]],
) -> dict[str, Any]:
    """TAXII 2.1's status resource (section 4.3.1). Submissions are read while the request
    waits, so a status is always `complete`."""
    return {
        "id": status_id,
        "status": "pending" if pendings else "complete",
        "request_timestamp": timestamp(created_at),
        "total_count": len(successes) + len(failures) + len(pendings),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": len(pendings),
        "pendings": pendings,
    }


def is_taxii_content(request: HttpRequest) -> bool:
    """The request's body is declared TAXII 2.1 (`application/taxii+json;version=2.1`)."""
    kind, *params = (p.strip().lower() for p in request.headers.get("Content-Type", "").split(";"))
    versions = [p.split("=", 1)[1].strip() for p in params if p.startswith("version=")]
    return kind == "application/taxii+json" and (not versions or versions == ["2.1"])
