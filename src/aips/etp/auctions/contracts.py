"""Contracting after the results (docs/domains/etp.md, "Results, protocol and contracting").

The winner (rank 1) is offered the contract at the close: a canonical JSON (the lot, the seller,
the buyer, the price, the protocol's SHA-256) it signs with EDS within
`AIPS_ETP_CONTRACT_SIGN_DAYS` working days (`contract_sign`); the operator's admission officer
then confirms the payment within `AIPS_ETP_PAYMENT_DAYS` working days of the signature
(`contract_payment_confirm`) and the lot is sold. An explicit refusal (`contract_refuse`) or a
missed deadline (`contracts_tick`, the worker's job) retains the buyer's deposit, records the
refusal and offers the lot to the runner-up at its own bid (rank 2, the same rules), or with
`AIPS_ETP_RUNNER_UP_OFFER` off, or after the runner-up, declares the procedure unsuccessful and
schedules its repeat attempt at a reduced start price (services.contracting_failed).
Deadlines are the ends of working days of the platform's calendar (`aips.shared.workdays`)."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from aips.core.access import ensure_perm, has_perm
from aips.core.actors import Actor, SystemActor
from aips.core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from aips.etp.applications.models import Application, Deposit, DepositState
from aips.etp.applications.services import deposit_retain, deposits_release
from aips.etp.auctions import clock, notices, policy, services
from aips.etp.auctions.models import (
    AuctionResult,
    Contract,
    ContractState,
    ResultOutcome,
)
from aips.etp.auctions.protocol import decode_signature
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.models import User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.eds.canonical import canonical_json
from aips.shared.eds.services import signature_store
from aips.shared.eds.types import EdsRefused, Purpose, Refusal
from aips.shared.eds.verify import verify_cms
from aips.shared.workdays.calendar import add_working_days

WORKER = SystemActor(label="worker")
REMIND_BEFORE = timedelta(days=1)
TICK_BATCH = 200


def contract_document(result: AuctionResult, application: Application, price: Decimal) -> bytes:
    """What the buyer signs."""
    auction = result.auction
    lot = auction.procedure.lot
    return canonical_json(
        {
            "type": "etp_contract",
            "lot": lot.reference,
            "lot_id": lot.pk,
            "lot_title": lot.title,
            "auction": auction.reference,
            "seller": {"name": lot.organization.name, "bin": lot.organization.bin},
            "buyer": {
                "name": application.organization.name,
                "bin": application.organization.bin,
                "application": application.reference,
            },
            "price": str(price),
            "currency": lot.currency,
            "protocol_sha256": auction.protocol.sha256,
        }
    )


def _organization_of(contract: Contract) -> int:
    return int(contract.auction.procedure.lot.organization_id)


def contract_offer(
    *,
    actor: Actor,
    result: AuctionResult,
    application_id: int,
    price: Decimal,
    rank: int,
    now: datetime,
) -> Contract:
    """Offer the contract (in the caller's transaction: the results or a failed contract)."""
    application = Application.objects.select_related("organization").get(pk=application_id)
    contract: Contract = Contract.objects.create(
        auction=result.auction,
        application=application,
        rank=rank,
        price=price,
        document=contract_document(result, application, price),
        offered_at=now,
        sign_deadline=add_working_days(now, policy.contract_sign_days()),
    )
    record(
        actor=actor,
        event=EventType.CONTRACT_OFFERED,
        target=contract,
        organization_id=application.organization_id,
        details={
            "auction": result.auction_id,
            "application": application.pk,
            "rank": rank,
            "price": str(price),
            "sign_deadline": contract.sign_deadline.isoformat(),
        },
    )
    if rank > 1:
        notices.runner_up_offered(contract=contract)
    return contract


def get_contract_for(actor: Actor | None, pk: int) -> Contract:
    """A contract its buyer, the lot's seller or the operator may see; 404 for the others."""
    contract = (
        Contract.objects.visible_to(actor)
        .select_related("auction__procedure__lot__organization", "application__organization")
        .filter(pk=pk)
        .first()
    )
    if contract is None:
        raise NotFound()
    return contract


def _buyer(actor: Actor, contract: Contract) -> User:
    ensure_perm(actor, EtpPerm.AUCTION_BID)
    if not isinstance(actor, User) or actor.organization_id != contract.application.organization_id:
        raise Forbidden()
    return actor


def _locked(contract: Contract) -> Contract:
    locked: Contract = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("auction__procedure__lot__organization", "application__organization")
        .get(pk=contract.pk)
    )
    return locked


