"""The applications' API: a participant's own applications (another's answers 404), the
operator's admission officer and auditor all of them; each with its deposit and decision. The
steps mirror the pages: the operator announces a procedure, a participant fetches the canonical
form, signs it with EDS and applies, the admission officer confirms deposits (one by one or by a
bank statement), admits or refuses, and returns deposits. Errors have the one shape; a refusal
of the service keeps its code (409 `deadline_passed`, `party_of_lot`, 422 `eds_*` …)."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.decorators import decorate_view
from pydantic import AwareDatetime, Field

from aips.core.errors import NotFound, ValidationFailed
from aips.core.numbers import Id
from aips.etp.applications import clock, selectors, services
from aips.etp.applications.models import Application, Procedure
from aips.etp.devices.auth import mobile_api_auth
from aips.etp.devices.gate import mobile_aware
from aips.etp.lots import selectors as lot_selectors
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.models import User
from aips.shared.accounts.sessions import acting_person
from aips.shared.eds.canonical import b64
from aips.shared.eds.types import EdsRefused
from aips.shared.files.schemas import NonEmptyFile

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
    url_name="applications_list",
    auth=mobile_api_auth(EtpPerm.APPLICATION_VIEW),
    summary="Applications (a participant: its own; the operator: all)",
)
@decorate_view(mobile_aware)
def applications_list(request: HttpRequest) -> Any:
    return [_out(a) for a in selectors.application_list(actor=acting_person(request))[:500]]


@router.get(
    "/applications/{application_id}",
    response=ApplicationOut,
    operation_id="applications_get",
    url_name="applications_get",
    auth=mobile_api_auth(EtpPerm.APPLICATION_VIEW),
)
@decorate_view(mobile_aware)
def applications_get(request: HttpRequest, application_id: Id) -> Any:
    return _out(selectors.get_application_for(acting_person(request), application_id))


class ProcedureIn(Schema):
    """Times with their offset (e.g. `2026-12-10T18:00:00+05:00`); a time without one is 422."""

    application_deadline: AwareDatetime
    auction_start: AwareDatetime


class ProcedureOut(Schema):
    id: int
    lot_id: int
    kind: Literal["ascending"]
    application_deadline: datetime
    auction_start: datetime
    deposit_percent: Decimal
    deposit_amount: Decimal
    currency: str
    announced_at: datetime


def _procedure_out(procedure: Procedure) -> dict[str, Any]:
    return {
        "id": procedure.pk,
        "lot_id": procedure.lot_id,
        "kind": procedure.kind,
        "application_deadline": procedure.application_deadline,
        "auction_start": procedure.auction_start,
        "deposit_percent": procedure.deposit_percent,
        "deposit_amount": procedure.deposit_amount,
        "currency": procedure.lot.currency,
        "announced_at": procedure.announced_at,
    }


@router.post(
    "/lots/{lot_id}/procedure",
    response={201: ProcedureOut},
    operation_id="applications_procedure_announce",
    url_name="applications_procedure_announce",
    auth=api_auth(EtpPerm.PROCEDURE_MANAGE),
    summary="Announce a published lot's procedure (schedule; the deposit follows)",
)
def procedure_announce(request: HttpRequest, lot_id: Id, payload: ProcedureIn) -> Any:
    """The deposit is `AIPS_ETP_DEPOSIT_PERCENT` % of the start price, fixed now. 409: the lot
    is not published or already has a procedure; 422: a deadline not in the future, an auction
    not after the deadline (`fields` names it)."""
    user = acting_person(request)
    lot = lot_selectors.get_lot_for(user, lot_id)
    procedure = services.procedure_announce(actor=user, lot=lot, **payload.dict())
    return Status(201, _procedure_out(procedure))


class ApplicationDocumentOut(Schema):
    procedure_id: int
    # The exact bytes to sign (a detached CMS with the signing key), base64.
    document: str
    # The moment in the document: send it back unchanged with the signature.
    moment: datetime
    application_deadline: datetime
    # False: the account has no IIN bound; it signs in with EDS first (applying answers 422).
    iin_bound: bool


def _open_procedure(lot_id: int) -> Procedure:
    procedure = selectors.procedure_of(lot_selectors.get_public_lot(lot_id).pk)
    if procedure is None:
        raise NotFound()
    return procedure


def _participant(request: HttpRequest) -> User:
    user = acting_person(request)
    if user.organization.kind not in services.PARTICIPANT_KINDS:
        raise NotFound()
    return user


@router.get(
    "/lots/{lot_id}/application-document",
    response=ApplicationDocumentOut,
    operation_id="applications_document",
    url_name="applications_document",
    auth=mobile_api_auth(EtpPerm.APPLICATION_SUBMIT),
    summary="The application's canonical form to sign with EDS",
)
@decorate_view(mobile_aware)
def application_document(request: HttpRequest, lot_id: Id) -> Any:
    """As the application page offers it: the lot, the procedure, the participant, the deposit
    and the server's time. A signed form is accepted for an hour. 404: no such public lot, or no
    procedure announced for it."""
    user = _participant(request)
    procedure = _open_procedure(lot_id)
    moment = clock.now().replace(microsecond=0).astimezone(UTC)
    document = services.application_document(procedure=procedure, actor=user, moment=moment)
    return {
        "procedure_id": procedure.pk,
        "document": b64(document),
        "moment": moment,
        "application_deadline": procedure.application_deadline,
        "iin_bound": bool(user.iin),
    }


class ApplicationIn(Schema):
    moment: AwareDatetime
    eds_signature: Annotated[str, Field(max_length=services.MAX_SIGNATURE_CHARS)]


@router.post(
    "/lots/{lot_id}/applications",
    response={201: ApplicationOut},
    operation_id="applications_submit",
    url_name="applications_submit",
    auth=mobile_api_auth(EtpPerm.APPLICATION_SUBMIT),
    summary="Apply for a lot's procedure with the EDS-signed canonical form",
)
@decorate_view(mobile_aware)
def application_submit(request: HttpRequest, lot_id: Id, payload: ApplicationIn) -> Any:
    """`eds_signature`: the base64 CMS over the document of `application-document`, `moment` as
    it gave it. 409 `deadline_passed` (the server's clock), `party_of_lot` (a borrower or
    guarantor of the lot's loans), `conflict` (already applied); 422 `eds_*` (the signature is
    not valid, not the person's, not for this document; `fields.eds_signature`), a form older
    than an hour (`fields.moment`), `eds_iin_not_bound`."""
    user = acting_person(request)
    procedure = _open_procedure(lot_id)
    try:
        application = services.application_submit(
            actor=user,
            procedure=procedure,
            moment=payload.moment.astimezone(UTC),
            eds_signature=payload.eds_signature,
        )
    except EdsRefused as exc:
        exc.fields = exc.fields or {"eds_signature": [exc.message]}
        raise
    return Status(201, _out(application))


def _application(request: HttpRequest, application_id: int) -> tuple[User, Application]:
    user = acting_person(request)
    return user, selectors.get_application_for(user, application_id)


@router.post(
    "/applications/{application_id}/deposit/confirm",
    response=ApplicationOut,
    operation_id="applications_deposit_confirm",
    url_name="applications_deposit_confirm",
    auth=api_auth(EtpPerm.DEPOSIT_CONFIRM),
    summary="The deposit is received (409: it is not awaited)",
)
def deposit_confirm(request: HttpRequest, application_id: Id) -> Any:
    user, application = _application(request, application_id)
    services.deposit_confirm(actor=user, deposit=application.deposit)
    return _out(application)


@router.post(
    "/applications/{application_id}/admit",
    response=ApplicationOut,
    operation_id="applications_admit",
    url_name="applications_admit",
    auth=api_auth(EtpPerm.PARTICIPANT_ADMIT),
    summary="Admit to the auction (409: already decided, or the deposit not received)",
)
def application_admit(request: HttpRequest, application_id: Id) -> Any:
    user, application = _application(request, application_id)
    services.application_admit(actor=user, application=application)
    application.deposit.refresh_from_db()
    return _out(application)


class RefuseIn(Schema):
    reason: Annotated[str, Field(max_length=2000)]


@router.post(
    "/applications/{application_id}/refuse",
    response=ApplicationOut,
    operation_id="applications_refuse",
    url_name="applications_refuse",
    auth=api_auth(EtpPerm.PARTICIPANT_ADMIT),
    summary="Refuse admission with the reason (422 `fields.reason` when blank)",
)
def application_refuse(request: HttpRequest, application_id: Id, payload: RefuseIn) -> Any:
    user, application = _application(request, application_id)
    services.application_refuse(actor=user, application=application, reason=payload.reason)
    return _out(application)


@router.post(
    "/applications/{application_id}/deposit/return",
    response=ApplicationOut,
    operation_id="applications_deposit_return",
    url_name="applications_deposit_return",
    auth=api_auth(EtpPerm.DEPOSIT_CONFIRM),
    summary="Return a received or held deposit (409: none received, or already closed)",
)
def deposit_return(request: HttpRequest, application_id: Id) -> Any:
    user, application = _application(request, application_id)
    services.deposit_return(actor=user, deposit=application.deposit)
    return _out(application)


class StatementOut(Schema):
    format: Literal["csv", "mt940"]
    # The applications whose deposits this statement confirmed.
    confirmed: list[str]
    # Applications whose deposit was already received: named again, confirmed once only.
    already_received: list[str]
    # CSV rows (the header is row 1) or MT940 `:61:` lines that matched no deposit.
    unmatched: list[int]
    # MT940 entries that are no payment in (debits, reversals): not read.
    ignored: int


# A bank statement of a day is a few hundred rows; anything far larger is not one.
MAX_STATEMENT_BYTES = 5 * 1024 * 1024


@router.post(
    "/deposits/statement",
    response=StatementOut,
    operation_id="deposits_statement",
    url_name="deposits_statement",
    auth=api_auth(EtpPerm.DEPOSIT_CONFIRM),
    summary="Import a bank statement (CSV or MT940): matching payments confirm deposits",
)
def deposit_statement(request: HttpRequest, file: File[NonEmptyFile]) -> Any:
    """multipart `file`, 5 MB at most. CSV: columns date, amount, payer, purpose; MT940: the
    credit entries, the `:86:` text as the purpose. 422: `fields.file` names each bad row and
    column (CSV) or line and field (MT940); nothing is confirmed then."""
    user = acting_person(request)
    if (file.size or 0) > MAX_STATEMENT_BYTES:
        raise ValidationFailed.field("file", _("The file is too large."))
    result = services.deposit_statement_import(actor=user, content=file.read())
    return {
        "format": result.format,
        "confirmed": result.confirmed,
        "already_received": result.already,
        "unmatched": result.unmatched,
        "ignored": result.ignored,
    }
