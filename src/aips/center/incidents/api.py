from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status

from aips.center.incidents import selectors, services
from aips.center.incidents.lifecycle import CARD_MACHINE
from aips.center.incidents.models import IncidentCard
from aips.core.actors import acting
from aips.core.moments import Moment
from aips.core.numbers import AmountKzt, Count, Id, Minutes, PageLimit
from aips.core.pagination import Page, keyset_page
from aips.core.permissions import Perm
from aips.core.strings import RequiredText
from aips.core.tlp import TlpLevel
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.sessions import acting_person
from aips.shared.files.schemas import AttachmentOut, NonEmptyFile
from aips.shared.workflow import signing
from aips.shared.workflow.api_schemas import (
    BUNDLE_RESPONSE,
    CommentIn,
    CommentOut,
    DocumentOut,
    SignatureOut,
    TransitionIn,
    transition_names,
)
from aips.shared.workflow.web import bundle_response

router = Router(tags=["incidents"])

Kind = Literal[
    "vulnerability_exploited",
    "unauthorized_access",
    "denial_of_service",
    "malware_infection",
    "unsanctioned_transfer",
    "other_outage",
]
State = Literal["draft", "awaiting_approval", "submitted", "returned", "accepted", "closed"]


class Indicator(Schema):
    type: str
    value: str


class IncidentOut(Schema):
    id: int
    reference: str
    organization_id: int
    state: State
    kind: Kind
    title: str
    detected_at: datetime
    started_at: datetime
    ended_at: datetime | None
    affected_systems: str
    downtime_minutes: int | None
    transfers_count: int | None
    transfers_amount_kzt: Decimal | None
    cve_ids: list[str]
    attack_source: str
    attack_vector: str
    indicators: list[Indicator]
    impact: str
    measures: str
    tlp: TlpLevel
    version: int
    submitted_at: datetime | None
    first_submitted_at: datetime | None
    deadline_at: datetime | None
    deadline_reason: str
    created_at: datetime
    updated_at: datetime


class IncidentIn(Schema):
    kind: Kind
    title: RequiredText
    detected_at: Moment
    started_at: Moment
    ended_at: Moment | None = None
    affected_systems: RequiredText
    downtime_minutes: Minutes | None = None
    transfers_count: Count | None = None
    transfers_amount_kzt: AmountKzt | None = None
    cve_ids: list[str] = []
    attack_source: str = ""
    attack_vector: str = ""
    indicators: list[str] = []
    impact: RequiredText
    measures: RequiredText
    tlp: TlpLevel


class IncidentPatch(Schema):
    kind: Kind | None = None
    title: str | None = None
    detected_at: Moment | None = None
    started_at: Moment | None = None
    ended_at: Moment | None = None
    affected_systems: str | None = None
    downtime_minutes: Minutes | None = None
    transfers_count: Count | None = None
    transfers_amount_kzt: AmountKzt | None = None
    cve_ids: list[str] | None = None
    attack_source: str | None = None
    attack_vector: str | None = None
    indicators: list[str] | None = None
    impact: str | None = None
    measures: str | None = None
    tlp: TlpLevel | None = None


class IncidentFilter(Schema):
    after: Id | None = None
    limit: PageLimit = 50
    kind: Kind | None = None
    state: State | None = None
    organization_id: Id | None = None
    overdue: bool = False


class VersionOut(Schema):
    number: int
    snapshot: dict[str, Any]
    submitted_by_id: int
    created_at: datetime


def _shown(request: HttpRequest, card: IncidentCard) -> IncidentCard:
    services.card_viewed(actor=acting(request), card=card)
    return card


@router.get(
    "",
    response=Page[IncidentOut],
    operation_id="incidents_list",
    auth=api_auth(Perm.INCIDENT_VIEW),
)
def incidents_list(request: HttpRequest, filters: Query[IncidentFilter]) -> Any:
    qs = selectors.card_list(
        actor=request.user,
        kind=filters.kind or "",
        state=filters.state or "",
        organization_id=filters.organization_id,
        overdue=filters.overdue,
    )
    page = keyset_page(qs, after=filters.after, limit=filters.limit)
    for card in page["items"]:
        services.card_viewed(actor=acting(request), card=card)
    return page


@router.post(
    "",
    response={201: IncidentOut},
    operation_id="incidents_create",
    auth=api_auth(Perm.INCIDENT_EDIT),
)
def incidents_create(request: HttpRequest, payload: IncidentIn) -> Any:
    return Status(201, services.card_create(actor=acting_person(request), **payload.dict()))


@router.get(
    "/{card_id}",
    response=IncidentOut,
    operation_id="incidents_get",
    auth=api_auth(Perm.INCIDENT_VIEW),
)
def incidents_get(request: HttpRequest, card_id: Id) -> Any:
    return _shown(request, selectors.get_card_for(request.user, card_id))


