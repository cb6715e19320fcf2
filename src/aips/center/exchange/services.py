"""Taking a partner's intelligence in: a STIX 2.1 bundle or a MISP event becomes draft alerts of
the importer's organization (the same permission as writing an alert), which the analyst checks
and completes before they go anywhere. Each draft is made by `alerts.services.alert_create`,
which writes its audit event."""

import json
import re
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.center.alerts import selectors as alert_selectors
from aips.center.alerts import services as alert_services
from aips.center.alerts.models import Alert, AlertKind
from aips.center.exchange import credentials, partner
from aips.center.exchange.models import ImportedObject, PartnerSource, PollStatus, SubmissionStatus
from aips.center.exchange.parsing import (
    MAX_DRAFTS,
    Draft,
    ImportRefused,
    parse_misp,
    parse_stix,
)
from aips.core.access import ensure_perm
from aips.core.actors import Actor, SystemActor
from aips.core.errors import Forbidden, ValidationFailed
from aips.core.indicators import normalize_indicator
from aips.core.permissions import Perm
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record

MAX_INDICATORS = 1000


def _create(actor: User, draft: Draft, origin: str) -> Alert:
    indicators: list[str] = []
    refused: list[str] = []
    for value in draft.indicators:
        try:
            normalized = normalize_indicator(value)["value"]
        except ValueError:
            refused.append(value[:200])
            continue
        if normalized not in indicators:
            indicators.append(normalized)
    notes = []
    if len(indicators) > MAX_INDICATORS:
        notes.append(
            _("%(n)d indicators were left out: an alert holds at most %(limit)d.")
            % {"n": len(indicators) - MAX_INDICATORS, "limit": MAX_INDICATORS}
        )
        indicators = indicators[:MAX_INDICATORS]
    not_taken = draft.skipped + refused
    if not_taken:
        notes.append(
            _("Not imported (%(n)d): %(items)s")
            % {"n": len(not_taken), "items": "; ".join(not_taken[:50])}
        )
    description = draft.description.strip() or _("Imported from %(origin)s.") % {"origin": origin}
    if notes:
        description = "\n\n".join([description, *notes])
    vulnerability = bool(draft.cve_ids) and not indicators
    other = next((t for t in alert_selectors.threat_types() if t.code == "other"), None)
    return alert_services.alert_create(
        actor=actor,
        kind=AlertKind.VULNERABILITY if vulnerability else AlertKind.THREAT,
        title=draft.title,
        source=draft.source or origin,
        threat_type_id=None if vulnerability or other is None else other.pk,
        level=draft.level,
        tlp=draft.tlp,
        description=description[:50000],
        recommendations=_("Block or monitor the indicators and check your logs for them."),
        indicators=indicators,
        cve_ids=draft.cve_ids,
        references=draft.references,
    )


@transaction.atomic
def stix_import(*, actor: User, data: bytes) -> list[Alert]:
    """Draft alerts from a STIX 2.1 bundle: one per report, one more for loose indicators."""
    return [alert for _draft, alert in stix_drafts(actor=actor, data=data)]


@transaction.atomic
def stix_drafts(*, actor: User, data: bytes, origin: str = "") -> list[tuple[Draft, Alert]]:
    """The one STIX import (uploads, the REST API, TAXII submissions, partner polls): each
    draft as parsed, with the alert made from it. A bad bundle: ValidationFailed on `file`."""
    ensure_perm(actor, Perm.ALERT_EDIT)
    try:
        drafts = parse_stix(data)
    except ImportRefused as exc:
        raise ValidationFailed.field("file", str(exc)) from exc
    return [(draft, _create(actor, draft, origin or _("a STIX 2.1 bundle"))) for draft in drafts]


@transaction.atomic
def misp_import(*, actor: User, data: bytes) -> Alert:
    """A draft alert from a MISP event JSON."""
    ensure_perm(actor, Perm.ALERT_EDIT)
    try:
        draft = parse_misp(data)
    except ImportRefused as exc:
        raise ValidationFailed.field("file", str(exc)) from exc
    return _create(actor, draft, _("a MISP event"))


