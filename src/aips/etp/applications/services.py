"""Writes of procedures, applications and deposits. Every one is a service with its audit event
in the same transaction; deadlines read the server's clock (`clock.now`), never the browser's."""

import base64
import binascii
import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import AppError, Conflict, ValidationFailed
from aips.etp.applications import clock, rules
from aips.etp.applications.models import (
    Application,
    ApplicationState,
    Deposit,
    DepositState,
    Procedure,
)
from aips.etp.lots.models import Lot, LotState
from aips.etp.lots.selectors import parties_of
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.eds.canonical import canonical_json
from aips.shared.eds.services import signature_store
from aips.shared.eds.types import EdsRefused, Purpose, Refusal
from aips.shared.eds.verify import verify_cms

PARTICIPANT_KINDS = frozenset({"participant_legal", "participant_individual"})
# A signed application older than this is stale: the page is reloaded and signed afresh.
DOCUMENT_MAX_AGE = timedelta(hours=1)
MAX_SIGNATURE_CHARS = 200_000
CENT = Decimal("0.01")


def deposit_for(start_price: Decimal, percent: Decimal) -> Decimal:
    return (start_price * percent / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def procedure_announce(
    *, actor: Actor, lot: Lot, application_deadline: datetime, auction_start: datetime
) -> Procedure:
    ensure_perm(actor, EtpPerm.PROCEDURE_MANAGE)
    if not isinstance(actor, User):
        raise Conflict(_("Only a person announces a procedure."))
    if lot.state != LotState.PUBLISHED:
        raise Conflict(_("A procedure is announced only for a published lot."))
    if Procedure.objects.filter(lot=lot).exists():
        raise Conflict(_("This lot already has a procedure."))
    now = clock.now()
    if application_deadline <= now:
        raise ValidationFailed.field(
            "application_deadline", _("The application deadline must be in the future.")
        )
    if auction_start <= application_deadline:
        raise ValidationFailed.field(
            "auction_start", _("The auction starts after the application deadline.")
        )
    percent = rules.deposit_percent()
    procedure: Procedure = Procedure.objects.create(
        lot=lot,
        application_deadline=application_deadline,
        auction_start=auction_start,
        deposit_percent=percent,
        deposit_amount=deposit_for(lot.start_price, percent),
        announced_by=actor,
        announced_at=now,
    )
    record(
        actor=actor,
        event=EventType.PROCEDURE_ANNOUNCED,
        target=procedure,
        organization_id=lot.organization_id,
        details={
            "lot": lot.pk,
            "deadline": application_deadline.isoformat(),
            "auction_start": auction_start.isoformat(),
            "deposit": str(procedure.deposit_amount),
        },
    )
    return procedure


def application_document(*, procedure: Procedure, actor: User, moment: datetime) -> bytes:
    """The canonical form a participant signs: the lot, the procedure, the participant, the
    deposit and the time the page offered it (the server's)."""
    return canonical_json(
        {
            "type": "etp_application",
            "lot": procedure.lot.reference,
            "lot_id": procedure.lot_id,
            "procedure_id": procedure.pk,
            "participant": actor.organization.bin,
            "participant_name": actor.organization.name,
            "person_iin": actor.iin,
            "deposit": str(procedure.deposit_amount),
            "currency": procedure.lot.currency,
            "time": moment.isoformat(),
        }
    )


def _decode(raw: str) -> bytes:
    text = "".join((raw or "").split())
    if not text:
        raise ValidationFailed.field("eds_signature", _("Sign the application with EDS."))
    if len(text) > MAX_SIGNATURE_CHARS:
        raise EdsRefused(Refusal.MALFORMED, "too long")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EdsRefused(Refusal.MALFORMED, "not base64") from exc


@transaction.atomic
def application_submit(
    *, actor: Actor, procedure: Procedure, moment: datetime, eds_signature: str
) -> Application:
    """Apply for `procedure`: `moment` is the time in the signed document the page offered."""
    ensure_perm(actor, EtpPerm.APPLICATION_SUBMIT)
    if not isinstance(actor, User) or actor.organization.kind not in PARTICIPANT_KINDS:
        raise Conflict(_("Only a participant applies."))
    now = clock.now()
    if now > procedure.application_deadline:
        raise Conflict(_("The application deadline has passed."), code="deadline_passed")
    if moment > now or now - moment > DOCUMENT_MAX_AGE:
        raise ValidationFailed.field(
            "moment", _("The signed application is out of date: reload the page and sign again.")
        )
    if procedure.lot.state != LotState.PUBLISHED:
        raise Conflict(_("The lot is not on sale."))
    organization = actor.organization
    # The borrower and guarantors of the lot's loans may not buy them back (nor through an
    # organization of one that is them).
    if organization.bin in parties_of(procedure.lot) or (
        actor.iin and actor.iin in parties_of(procedure.lot)
    ):
        raise Conflict(
            _("A borrower or guarantor of this lot's loans may not apply for it."),
            code="party_of_lot",
        )
    if Application.objects.filter(procedure=procedure, organization=organization).exists():
        raise Conflict(_("Your organization has already applied for this procedure."))
    if not actor.iin:
        raise AppError(
            _("Your account has no IIN bound to it: sign in with EDS first."),
            code="eds_iin_not_bound",
            status=422,
        )
    cms = _decode(eds_signature)
    document = application_document(procedure=procedure, actor=actor, moment=moment)
    verification = verify_cms(cms, purpose=Purpose.SIGNING, data=document, expected_iin=actor.iin)
    signer_bin = verification.signer.bin
    if signer_bin and signer_bin != organization.bin:
        raise EdsRefused(Refusal.BIN_MISMATCH, f"certificate BIN {signer_bin}")
    signature = signature_store(actor=actor, verification=verification, cms=cms)
    try:
        with transaction.atomic():
            application: Application = Application.objects.create(
                procedure=procedure,
                organization=organization,
                submitted_by=actor,
                submitted_at=now,
                document=document,
                signature=signature,
            )
    except IntegrityError as exc:  # a concurrent second application of the same participant
        raise Conflict(_("Your organization has already applied for this procedure.")) from exc
    Deposit.objects.create(application=application, amount=procedure.deposit_amount)
    record(
        actor=actor,
        event=EventType.APPLICATION_SUBMITTED,
        target=application,
        organization_id=organization.pk,
        details={
            "procedure": procedure.pk,
            "lot": procedure.lot_id,
            "deposit": str(procedure.deposit_amount),
            "signature": signature.pk,
        },
    )
    return application


def _confirm(actor: User, deposit: Deposit, bank_reference: str) -> Deposit:
    if deposit.state != DepositState.EXPECTED:
        raise Conflict(_("This deposit is not awaited."))
    deposit.state = DepositState.CONFIRMED
    deposit.confirmed_by = actor
    deposit.confirmed_at = clock.now()
    deposit.bank_reference = bank_reference[:200]
    deposit.save(update_fields=["state", "confirmed_by", "confirmed_at", "bank_reference"])
    record(
        actor=actor,
        event=EventType.DEPOSIT_CONFIRMED,
        target=deposit.application,
        organization_id=deposit.application.organization_id,
        details={"amount": str(deposit.amount), "statement": deposit.bank_reference},
    )
    return deposit


def _operator(actor: Actor, perm: EtpPerm) -> User:
    ensure_perm(actor, perm)
    if not isinstance(actor, User):
        raise Conflict(_("Only a person takes this step."))
    return actor


@transaction.atomic
def deposit_confirm(*, actor: Actor, deposit: Deposit) -> Deposit:
    """The admission officer saw the money arrive."""
    return _confirm(_operator(actor, EtpPerm.DEPOSIT_CONFIRM), deposit, "")


@dataclass(frozen=True)
class StatementResult:
    confirmed: list[str]  # the applications' references
    unmatched: list[int]  # rows that matched no awaited deposit


STATEMENT_COLUMNS = ("date", "amount", "payer", "purpose")


@transaction.atomic
def deposit_statement_import(*, actor: Actor, content: bytes) -> StatementResult:
    """A bank statement in CSV (UTF-8, `,` or `;`): columns date, amount, payer (BIN/IIN),
    purpose (with the application's reference, APP-000123). A bad row names its row (the
    header is row 1) and column and nothing is confirmed; a row whose reference, payer and
    amount match an awaited deposit confirms it."""
    person = _operator(actor, EtpPerm.DEPOSIT_CONFIRM)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed.field("file", _("The statement is not UTF-8 text.")) from exc
    delimiter = (
        ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    )
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in STATEMENT_COLUMNS if name not in header]
    if missing:
        raise ValidationFailed.field(
            "file", _("Row 1: missing columns: %(columns)s") % {"columns": ", ".join(missing)}
        )
    errors: list[str] = []
    rows: list[tuple[int, Decimal, str, str]] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        try:
            datetime.strptime(row["date"], "%Y-%m-%d")  # noqa: DTZ007 - a calendar date only
        except ValueError:
            errors.append(
                _("Row %(row)d, column %(column)s: not a date (YYYY-MM-DD).")
                % {"row": number, "column": "date"}
            )
        try:
            amount = Decimal(row["amount"].replace(" ", "").replace(",", "."))
            if not amount.is_finite() or amount <= 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(
                _("Row %(row)d, column %(column)s: not a positive amount.")
                % {"row": number, "column": "amount"}
            )
            continue
        payer = row["payer"]
        if not (len(payer) == 12 and payer.isdigit()):
            errors.append(
                _("Row %(row)d, column %(column)s: not a 12-digit BIN/IIN.")
                % {"row": number, "column": "payer"}
            )
        rows.append((number, amount, payer, row["purpose"]))
    if errors:
        raise ValidationFailed.field("file", " ".join(errors))
    confirmed: list[str] = []
    unmatched: list[int] = []
    awaited = Deposit.objects.select_related("application__organization").filter(
        state=DepositState.EXPECTED
    )
    for number, amount, payer, purpose in rows:
        match = next(
            (
                d
                for d in awaited
                if d.application.reference in purpose.upper()
                and d.application.organization.bin == payer
                and d.amount == amount.quantize(CENT)
                and d.state == DepositState.EXPECTED
            ),
            None,
        )
        if match is None:
            unmatched.append(number)
            continue
        _confirm(person, match, _("statement row %(row)d") % {"row": number})
        confirmed.append(match.application.reference)
    return StatementResult(confirmed=confirmed, unmatched=unmatched)


