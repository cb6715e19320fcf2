"""The results at the close, the EDS-signed protocol (JSON and PDF) and the contracting with the
fallback to the runner-up, on the server's clock (controlled by `at`). The winner is participant
2 (1100), the runner-up company 1 (1050), participant 1 the loser (1000)."""

import base64
import io
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from aips.core.errors import Conflict, Forbidden
from aips.etp.applications.models import Deposit, DepositState, Procedure
from aips.etp.auctions import contracts, protocol, results, services
from aips.etp.auctions.contracts import contracts_tick
from aips.etp.auctions.models import (
    Auction,
    AuctionResult,
    AuctionState,
    Contract,
    ContractState,
    Protocol,
    ResultOutcome,
)
from aips.etp.auctions.tests.conftest import Clock
from aips.etp.auctions.tests.test_auctions import bid, running
from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent
from aips.shared.eds import verify
from aips.shared.eds.keystore import KeyBundle
from aips.shared.eds.testing import TestPki, sign_cms
from aips.shared.eds.types import EdsRefused, Purpose
from aips.shared.notifications.models import Notification

pytestmark = pytest.mark.django_db
P1, C1, P2 = "participant_person_1", "participant_company_1_rep", "participant_person_2"
AUCTIONEER_IIN = "880808300128"


def key_of(person: User, pki: TestPki) -> KeyBundle:
    """The person's signing key (the participants' IINs are bound by the demo; the auctioneer's
    is bound here as an EDS sign-in would)."""
    iin = person.iin or AUCTIONEER_IIN
    if not person.iin:
        auth = pki.issue(iin=iin, purpose=Purpose.AUTHENTICATION)
        proof = verify.verify_cms(
            sign_cms(b"bind", key=auth, detached=True),
            purpose=Purpose.AUTHENTICATION,
            data=b"bind",
            trust=pki.trust(),
        )
        account_services.iin_bind(actor=person, user=person, eds=proof)
    return pki.issue(iin=iin, purpose=Purpose.SIGNING)


def signed(document: bytes, key: KeyBundle) -> str:
    return base64.b64encode(sign_cms(document, key=key, detached=True)).decode()


def closed(personas: dict[str, User], procedure: Procedure, at: Clock) -> Auction:
    auction = running(personas, procedure, at)
    bid(personas, P1, auction, "1000.00", "1000.00")
    bid(personas, C1, auction, "1050.00", "1050.00")
    bid(personas, P2, auction, "1100.00", "1100.00")
    at.at(auction.ends_at + timedelta(seconds=1))
    services.auction_tick(now=at.now)
    auction.refresh_from_db()
    assert auction.state == AuctionState.CLOSED
    assert results.results_tick(now=at.now) == "results 1"  # the results job's own run
    return auction


def deposit_state(procedure: Procedure, persona: User) -> str:
    return str(
        Deposit.objects.get(
            application__procedure=procedure, application__organization=persona.organization
        ).state
    )


def test_r57_17_the_close_commits_first_and_the_results_job_makes_the_results_once(
    personas: dict[str, User], three: Procedure, at: Clock
) -> None:
    auction = running(personas, three, at)
    bid(personas, P1, auction, "1000.00", "1000.00")
    at.at(auction.ends_at + timedelta(seconds=1))
    assert services.auction_tick(now=at.now) == "opened 0, ended 1"
    auction.refresh_from_db()
    # Closed and journaled by the tick; the results are not the tick's.
    assert auction.state == AuctionState.CLOSED
    assert auction.closed_at == at.now
    assert AuditEvent.objects.filter(event="auction:closed", target_id=str(auction.pk)).exists()
    assert not AuctionResult.objects.filter(auction=auction).exists()
    assert deposit_state(three, personas[C1]) == DepositState.HELD
    assert results.results_tick(now=at.now) == "results 1"
    assert results.results_tick(now=at.now) == "results 0"  # exactly once
    assert AuctionResult.objects.filter(auction=auction).count() == 1
    assert Contract.objects.filter(auction=auction).count() == 1
    assert (
        AuditEvent.objects.filter(event="auction:results", target_id=str(auction.pk)).count() == 1
    )
    assert deposit_state(three, personas[C1]) == DepositState.RETURNED


