"""The ETP end to end in a real Chromium, every step clicked through the pages by the person whose
duty it is, each in a browser of their own: the seller's lot preparer creates a real-estate lot and
sends it for approval, the seller's authorised signatory approves it, the operator's verifier
publishes it, it shows in the public catalogue, the operator's auctioneer announces the auction, a
new participant registers from the public site with EDS (R57.9; the fake NCALayer,
`aips/shared/eds/tests/fake_ncalayer.py`, signing with a key of our own test CA), confirms the
e-mail address when a confirmation link is sent, signs in with the password and EDS (R57.10),
applies signing the application with EDS, the operator's admission officer confirms the deposit and
admits, and the participant reads "Admitted" in the application's timeline. The operator's and the
seller's people sign in with the password and the authenticator's code (R57.8)."""

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from aips.demo_etp import USERS
from aips.etp.applications.models import Application, ApplicationState
from aips.etp.lots.models import Lot, LotState
from aips.shared.accounts import identity
from aips.shared.accounts.models import User, UserSession
from aips.shared.eds.testing import TestPki
from aips.shared.eds.tests import fake_ncalayer
from aips.shared.eds.types import Purpose, Role
from aips.tests.conftest import Steps, sign_in
from aips.tests.conftest import new_page as new_page  # the fixture, for this module

pytestmark = pytest.mark.browser

ncalayer = fake_ncalayer.ncalayer  # the fixture, under the name tests ask for

IIN = "850505300120"  # no demo person's, and no party of the lot
EMAIL = "e2e.bidder@example.kz"
PASSWORD = "E2e-Bidder-2026"
TITLE = "Two-room flat, Almaty, Abay ave. 150"
PASSWORDS = {u.key: u.password for u in USERS}
CONFIRM_LINK = re.compile(r"/register/confirm/[^/\s]+/")


