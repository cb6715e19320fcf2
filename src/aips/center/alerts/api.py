from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status

from aips.center.alerts import selectors, services
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
from aips.shared.workflow.api_schemas import transition_names

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
    alert = services.alert_import(actor=acting_person(request), data=file.read(5 * 1024 * 1024 + 1))
    return Status(201, _out(request, alert))


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
    """request_approval, approve, send_back, return, publish, publish_direct."""
    alert = selectors.get_alert_for(acting(request), alert_id)
    moved = services.alert_transition(
        actor=acting_person(request),
        alert=alert,
        name=name,
        comment=payload.comment,
        organization_ids=payload.organization_ids,
    )
    return _out(request, moved)


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
)
def alerts_accept(request: HttpRequest, alert_id: Id, recipient_id: Id) -> Any:
    recipient = selectors.get_recipient_for(acting(request), alert_id, recipient_id)
    return services.recipient_accept(actor=acting_person(request), recipient=recipient)


@router.post(
    "/{alert_id}/recipients/{recipient_id}/decline",
    response=RecipientOut,
    operation_id="alerts_decline",
    auth=api_auth(Perm.ALERT_ACKNOWLEDGE),
)
def alerts_decline(request: HttpRequest, alert_id: Id, recipient_id: Id, payload: DeclineIn) -> Any:
    recipient = selectors.get_recipient_for(acting(request), alert_id, recipient_id)
    return services.recipient_decline(
        actor=acting_person(request), recipient=recipient, reason=payload.reason
    )


@router.post(
    "/{alert_id}/recipients/{recipient_id}/processed",
    response=RecipientOut,
    operation_id="alerts_processed",
    auth=api_auth(Perm.ALERT_PROCESS),
)
def alerts_processed(request: HttpRequest, alert_id: Id, recipient_id: Id) -> Any:
    recipient = selectors.get_recipient_for(acting(request), alert_id, recipient_id)
    return services.recipient_processed(actor=acting_person(request), recipient=recipient)