def test_r57_17_results_at_the_close_return_the_losers_deposits(
    personas: dict[str, User], three: Procedure, at: Clock
) -> None:
    auction = closed(personas, three, at)
    result = AuctionResult.objects.get(auction=auction)
    assert result.winner.organization == personas[P2].organization
    assert result.winning_amount == Decimal("1100.00")
    assert result.runner_up is not None
    assert result.runner_up.organization == personas[C1].organization
    assert result.runner_up_amount == Decimal("1050.00")
    # The loser's deposit is returned; the winner's and the runner-up's stay held.
    assert deposit_state(three, personas[P1]) == DepositState.RETURNED
    assert deposit_state(three, personas[P2]) == DepositState.HELD
    assert deposit_state(three, personas[C1]) == DepositState.HELD
    assert AuditEvent.objects.filter(event="auction:results", target_id=str(auction.pk)).exists()
    contract = Contract.objects.get(auction=auction)
    assert (contract.rank, contract.price) == (1, Decimal("1100.00"))
    assert contract.state == ContractState.AWAITING_SIGNATURE
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert {"etp.auction.won", "etp.auction.results", "etp.auction.results_seller"} <= kinds
    # The protocol: every admitted participant by number, every bid with its time.
    data = json.loads(bytes(auction.protocol.document))
    assert data["participants"] == [1, 2, 3]
    assert [b["amount"] for b in data["bids"]] == ["1000.00", "1050.00", "1100.00"]
    assert all(b["at"] for b in data["bids"])
    assert data["chain"] == {"count": 3, "head": auction.head_hash}
    assert data["winner"] == {"participant": 3, "amount": "1100.00"}
    assert data["rule"] == "ascending"
    assert data["parameters"]["min_step"] == "50.00"


def test_runner_up_off_returns_every_deposit_but_the_winners(
    personas: dict[str, User], three: Procedure, at: Clock, settings: Any
) -> None:
    settings.AIPS_ETP_RUNNER_UP_OFFER = False
    closed(personas, three, at)
    assert deposit_state(three, personas[P1]) == DepositState.RETURNED
    assert deposit_state(three, personas[C1]) == DepositState.RETURNED
    assert deposit_state(three, personas[P2]) == DepositState.HELD


def test_r57_17_protocol_signed_with_eds_and_rendered_as_pdf(
    personas: dict[str, User], three: Procedure, at: Clock, pki: TestPki
) -> None:
    auction = closed(personas, three, at)
    auctioneer = personas["operator_auctioneer"]
    document = bytes(auction.protocol.document)
    with pytest.raises(Forbidden):
        protocol.protocol_sign(actor=personas[P1], protocol=auction.protocol, eds_signature="x")
    key = key_of(auctioneer, pki)
    signed_protocol = protocol.protocol_sign(
        actor=auctioneer, protocol=auction.protocol, eds_signature=signed(document, key)
    )
    assert signed_protocol.signature is not None
    # The stored CMS verifies over the protocol's JSON with the test keys.
    check = verify.verify_cms(
        bytes(signed_protocol.signature.cms),
        purpose=Purpose.SIGNING,
        data=document,
        trust=pki.trust(),
    )
    assert check.signer.iin == AUCTIONEER_IIN
    # The PDF is a PDF and names the lot.
    pdf = Protocol.objects.get(pk=signed_protocol.pk).pdf
    from aips.shared.files.selectors import stored_path

    path = stored_path(pdf)
    assert path is not None
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert auction.procedure.lot.reference in text
    assert auction.reference in text
    with pytest.raises(Conflict):
        protocol.protocol_sign(
            actor=auctioneer, protocol=signed_protocol, eds_signature=signed(document, key)
        )
    assert AuditEvent.objects.filter(event="auction:protocol_signed").exists()


