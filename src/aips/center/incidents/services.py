"""Every change to incident cards: create and edit (maker), the lifecycle on the shared engine,
attachments and comments — each with its audit event in the same transaction."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aips.center.incidents.lifecycle import CARD_MACHINE
from aips.center.incidents.models import EDITABLE, Attachment, IncidentCard, IncidentKind
from aips.center.incidents.notices import card_transitioned
from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import AppError, Forbidden
from aips.core.indicators import normalize_cves, normalize_indicators
from aips.core.permissions import Perm
from aips.core.tlp import Tlp
from aips.core.validation import Fields
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.eds.canonical import ActDocument
from aips.shared.files import services as file_services
from aips.shared.workflow import engine, signing
from aips.shared.workflow.models import SignedAct
from aips.shared.workflow.signing import PageDocument

FIELDS = (
    "kind",
    "title",
    "detected_at",
    "started_at",
    "ended_at",
    "affected_systems",
    "downtime_minutes",
    "transfers_count",
    "transfers_amount_kzt",
    "cve_ids",
    "attack_source",
    "attack_vector",
    "indicators",
    "impact",
    "measures",
    "tlp",
)
_UNSET: Any = object()


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a whole card; every problem is reported at once, by field (R67.12)."""
    f = Fields()
    out: dict[str, Any] = {}
    out["kind"] = f.choice("kind", data.get("kind") or "", IncidentKind)
    out["title"] = f.required_text("title", data.get("title") or "", max_length=300)
    for name in ("affected_systems", "impact", "measures"):
        out[name] = f.required_text(name, data.get(name) or "", max_length=20000)
    for name in ("attack_source", "attack_vector"):
        out[name] = f.optional_text(name, data.get(name), max_length=20000)
    out["tlp"] = f.choice("tlp", data.get("tlp") or "", Tlp)
    now = timezone.now()
    for name in ("detected_at", "started_at", "ended_at"):
        value = data.get(name)
        if value is None:
            if name != "ended_at":
                f.add(name, _("This field is required."))
        elif not isinstance(value, datetime) or value.tzinfo is None:
            f.add(name, _("Enter a date and time."))
            value = None
        elif value > now + timedelta(minutes=5):
            f.add(name, _("This moment is in the future."))
        out[name] = value
    started, detected, ended = out["started_at"], out["detected_at"], out["ended_at"]
    if started and detected and detected < started:
        f.add("detected_at", _("An incident is detected after it starts."))
    if started and ended and ended < started:
        f.add("ended_at", _("An incident ends after it starts."))
    out["downtime_minutes"] = data.get("downtime_minutes")
    out["transfers_count"] = data.get("transfers_count")
    amount = data.get("transfers_amount_kzt")
    out["transfers_amount_kzt"] = Decimal(str(amount)) if amount not in (None, "") else None
    if out["kind"] == IncidentKind.OTHER_OUTAGE and (
        out["downtime_minutes"] is None or out["downtime_minutes"] <= 60
    ):
        f.add("downtime_minutes", _("For this type, give the downtime: more than 60 minutes."))
    if out["kind"] == IncidentKind.UNSANCTIONED_TRANSFER:
        if not out["transfers_count"]:
            f.add("transfers_count", _("For this type, give the number of transfers."))
        if not out["transfers_amount_kzt"] or out["transfers_amount_kzt"] <= 0:
            f.add("transfers_amount_kzt", _("For this type, give the total amount in KZT."))
    for name in ("downtime_minutes", "transfers_count"):
        value = out[name]
        if value is not None and (not isinstance(value, int) or value < 0):
            f.add(name, _("Enter a whole number, 0 or more."))
    try:
        out["cve_ids"] = normalize_cves(list(data.get("cve_ids") or []))
    except ValueError as exc:
        f.add("cve_ids", exc)
        out["cve_ids"] = []
    try:
        out["indicators"] = normalize_indicators(list(data.get("indicators") or []))
    except ValueError as exc:
        f.add("indicators", exc)
        out["indicators"] = []
    if len(out["indicators"]) > 1000:
        f.add("indicators", _("At most %(n)d indicators.") % {"n": 1000})
    f.raise_if_any()
    return out


