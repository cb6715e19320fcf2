"""The auctions' fixtures: the server's clock set by the test, and a procedure on the demo's
published claim lot with participant 1 and company 1 admitted and participant 2 applied but not
admitted. The applications are stored directly (applications/tests prove the signing)."""

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aips.etp.applications.models import Application, Deposit, Procedure
from aips.etp.auctions import clock
from aips.etp.lots.models import Lot, LotKind, LotState
from aips.shared.accounts.models import User
from aips.shared.eds.models import Signature
from aips.shared.eds.testing import TestPki

NOW = datetime.fromisoformat("2026-12-01T10:00:00+05:00")
START = NOW + timedelta(days=12)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def at(self, moment: datetime) -> None:
        self.now = moment

    def move(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The server's clock, set by the test."""
    moment = Clock()
    monkeypatch.setattr(clock, "now", lambda: moment.now)
    return moment


@pytest.fixture(autouse=True)
def _no_bid_budget(settings: Any) -> None:
    """The rate limit has its own test; elsewhere bids follow each other at once."""
    settings.AIPS_ETP_BID_RATE = "1000/s"


def make_procedure(personas: dict[str, User], *, admitted: tuple[str, ...]) -> Procedure:
    lot = Lot.objects.get(state=LotState.PUBLISHED, kind=LotKind.CLAIM)
    procedure: Procedure = Procedure.objects.create(
        lot=lot,
        application_deadline=NOW + timedelta(days=10),
        auction_start=START,
        deposit_percent=10,
        deposit_amount=(lot.start_price / 10).quantize(Decimal("0.01")),
        announced_by=personas["operator_auctioneer"],
        announced_at=NOW,
    )
    for name in ("participant_person_1", "participant_company_1_rep", "participant_person_2"):
        person = personas[name]
        signature = Signature.objects.create(
            purpose="signing",
            cms=b"test",
            content_sha256="0" * 64,
            signer_iin=person.organization.bin,
            signer_common_name="test",
            certificate_fingerprint="0" * 64,
            certificate_serial="01",
            certificate_issuer="test",
            checked_at=NOW,
            algorithm="test",
            chain=b"",
        )
        application = Application.objects.create(
            procedure=procedure,
            organization=person.organization,
            submitted_by=person,
            submitted_at=NOW,
            document=b"{}",
            signature=signature,
            state="admitted" if name in admitted else "submitted",
        )
        Deposit.objects.create(
            application=application,
            amount=procedure.deposit_amount,
            state="held" if name in admitted else "expected",
        )
    return procedure


@pytest.fixture
def three(personas: dict[str, User]) -> Procedure:
    """Participant 1, company 1 and participant 2, all three admitted."""
    return make_procedure(
        personas,
        admitted=("participant_person_1", "participant_company_1_rep", "participant_person_2"),
    )


@pytest.fixture
def pki(settings: Any, tmp_path: Path) -> TestPki:
    """A test PKI whose CA the EDS check trusts, for signing protocols and contracts."""
    pki = TestPki()
    settings.AIPS_EDS_TRUST_DIR = str(pki.write_trust_dir(tmp_path / "eds-trust"))
    return pki


@pytest.fixture
def procedure(personas: dict[str, User]) -> Procedure:
    return make_procedure(personas, admitted=("participant_person_1", "participant_company_1_rep"))
