"""The results' pages and API over HTTP: the auctioneer signs the protocol on the results page
(NCALayer's form) or through the API, the buyer signs and refuses on the contract page, and the
pages render in the three languages."""

import base64
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from aips.etp.applications.models import Procedure
from aips.etp.auctions.models import Contract, ContractState, Protocol
from aips.etp.auctions.tests.conftest import Clock
from aips.etp.auctions.tests.test_results_contracting import (
    C1,
    P1,
    P2,
    closed,
    key_of,
    signed,
)
from aips.shared.accounts.models import User
from aips.shared.eds.testing import TestPki

pytestmark = pytest.mark.django_db


def test_r57_17_the_auctioneer_signs_the_protocol_on_the_results_page(
    personas: dict[str, User],
    three: Procedure,
    at: Clock,
    pki: TestPki,
    client_as: Callable[[str | None], Client],
) -> None:
    auction = closed(personas, three, at)
    auctioneer = personas["operator_auctioneer"]
    key = key_of(auctioneer, pki)
    client = client_as("operator_auctioneer")
    page = client.get(f"/auctions/{auction.pk}/results/")
    assert page.status_code == 200
    assert b'name="eds_signature"' in page.content
    document = bytes(auction.protocol.document)
    response = client.post(
        f"/auctions/{auction.pk}/protocol/sign/", {"eds_signature": signed(document, key)}
    )
    assert response.status_code == 302
    assert Protocol.objects.get(auction=auction).signed
    pdf = client_as(None).get(f"/auctions/{auction.pk}/protocol.pdf")
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]


def test_the_protocol_is_signed_over_the_api(
    personas: dict[str, User],
    three: Procedure,
    at: Clock,
    pki: TestPki,
    client_as: Callable[[str | None], Client],
) -> None:
    auction = closed(personas, three, at)
    key = key_of(personas["operator_auctioneer"], pki)
    client = client_as("operator_auctioneer")
    url = f"/api/v1/auctions/{auction.pk}/protocol/signature"
    bad = client.post(url, {"signature": "not base64!"}, content_type="application/json")
    assert 400 <= bad.status_code < 500
    response = client.post(
        url,
        {"signature": signed(bytes(auction.protocol.document), key)},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["protocol"]["auction"] == auction.reference
    assert base64.b64decode(body["signature"])


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_buyer_signs_on_the_contract_page(
    personas: dict[str, User],
    three: Procedure,
    at: Clock,
    pki: TestPki,
    client_as: Callable[[str | None], Client],
    language: str,
) -> None:
    auction = closed(personas, three, at)
    contract = Contract.objects.get(auction=auction, rank=1)
    client = client_as(P2)
    client.cookies["aips_language"] = language
    page = client.get(f"/contracts/{contract.pk}/")
    assert page.status_code == 200
    assert b'name="eds_signature"' in page.content
    assert client_as(P1).get(f"/contracts/{contract.pk}/").status_code == 404
    key = key_of(personas[P2], pki)
    client.post(
        f"/contracts/{contract.pk}/act/sign/",
        {"eds_signature": signed(bytes(contract.document), key)},
    )
    assert Contract.objects.get(pk=contract.pk).state == ContractState.AWAITING_PAYMENT
    seller = client_as("seller_a_maker")
    if auction.procedure.lot.organization_id == personas["seller_a_maker"].organization_id:
        assert seller.get(f"/contracts/{contract.pk}/file/signature/").status_code == 200


def test_the_buyer_refuses_on_the_contract_page(
    personas: dict[str, User],
    three: Procedure,
    at: Clock,
    client_as: Callable[[str | None], Client],
    settings: Any,
) -> None:
    auction = closed(personas, three, at)
    contract = Contract.objects.get(auction=auction, rank=1)
    client = client_as(P2)
    client.post(f"/contracts/{contract.pk}/act/refuse/", {"reason": ""})
    assert Contract.objects.get(pk=contract.pk).state == ContractState.AWAITING_SIGNATURE
    client.post(f"/contracts/{contract.pk}/act/refuse/", {"reason": "no money"})
    assert Contract.objects.get(pk=contract.pk).state == ContractState.REFUSED
    offered = Contract.objects.get(auction=auction, rank=2)
    assert client_as(C1).get(f"/contracts/{offered.pk}/").status_code == 200