def test_r57_17_a_protocol_signed_by_another_key_is_refused(
    personas: dict[str, User], three: Procedure, at: Clock, pki: TestPki
) -> None:
    auction = closed(personas, three, at)
    auctioneer = personas["operator_auctioneer"]
    key_of(auctioneer, pki)
    stranger = pki.issue(iin="900202400222", purpose=Purpose.SIGNING)
    with pytest.raises(EdsRefused) as refused:
        protocol.protocol_sign(
            actor=auctioneer,
            protocol=auction.protocol,
            eds_signature=signed(bytes(auction.protocol.document), stranger),
        )
    assert refused.value.status < 500
    assert not Protocol.objects.get(auction=auction).signed


def sign_contract(contract: Contract, person: User, pki: TestPki) -> Contract:
    return contracts.contract_sign(
        actor=person,
        contract=contract,
        eds_signature=signed(bytes(contract.document), key_of(person, pki)),
    )


def test_contract_signed_in_time_and_paid_sells_the_lot(
    personas: dict[str, User], three: Procedure, at: Clock, pki: TestPki
) -> None:
    auction = closed(personas, three, at)
    contract = Contract.objects.get(auction=auction, rank=1)
    document = json.loads(bytes(contract.document))
    assert document["price"] == "1100.00"
    assert document["protocol_sha256"] == auction.protocol.sha256
    assert document["buyer"]["bin"] == personas[P2].organization.bin
    with pytest.raises(Forbidden):  # only the buyer signs
        sign_contract(contract, personas[C1], pki)
    at.move(days=1)
    contract = sign_contract(contract, personas[P2], pki)
    assert contract.state == ContractState.AWAITING_PAYMENT
    assert contract.pay_deadline is not None
    with pytest.raises(Forbidden):  # the auctioneer does not confirm payments
        contracts.contract_payment_confirm(actor=personas["operator_auctioneer"], contract=contract)
    contracts.contract_payment_confirm(actor=personas["operator_admission"], contract=contract)
    result = AuctionResult.objects.get(auction=auction)
    assert result.outcome == ResultOutcome.SOLD
    assert Contract.objects.get(pk=contract.pk).state == ContractState.PAID
    # The runner-up's deposit is returned now; the buyer's stays (counted towards the price).
    assert deposit_state(three, personas[C1]) == DepositState.RETURNED
    assert deposit_state(three, personas[P2]) == DepositState.HELD
    # The seller sees the outcome and the buyer's signed contract.
    seller = personas["seller_a_maker"]
    if auction.procedure.lot.organization_id == seller.organization_id:
        assert contracts.get_contract_for(seller, contract.pk).signature_id is not None


def test_refusal_retains_the_deposit_and_the_runner_up_signs(
    personas: dict[str, User], three: Procedure, at: Clock, pki: TestPki
) -> None:
    auction = closed(personas, three, at)
    first = Contract.objects.get(auction=auction, rank=1)
    contracts.contract_refuse(actor=personas[P2], contract=first, reason="changed our mind")
    assert Contract.objects.get(pk=first.pk).state == ContractState.REFUSED
    assert deposit_state(three, personas[P2]) == DepositState.RETAINED
    assert AuditEvent.objects.filter(event="deposit:retained").exists()
    assert AuditEvent.objects.filter(event="contract:refused", target_id=str(first.pk)).exists()
    second = Contract.objects.get(auction=auction, rank=2)
    assert second.application.organization == personas[C1].organization
    assert second.price == Decimal("1050.00")
    assert Notification.objects.filter(kind="etp.contract.offered", user=personas[C1]).exists()
    second = sign_contract(second, personas[C1], pki)
    contracts.contract_payment_confirm(actor=personas["operator_admission"], contract=second)
    assert AuctionResult.objects.get(auction=auction).outcome == ResultOutcome.SOLD
    assert deposit_state(three, personas[C1]) == DepositState.HELD


