"""Every change to alerts and their acknowledgements, each with its audit event in the same
transaction (R67.10, R67.13, R67.15)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aips.center.alerts.importers import (
    MAX_PRODUCTS,
    MAX_REFERENCES,
    MAX_VERSIONS,
    ImportProblem,
    VulnerabilityDraft,
    detect_and_parse,
    read_limited,
    score_cvss,
)
from aips.center.alerts.lifecycle import ALERT_MACHINE
from aips.center.alerts.models import (
    Alert,
    AlertKind,
    AlertRecipient,
    AlertState,
    RecipientStatus,
    ThreatLevel,
    ThreatType,
)
from aips.center.alerts.notices import alert_transitioned
from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import AppError, Forbidden, ValidationFailed
from aips.core.indicators import normalize_cves, normalize_indicators
from aips.core.permissions import Perm, Role
from aips.core.tlp import AMBER_OR_STRICTER, RESTRICTED_TLP, Tlp
from aips.core.validation import Fields
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.eds.canonical import ActDocument
from aips.shared.notifications.services import Text, notify_bulk
from aips.shared.organizations.models import Organization, OrganizationKind, OrganizationStatus
from aips.shared.workdays.calendar import add_working_days
from aips.shared.workflow import engine, signing
from aips.shared.workflow.models import SignedAct
from aips.shared.workflow.signing import PageDocument

FIELDS = (
    "kind",
    "title",
    "source",
    "threat_type_id",
    "level",
    "tlp",
    "description",
    "recommendations",
    "indicators",
    "valid_until",
    "cve_ids",
    "cvss_vector",
    "affected",
    "references",
    "known_exploited",
    "anonymous",
)
EDITABLE = engine.EDITABLE_STATES
# TLP levels for which the center chooses the receiving organizations.
TARGETED_TLP = AMBER_OR_STRICTER


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    f = Fields()
    out: dict[str, Any] = {}
    out["kind"] = f.choice("kind", data.get("kind") or "", AlertKind)
    out["title"] = f.required_text("title", data.get("title") or "", max_length=300)
    out["source"] = f.required_text("source", data.get("source") or "", max_length=300)
    out["level"] = f.choice("level", data.get("level") or "", ThreatLevel)
    out["tlp"] = f.choice("tlp", data.get("tlp") or "", Tlp)
    out["description"] = f.required_text(
        "description", data.get("description") or "", max_length=50000
    )
    out["recommendations"] = f.required_text(
        "recommendations", data.get("recommendations") or "", max_length=50000
    )
    threat_type_id = data.get("threat_type_id")
    if (
        threat_type_id is not None
        and not ThreatType.objects.filter(pk=threat_type_id, active=True).exists()
    ):
        f.add("threat_type_id", _("No such threat type."))
    if out["kind"] == AlertKind.THREAT and threat_type_id is None:
        f.add("threat_type_id", _("Choose the threat type."))
    out["threat_type_id"] = threat_type_id
    valid_until = data.get("valid_until")
    if valid_until is not None and (
        not isinstance(valid_until, datetime) or valid_until.tzinfo is None
    ):
        f.add("valid_until", _("Enter a date and time."))
        valid_until = None
    out["valid_until"] = valid_until
    try:
        out["indicators"] = normalize_indicators(list(data.get("indicators") or []))
    except ValueError as exc:
        f.add("indicators", exc)
        out["indicators"] = []
    try:
        out["cve_ids"] = normalize_cves(list(data.get("cve_ids") or []))
    except ValueError as exc:
        f.add("cve_ids", exc)
        out["cve_ids"] = []
    if out["kind"] == AlertKind.VULNERABILITY and not out["cve_ids"] and "cve_ids" not in f.errors:
        f.add("cve_ids", _("Give at least one CVE id."))
    vector = (data.get("cvss_vector") or "").strip()
    out.update(cvss_vector=vector, cvss_version="", cvss_score=None, cvss_severity="")
    if vector:
        try:
            version, score, severity = score_cvss(vector)
        except ImportProblem as exc:
            f.add("cvss_vector", str(exc))
        else:
            out.update(
                cvss_version=version,
                cvss_score=Decimal(str(score)) if score is not None else None,
                cvss_severity=severity,
            )
    out["affected"] = _affected(data.get("affected") or [], f)
    references = [str(r).strip() for r in data.get("references") or [] if str(r).strip()]
    bad = [r for r in references if not r.startswith(("https://", "http://")) or len(r) > 2000]
    if bad:
        f.add("references", _("“%(value)s” is not a web address.") % {"value": bad[0][:100]})
    out["references"] = references[:MAX_REFERENCES]
    out["known_exploited"] = bool(data.get("known_exploited"))
    out["anonymous"] = bool(data.get("anonymous"))
    f.raise_if_any()
    return out


def _affected(raw: Any, f: Fields) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not isinstance(raw, list):
        f.add("affected", _("A list of affected products is expected."))
        return out
    for item in raw[:MAX_PRODUCTS]:
        if not isinstance(item, dict) or not str(item.get("product") or "").strip():
            f.add("affected", _("Each affected product needs at least a product name."))
            return out
        out.append(
            {
                "vendor": str(item.get("vendor") or "")[:200],
                "product": str(item.get("product"))[:200],
                "versions": [str(v)[:100] for v in (item.get("versions") or [])][:MAX_VERSIONS],
                "cpe": str(item.get("cpe") or "")[:300],
            }
        )
    return out


@transaction.atomic
def alert_create(*, actor: User, **data: Any) -> Alert:
    """A draft alert of the actor's own organization (the center's, or an organization's)."""
    ensure_perm(actor, Perm.ALERT_EDIT)
    clean = _clean(data)
    alert = Alert.objects.create(
        organization_id=actor.organization_id, created_by=actor, state=AlertState.DRAFT, **clean
    )
    record(
        actor=actor,
        event=EventType.ALERT_CREATED,
        target=alert,
        organization_id=alert.organization_id,
        details={"kind": alert.kind, "tlp": alert.tlp, "level": alert.level},
    )
    return alert


