"""Writes of procedures, applications and deposits. Every one is a service with its audit event
in the same transaction; deadlines read the server's clock (`clock.now`), never the browser's."""

import base64
import binascii
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import mt940
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aips.core.access import ensure_perm
from aips.core.actors import Actor
from aips.core.errors import AppError, Conflict, ValidationFailed
from aips.etp.applications import clock, notices, rules
from aips.etp.applications.models import (
    Application,
    ApplicationState,
    Deposit,
    DepositState,
    Procedure,
)
from aips.etp.auctions import live_notices as auction_notices
from aips.etp.lots import feed
from aips.etp.lots.models import Lot, LotState
from aips.etp.lots.selectors import parties_of
from aips.etp.participants.selectors import email_confirmed
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
    feed.procedure_announced(procedure)  # the public change feed, in this transaction
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


def email_unconfirmed_message() -> str:
    return _(
        "Confirm your e-mail address before you apply: open the link we sent you, or send it "
        "again from your workspace."
    )


@transaction.atomic
def application_submit(
    *, actor: Actor, procedure: Procedure, moment: datetime, eds_signature: str
) -> Application:
    """Apply for `procedure`: `moment` is the time in the signed document the page offered."""
    ensure_perm(actor, EtpPerm.APPLICATION_SUBMIT)
    if not isinstance(actor, User) or actor.organization.kind not in PARTICIPANT_KINDS:
        raise Conflict(_("Only a participant applies."))
    if not email_confirmed(actor):
        # The notices of admission, refusal and the auction go to this address (R57.9).
        raise Conflict(email_unconfirmed_message(), code="email_unconfirmed")
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
    notices.application_submitted(actor=actor, application=application)
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
    notices.deposit_confirmed(actor=actor, application=deposit.application)
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
class StatementRow:
    """One money movement of a statement: `number` is its CSV row (the header is row 1) or the
    line of its MT940 `:61:` field; `payers` the BIN/IIN it names (none: match without it)."""

    number: int
    amount: Decimal
    payers: frozenset[str]
    purpose: str
    currency: str | None
    label: str  # where the confirmation came from, kept on the deposit


@dataclass(frozen=True)
class StatementResult:
    confirmed: list[str]  # the applications' references
    unmatched: list[int]  # rows (CSV) or `:61:` lines (MT940) that matched no awaited deposit
    already: list[str] = field(default_factory=list)  # references received before: unchanged
    ignored: int = 0  # MT940 entries that are no payment in: debits and reversals
    format: str = "csv"


STATEMENT_COLUMNS = ("date", "amount", "payer", "purpose")
# A BIN or IIN in an MT940 `:86:` text: twelve digits standing alone.
_IDENTIFIER = re.compile(r"(?<!\d)\d{12}(?!\d)")
_REFERENCE = re.compile(r"APP-(\d{6,})")
# The start of a `:61:` statement line: value date YYMMDD, [entry date MMDD], the mark (C, D,
# RC, RD), [funds code], the amount with its decimal comma.
_STATEMENT_LINE = re.compile(
    r"^:61:(?P<date>\d{6})(?:\d{4})?(?P<mark>R?[CD])[A-Z]?(?P<amount>\d[\d,]{0,14})"
)


def is_mt940(text: str) -> bool:
    """A SWIFT MT940 statement: it starts with `:20:` or a `{1:` block header, or holds `:61:`."""
    head = text.lstrip()
    return head.startswith((":20:", "{1:")) or ":61:" in text