def test_runner_up_off_refusal_makes_the_procedure_unsuccessful(
    personas: dict[str, User], three: Procedure, at: Clock, settings: Any
) -> None:
    auction = closed(personas, three, at)
    settings.AIPS_ETP_RUNNER_UP_OFFER = False
    first = Contract.objects.get(auction=auction, rank=1)
    contracts.contract_refuse(actor=personas[P2], contract=first, reason="no")
    assert not Contract.objects.filter(auction=auction, rank=2).exists()
    assert AuctionResult.objects.get(auction=auction).outcome == ResultOutcome.UNSUCCESSFUL
    assert deposit_state(three, personas[P2]) == DepositState.RETAINED
    # The runner-up's deposit, held while it might be offered the lot, is returned.
    assert deposit_state(three, personas[C1]) == DepositState.RETURNED
    assert Notification.objects.filter(kind="etp.auction.outcome").exists()


def test_a_missed_deadline_via_the_job_lapses_and_offers_the_runner_up(
    personas: dict[str, User], three: Procedure, at: Clock
) -> None:
    auction = closed(personas, three, at)
    first = Contract.objects.get(auction=auction, rank=1)
    # A day before the deadline the buyer is reminded, once.
    at.at(first.sign_deadline - timedelta(hours=12))
    assert contracts_tick(now=at.now) == "lapsed 0, reminded 1"
    assert contracts_tick(now=at.now) == "lapsed 0, reminded 0"
    assert Notification.objects.filter(kind="etp.contract.reminder", user=personas[P2]).exists()
    at.at(first.sign_deadline + timedelta(seconds=1))
    assert contracts_tick(now=at.now) == "lapsed 1, reminded 0"
    first.refresh_from_db()
    assert first.state == ContractState.LAPSED
    assert first.reason == "sign_deadline"
    assert deposit_state(three, personas[P2]) == DepositState.RETAINED
    assert Notification.objects.filter(kind="etp.contract.missed", user=personas[P2]).exists()
    second = Contract.objects.get(auction=auction, rank=2)
    assert second.sign_deadline > at.now
    # Signing after the deadline is refused.
    at.at(second.sign_deadline + timedelta(seconds=1))
    with pytest.raises(Conflict):
        contracts.contract_sign(actor=personas[C1], contract=second, eds_signature="eA==")
    contracts_tick(now=at.now)
    assert AuctionResult.objects.get(auction=auction).outcome == ResultOutcome.UNSUCCESSFUL
    assert deposit_state(three, personas[C1]) == DepositState.RETAINED


def test_the_deadline_counts_working_days(
    personas: dict[str, User], three: Procedure, at: Clock
) -> None:
    from aips.shared.workdays.calendar import working_days_between

    auction = closed(personas, three, at)
    contract = Contract.objects.get(auction=auction, rank=1)
    assert working_days_between(contract.offered_at, contract.sign_deadline) == 5


def test_public_protocol_shows_no_debtor_or_participant_identity(
    personas: dict[str, User], three: Procedure, at: Clock, pki: TestPki, client: Any
) -> None:
    from aips.etp.lots.models import LotParty

    auction = closed(personas, three, at)
    assert client.get(f"/api/v1/public/auctions/{auction.pk}/protocol").status_code == 404
    protocol.protocol_sign(
        actor=personas["operator_auctioneer"],
        protocol=auction.protocol,
        eds_signature=signed(
            bytes(auction.protocol.document), key_of(personas["operator_auctioneer"], pki)
        ),
    )
    response = client.get(f"/api/v1/public/auctions/{auction.pk}/protocol")
    assert response.status_code == 200
    body = response.json()
    assert base64.b64decode(body["signature"])
    raw = response.content.decode()
    for person in (personas[P1], personas[C1], personas[P2]):
        assert person.organization.bin not in raw
        assert person.organization.name not in raw
    for party in LotParty.objects.filter(lot=auction.procedure.lot):
        assert party.identifier not in raw
        assert not party.name or party.name not in raw
    for kind in ("json", "pdf", "cms"):
        link = body["links"]["json_url" if kind == "json" else kind]
        assert client.get(link).status_code == 200
    page = client.get(f"/lots/{auction.procedure.lot_id}/")
    assert page.status_code == 200
    assert "auction-protocol" in page.content.decode()
    assert personas[P2].organization.name not in page.content.decode()