# The threat type a correlated indicator most likely points to (ENISA taxonomy codes).
_CORRELATION_THREAT_TYPES = {
    "ip": "intrusion-attempts",
    "hash": "malicious-code",
    "email": "fraud",
    "domain": "fraud",
    "url": "fraud",
}


def alert_draft_from_correlation(
    *,
    actor: User,
    indicator_type: str,
    indicator: str,
    organization_count: int,
    first_seen: datetime,
    last_seen: datetime,
    indicators: list[str] | None = None,
) -> Alert:
    """The center's draft threat alert for an indicator seen at several organizations (R67.8):
    the analyst completes and publishes it through the usual workflow. `indicators` (the
    finding's indicator and its related ones, already normalizable) replaces the single one."""
    code = _CORRELATION_THREAT_TYPES.get(indicator_type, "other")
    threat_type = (
        ThreatType.objects.filter(code=code, active=True).first()
        or ThreatType.objects.filter(active=True).first()
    )
    when = f"{first_seen:%Y-%m-%d %H:%M} – {last_seen:%Y-%m-%d %H:%M} UTC"
    return alert_create(
        actor=actor,
        kind=AlertKind.THREAT,
        title=(
            _("Indicator seen at %(n)d organizations: %(value)s")
            % {"n": organization_count, "value": indicator}
        )[:300],
        source=_("AIPS signal correlation"),
        level=ThreatLevel.HIGH,
        tlp=Tlp.AMBER,
        description=_(
            "Signals from %(n)d financial organizations carried this indicator between %(when)s."
        )
        % {"n": organization_count, "when": when},
        recommendations=_("Block or monitor the indicator and check your logs for it."),
        threat_type_id=threat_type.pk if threat_type else None,
        indicators=indicators if indicators is not None else [indicator],
    )