@router.patch(
    "/{card_id}",
    response=IncidentOut,
    operation_id="incidents_update",
    auth=api_auth(Perm.INCIDENT_EDIT),
)
def incidents_update(request: HttpRequest, card_id: Id, payload: IncidentPatch) -> Any:
    card = selectors.get_card_for(request.user, card_id)
    return services.card_update(
        actor=acting(request), card=card, **payload.dict(exclude_unset=True)
    )


@router.post(
    "/{card_id}/transitions/{name}",
    response=IncidentOut,
    operation_id="incidents_transition",
    auth=api_auth(Perm.INCIDENT_VIEW),
)
def incidents_transition(
    request: HttpRequest,
    card_id: Id,
    name: Annotated[str, transition_names(CARD_MACHINE)],
    payload: TransitionIn,
) -> Any:
    """request_approval, approve, send_back (comment), return (comment), accept, close. The
    head's `approve` may carry `eds_signature`, a detached CMS over the bytes of
    `GET …/transitions/approve/document` (mandatory when the organization requires it)."""
    card = selectors.get_card_for(request.user, card_id)
    return services.card_transition(
        actor=acting_person(request),
        card=card,
        name=name,
        comment=payload.comment,
        eds_signature=payload.eds_signature,
    )


@router.get(
    "/{card_id}/transitions/{name}/document",
    response=DocumentOut,
    operation_id="incidents_transition_document",
    auth=api_auth(Perm.INCIDENT_VIEW),
)
def incidents_transition_document(
    request: HttpRequest,
    card_id: Id,
    name: Annotated[str, transition_names(CARD_MACHINE)],
    comment: str = "",
) -> Any:
    """The canonical document (base64) an EDS signature of this step covers, as the card stands
    now and with this comment; 404 `not_signed` for a step that is not signed."""
    card = selectors.get_card_for(request.user, card_id)
    user = acting_person(request)
    document = services.card_document(actor=user, card=card, name=name, comment=comment)
    return signing.document_out(actor=user, document=document)


@router.get(
    "/{card_id}/signatures",
    response=list[SignatureOut],
    operation_id="incidents_signatures",
    auth=api_auth(Perm.INCIDENT_VIEW),
)
def incidents_signatures(request: HttpRequest, card_id: Id) -> Any:
    """The card's EDS-signed approvals."""
    card = selectors.get_card_for(request.user, card_id)
    return [
        signing.signature_out(act) for act in selectors.signatures(actor=request.user, card=card)
    ]


@router.get(
    "/{card_id}/signatures/{signature_id}/bundle",
    openapi_extra=BUNDLE_RESPONSE,
    operation_id="incidents_signature_bundle",
    auth=api_auth(Perm.INCIDENT_VIEW),
)
def incidents_signature_bundle(request: HttpRequest, card_id: Id, signature_id: Id) -> Any:
    """The signed approval as a zip bundle (CMS, the exact document, certificates, revocation
    evidence) that `aips eds verify` checks offline."""
    user = acting_person(request)
    card = selectors.get_card_for(user, card_id)
    act = selectors.get_signature_for(user, card, signature_id)
    return bundle_response(
        act, served=lambda: services.signature_exported(actor=user, card=card, act=act)
    )


@router.get(
    "/{card_id}/comments",
    response=list[CommentOut],
    operation_id="incidents_comments",
    auth=api_auth(Perm.INCIDENT_VIEW),
)
def incidents_comments(request: HttpRequest, card_id: Id) -> Any:
    card = selectors.get_card_for(request.user, card_id)
    return selectors.timeline(actor=request.user, card=card)


@router.post(
    "/{card_id}/comments",
    response={201: CommentOut},
    operation_id="incidents_comment_add",
    auth=api_auth(Perm.INCIDENT_COMMENT),
)
def incidents_comment_add(request: HttpRequest, card_id: Id, payload: CommentIn) -> Any:
    card = selectors.get_card_for(request.user, card_id)
    return Status(
        201,
        services.comment_add(
            actor=acting_person(request), card=card, body=payload.body, internal=payload.internal
        ),
    )


@router.get(
    "/{card_id}/versions",
    response=list[VersionOut],
    operation_id="incidents_versions",
    auth=api_auth(Perm.INCIDENT_VIEW),
)
def incidents_versions(request: HttpRequest, card_id: Id) -> Any:
    return selectors.versions(_shown(request, selectors.get_card_for(request.user, card_id)))


@router.post(
    "/{card_id}/attachments",
    response={201: AttachmentOut},
    operation_id="incidents_attachment_add",
    auth=api_auth(Perm.INCIDENT_EDIT),
)
def incidents_attachment_add(request: HttpRequest, card_id: Id, file: File[NonEmptyFile]) -> Any:
    card = selectors.get_card_for(request.user, card_id)
    return Status(
        201, services.attachment_add(actor=acting_person(request), card=card, upload=file)
    )
