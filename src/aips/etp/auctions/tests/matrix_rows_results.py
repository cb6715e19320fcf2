"""The results' rows of the ETP's authorization matrix (R57.5), and the objects they need
(`build`, called from aips/etp/conftest.py): a closed attempt on seller A's published lot won by
company 1, its results, its signed protocol and company 1's contract.

The results page is the seller's and the operator's (seller B 404; participants hold no
`lot:view`, 403); the protocol's downloads and public API are everyone's; a contract is its
buyer's (company 1), the seller's and the operator's, the other participants and seller B get
404. Only the auctioneer signs a protocol (no matrix persona holds `auction:run`: 403); only the
buyer signs or refuses a contract (the operator and the seller 403); only the admission officer
confirms a payment (409 here: the contract awaits its signature)."""

from collections.abc import Callable
from typing import Any

from aips.etp.tests.matrix import OPERATOR, PARTICIPANTS, SELLER_A, Row, only, statuses
from aips.shared.accounts.models import User

BUYER = "participant_company_1_rep"
OTHER_PARTICIPANTS = {"participant_person_1": 404, "participant_person_2": 404}
SELLER_B_404 = {"seller_b_maker": 404, "seller_b_signatory": 404}


def build(personas: dict[str, User], lot: Any) -> dict[str, Any]:
    from datetime import timedelta
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from aips.etp.applications.models import Application, Procedure
    from aips.etp.auctions.models import (
        Auction,
        AuctionResult,
        Contract,
        Protocol,
        ProtocolFile,
    )
    from aips.shared.files.services import stored_fields

    now = timezone.now()
    procedure = Procedure.objects.get(lot=lot)
    winner = Application.objects.get(procedure=procedure, organization=personas[BUYER].organization)
    auction = Auction.objects.create(
        procedure=procedure,
        attempt=2,
        rule="ascending",
        start_price=lot.start_price,
        min_step=1,
        state="closed",
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
        winner=winner,
        winning_amount=lot.start_price,
        outcome_reason="won",
        closed_at=now - timedelta(hours=1),
        created_at=now,
    )
    result = AuctionResult.objects.create(
        auction=auction, winner=winner, winning_amount=lot.start_price, created_at=now
    )
    protocol = Protocol.objects.create(
        auction=auction,
        document=b'{"winner":{"amount":"1","participant":1}}',
        sha256="0" * 64,
        created_at=now,
        signature=winner.signature,
        signed_by=personas["operator_admin"],
        signed_at=now,
    )
    ProtocolFile.objects.create(
        protocol=protocol,
        uploaded_by=personas["operator_admin"],
        **stored_fields(SimpleUploadedFile("protocol.pdf", b"%PDF-1.4 matrix")),
    )
    contract = Contract.objects.create(
        auction=auction,
        application=winner,
        rank=1,
        price=Decimal(lot.start_price),
        document=b"{}",
        offered_at=now,
        sign_deadline=now + timedelta(days=7),
    )
    return {"closed_auction": auction, "auction_result": result, "contract": contract}


def closed(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["closed_auction"].pk}


def contract(o: dict[str, Any]) -> dict[str, Any]:
    return {"pk": o["contract"].pk}


def api_contract(o: dict[str, Any]) -> dict[str, Any]:
    return {"contract_id": o["contract"].pk}


def _download(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda o: {"pk": o["closed_auction"].pk, "kind": kind}


CONTRACT_READERS = (*OPERATOR, *SELLER_A, BUYER)

ROWS: list[Row] = [
    Row(
        "etp_auction_results:results",
        "GET",
        only(200, (*OPERATOR, *SELLER_A), **SELLER_B_404),
        kwargs=closed,
    ),
    Row("etp_auction_results:protocol_sign", "POST", statuses(403, anon=302), kwargs=closed),
    *[
        Row(
            "etp_auction_results:public_protocol",
            "GET",
            statuses(200),
            kwargs=_download(kind),
        )
        for kind in ("json", "pdf", "cms")
    ],
    Row(
        "etp_auction_results:contract",
        "GET",
        only(200, CONTRACT_READERS, other=404),
        kwargs=contract,
    ),
    Row(
        "etp_auction_results:contract_file",
        "GET",
        only(200, CONTRACT_READERS, other=404),
        kwargs=lambda o: {"pk": o["contract"].pk, "kind": "document"},
    ),
    # Refusing without a reason: the buyer's form comes back (302 with the message); the
    # operator and the seller may not refuse (403); the others do not see the contract (404).
    Row(
        "etp_auction_results:contract_act",
        "POST",
        only(302, (BUYER,), **OTHER_PARTICIPANTS, **SELLER_B_404),
        kwargs=lambda o: {"pk": o["contract"].pk, "name": "refuse"},
        data={"reason": ""},
    ),
    Row(
        "etp_auction_results:contract_act",
        "POST",
        only(
            302,
            ("operator_admission",),
            **OTHER_PARTICIPANTS,
            **SELLER_B_404,
            **{BUYER: 403},
        ),
        kwargs=lambda o: {"pk": o["contract"].pk, "name": "confirm_payment"},
    ),
    Row(
        "api:auctions_protocol_public",
        "GET",
        statuses(200),
        kwargs=lambda o: {"auction_id": o["closed_auction"].pk},
        api=True,
    ),
    Row(
        "api:auctions_protocol_sign",
        "POST",
        statuses(403, anon=401),
        kwargs=lambda o: {"auction_id": o["closed_auction"].pk},
        data={"signature": "eA=="},
        api=True,
    ),
    Row(
        "api:contracts_get",
        "GET",
        only(200, CONTRACT_READERS, other=404, anon=401),
        kwargs=api_contract,
        api=True,
    ),
    Row(
        "api:contracts_sign",
        "POST",
        only(422, (BUYER,), anon=401, **OTHER_PARTICIPANTS),
        kwargs=api_contract,
        data={"signature": "eA=="},
        api=True,
    ),
    Row(
        "api:contracts_refuse",
        "POST",
        only(422, (BUYER,), anon=401, **OTHER_PARTICIPANTS),
        kwargs=api_contract,
        data={"reason": ""},
        api=True,
    ),
    Row(
        "api:contracts_payment_confirm",
        "POST",
        only(409, ("operator_admission",), anon=401),
        kwargs=api_contract,
        api=True,
    ),
]

__all__ = ["PARTICIPANTS", "ROWS", "build"]
