"""The results' API: the signed protocol, public (`GET /public/auctions/{id}/protocol`: the JSON,
its EDS signature in base64 and the download links); the auctioneer's signature of the protocol;
a contract for its buyer, the lot's seller and the operator, and the buyer's signature or
refusal and the admission officer's confirmation of the payment."""

import base64
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema

from aips.core.access import public
from aips.core.errors import NotFound
from aips.core.numbers import Id
from aips.core.permissions import Perm
from aips.core.ratelimit import hit
from aips.core.request_context import client_ip
from aips.etp.auctions import contracts, protocol
from aips.etp.auctions.models import Contract, Protocol
from aips.etp.permissions import EtpPerm
from aips.shared.accounts.api_auth import api_auth
from aips.shared.accounts.sessions import acting_person

router = Router(tags=["auction results"])


class ProtocolLinks(Schema):
    json_url: str
    pdf: str
    cms: str


class ProtocolOut(Schema):
    auction_id: int
    sha256: str
    signed_at: datetime
    protocol: dict[str, Any]
    signature: str  # the CMS, base64
    links: ProtocolLinks


class SignatureIn(Schema):
    signature: str


class RefusalIn(Schema):
    reason: str


class ContractOut(Schema):
    id: int
    reference: str
    auction_id: int
    rank: int
    price: Decimal
    state: str
    document: str  # the canonical JSON to sign, base64
    sign_deadline: datetime
    signed_at: datetime | None
    pay_deadline: datetime | None
    paid_at: datetime | None
    reason: str


def _protocol_out(signed: Protocol) -> dict[str, Any]:
    if signed.signature is None or signed.signed_at is None:
        raise NotFound()

    def link(kind: str) -> str:
        return reverse("etp_auction_results:public_protocol", args=[signed.auction_id, kind])

    return {
        "auction_id": signed.auction_id,
        "sha256": signed.sha256,
        "signed_at": signed.signed_at,
        "protocol": json.loads(bytes(signed.document)),
        "signature": base64.b64encode(bytes(signed.signature.cms)).decode(),
        "links": {"json_url": link("json"), "pdf": link("pdf"), "cms": link("cms")},
    }


def _contract_out(contract: Contract) -> dict[str, Any]:
    return {
        "id": contract.pk,
        "reference": contract.reference,
        "auction_id": contract.auction_id,
        "rank": contract.rank,
        "price": contract.price,
        "state": contract.state,
        "document": base64.b64encode(bytes(contract.document)).decode(),
        "sign_deadline": contract.sign_deadline,
        "signed_at": contract.signed_at,
        "pay_deadline": contract.pay_deadline,
        "paid_at": contract.paid_at,
        "reason": contract.reason,
    }


@router.get(
    "/public/auctions/{auction_id}/protocol",
    response=ProtocolOut,
    operation_id="auctions_protocol_public",
    auth=None,
    summary="An auction's signed protocol: the JSON, the EDS signature (CMS) and links",
)
@public
def auctions_protocol_public(request: HttpRequest, auction_id: Id) -> Any:
    hit(
        "etp-public-api",
        client_ip(request) or "-",
        str(getattr(settings, "AIPS_ETP_PUBLIC_RATE", "120/m")),
    )
    signed = protocol.public_protocol(auction_id)
    if signed is None:
        raise NotFound()
    return _protocol_out(signed)


@router.post(
    "/auctions/{auction_id}/protocol/signature",
    response=ProtocolOut,
    operation_id="auctions_protocol_sign",
    auth=api_auth(EtpPerm.AUCTION_RUN),
    summary="The auctioneer signs the protocol's JSON (detached CMS, base64)",
)
def auctions_protocol_sign(request: HttpRequest, auction_id: Id, payload: SignatureIn) -> Any:
    actor = acting_person(request)
    found = protocol.get_protocol_for(actor, auction_id)
    signed = protocol.protocol_sign(actor=actor, protocol=found, eds_signature=payload.signature)
    return _protocol_out(signed)


@router.get(
    "/contracts/{contract_id}",
    response=ContractOut,
    operation_id="contracts_get",
    auth=api_auth(Perm.DASHBOARD_VIEW),
    summary="A contract (its buyer, the lot's seller, the operator)",
)
def contracts_get(request: HttpRequest, contract_id: Id) -> Any:
    return _contract_out(contracts.get_contract_for(acting_person(request), contract_id))


@router.post(
    "/contracts/{contract_id}/signature",
    response=ContractOut,
    operation_id="contracts_sign",
    auth=api_auth(EtpPerm.AUCTION_BID),
    summary="The buyer signs the contract's document (detached CMS, base64)",
)
def contracts_sign(request: HttpRequest, contract_id: Id, payload: SignatureIn) -> Any:
    actor = acting_person(request)
    contract = contracts.get_contract_for(actor, contract_id)
    return _contract_out(
        contracts.contract_sign(actor=actor, contract=contract, eds_signature=payload.signature)
    )


@router.post(
    "/contracts/{contract_id}/refusal",
    response=ContractOut,
    operation_id="contracts_refuse",
    auth=api_auth(EtpPerm.AUCTION_BID),
    summary="The buyer refuses the contract (the deposit is retained)",
)
def contracts_refuse(request: HttpRequest, contract_id: Id, payload: RefusalIn) -> Any:
    actor = acting_person(request)
    contract = contracts.get_contract_for(actor, contract_id)
    return _contract_out(
        contracts.contract_refuse(actor=actor, contract=contract, reason=payload.reason)
    )


@router.post(
    "/contracts/{contract_id}/payment",
    response=ContractOut,
    operation_id="contracts_payment_confirm",
    auth=api_auth(EtpPerm.DEPOSIT_CONFIRM),
    summary="The admission officer confirms the payment: the lot is sold",
)
def contracts_payment_confirm(request: HttpRequest, contract_id: Id) -> Any:
    actor = acting_person(request)
    contract = contracts.get_contract_for(actor, contract_id)
    return _contract_out(contracts.contract_payment_confirm(actor=actor, contract=contract))