@transaction.atomic
def restricted_served(*, actor: Actor, alerts: Iterable[Alert]) -> None:
    """A feed handed out TLP:RED or AMBER+STRICT content (decision 0029): one journal entry for
    the response, naming every such alert it carried (decision 0045), rather than one entry per
    alert; a response with one such alert names it as the entry's target too."""
    served: dict[int, Alert] = {}
    for alert in alerts:
        if alert.is_restricted:
            served.setdefault(alert.pk, alert)
    if not served:
        return
    listed = list(served.values())
    record(
        actor=actor,
        event=EventType.FEED_RESTRICTED_SERVED,
        target=listed[0] if len(listed) == 1 else None,
        organization_id=actor.organization_id,
        details={
            "count": len(listed),
            "alerts": [{"id": a.pk, "reference": a.reference, "tlp": a.tlp} for a in listed],
        },
    )


# --- TAXII submissions (POST …/collections/{id}/objects/) ------------------------------------

# STIX types a submission carries as context for its drafts (who wrote it, its markings).
_CONTEXT_TYPES = {"identity", "marking-definition", "extension-definition", "language-content"}


def _object_detail(obj: dict[str, Any], message: str) -> dict[str, str]:
    detail = {"id": str(obj.get("id", ""))[:200], "message": message[:500]}
    version = obj.get("modified") or obj.get("created")
    if isinstance(version, str):
        detail["version"] = version[:40]
    return detail


@transaction.atomic
def taxii_submit(*, actor: User, objects: list[dict[str, Any]]) -> SubmissionStatus:
    """STIX objects an organization's maker added to its submissions collection: read by the
    one STIX import into draft alerts of the organization (which its head approves before the
    center sees them, as any draft), and a TAXII status saying what became of each object. A
    bundle the import refuses fails every object with the reason, and makes no draft."""
    ensure_perm(actor, Perm.EXCHANGE_SUBMIT)
    ensure_perm(actor, Perm.ALERT_EDIT)
    successes: list[dict[str, str]] = []
    failures: list[dict[str, str]] = []
    alert_ids: list[int] = []
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    data = json.dumps(bundle).encode()
    try:
        with transaction.atomic():
            made = stix_drafts(actor=actor, data=data, origin=_("a TAXII submission"))
    except ValidationFailed as exc:
        reason = "; ".join(str(m) for m in exc.fields.get("file", [])) or exc.message
        failures = [_object_detail(o, reason) for o in objects]
    else:
        taken = {i: alert for draft, alert in made for i in draft.stix_ids}
        alert_ids = [alert.pk for _draft, alert in made]
        for obj in objects:
            kind = str(obj.get("type", ""))
            alert = taken.get(str(obj.get("id", "")))
            if alert is not None:
                successes.append(_object_detail(obj, f"draft {alert.reference}"))
            elif kind in _CONTEXT_TYPES:
                successes.append(_object_detail(obj, "context"))
            else:
                failures.append(_object_detail(obj, f"{kind} objects are not taken into alerts"))
    status = SubmissionStatus.objects.create(
        organization_id=actor.organization_id,
        created_by=actor,
        successes=successes,
        failures=failures,
    )
    record(
        actor=actor,
        event=EventType.TAXII_SUBMITTED,
        target=status,
        organization_id=actor.organization_id,
        details={
            "total": len(objects),
            "successes": len(successes),
            "failures": len(failures),
            "alerts": alert_ids,
        },
    )
    return status


# --- partners' TAXII collections polled into drafts -------------------------------------------

_COLLECTION_ID = re.compile(r"^[A-Za-z0-9._~-]{1,100}$")


def _check_source(*, name: str, api_root_url: str, collection_id: str, poll_minutes: int) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Give the source a name.")]
    try:
        partner.check_url(api_root_url, partner_policy())
    except partner.FetchRefused as exc:
        errors["api_root_url"] = [str(exc)]
    if not _COLLECTION_ID.match(collection_id):
        errors["collection_id"] = [_("A collection id is letters, digits, “.”, “_”, “~” and “-”.")]
    if not 5 <= poll_minutes <= 7 * 24 * 60:
        errors["poll_minutes"] = [_("Between 5 minutes and a week.")]
    if errors:
        raise ValidationFailed(fields=errors)