def _values(alert: Alert) -> dict[str, Any]:
    values = {name: getattr(alert, name) for name in FIELDS}
    values["indicators"] = [i["value"] for i in alert.indicators]
    return values


@transaction.atomic
def alert_update(*, actor: Actor, alert: Alert, **changes: Any) -> Alert:
    locked: Alert = engine.lock_for_edit(
        actor=actor, item=alert, perm=Perm.ALERT_EDIT, fields=FIELDS, changes=changes
    )
    clean = _clean({**_values(locked), **changes})
    changed = sorted(k for k, v in clean.items() if getattr(locked, k) != v)
    for name, value in clean.items():
        setattr(locked, name, value)
    if changed:
        locked.save()
        record(
            actor=actor,
            event=EventType.ALERT_UPDATED,
            target=locked,
            organization_id=locked.organization_id,
            details={"changes": changed},
        )
    return locked


def snapshot(alert: Any) -> dict[str, Any]:
    data = {name: getattr(alert, name) for name in FIELDS}
    data["valid_until"] = data["valid_until"].isoformat() if data["valid_until"] else None
    return data


def _audience(organization_ids: list[int] | None, alert: Alert) -> list[Organization]:
    active = Organization.objects.filter(status=OrganizationStatus.ACTIVE).exclude(
        kind=OrganizationKind.CENTER
    )
    if alert.tlp in TARGETED_TLP:
        if not organization_ids:
            raise ValidationFailed.field(
                "organizations", _("For TLP:AMBER and TLP:RED choose the receiving organizations.")
            )
        chosen = list(active.filter(pk__in=organization_ids))
        if len(chosen) != len(set(organization_ids)):
            raise ValidationFailed.field(
                "organizations", _("Some chosen organizations are unknown or not active.")
            )
        return chosen
    if organization_ids:
        raise ValidationFailed.field(
            "organizations", _("TLP:CLEAR and TLP:GREEN alerts go to every organization.")
        )
    return list(active)


def _publish(actor: Actor, alert: Alert, organization_ids: list[int] | None) -> int:
    """Fan-out in the publishing transaction: a recipient row per organization and the
    notifications, all in bulk (R67.13; ≤ 1 s for 300 organizations, see `make bench`)."""
    now = alert.published_at or timezone.now()
    due = add_working_days(now, 1)
    organizations = _audience(organization_ids, alert)
    AlertRecipient.objects.bulk_create(
        [
            AlertRecipient(
                alert=alert,
                organization=org,
                delivered_at=now,
                due_at=due,
                deadline_at=due,
            )
            for org in organizations
        ],
        batch_size=500,
    )
    roles = [Role.ORG_HEAD, Role.ORG_RESPONSIBLE]
    people = list(
        User.objects.filter(
            organization__in=organizations, role__in=roles, is_active=True, blocked_at__isnull=True
        )
    )
    if alert.tlp in RESTRICTED_TLP:
        # Named readers: each receiving organization's IS-unit heads and responsible employees,
        # who act on the recommendations (R67.13); viewers are not told (TLP 2.0).
        heads = people
        through = AlertRecipient.named_users.through
        by_org = {r.organization_id: r.pk for r in AlertRecipient.objects.filter(alert=alert)}
        through.objects.bulk_create(
            [through(alertrecipient_id=by_org[h.organization_id], user_id=h.pk) for h in heads],
            batch_size=500,
        )
    notify_bulk(
        users=people,
        kind="alert_published",
        subject=Text(gettext_lazy("AIPS: new alert %(ref)s"), {"ref": alert.reference}),
        text=Text(
            gettext_lazy(
                "New alert %(ref)s: %(title)s. Accept or decline its recommendations within "
                "1 working day."
            ),
            {"ref": alert.reference, "title": alert.title},
        ),
        link=f"/alerts/{alert.pk}/",
        email=True,
        target=alert,
        tlp=alert.tlp,
    )
    return len(organizations)


