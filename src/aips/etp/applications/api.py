"""The applications' API: a participant's own applications (another's answers 404), the
operator's admission officer and auditor all of them; each with its deposit and decision."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema

from aips.core.numbers import Id
from aips.etp.applications import selectors
from aips.etp.applications.models import Application
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.sessions import acting_person

router = Router(tags=["applications"])


class ApplicationOut(Schema):
    id: int
    reference: str
    lot_id: int
    procedure_id: int
    participant_bin: str
    submitted_at: datetime
    state: Literal["submitted", "admitted", "refused"]
    refusal_reason: str
    decided_at: datetime | None
    deposit_amount: Decimal
    deposit_state: Literal["expected", "confirmed", "held", "returned", "retained"]
    application_deadline: datetime
    auction_start: datetime


def _out(application: Application) -> dict[str, Any]:
    procedure = application.procedure
    return {
        "id": application.pk,
        "reference": application.reference,
        "lot_id": procedure.lot_id,
        "procedure_id": procedure.pk,
        "participant_bin": application.organization.bin,
        "submitted_at": application.submitted_at,
        "state": application.state,
        "refusal_reason": application.refusal_reason,
        "decided_at": application.decided_at,
        "deposit_amount": application.deposit.amount,
        "deposit_state": application.deposit.state,
        "application_deadline": procedure.application_deadline,
        "auction_start": procedure.auction_start,
    }


@router.get(
    "/applications",
    response=list[ApplicationOut],
    operation_id="applications_list",
    auth=api_auth(EtpPerm.APPLICATION_VIEW),
    summary="Applications (a participant: its own; the operator: all)",
)
def applications_list(request: HttpRequest) -> Any:
    return [_out(a) for a in selectors.application_list(actor=acting_person(request))[:500]]


@router.get(
    "/applications/{application_id}",
    response=ApplicationOut,
    operation_id="applications_get",
    auth=api_auth(EtpPerm.APPLICATION_VIEW),
)
def applications_get(request: HttpRequest, application_id: Id) -> Any:
    return _out(selectors.get_application_for(acting_person(request), application_id))