@transaction.atomic
def contract_sign(*, actor: Actor, contract: Contract, eds_signature: str) -> Contract:
    """The buyer signs the contract's document with EDS before the deadline."""
    person = _buyer(actor, contract)
    contract = _locked(contract)
    now = clock.now()
    if contract.state != ContractState.AWAITING_SIGNATURE:
        raise Conflict(_("This contract is not awaiting a signature."))
    if now > contract.sign_deadline:
        raise Conflict(_("The deadline to sign has passed."), code="deadline_passed")
    if not person.iin:
        raise AppError(
            _("Your account has no IIN bound to it: sign in with EDS first."),
            code="eds_iin_not_bound",
            status=422,
        )
    cms = decode_signature(eds_signature)
    verification = verify_cms(
        cms, purpose=Purpose.SIGNING, data=bytes(contract.document), expected_iin=person.iin
    )
    signer_bin = verification.signer.bin
    if signer_bin and signer_bin != contract.application.organization.bin:
        raise EdsRefused(Refusal.BIN_MISMATCH, f"certificate BIN {signer_bin}")
    contract.signature = signature_store(actor=person, verification=verification, cms=cms)
    contract.signed_by = person
    contract.signed_at = now
    contract.state = ContractState.AWAITING_PAYMENT
    contract.pay_deadline = add_working_days(now, policy.payment_days())
    contract.reminded = False
    contract.save()
    record(
        actor=person,
        event=EventType.CONTRACT_SIGNED,
        target=contract,
        organization_id=contract.application.organization_id,
        details={
            "signature": contract.signature_id,
            "pay_deadline": contract.pay_deadline.isoformat(),
        },
    )
    notices.contract_signed(contract=contract)
    return contract