# The legal acts on an alert: an organization's head approving its alert for the center, and
# the receiving organization's head accepting or declining the recommendations (R67.13).
SIGNED_ACTS = {"approve": "approve"}
ANSWERS = ("accept", "decline")


def alert_document(
    *, actor: User, alert: Alert, name: str, comment: str = ""
) -> ActDocument | None:
    """What the head signs when approving the organization's alert now (the version it becomes),
    or when answering a received one ("accept", "decline": the published version); None for a
    step that is not signed."""
    if name in ANSWERS:
        published = signing.latest_version(alert)
        return signing.document_for(
            actor=actor,
            kind="alert",
            item_id=alert.pk,
            reference=alert.reference,
            version=alert.version,
            content=published.snapshot if published is not None else snapshot(alert),
            decision=name,
            reason=comment,
        )
    decision = SIGNED_ACTS.get(name)
    # Only the alert's own organization approves it (and only it may read a draft).
    if decision is None or actor.organization_id != alert.organization_id:
        return None
    return signing.document_for(
        actor=actor,
        kind="alert",
        item_id=alert.pk,
        reference=alert.reference,
        version=alert.version + 1,
        content=snapshot(alert),
        decision=decision,
        reason=comment,
    )


def alert_page_documents(
    *, actor: User, alert: Alert, actions: list[engine.Transition], answering: bool
) -> dict[str, PageDocument]:
    """The signable steps offered on the page (`actions`, and the answers when `answering`),
    each with what NCALayer is to sign."""
    documents: dict[str, PageDocument] = {}
    names = [t.name for t in actions] + (list(ANSWERS) if answering else [])
    for name in names:
        page = signing.page_document(
            actor=actor,
            document=alert_document(actor=actor, alert=alert, name=name),
            reason_field="reason" if name == "decline" else "",
        )
        if page is not None:
            documents[name] = page
    return documents


@transaction.atomic
def alert_transition(
    *,
    actor: User,
    alert: Alert,
    name: str,
    comment: str = "",
    organization_ids: list[int] | None = None,
    eds_signature: str = "",
) -> Alert:
    if name == "request_approval" and actor.is_center:
        # The center publishes its own alerts directly; it has no IS-unit head to ask.
        raise Forbidden()
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    transition = ALERT_MACHINE.transitions.get(name)
    checked = signing.check(
        actor=actor,
        document=(
            None
            if name in ANSWERS  # answers are the recipient's, not steps of the alert
            else alert_document(actor=actor, alert=locked, name=name, comment=comment)
        ),
        eds_signature=eds_signature,
        allowed=transition is not None and transition in ALERT_MACHINE.allowed(actor, locked),
    )
    result = engine.apply(
        actor=actor,
        item=locked,
        machine=ALERT_MACHINE,
        name=name,
        comment=comment,
        snapshot=snapshot,
        details=signing.audit_details(checked),
    )
    assert isinstance(result, Alert)  # noqa: S101 - the engine returns the same model
    signing.keep(actor=actor, checked=checked, item=result, act=SIGNED_ACTS.get(name, name))
    if result.state == AlertState.PUBLISHED:
        result.published_at = timezone.now()
        result.published_by = actor
        result.save(update_fields=["published_at", "published_by", "updated_at"])
        _publish(actor, result, organization_ids)
    else:
        alert_transitioned(actor=actor, alert=result, name=name, comment=comment)
    return result


def _own_recipient(actor: Actor, recipient: AlertRecipient, perm: Perm) -> AlertRecipient:
    ensure_perm(actor, perm)
    locked = AlertRecipient.objects.select_for_update().get(pk=recipient.pk)
    if actor.organization_id != locked.organization_id:
        raise Forbidden()
    return locked