def _values(card: IncidentCard) -> dict[str, Any]:
    values = {name: getattr(card, name) for name in FIELDS}
    # Stored indicators are dicts; the cleaner takes their text form.
    values["indicators"] = [i["value"] for i in card.indicators]
    return values


def snapshot(card: Any) -> dict[str, Any]:
    """The JSON a version keeps: what the center received."""
    data = {name: getattr(card, name) for name in FIELDS}
    for name in ("detected_at", "started_at", "ended_at"):
        data[name] = data[name].isoformat() if data[name] else None
    if data["transfers_amount_kzt"] is not None:
        data["transfers_amount_kzt"] = str(data["transfers_amount_kzt"])
    return data


@transaction.atomic
def card_create(*, actor: User, **data: Any) -> IncidentCard:
    """A draft card of the actor's own organization (the responsible employee, R67.12)."""
    ensure_perm(actor, Perm.INCIDENT_EDIT)
    if actor.is_center:
        raise Forbidden()
    clean = _clean(data)
    card = IncidentCard.objects.create(
        organization_id=actor.organization_id, created_by=actor, state="draft", **clean
    )
    record(
        actor=actor,
        event=EventType.INCIDENT_CREATED,
        target=card,
        organization_id=card.organization_id,
        details={"kind": card.kind, "tlp": card.tlp},
    )
    return card


@transaction.atomic
def card_update(*, actor: Actor, card: IncidentCard, **changes: Any) -> IncidentCard:
    """Edit a draft or a returned card; the audit event lists what changed."""
    locked: IncidentCard = engine.lock_for_edit(
        actor=actor, item=card, perm=Perm.INCIDENT_EDIT, fields=FIELDS, changes=changes
    )
    before = snapshot(locked)
    clean = _clean({**_values(locked), **changes})
    for name, value in clean.items():
        setattr(locked, name, value)
    after = snapshot(locked)
    changed = {k: [before[k], after[k]] for k in FIELDS if before[k] != after[k]}
    if changed:
        locked.save()
        record(
            actor=actor,
            event=EventType.INCIDENT_UPDATED,
            target=locked,
            organization_id=locked.organization_id,
            details={"changes": sorted(changed)},
        )
    return locked


# The card's legal act: the IS-unit head's approval (R67.12), which may be signed with EDS.
SIGNED_ACTS = {"approve": "approve"}


def card_document(
    *, actor: User, card: IncidentCard, name: str, comment: str = ""
) -> ActDocument | None:
    """What the head signs when approving `card` now: the version it becomes (its content and
    its files' digests), the decision and the comment; None for a step that is not signed."""
    decision = SIGNED_ACTS.get(name)
    # Only the card's own organization approves it (and only it may read a draft).
    if decision is None or actor.organization_id != card.organization_id:
        return None
    return signing.document_for(
        actor=actor,
        kind="incident_card",
        item_id=card.pk,
        reference=card.reference,
        version=card.version + 1,
        content=snapshot(card),
        decision=decision,
        files=signing.files_of(card.attachments.order_by("id")),
        reason=comment,
    )


def card_page_documents(*, actor: User, card: IncidentCard) -> dict[str, PageDocument]:
    """The signable steps `actor` may take on the card now, with what NCALayer is to sign."""
    documents: dict[str, PageDocument] = {}
    for transition in CARD_MACHINE.allowed(actor, card):
        page = signing.page_document(
            actor=actor, document=card_document(actor=actor, card=card, name=transition.name)
        )
        if page is not None:
            documents[transition.name] = page
    return documents