@pytest.fixture
def pki(settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> TestPki:
    """A test CA the platform trusts: for signing in (identity's clock) and for the signed
    application (the configured trust directory)."""
    test_pki = TestPki()
    settings.AIPS_EDS_TRUST_DIR = str(test_pki.write_trust_dir(tmp_path / "eds-trust"))
    clock = identity.EdsClock(trust=test_pki.trust())
    monkeypatch.setattr(identity, "eds_clock", lambda: clock)
    return test_pki


def _confirmation_link(email: str) -> str | None:
    """The path of the confirmation link e-mailed to `email`, if one was sent: the worker's
    drain of the outbox runs here (the live server is in this process), then Django's test
    mailbox is read."""
    try:
        from aips.shared.notifications.services import drain_outbox
    except ImportError:  # pragma: no cover - mail sent without the outbox
        pass
    else:
        drain_outbox()
    for message in mail.outbox:
        if email in message.to:
            found = CONFIRM_LINK.search(str(message.body))
            if found:
                return found.group(0)
    return None


def test_r57_8_r57_9_r57_10_seller_to_admitted_participant_end_to_end(
    page: Page,
    steps: Steps,
    new_page: Callable[[], Page],
    personas: dict[str, User],
    pki: TestPki,
    ncalayer: fake_ncalayer.FakeNcaLayer,
    request: pytest.FixtureRequest,
) -> None:
    artifacts = request.config.rootpath / "test-artifacts"

    def person(key: str) -> tuple[Page, Steps]:
        """`key`'s own browser, signed in with the password and the authenticator's code."""
        their_page = new_page()
        their_steps = Steps(their_page, artifacts, f"{request.node.name}-{key}")
        sign_in(their_page, their_steps, personas[key], PASSWORDS[key])
        return their_page, their_steps

    # --- the seller: the preparer creates the lot and asks for approval ----------------------
    maker, maker_steps = person("seller_a_maker")
    with maker_steps("the preparer fills in a new real-estate lot"):
        maker.locator("nav.mainnav").get_by_role("link", name="Lots", exact=True).click()
        maker.get_by_role("link", name="New lot").click()
        maker.get_by_label("Asset type").select_option("real_estate")
        maker.get_by_label("Title").fill(TITLE)
        maker.get_by_label("Region").fill("Almaty")
        maker.get_by_label("Start price").fill("45000000")
        maker.get_by_label("Currency").select_option("KZT")
        maker.get_by_label("Address").fill("Almaty, Abay ave. 150, apt. 12")
        maker.get_by_label("Area, m²").fill("64.5")
        maker.get_by_label("Cadastral number").fill("20-311-017-123")
        maker.get_by_role("button", name="Save").click()
        expect(maker.get_by_text("The lot is saved as a draft.")).to_be_visible()
    lot = Lot.objects.get(title=TITLE)
    with maker_steps("the preparer sends it for approval"):
        maker.get_by_role("button", name="Send to the authorised person for approval").click()
        expect(maker.get_by_text("Done.")).to_be_visible()
    lot.refresh_from_db()
    assert lot.state == LotState.AWAITING_APPROVAL

    # --- the seller's authorised signatory approves ------------------------------------------
    signatory, signatory_steps = person("seller_a_signatory")
    with signatory_steps("the signatory approves the lot"):
        signatory.locator("nav.mainnav").get_by_role("link", name="Lots", exact=True).click()
        signatory.get_by_role("link", name=lot.reference, exact=True).click()
        signatory.get_by_role("button", name="Approve and send to the operator").click()
        expect(signatory.get_by_text("Done.")).to_be_visible()
    lot.refresh_from_db()
    assert lot.state == LotState.AWAITING_VERIFICATION

    # --- the operator's verifier publishes -----------------------------------------------------
    verifier, verifier_steps = person("operator_verifier")
    with verifier_steps("the verifier accepts and publishes the lot from the queue"):
        verifier.locator("nav.mainnav").get_by_role("link", name="Verification queue").click()
        verifier.get_by_role("link", name=lot.reference, exact=True).click()
        verifier.get_by_role("button", name="Accept and publish").click()
        expect(verifier.get_by_text("Done.")).to_be_visible()
    lot.refresh_from_db()
    assert lot.state == LotState.PUBLISHED

    # --- the public catalogue, without signing in ----------------------------------------------
    with steps("the lot is in the public catalogue"):
        page.goto("/")
        page.locator("#lots").get_by_role("link", name=re.compile(re.escape(TITLE))).click()
        expect(page.get_by_role("heading", name=f"{lot.reference}: {TITLE}")).to_be_visible()

    # --- the operator's auctioneer announces the auction ---------------------------------------
    auctioneer, auctioneer_steps = person("operator_auctioneer")
    deadline = timezone.localtime() + timedelta(days=10)
    with auctioneer_steps("the auctioneer announces the auction"):
        auctioneer.locator("nav.mainnav").get_by_role("link", name="Lots", exact=True).click()
        auctioneer.get_by_role("link", name=lot.reference, exact=True).click()
        auctioneer.get_by_role("link", name="Announce the auction").click()
        auctioneer.get_by_label("Applications until").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
        auctioneer.get_by_label("Auction starts").fill(
            (deadline + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        )
        auctioneer.get_by_role("button", name="Announce").click()
        expect(auctioneer.get_by_text("The procedure is announced.")).to_be_visible()
        expect(auctioneer.locator("#procedure")).to_be_visible()

    # --- a new participant registers from the public site with EDS (R57.9) ----------------------
    ncalayer.key = pki.issue(iin=IIN, roles=(Role.INDIVIDUAL,), purpose=Purpose.AUTHENTICATION)
    with steps("the participant registers with EDS"):
        page.goto("/")
        page.locator("#register-link").click()
        page.locator("input[name=email]").fill(EMAIL)
        page.locator("input[name=phone]").fill("+7 701 555 33 44")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password_confirm]").fill(PASSWORD)
        page.get_by_role("button", name="Sign with EDS and register").click()
        expect(page).to_have_url(re.compile(r"/login/$"))
        expect(page.get_by_text("You are registered.")).to_be_visible()
    participant = User.objects.get(email=EMAIL)
    assert participant.iin == IIN
    link = _confirmation_link(EMAIL)
    if link is not None:  # the address is confirmed with the e-mailed link
        with steps("the participant opens the link in the e-mail"):
            page.goto(link)
            page.get_by_role("button", name="Confirm my e-mail address").click()
            expect(page.locator("#email-confirm-done")).to_be_visible()
    with steps("the participant signs in: password, then EDS (R57.10)"):
        page.goto("/login/")
        page.locator("input[name=email]").fill(EMAIL)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        expect(page).to_have_url(re.compile(r"/login/verify/$"))
        page.get_by_role("button", name="Sign in with EDS").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert UserSession.objects.get(user=participant).second_factor == "eds"

    # --- the participant applies, signing the application with EDS -----------------------------
    ncalayer.key = pki.issue(iin=IIN, roles=(Role.INDIVIDUAL,), purpose=Purpose.SIGNING)
    with steps("the participant applies from the lot's public page"):
        page.locator("nav.mainnav").get_by_role("link", name="Lot catalogue").click()
        page.locator("#lots").get_by_role("link", name=re.compile(re.escape(TITLE))).click()
        page.get_by_role("link", name="Apply for the auction").click()
        page.get_by_role("button", name="Sign with EDS and apply").click()
        expect(page.get_by_text("Your application is submitted.")).to_be_visible()
    application = Application.objects.get(procedure__lot=lot, submitted_by=participant)
    assert application.signature.signer_iin == IIN

    # --- the operator's admission officer: the deposit, then admission --------------------------
    officer, officer_steps = person("operator_admission")
    with officer_steps("the admission officer confirms the deposit and admits"):
        officer.locator("nav.mainnav").get_by_role("link", name="Applications").click()
        officer.get_by_role("link", name=application.reference, exact=True).click()
        officer.get_by_role("button", name="The deposit is received").click()
        expect(officer.locator("#timeline")).to_contain_text("Deposit received")
        officer.get_by_role("button", name="Admit to the auction").click()
        expect(officer.locator("#timeline")).to_contain_text("Admitted")
    application.refresh_from_db()
    assert application.state == ApplicationState.ADMITTED

    # --- the participant reads the outcome ------------------------------------------------------
    with steps("the participant sees the admission in the timeline"):
        page.locator("nav.mainnav").get_by_role("link", name="Applications").click()
        page.get_by_role("link", name=application.reference, exact=True).click()
        timeline = page.locator("#timeline")
        expect(timeline).to_contain_text("Application submitted")
        expect(timeline).to_contain_text("Deposit received")
        expect(timeline).to_contain_text("Admitted")