def _decode_statement(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Banks in Kazakhstan also write MT940 in Windows-1251.
        text = content.decode("cp1251", errors="replace")
        if is_mt940(text):
            return text
        raise ValidationFailed.field("file", _("The statement is not UTF-8 text.")) from exc


@transaction.atomic
def deposit_statement_import(*, actor: Actor, content: bytes) -> StatementResult:
    """A bank statement, CSV or SWIFT MT940 (told apart by its content, `is_mt940`). CSV (UTF-8,
    `,` or `;`): columns date, amount, payer (BIN/IIN), purpose (with the application's
    reference, APP-000123). MT940: the `:61:` credit entries (C) with their `:86:` text as the
    purpose and a 12-digit number in it as the payer; debits and reversals are ignored and
    counted. A bad row or field names its row or line and nothing is confirmed; a row whose
    reference, payer (when the statement names one) and amount match an awaited deposit confirms
    it; one matching a deposit already received is reported, not confirmed twice."""
    person = _operator(actor, EtpPerm.DEPOSIT_CONFIRM)
    text = _decode_statement(content)
    if is_mt940(text):
        rows, ignored = _mt940_rows(text)
        kind = "mt940"
    else:
        rows, ignored = _csv_rows(text), 0
        kind = "csv"
    confirmed: list[str] = []
    already: list[str] = []
    unmatched: list[int] = []
    # Only the deposits whose application a row names (APP-000123) are read.
    named = {int(m) for row in rows for m in _REFERENCE.findall(row.purpose.upper())}
    deposits = list(
        Deposit.objects.select_for_update()
        .select_related("application__organization", "application__procedure__lot")
        .filter(application_id__in=named)
        .order_by("id")
    )
    for row in rows:
        candidates = [d for d in deposits if _matches(d, row)]
        match = next((d for d in candidates if d.state == DepositState.EXPECTED), None)
        if match is not None:
            _confirm(person, match, row.label)
            confirmed.append(match.application.reference)
        elif candidates:
            already.append(candidates[0].application.reference)
        else:
            unmatched.append(row.number)
    return StatementResult(
        confirmed=confirmed, unmatched=unmatched, already=already, ignored=ignored, format=kind
    )


def _matches(deposit: Deposit, row: StatementRow) -> bool:
    application = deposit.application
    lot = application.procedure.lot
    return (
        application.reference in row.purpose.upper()
        and deposit.amount == row.amount.quantize(CENT)
        and (not row.payers or application.organization.bin in row.payers)
        and (row.currency is None or row.currency == lot.currency)
    )


def _csv_rows(text: str) -> list[StatementRow]:
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
    rows: list[StatementRow] = []
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
        label = _("statement row %(row)d") % {"row": number}
        rows.append(StatementRow(number, amount, frozenset({payer}), row["purpose"], None, label))
    if errors:
        raise ValidationFailed(fields={"file": errors})
    return rows


def _mt940_rows(text: str) -> tuple[list[StatementRow], int]:
    """The credit entries of an MT940 statement and how many other entries it has. Every `:61:`
    line is checked first (so a bad one is named by its line); the `mt940` library then reads
    the whole statement."""
    lines = text.splitlines()
    entry_lines: list[int] = []
    errors: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(":61:"):
            continue
        entry_lines.append(number)
        error = _statement_line_error(line)
        if error:
            errors.append(
                _("Line %(line)d, field %(field)s: %(error)s")
                % {"line": number, "field": ":61:", "error": error}
            )
    if errors:
        raise ValidationFailed(fields={"file": errors})
    try:
        transactions = mt940.models.Transactions()
        transactions.parse(text)
    except RuntimeError as exc:  # the library names the tag and the value it could not read
        raise ValidationFailed.field("file", _mt940_error(lines, exc.args)) from exc
    except Exception as exc:  # any other failure of the library: the statement is unreadable
        raise ValidationFailed.field(
            "file", _("The MT940 statement cannot be read: check its fields.")
        ) from exc
    if not transactions.data and not len(transactions):
        raise ValidationFailed.field("file", _("Not an MT940 statement: no field :20: or :61:."))
    if len(transactions) != len(entry_lines):
        raise ValidationFailed.field(
            "file", _("The MT940 statement cannot be read: check its fields.")
        )
    reference = str(transactions.data.get("transaction_reference") or "")
    rows: list[StatementRow] = []
    ignored = 0
    for number, entry in zip(entry_lines, transactions, strict=True):
        data = entry.data
        if data.get("status") != "C":  # D, and the reversals RC (of a credit) and RD
            ignored += 1
            continue
        amount = Decimal(data["amount"].amount)
        details = " ".join(str(data.get("transaction_details") or "").split())
        currency = data.get("currency") or None
        label = _("MT940 %(reference)s, line %(line)d, value date %(date)s") % {
            "reference": reference,
            "line": number,
            "date": data["date"].isoformat(),
        }
        rows.append(
            StatementRow(
                number=number,
                amount=amount,
                payers=frozenset(_IDENTIFIER.findall(details)),
                purpose=details,
                currency=str(currency) if currency else None,
                label=label,
            )
        )
    return rows, ignored


def _statement_line_error(line: str) -> str:
    match = _STATEMENT_LINE.match(line)
    if match is None:
        return str(_("not a statement line (date YYMMDD, mark C or D, amount)."))
    raw = match["date"]
    try:
        date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:6]))
    except ValueError:
        return str(_("not a date (YYMMDD)."))
    if match["amount"].count(",") != 1:
        return str(_("not an amount with one decimal comma."))
    return ""