@transaction.atomic
def card_transition(
    *, actor: User, card: IncidentCard, name: str, comment: str = "", eds_signature: str = ""
) -> IncidentCard:
    """One transaction: the move, its audit event and the notifications it causes (R67.12);
    the head's approval with its EDS signature when given (or when the organization requires
    one), over exactly the version approved."""
    locked = IncidentCard.objects.select_for_update().get(pk=card.pk)
    transition = CARD_MACHINE.transitions.get(name)
    checked = signing.check(
        actor=actor,
        document=card_document(actor=actor, card=locked, name=name, comment=comment),
        eds_signature=eds_signature,
        allowed=transition is not None and transition in CARD_MACHINE.allowed(actor, locked),
    )
    result = engine.apply(
        actor=actor,
        item=locked,
        machine=CARD_MACHINE,
        name=name,
        comment=comment,
        snapshot=snapshot,
        details=signing.audit_details(checked),
    )
    assert isinstance(result, IncidentCard)  # noqa: S101 - the engine returns the same model
    signing.keep(
        actor=actor,
        checked=checked,
        item=result,
        act=SIGNED_ACTS.get(name, name),
    )
    if name == "approve" and result.first_submitted_at is None:
        _mark_first_submission(result)
    card_transitioned(actor=actor, card=result, name=name, comment=comment)
    return result


@transaction.atomic
def _mark_first_submission(card: IncidentCard) -> None:
    # Bookkeeping of the "immediately" measure (R67.12): the engine already audited the event.
    IncidentCard.objects.filter(pk=card.pk, first_submitted_at__isnull=True).update(
        first_submitted_at=card.submitted_at
    )
    card.first_submitted_at = card.submitted_at


def comment_add(*, actor: User, card: IncidentCard, body: str, internal: bool = False) -> Any:
    return engine.comment_add(
        actor=actor, item=card, body=body, internal=internal, perm=Perm.INCIDENT_COMMENT
    )


@transaction.atomic
def card_viewed(*, actor: Actor, card: IncidentCard) -> None:
    """Every view of a TLP:RED or TLP:AMBER+STRICT card is audited (R57.17)."""
    if card.is_restricted:
        record(
            actor=actor,
            event=EventType.INCIDENT_VIEWED,
            target=card,
            organization_id=card.organization_id,
            details={"tlp": card.tlp},
        )


@transaction.atomic
def attachment_add(*, actor: User, card: IncidentCard, upload: "UploadedFile[Any]") -> Attachment:
    """Store a file outside the web root under its SHA-256 (R57.3.2); it is "pending" until the
    worker's anti-virus scan finds it clean (R57.12, shared/files/scanning.py)."""
    ensure_perm(actor, Perm.INCIDENT_EDIT)
    # Locked, so the card cannot be sent for approval while the file is being attached.
    card = IncidentCard.objects.select_for_update().get(pk=card.pk)
    if actor.organization_id != card.organization_id:
        raise Forbidden()
    if card.state not in EDITABLE:
        raise AppError(
            _("Only a draft or a returned card can be changed."), code="not_editable", status=409
        )
    attachment = Attachment.objects.create(
        card=card, uploaded_by=actor, **file_services.stored_fields(upload)
    )
    record(
        actor=actor,
        event=EventType.ATTACHMENT_ADDED,
        target=card,
        organization_id=card.organization_id,
        details={
            "attachment_id": attachment.pk,
            "sha256": attachment.sha256,
            "size": attachment.size,
        },
    )
    return attachment


@transaction.atomic
def attachment_downloaded(*, actor: Actor, attachment: Attachment) -> None:
    record(
        actor=actor,
        event=EventType.ATTACHMENT_DOWNLOADED,
        target=attachment.card,
        organization_id=attachment.card.organization_id,
        details={"attachment_id": attachment.pk},
    )


@transaction.atomic
def signature_exported(*, actor: Actor, card: IncidentCard, act: SignedAct) -> None:
    """Every export of a signed act's bundle is on the record: it names a person and their IIN."""
    signing.bundle_exported(actor=actor, target=card, act=act)