@transaction.atomic
def recipient_accept(
    *, actor: User, recipient: AlertRecipient, eds_signature: str = ""
) -> AlertRecipient:
    """The IS-unit head accepts the recommendations (R67.13): their act is the management's
    agreement, recorded with the time, and lateness against the 1-working-day deadline; signed
    with EDS when given (or when the organization requires it)."""
    locked = _own_recipient(actor, recipient, Perm.ALERT_ACKNOWLEDGE)
    if locked.status != RecipientStatus.DELIVERED:
        raise AppError(_("This alert has already been answered."), code="answered", status=409)
    return _answer(
        actor, locked, RecipientStatus.ACCEPTED, "", EventType.ALERT_ACCEPTED, eds_signature
    )


@transaction.atomic
def recipient_decline(
    *, actor: User, recipient: AlertRecipient, reason: str, eds_signature: str = ""
) -> AlertRecipient:
    locked = _own_recipient(actor, recipient, Perm.ALERT_ACKNOWLEDGE)
    f = Fields()
    text = f.required_text("reason", reason, max_length=5000)
    f.raise_if_any()
    if locked.status != RecipientStatus.DELIVERED:
        raise AppError(_("This alert has already been answered."), code="answered", status=409)
    return _answer(
        actor, locked, RecipientStatus.DECLINED, text, EventType.ALERT_DECLINED, eds_signature
    )


def _answer(
    actor: User,
    recipient: AlertRecipient,
    status: str,
    reason: str,
    event: EventType,
    eds_signature: str,
) -> AlertRecipient:
    decision = "accept" if status == RecipientStatus.ACCEPTED else "decline"
    checked = signing.check(
        actor=actor,
        document=alert_document(actor=actor, alert=recipient.alert, name=decision, comment=reason),
        eds_signature=eds_signature,
    )
    now = timezone.now()
    recipient.status = status
    recipient.reason = reason
    recipient.responded_at = now
    recipient.responded_by = actor
    recipient.deadline_at = None
    recipient.save()
    record(
        actor=actor,
        event=event,
        target=recipient.alert,
        organization_id=recipient.organization_id,
        details={
            "recipient_id": recipient.pk,
            "late": now > recipient.due_at,
            "reason": reason,
            **signing.audit_details(checked),
        },
    )
    signing.keep(
        actor=actor, checked=checked, item=recipient, act=decision, version_of=recipient.alert
    )
    return recipient


@transaction.atomic
def recipient_processed(*, actor: User, recipient: AlertRecipient) -> AlertRecipient:
    """Once the accepted recommendations are applied (R67.13)."""
    locked = _own_recipient(actor, recipient, Perm.ALERT_PROCESS)
    if locked.status != RecipientStatus.ACCEPTED:
        raise AppError(
            _("Only accepted recommendations can be marked processed."),
            code="not_accepted",
            status=409,
        )
    locked.status = RecipientStatus.PROCESSED
    locked.processed_at = timezone.now()
    locked.processed_by = actor
    locked.save()
    record(
        actor=actor,
        event=EventType.ALERT_PROCESSED,
        target=locked.alert,
        organization_id=locked.organization_id,
        details={"recipient_id": locked.pk},
    )
    return locked


@transaction.atomic
def alert_viewed(*, actor: Actor, alert: Alert) -> None:
    if alert.is_restricted:
        record(
            actor=actor,
            event=EventType.ALERT_VIEWED,
            target=alert,
            organization_id=actor.organization_id,
            details={"tlp": alert.tlp},
        )


@transaction.atomic
def alert_import(
    *, actor: User, data: Any, tlp: str = Tlp.AMBER, level: str = "", size: int | None = None
) -> Alert:
    """A draft vulnerability alert from a CSAF 2.0 advisory or an NVD CVE JSON 2.0 record.

    `data` is the file's bytes or an open upload (read no further than the importer's limit;
    `size` is its size as uploaded). The draft's TLP is the stricter of the chosen one and the
    source's own (a TLP:RED advisory is never downgraded)."""
    ensure_perm(actor, Perm.ALERT_EDIT)
    try:
        raw = data if isinstance(data, bytes | str) else read_limited(data, size)
        draft = detect_and_parse(raw)
    except ImportProblem as exc:
        raise ValidationFailed.field("file", str(exc)) from exc
    return alert_from_draft(actor=actor, draft=draft, tlp=tlp, level=level)