def partner_policy() -> partner.Policy:
    """The fetch rules from the settings (read on each use, so a test's override applies)."""
    return partner.Policy(
        hosts=frozenset(h.lower().rstrip(".") for h in settings.AIPS_TAXII_PARTNER_HOSTS),
        allow_http=settings.AIPS_TAXII_PARTNER_ALLOW_HTTP,
        allow_private=settings.AIPS_TAXII_PARTNER_ALLOW_PRIVATE,
        max_bytes=settings.AIPS_TAXII_PARTNER_MAX_BYTES,
        timeout=float(settings.AIPS_TAXII_PARTNER_TIMEOUT_SECONDS),
        hosts_setting="AIPS_TAXII_PARTNER_HOSTS",
        allow_query=False,
    )


@transaction.atomic
def partner_source_save(
    *,
    actor: User,
    source: PartnerSource | None = None,
    name: str,
    api_root_url: str,
    collection_id: str,
    username: str = "",
    credential: str = "",
    poll_minutes: int = 60,
    enabled: bool = True,
) -> PartnerSource:
    """Add a partner's collection or change one. An empty `credential` keeps the stored one (it
    is never shown again); the saver becomes the person the drafts are made as. Due at once."""
    ensure_perm(actor, Perm.EXCHANGE_PARTNERS)
    ensure_perm(actor, Perm.ALERT_EDIT)
    api_root_url = api_root_url.strip()
    _check_source(
        name=name, api_root_url=api_root_url, collection_id=collection_id, poll_minutes=poll_minutes
    )
    taken = PartnerSource.objects.filter(name=name.strip())
    if source is not None:
        taken = taken.exclude(pk=source.pk)
    if taken.exists():
        raise ValidationFailed.field("name", _("Another source has this name."))
    if source is None:
        source = PartnerSource(import_as=actor)
        created = True
    else:
        source = PartnerSource.objects.select_for_update().get(pk=source.pk)
        created = False
    moved = (source.api_root_url, source.collection_id) != (api_root_url, collection_id)
    source.name = name.strip()
    source.api_root_url = api_root_url
    source.collection_id = collection_id
    source.username = username
    source.poll_minutes = poll_minutes
    source.enabled = enabled
    source.import_as = actor
    if credential:
        source.credential = credentials.seal(credential)
        source.credential_hint = credentials.hint(credential)
    if moved and not created:
        source.added_after = None  # another collection: start from its beginning
    source.next_poll_at = timezone.now() if enabled else None
    source.save()
    record(
        actor=actor,
        event=EventType.PARTNER_SOURCE_SET,
        target=source,
        details={
            "created": created,
            "name": source.name,
            "api_root_url": api_root_url,
            "collection_id": collection_id,
            "enabled": enabled,
            "credential_changed": bool(credential),
        },
    )
    return source


@transaction.atomic
def partner_claim_due(*, now: datetime | None = None) -> PartnerSource | None:
    """The worker takes one due source and moves its next poll a full interval on, so another
    worker does not take it too (SKIP LOCKED) and a poll that dies is retried in time. Not
    audited: the poll's own entry follows."""
    now = now or timezone.now()
    source = (
        PartnerSource.objects.select_for_update(skip_locked=True)
        .filter(enabled=True, next_poll_at__lte=now)
        .order_by("next_poll_at", "pk")
        .first()
    )
    if source is None:
        return None
    source.next_poll_at = now + timedelta(minutes=source.poll_minutes)
    source.save(update_fields=["next_poll_at"])
    return source


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    return str(obj.get("id", ""))[:200], str(obj.get("modified", ""))[:40]


