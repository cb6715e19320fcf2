from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema, Status

from aips.center.alerts import csaf_batch, selectors, services
from aips.center.alerts.lifecycle import ALERT_MACHINE
from aips.center.alerts.models import Alert
from aips.core.actors import acting
from aips.core.moments import Moment
from aips.core.numbers import Id, PageLimit
from aips.core.pagination import Page, keyset_page
from aips.core.permissions import Perm
from aips.core.strings import RequiredText
from aips.core.tlp import TlpLevel
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.sessions import acting_person
from aips.shared.files.schemas import NonEmptyFile
from aips.shared.workflow import signing
from aips.shared.workflow.api_schemas import (
    BUNDLE_RESPONSE,
    DocumentOut,
    EdsSignature,
    EdsSignatureIn,
    SignatureOut,
    optional_eds_signature,
    transition_names,
)
from aips.shared.workflow.web import bundle_response

router = Router(tags=["alerts"])

Kind = Literal["threat", "vulnerability"]
Level = Literal["low", "medium", "high", "critical"]
State = Literal["draft", "awaiting_approval", "submitted", "returned", "published"]
RecipientState = Literal["delivered", "accepted", "declined", "processed"]


class Affected(Schema):
    vendor: str = ""
    product: str
    versions: list[str] = []
    cpe: str = ""


class AlertOut(Schema):
    id: int
    reference: str
    kind: Kind
    state: State
    title: str
    source: str
    threat_type_id: int | None
    level: Level
    tlp: TlpLevel
    description: str | None
    recommendations: str | None
    indicators: list[dict[str, str]]
    valid_until: datetime | None
    cve_ids: list[str]
    cvss_vector: str
    cvss_version: str
    cvss_score: Decimal | None
    cvss_severity: str
    affected: list[Affected]
    references: list[str]
    known_exploited: bool
    organization_id: int | None
    published_at: datetime | None
    deadline_at: datetime | None


class AlertIn(Schema):
    kind: Kind
    title: RequiredText
    source: RequiredText
    threat_type_id: Id | None = None
    level: Level
    tlp: TlpLevel
    description: RequiredText
    recommendations: RequiredText
    indicators: list[str] = []
    valid_until: Moment | None = None
    cve_ids: list[str] = []
    cvss_vector: str = ""
    affected: list[Affected] = []
    references: list[str] = []
    known_exploited: bool = False
    anonymous: bool = False


class AlertTransitionIn(Schema):
    comment: str = ""
    organization_ids: list[Id] | None = None
    eds_signature: EdsSignature = ""


class RecipientOut(Schema):
    id: int
    alert_id: int
    organization_id: int
    status: RecipientState
    delivered_at: datetime
    due_at: datetime
    responded_at: datetime | None
    reason: str
    processed_at: datetime | None
    late: bool


class DeclineIn(Schema):
    reason: RequiredText
    eds_signature: EdsSignature = ""


class AlertFilter(Schema):
    after: Id | None = None
    limit: PageLimit = 50
    kind: Kind | None = None
    state: State | None = None


def _out(request: HttpRequest, alert: Alert) -> dict[str, Any]:
    """What this caller may see: restricted content only for named readers; the originating
    organization hidden when the center published anonymously."""
    data = AlertOut.from_orm(alert).dict()
    user = acting_person(request)
    if not selectors.may_read_content(user, alert):
        data.update(description=None, recommendations=None, indicators=[])
    if alert.anonymous and not user.is_center and user.organization_id != alert.organization_id:
        data["organization_id"] = None
    return data


@router.get("", response=Page[AlertOut], operation_id="alerts_list", auth=api_auth(Perm.ALERT_VIEW))
def alerts_list(request: HttpRequest, filters: Query[AlertFilter]) -> Any:
    qs = selectors.alert_list(
        actor=acting(request), kind=filters.kind or "", state=filters.state or ""
    )
    page = keyset_page(qs, after=filters.after, limit=filters.limit)
    for alert in page["items"]:
        services.alert_viewed(actor=acting(request), alert=alert)
    page["items"] = [_out(request, a) for a in page["items"]]
    return page


@router.post(
    "", response={201: AlertOut}, operation_id="alerts_create", auth=api_auth(Perm.ALERT_EDIT)
)
def alerts_create(request: HttpRequest, payload: AlertIn) -> Any:
    data = payload.dict()
    return Status(201, _out(request, services.alert_create(actor=acting_person(request), **data)))


@router.post(
    "/import",
    response={201: AlertOut},
    operation_id="alerts_import",
    auth=api_auth(Perm.ALERT_EDIT),
)
def alerts_import(request: HttpRequest, file: File[NonEmptyFile]) -> Any:
    """A draft vulnerability alert from a CSAF 2.0 advisory or an NVD CVE JSON 2.0 record."""
    alert = services.alert_import(actor=acting_person(request), data=file, size=file.size)
    return Status(201, _out(request, alert))


