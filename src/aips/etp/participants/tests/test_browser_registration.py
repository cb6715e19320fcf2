"""Participant registration from the ETP's public site in a real Chromium (R57.9, R57.10): the
catalogue's registration link, the form, the EDS authentication key through NCALayer (the fake,
`aips/shared/eds/tests/fake_ncalayer.py`, signing with a key of our own test CA valid now), then
the first sign-in: password, and EDS as the second step; the workspace asks to confirm the e-mail
address, and the link in the e-mail confirms it."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aips.shared.accounts import identity
from aips.shared.accounts.models import User, UserSession
from aips.shared.eds.testing import TestPki
from aips.shared.eds.tests import fake_ncalayer
from aips.shared.eds.types import Purpose, Role
from aips.shared.notifications.models import OutboxMessage
from aips.shared.organizations.models import OrganizationKind

pytestmark = pytest.mark.browser

ncalayer = fake_ncalayer.ncalayer  # the fixture, under the name tests ask for

IIN = "900101300126"
EMAIL = "browser.bidder@example.kz"
PASSWORD = "Browser-Bidder-2026"


@pytest.fixture
def pki(monkeypatch: pytest.MonkeyPatch) -> TestPki:
    test_pki = TestPki()
    clock = identity.EdsClock(trust=test_pki.trust())
    monkeypatch.setattr(identity, "eds_clock", lambda: clock)
    return test_pki


def test_r57_9_r57_10_browser_registers_a_participant_with_eds_then_signs_in(
    page: Page, steps: Any, pki: TestPki, ncalayer: fake_ncalayer.FakeNcaLayer
) -> None:
    ncalayer.key = pki.issue(iin=IIN, roles=(Role.INDIVIDUAL,), purpose=Purpose.AUTHENTICATION)
    with steps("the registration page"):
        page.goto("/")
        page.locator("#register-link").click()
        expect(page).to_have_url(re.compile(r"/register/$"))
        expect(page.get_by_role("heading", name="Register as a participant")).to_be_visible()
    with steps("the form, then the EDS through NCALayer"):
        page.locator("input[name=email]").fill(EMAIL)
        page.locator("input[name=phone]").fill("+7 701 555 11 22")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password_confirm]").fill(PASSWORD)
        page.get_by_role("button", name="Sign with EDS and register").click()
        expect(page).to_have_url(re.compile(r"/login/$"))
        expect(page.get_by_text("You are registered.")).to_be_visible()
    user = User.objects.get(email=EMAIL)
    assert user.iin == IIN
    assert user.organization.kind == OrganizationKind.PARTICIPANT_INDIVIDUAL
    with steps("the first sign-in: password, then EDS"):
        page.locator("input[name=email]").fill(EMAIL)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        expect(page).to_have_url(re.compile(r"/login/verify/$"))
        page.get_by_role("button", name="Sign in with EDS").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert UserSession.objects.get(user=user).second_factor == "eds"
    with steps("the workspace asks to confirm the e-mail; the link confirms it"):
        expect(page.locator("#email-confirm-banner")).to_be_visible()
        mail = OutboxMessage.objects.filter(to=EMAIL, body__contains="/register/confirm/").first()
        assert mail is not None
        link = re.search(r"https?://[^/\s]+(/register/confirm/[\w-]+/)", mail.body)
        assert link is not None, mail.body
        page.goto(link.group(1))
        page.get_by_role("button", name="Confirm my e-mail address").click()
        expect(page.locator("#email-confirm-done")).to_be_visible()
        page.goto("/workspace/")
        expect(page.locator("#email-confirm-banner")).to_have_count(0)