@transaction.atomic
def application_admit(*, actor: Actor, application: Application) -> Application:
    person = _operator(actor, EtpPerm.PARTICIPANT_ADMIT)
    if application.state != ApplicationState.SUBMITTED:
        raise Conflict(_("This application is already decided."))
    deposit = Deposit.objects.select_for_update().get(application=application)
    if deposit.state != DepositState.CONFIRMED:
        raise Conflict(_("The deposit has not been received."), code="deposit_not_received")
    deposit.state = DepositState.HELD
    deposit.save(update_fields=["state"])
    return _decide(person, application, ApplicationState.ADMITTED, "")


@transaction.atomic
def application_refuse(*, actor: Actor, application: Application, reason: str) -> Application:
    person = _operator(actor, EtpPerm.PARTICIPANT_ADMIT)
    if application.state != ApplicationState.SUBMITTED:
        raise Conflict(_("This application is already decided."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", _("Give the reason for the refusal."))
    return _decide(person, application, ApplicationState.REFUSED, reason[:2000])


def _decide(person: User, application: Application, state: str, reason: str) -> Application:
    application.state = state
    application.refusal_reason = reason
    application.decided_by = person
    application.decided_at = clock.now()
    application.save(update_fields=["state", "refusal_reason", "decided_by", "decided_at"])
    record(
        actor=person,
        event=(
            EventType.APPLICATION_ADMITTED
            if state == ApplicationState.ADMITTED
            else EventType.APPLICATION_REFUSED
        ),
        target=application,
        organization_id=application.organization_id,
        details={"procedure": application.procedure_id, "reason": reason},
    )
    return application


@transaction.atomic
def deposit_return(*, actor: Actor, deposit: Deposit) -> Deposit:
    """Give a deposit back (a refused participant's, or after the auction)."""
    person = _operator(actor, EtpPerm.DEPOSIT_CONFIRM)
    if deposit.state not in {DepositState.CONFIRMED, DepositState.HELD}:
        raise Conflict(_("Only a received deposit is returned."))
    deposit.state = DepositState.RETURNED
    deposit.closed_at = clock.now()
    deposit.save(update_fields=["state", "closed_at"])
    record(
        actor=person,
        event=EventType.DEPOSIT_RETURNED,
        target=deposit.application,
        organization_id=deposit.application.organization_id,
        details={"amount": str(deposit.amount)},
    )
    return deposit