class CsafBatchItemOut(Schema):
    id: int
    url: str
    hash_url: str
    state: Literal["pending", "imported", "duplicate", "failed"]
    reason: str
    tracking_id: str
    tracking_version: str
    alert_id: int | None
    done_at: datetime | None


class CsafBatchOut(Schema):
    id: int
    state: Literal["queued", "running", "done", "failed"]
    source: str
    kind: str
    title: str
    note: str
    found: int
    imported: int
    duplicates: int
    failed: int
    pending: int
    created_at: datetime
    finished_at: datetime | None


class CsafBatchDetailOut(CsafBatchOut):
    items: list[CsafBatchItemOut]


@router.post(
    "/csaf-batches",
    response={202: CsafBatchOut},
    operation_id="alerts_csaf_batch_start",
    auth=api_auth(Perm.ALERT_EDIT),
)
def alerts_csaf_batch_start(
    request: HttpRequest,
    file: File[NonEmptyFile] | None = None,
    url: Form[str] = "",
    tlp: Form[TlpLevel] = "AMBER",
    level: Form[Level | Literal[""]] = "",
) -> Any:
    """Drafts from every advisory of a ROLIE feed or a provider's provider-metadata.json: the
    file itself (`file`) or its https URL (`url`, on the server's allow-list of providers). The
    worker fetches the advisories; poll `GET /csaf-batches/{batch_id}` for the outcome."""
    batch = csaf_batch.csaf_batch_start(
        actor=acting_person(request),
        data=file,
        size=file.size if file is not None else None,
        file_name=(file.name or "") if file is not None else "",
        url=url,
        tlp=tlp,
        level=level,
    )
    return Status(202, csaf_batch.summary(batch))


@router.get(
    "/csaf-batches",
    response=list[CsafBatchOut],
    operation_id="alerts_csaf_batch_list",
    auth=api_auth(Perm.ALERT_EDIT),
)
def alerts_csaf_batch_list(request: HttpRequest) -> Any:
    """The caller's organization's 100 latest batches."""
    batches = csaf_batch.visible_batches(actor=acting(request))[:100]
    return [csaf_batch.summary(b) for b in batches]


@router.get(
    "/csaf-batches/{batch_id}",
    response=CsafBatchDetailOut,
    operation_id="alerts_csaf_batch_get",
    auth=api_auth(Perm.ALERT_EDIT),
)
def alerts_csaf_batch_get(request: HttpRequest, batch_id: Id) -> Any:
    """A batch with each advisory's outcome: imported (with its draft), already imported, or
    failed with the reason."""
    batch = csaf_batch.get_batch_for(acting(request), batch_id)
    return {**csaf_batch.summary(batch), "items": list(batch.items.all())}


@router.get(
    "/{alert_id}", response=AlertOut, operation_id="alerts_get", auth=api_auth(Perm.ALERT_VIEW)
)
def alerts_get(request: HttpRequest, alert_id: Id) -> Any:
    alert = selectors.get_alert_for(acting(request), alert_id)
    # Every view of a restricted alert is on the record, whether its content was shown or not.
    services.alert_viewed(actor=acting(request), alert=alert)
    return _out(request, alert)


@router.post(
    "/{alert_id}/transitions/{name}",
    response=AlertOut,
    operation_id="alerts_transition",
    auth=api_auth(Perm.ALERT_VIEW),
)
def alerts_transition(
    request: HttpRequest,
    alert_id: Id,
    name: Annotated[str, transition_names(ALERT_MACHINE)],
    payload: AlertTransitionIn,
) -> Any:
    """request_approval, approve, send_back, return, publish, publish_direct. The head's
    `approve` may carry `eds_signature` over `GET …/transitions/approve/document` (mandatory
    when the organization requires it)."""
    alert = selectors.get_alert_for(acting(request), alert_id)
    moved = services.alert_transition(
        actor=acting_person(request),
        alert=alert,
        name=name,
        comment=payload.comment,
        organization_ids=payload.organization_ids,
        eds_signature=payload.eds_signature,
    )
    return _out(request, moved)


@router.get(
    "/{alert_id}/transitions/{name}/document",
    response=DocumentOut,
    operation_id="alerts_transition_document",
    auth=api_auth(Perm.ALERT_VIEW),
)
def alerts_transition_document(
    request: HttpRequest,
    alert_id: Id,
    name: Annotated[str, transition_names(ALERT_MACHINE)],
    comment: str = "",
) -> Any:
    """The canonical document (base64) an EDS signature of this step covers, as the alert
    stands now and with this comment; 404 `not_signed` for a step that is not signed."""
    user = acting_person(request)
    alert = selectors.get_alert_for(user, alert_id)
    document = (
        None
        if name in services.ANSWERS
        else services.alert_document(actor=user, alert=alert, name=name, comment=comment)
    )
    return signing.document_out(actor=user, document=document)