def _new_roots(
    source: PartnerSource, objects: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Of a poll's objects, the reports, indicators and vulnerabilities not taken before (by
    STIX id and `modified`), and the context a bundle of them needs (their members, identities,
    markings)."""
    by_id = {str(o.get("id", "")): o for o in objects}
    in_reports = {
        str(r) for o in objects if o.get("type") == "report" for r in o.get("object_refs") or []
    }
    candidates = [
        o
        for o in objects
        if o.get("type") == "report"
        or (o.get("type") in ("indicator", "vulnerability") and str(o.get("id")) not in in_reports)
    ]
    keys = {_key(o) for o in candidates}
    seen = set(
        ImportedObject.objects.filter(source=source, stix_id__in=[k[0] for k in keys]).values_list(
            "stix_id", "modified"
        )
    )
    roots = [o for o in candidates if _key(o) not in seen]
    context_ids: set[str] = set()
    for root in roots:
        context_ids.update(str(r) for r in root.get("object_refs") or [])
    context = [
        o
        for i, o in by_id.items()
        if o.get("type") in _CONTEXT_TYPES or (i in context_ids and o.get("type") != "report")
    ]
    return roots, context


@transaction.atomic
def partner_poll_record(
    *,
    source: PartnerSource,
    objects: list[dict[str, Any]] | None,
    added_last: datetime | None = None,
    error: str = "",
    pages: int = 0,
    size: int = 0,
) -> PartnerSource:
    """What one poll brought: the new objects become draft alerts through the one STIX import
    (at most MAX_DRAFTS reports per bundle), each object's (id, modified) is remembered, the
    source's added_after moves on, and the journal gets one entry for the poll with its counts
    (or its error). `objects` None: the fetch failed with `error`."""
    locked = PartnerSource.objects.select_for_update().get(pk=source.pk)
    counts: dict[str, Any] = {"received": 0, "new": 0, "drafts": 0, "pages": pages, "bytes": size}
    alert_ids: list[int] = []
    if objects is not None and not error:
        counts["received"] = len(objects)
        roots, context = _new_roots(locked, objects)
        counts["new"] = len(roots)
        try:
            with transaction.atomic():
                for start in range(0, len(roots), MAX_DRAFTS):
                    chunk = roots[start : start + MAX_DRAFTS]
                    data = json.dumps(
                        {
                            "type": "bundle",
                            "id": f"bundle--{uuid.uuid4()}",
                            "objects": [*context, *chunk],
                        }
                    ).encode()
                    made = stix_drafts(
                        actor=locked.import_as,
                        data=data,
                        origin=_("the TAXII collection of %(name)s") % {"name": locked.name},
                    )
                    by_stix = {i: a for d, a in made for i in d.stix_ids}
                    alert_ids.extend(a.pk for _d, a in made)
                    ImportedObject.objects.bulk_create(
                        [
                            ImportedObject(
                                source=locked,
                                stix_id=str(o.get("id", ""))[:200],
                                modified=str(o.get("modified", ""))[:40],
                                alert=by_stix.get(str(o.get("id", ""))),
                            )
                            for o in chunk
                        ],
                        ignore_conflicts=True,
                    )
        except (ValidationFailed, Forbidden) as exc:
            error = "; ".join(str(m) for m in exc.fields.get("file", [])) or exc.message
            alert_ids = []
    counts["drafts"] = len(alert_ids)
    locked.last_poll_at = timezone.now()
    locked.last_counts = counts
    if error:
        locked.last_status = PollStatus.FAILED
        locked.last_error = error[:2000]
    else:
        locked.last_status = PollStatus.OK
        locked.last_error = ""
        if added_last is not None:
            locked.added_after = added_last
    locked.save()
    record(
        actor=SystemActor(label="worker:taxii-poll"),
        event=EventType.PARTNER_POLLED,
        target=locked,
        details={
            **counts,
            "status": locked.last_status,
            "error": error[:500],
            "alerts": alert_ids,
            "added_after": locked.added_after.isoformat() if locked.added_after else None,
        },
    )
    return locked


@transaction.atomic
def partner_poll_soon(*, actor: User, source: PartnerSource) -> PartnerSource:
    """Ask the worker to poll the source at its next round (the page's "Poll now")."""
    ensure_perm(actor, Perm.EXCHANGE_PARTNERS)
    locked = PartnerSource.objects.select_for_update().get(pk=source.pk)
    locked.next_poll_at = timezone.now()
    locked.save(update_fields=["next_poll_at"])
    record(
        actor=actor,
        event=EventType.PARTNER_SOURCE_SET,
        target=locked,
        details={"poll_requested": True, "name": locked.name},
    )
    return locked