def _mt940_error(lines: list[str], args: tuple[object, ...]) -> str:
    tag = getattr(args[1], "id", "") if len(args) > 1 else ""
    value = str(args[2]) if len(args) > 2 else ""
    first = value.split("\n", 1)[0]
    field_name = f":{tag}:" if tag else "?"
    for number, line in enumerate(lines, start=1):
        if tag and line.startswith(field_name) and line[len(field_name) :].startswith(first):
            return str(
                _("Line %(line)d, field %(field)s: cannot be read.")
                % {"line": number, "field": field_name}
            )
    return str(_("Field %(field)s: cannot be read.") % {"field": field_name})


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
    application = _decide(person, application, ApplicationState.ADMITTED, "")
    # Admitted after the procedure's auction was scheduled: the auction's notice, as the
    # participants admitted before it had it (a sibling app's notices; ARCHITECTURE.md).
    auction_notices.admitted(application=application)
    return application


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
    if state == ApplicationState.ADMITTED:
        notices.application_admitted(actor=person, application=application)
    else:
        notices.application_refused(actor=person, application=application)
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
    notices.deposit_returned(actor=person, application=deposit.application)
    return deposit


@transaction.atomic
def deposit_retain(*, actor: Actor, deposit: Deposit, reason: str) -> Deposit:
    """Keep a held deposit (the buyer refused the contract or missed its deadline). Called by
    the contracting services (auctions/contracts.py), which check who acts."""
    if deposit.state != DepositState.HELD:
        raise Conflict(_("Only a held deposit is retained."))
    deposit.state = DepositState.RETAINED
    deposit.closed_at = clock.now()
    deposit.save(update_fields=["state", "closed_at"])
    record(
        actor=actor,
        event=EventType.DEPOSIT_RETAINED,
        target=deposit.application,
        organization_id=deposit.application.organization_id,
        details={"amount": str(deposit.amount), "reason": reason[:200]},
    )
    return deposit


@transaction.atomic
def deposits_release(*, actor: Actor, procedure: Procedure, keep: frozenset[int]) -> list[Deposit]:
    """Return every received or held deposit of `procedure` except those of the applications in
    `keep` (at the auction's results: the winner's, and the runner-up's while it may be offered
    the lot). Called by the auctions' services, which check who acts; the participants hear of
    it in the results' notices."""
    deposits = list(
        Deposit.objects.select_for_update()
        .select_related("application")
        .filter(
            application__procedure=procedure,
            state__in=[DepositState.CONFIRMED, DepositState.HELD],
        )
        .exclude(application_id__in=keep)
        .order_by("id")
    )
    now = clock.now()
    for deposit in deposits:
        deposit.state = DepositState.RETURNED
        deposit.closed_at = now
        deposit.save(update_fields=["state", "closed_at"])
        record(
            actor=actor,
            event=EventType.DEPOSIT_RETURNED,
            target=deposit.application,
            organization_id=deposit.application.organization_id,
            details={"amount": str(deposit.amount), "at": "results"},
        )
    return deposits