@transaction.atomic
def contract_refuse(*, actor: Actor, contract: Contract, reason: str) -> Contract:
    """The buyer refuses the contract (before signing or before paying)."""
    person = _buyer(actor, contract)
    contract = _locked(contract)
    if not contract.open:
        raise Conflict(_("This contract is already decided."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", _("Give the reason for the refusal."))
    _fail(person, contract, ContractState.REFUSED, reason[:2000], clock.now())
    return contract


@transaction.atomic
def contract_payment_confirm(*, actor: Actor, contract: Contract) -> Contract:
    """The operator's admission officer saw the price paid: the lot is sold."""
    ensure_perm(actor, EtpPerm.DEPOSIT_CONFIRM)
    if not isinstance(actor, User):
        raise Conflict(_("Only a person takes this step."))
    contract = _locked(contract)
    now = clock.now()
    if contract.state != ContractState.AWAITING_PAYMENT:
        raise Conflict(_("This contract is not awaiting payment."))
    contract.state = ContractState.PAID
    contract.paid_at = now
    contract.paid_confirmed_by = actor
    contract.ended_at = now
    contract.save()
    record(
        actor=actor,
        event=EventType.CONTRACT_PAID,
        target=contract,
        organization_id=contract.application.organization_id,
        details={"price": str(contract.price)},
    )
    _settle(actor, contract, ResultOutcome.SOLD, now)
    return contract


def _settle(actor: Actor, contract: Contract, outcome: str, now: datetime) -> None:
    """The procedure's contracting ends: sold or unsuccessful. Every deposit still held but the
    buyer's is returned (the runner-up's). Unsuccessful, the attempt is declared so and repeated
    at a reduced start price like any unsuccessful attempt (services.contracting_failed: the
    chain of attempts, the public feed, the admitted participants' notices)."""
    result = AuctionResult.objects.select_for_update().get(auction_id=contract.auction_id)
    result.outcome = outcome
    result.outcome_at = now
    result.save(update_fields=["outcome", "outcome_at"])
    keep = frozenset({contract.application_id}) if outcome == ResultOutcome.SOLD else frozenset()
    returned = deposits_release(actor=actor, procedure=contract.auction.procedure, keep=keep)
    record(
        actor=actor,
        event=EventType.AUCTION_OUTCOME,
        target=contract.auction,
        organization_id=_organization_of(contract),
        details={
            "outcome": outcome,
            "contract": contract.pk,
            "deposits_returned": [d.application.pk for d in returned],
        },
    )
    repeat = (
        services.contracting_failed(auction_id=contract.auction_id, now=now)
        if outcome == ResultOutcome.UNSUCCESSFUL
        else None
    )
    notices.outcome(
        result=result,
        contract=contract,
        returned={d.application.pk for d in returned},
        repeat=repeat,
    )


def _fail(actor: Actor, contract: Contract, state: str, reason: str, now: datetime) -> None:
    contract.state = state
    contract.reason = reason
    contract.ended_at = now
    contract.save(update_fields=["state", "reason", "ended_at"])
    record(
        actor=actor,
        event=EventType.CONTRACT_REFUSED
        if state == ContractState.REFUSED
        else EventType.CONTRACT_LAPSED,
        target=contract,
        organization_id=contract.application.organization_id,
        details={"reason": reason, "rank": contract.rank},
    )
    deposit = Deposit.objects.select_for_update().get(application_id=contract.application_id)
    if deposit.state == DepositState.HELD:
        deposit_retain(actor=actor, deposit=deposit, reason=state)
    notices.contract_failed(contract=contract)
    result = AuctionResult.objects.select_for_update().get(auction_id=contract.auction_id)
    if (
        contract.rank == 1
        and result.runner_up_id is not None
        and result.runner_up_amount is not None
        and policy.runner_up_offer()
    ):
        contract_offer(
            actor=actor,
            result=result,
            application_id=result.runner_up_id,
            price=result.runner_up_amount,
            rank=2,
            now=now,
        )
        return
    _settle(actor, contract, ResultOutcome.UNSUCCESSFUL, now)


def contracts_tick(*, now: datetime | None = None) -> str:
    """The worker's job: a day before a deadline the buyer is reminded; a deadline passed makes
    the contract lapse (the deposit retained, the runner-up offered or the procedure ended)."""
    now = now or clock.now()
    lapsed = reminded = 0
    with transaction.atomic():
        due = Contract.objects.select_for_update(skip_locked=True, of=("self",)).select_related(
            "auction__procedure__lot__organization", "application__organization"
        )
        for contract in due.filter(
            state=ContractState.AWAITING_SIGNATURE, sign_deadline__lt=now
        ).order_by("pk")[:TICK_BATCH]:
            _fail(WORKER, contract, ContractState.LAPSED, "sign_deadline", now)
            lapsed += 1
        for contract in due.filter(
            state=ContractState.AWAITING_PAYMENT, pay_deadline__lt=now
        ).order_by("pk")[:TICK_BATCH]:
            _fail(WORKER, contract, ContractState.LAPSED, "pay_deadline", now)
            lapsed += 1
        soon = now + REMIND_BEFORE
        for contract in due.filter(
            reminded=False,
            state__in=[ContractState.AWAITING_SIGNATURE, ContractState.AWAITING_PAYMENT],
        ).order_by("pk")[:TICK_BATCH]:
            deadline = (
                contract.sign_deadline
                if contract.state == ContractState.AWAITING_SIGNATURE
                else contract.pay_deadline
            )
            if not contract.open or deadline is None or not now <= deadline <= soon:
                continue
            contract.reminded = True
            contract.save(update_fields=["reminded"])
            notices.contract_reminder(contract=contract, deadline=deadline)
            reminded += 1
    return f"lapsed {lapsed}, reminded {reminded}"


def may_confirm_payment(actor: Actor | None) -> bool:
    return actor is not None and has_perm(actor, EtpPerm.DEPOSIT_CONFIRM)