@transaction.atomic
def alert_from_draft(
    *, actor: User, draft: VulnerabilityDraft, tlp: str = Tlp.AMBER, level: str = ""
) -> Alert:
    """The draft alert of an already read advisory (alert_import; a CSAF batch's documents)."""
    ensure_perm(actor, Perm.ALERT_EDIT)
    severity = draft.cvss_severity if draft.cvss_severity in ThreatLevel.values else ""
    vendor_level: str = draft.vendor_level if draft.vendor_level in ThreatLevel.values else ""
    if draft.vex and not severity and draft.vendor_level in ("", "none"):
        nothing_affected = all(
            s["status"] not in ("affected", "under_investigation") for s in draft.statuses
        )
        vendor_level = ThreatLevel.LOW if nothing_affected else ""
    order = list(Tlp.values)
    chosen = tlp if tlp in order else Tlp.AMBER
    if draft.tlp in order and order.index(draft.tlp) > order.index(chosen):
        chosen = draft.tlp
    default_recommendation = "" if draft.vex else _("Apply the vendor's fix.")
    alert = alert_create(
        actor=actor,
        kind=AlertKind.VULNERABILITY,
        title=draft.title,
        source=draft.source,
        level=level or severity or vendor_level or ThreatLevel.MEDIUM,
        tlp=chosen,
        description=draft.description,
        recommendations=draft.recommendations or default_recommendation,
        cve_ids=draft.cve_ids,
        cvss_vector=draft.cvss_vector,
        affected=draft.affected,
        references=draft.references,
        known_exploited=draft.known_exploited,
    )
    if draft.tracking_id:
        # Which advisory revision this is, so that a batch does not import it again.
        alert.csaf_tracking_id = draft.tracking_id
        alert.csaf_version = draft.tracking_version
        alert.save(update_fields=["csaf_tracking_id", "csaf_version"])
    return alert


@transaction.atomic
def compliance_exported(*, actor: Actor, rows: int) -> None:
    """Exports are audited (R57.17), before the file leaves the server."""
    record(
        actor=actor,
        event=EventType.ALERT_COMPLIANCE_EXPORTED,
        organization_id=actor.organization_id,
        details={"rows": rows, "format": "csv"},
    )


@transaction.atomic
def threat_type_set(
    *, actor: Actor, code: str, name_en: str, name_ru: str, name_kk: str, active: bool = True
) -> ThreatType:
    """The managed list of threat types (R67.10): center admins add, rename or retire entries;
    a retired type stays on the alerts that used it."""
    ensure_perm(actor, Perm.THREAT_TYPE_MANAGE)
    f = Fields()
    clean_code = f.required_text("code", code, max_length=64).lower()
    if clean_code and not all(ch.isalnum() or ch == "-" for ch in clean_code):
        f.add("code", _("Use latin letters, digits and hyphens."))
    names = {
        "name_en": f.required_text("name_en", name_en, max_length=200),
        "name_ru": f.required_text("name_ru", name_ru, max_length=200),
        "name_kk": f.required_text("name_kk", name_kk, max_length=200),
    }
    f.raise_if_any()
    threat_type, created = ThreatType.objects.update_or_create(
        code=clean_code, defaults={**names, "active": bool(active)}
    )
    record(
        actor=actor,
        event=EventType.THREAT_TYPE_SET,
        target=threat_type,
        details={"code": clean_code, "created": created, "active": bool(active)},
    )
    return threat_type


@transaction.atomic
def signature_exported(*, actor: Actor, alert: Alert, act: SignedAct) -> None:
    """Every export of a signed act's bundle is on the record: it names a person and their IIN."""
    signing.bundle_exported(actor=actor, target=alert, act=act)