@router.get(
    "/{alert_id}/recipients",
    response=list[RecipientOut],
    operation_id="alerts_recipients",
    auth=api_auth(Perm.ALERT_VIEW),
)
def alerts_recipients(request: HttpRequest, alert_id: Id) -> Any:
    """The center sees every organization's acknowledgement; an organization only its own."""
    alert = selectors.get_alert_for(acting(request), alert_id)
    return list(selectors.recipients(actor=acting(request), alert=alert))


@router.post(
    "/{alert_id}/recipients/{recipient_id}/accept",
    response=RecipientOut,
    operation_id="alerts_accept",
    auth=api_auth(Perm.ALERT_ACKNOWLEDGE),
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": EdsSignatureIn.model_json_schema()}},
        }
    },
)
def alerts_accept(request: HttpRequest, alert_id: Id, recipient_id: Id) -> Any:
    """The body is optional (accepting was a bodiless call before EDS-signed approvals):
    `{"eds_signature": …}` over `GET …/document?decision=accept`. The body is read first, so
    a malformed one is a field error whatever the ids, as with the operations ninja parses."""
    eds_signature = optional_eds_signature(request)
    recipient = selectors.get_recipient_for(acting(request), alert_id, recipient_id)
    return services.recipient_accept(
        actor=acting_person(request), recipient=recipient, eds_signature=eds_signature
    )


@router.post(
    "/{alert_id}/recipients/{recipient_id}/decline",
    response=RecipientOut,
    operation_id="alerts_decline",
    auth=api_auth(Perm.ALERT_ACKNOWLEDGE),
)
def alerts_decline(request: HttpRequest, alert_id: Id, recipient_id: Id, payload: DeclineIn) -> Any:
    recipient = selectors.get_recipient_for(acting(request), alert_id, recipient_id)
    return services.recipient_decline(
        actor=acting_person(request),
        recipient=recipient,
        reason=payload.reason,
        eds_signature=payload.eds_signature,
    )


@router.get(
    "/{alert_id}/recipients/{recipient_id}/document",
    response=DocumentOut,
    operation_id="alerts_answer_document",
    auth=api_auth(Perm.ALERT_ACKNOWLEDGE),
)
def alerts_answer_document(
    request: HttpRequest,
    alert_id: Id,
    recipient_id: Id,
    decision: Literal["accept", "decline"] = "accept",
    reason: str = "",
) -> Any:
    """The canonical document (base64) an EDS signature of accepting or declining covers: the
    published version, the decision and its reason."""
    user = acting_person(request)
    recipient = selectors.get_recipient_for(user, alert_id, recipient_id)
    document = services.alert_document(
        actor=user, alert=recipient.alert, name=decision, comment=reason
    )
    return signing.document_out(actor=user, document=document)


@router.post(
    "/{alert_id}/recipients/{recipient_id}/processed",
    response=RecipientOut,
    operation_id="alerts_processed",
    auth=api_auth(Perm.ALERT_PROCESS),
)
def alerts_processed(request: HttpRequest, alert_id: Id, recipient_id: Id) -> Any:
    recipient = selectors.get_recipient_for(acting(request), alert_id, recipient_id)
    return services.recipient_processed(actor=acting_person(request), recipient=recipient)


@router.get(
    "/{alert_id}/signatures",
    response=list[SignatureOut],
    operation_id="alerts_signatures",
    auth=api_auth(Perm.ALERT_VIEW),
)
def alerts_signatures(request: HttpRequest, alert_id: Id) -> Any:
    """EDS-signed acts: the organization's approval (its own people and the center) and the
    acknowledgements (an organization its own, the center all)."""
    user = acting_person(request)
    alert = selectors.get_alert_for(user, alert_id)
    return [signing.signature_out(act) for act in selectors.signatures(actor=user, alert=alert)]


@router.get(
    "/{alert_id}/signatures/{signature_id}/bundle",
    openapi_extra=BUNDLE_RESPONSE,
    operation_id="alerts_signature_bundle",
    auth=api_auth(Perm.ALERT_VIEW),
)
def alerts_signature_bundle(request: HttpRequest, alert_id: Id, signature_id: Id) -> Any:
    """The signed act as a zip bundle that `aips eds verify` checks offline."""
    user = acting_person(request)
    alert = selectors.get_alert_for(user, alert_id)
    act = selectors.get_signature_for(user, alert, signature_id)
    return bundle_response(
        act, served=lambda: services.signature_exported(actor=user, alert=alert, act=act)
    )
