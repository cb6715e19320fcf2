"""The public side after a whole auction: every public page and public API answer of a lot that
went through a procedure, an auction with bids, the close, the results and the EDS-signed
protocol, scanned for the debtors' and guarantors' IINs and names and for the participants'
identities (R57.5). The catalogue's own scan is in lots/tests/test_lots.py."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from aips.demo_etp import DEMO_DEBTORS, DEMO_GUARANTORS
from aips.etp.applications.models import Procedure
from aips.etp.auctions.tests.conftest import Clock, make_procedure
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


def test_r57_5_public_pages_of_an_auctioned_lot_hold_no_debtor_or_participant_data(
    personas: dict[str, User],
    at: Clock,
    pki: TestPki,
    client_as: Callable[[str | None], Client],
    settings: Any,
) -> None:
    settings.AIPS_ETP_FEED_SETTLE_SECONDS = 0
    procedure: Procedure = make_procedure(personas, admitted=(P1, C1, P2))
    auction = closed(personas, procedure, at)
    auctioneer = client_as("operator_auctioneer")
    document = bytes(auction.protocol.document)
    signature = signed(document, key_of(personas["operator_auctioneer"], pki))
    assert (
        auctioneer.post(
            f"/auctions/{auction.pk}/protocol/sign/", {"eds_signature": signature}
        ).status_code
        == 302
    )
    lot = procedure.lot
    people = [personas[name] for name in (P1, C1, P2)]
    names = [*DEMO_DEBTORS.values(), *(n for n in DEMO_GUARANTORS.values() if n)]
    secrets = [*DEMO_DEBTORS, *DEMO_GUARANTORS, *names, "CL-2021/0457", "KK-2022/118"]
    for person in people:
        secrets += [person.email, person.full_name, person.organization.name]
        secrets += [person.organization.bin] + ([person.iin] if person.iin else [])
    anon = client_as(None)
    paths = [
        "/",
        f"/lots/{lot.pk}/",
        f"/auctions/{auction.pk}/",
        "/complaints/",
        "/api/v1/public/lots",
        f"/api/v1/public/lots/{lot.pk}",
        f"/api/v1/public/lots/{lot.pk}/questions",
        "/api/v1/public/complaints",
        "/api/v1/public/feed",
        f"/api/v1/auctions/{auction.pk}",
        f"/api/v1/public/auctions/{auction.pk}/protocol",
    ]
    for path in paths:
        answer = anon.get(path)
        assert answer.status_code == 200, path
        text = answer.content.decode()
        for secret in secrets:
            assert secret not in text, (path, secret)
    # The protocol names the auction and the winning price, the participants only by number.
    protocol = anon.get(f"/api/v1/public/auctions/{auction.pk}/protocol").json()
    assert auction.reference in str(protocol)
    # The PDF's text, too.
    import io

    from pypdf import PdfReader

    pdf = anon.get(f"/auctions/{auction.pk}/protocol.pdf")
    assert pdf.status_code == 200
    body = b"".join(pdf.streaming_content)  # type: ignore[attr-defined]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    assert auction.reference in text
    for secret in secrets:
        assert secret not in text, ("protocol.pdf", secret)
