"""End-to-end in a real Chromium: password, then EDS through NCALayer (R57.10).

`static/aips/ncalayer.js` talks to a fake NCALayer (`fake_ncalayer.py`: a WebSocket server that
speaks the kz.gov.pki.knca.basics protocol and signs with the NCA RK test key); the server
verifies the CMS against NCA's test PKI at its pinned moment. Also: the person cancelling in
NCALayer, and NCALayer not running at all, each with a message in the page's language."""

import base64
import re
import socket
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aips.demo import USERS
from aips.shared.accounts import identity
from aips.shared.accounts.models import IdentityProof, User, UserSession
from aips.shared.eds.testing import nca_test_trust
from aips.shared.eds.tests import fake_ncalayer
from aips.tests import conftest as browser_fixtures

pytestmark = pytest.mark.browser

# The browser fixtures live next to the other browser tests; pytest applies that conftest only
# to src/aips/tests, so this module takes them over (the names are what tests ask for).
_allow_async_unsafe = browser_fixtures._allow_async_unsafe
browser = browser_fixtures.browser
page = browser_fixtures.page
steps = browser_fixtures.steps
ncalayer = fake_ncalayer.ncalayer

EMAILS = {u.key: u.email for u in USERS}
PASSWORDS = {u.key: u.password for u in USERS}


@pytest.fixture
def eds_person(personas: dict[str, User], monkeypatch: pytest.MonkeyPatch) -> User:
    """Bank A's maker, bound to the IIN of NCA's test authentication key; signatures judged at
    the moment that key was valid (fake_ncalayer.NCA_AUTH_TIME)."""
    maker = personas["bank_a_maker"]
    User.objects.filter(pk=maker.pk).update(
        iin=fake_ncalayer.NCA_AUTH_IIN, iin_bound_by=IdentityProof.EDS
    )
    clock = identity.EdsClock(trust=nca_test_trust(), at=fake_ncalayer.NCA_AUTH_TIME)
    monkeypatch.setattr(identity, "eds_clock", lambda: clock)
    return maker


def _password_step(page: Page, person: User) -> None:
    page.goto("/login/")
    page.locator("input[name=email]").fill(person.email)
    page.locator("input[name=password]").fill(PASSWORDS["bank_a_maker"])
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(r"/login/verify/$"))


def test_r57_10_browser_signs_in_with_password_and_eds_through_ncalayer(
    eds_person: User, page: Page, steps: Any, ncalayer: fake_ncalayer.FakeNcaLayer
) -> None:
    ncalayer.signing_time = fake_ncalayer.NCA_AUTH_TIME
    with steps("password"):
        _password_step(page, eds_person)
    challenge = page.locator("[data-ncalayer]").first.get_attribute("data-ncalayer-data")
    with steps("EDS through NCALayer"):
        page.get_by_role("button", name="Sign in with EDS").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert UserSession.objects.get(user=eds_person).second_factor == "eds"
    [request] = ncalayer.requests
    assert request["module"] == "kz.gov.pki.knca.basics"
    assert request["method"] == "sign"
    args = request["args"]
    assert args["format"] == "cms"
    assert args["data"] == challenge
    assert base64.b64decode(args["data"]).startswith(b"AIPS login\n")
    assert args["signingParams"] == {"decode": True, "encapsulate": True, "digested": False}
    assert args["signerParams"] == {"extKeyUsageOids": ["1.3.6.1.5.5.7.3.2"], "chain": []}
    assert args["allowedStorages"] is None
    assert args["locale"] == "ru"  # NCALayer speaks kk and ru; an English page gets Russian


def test_r57_10_browser_cancel_in_ncalayer_keeps_the_person_on_the_second_step(
    eds_person: User, page: Page, steps: Any, ncalayer: fake_ncalayer.FakeNcaLayer
) -> None:
    ncalayer.mode = "cancel"
    with steps("password"):
        _password_step(page, eds_person)
    with steps("cancel in NCALayer"):
        page.get_by_role("button", name="Sign in with EDS").click()
        expect(page.locator("[data-ncalayer-status]")).to_have_text(
            "Signing was cancelled in NCALayer."
        )
        expect(page.get_by_role("button", name="Sign in with EDS")).to_be_enabled()
    assert page.url.endswith("/login/verify/")
    assert not UserSession.objects.filter(user=eds_person).exists()
    with steps("then signs after all"):
        ncalayer.mode = "sign"
        ncalayer.signing_time = fake_ncalayer.NCA_AUTH_TIME
        page.get_by_role("button", name="Sign in with EDS").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_r57_10_browser_ncalayer_absent_says_so_in_the_pages_language(
    eds_person: User, page: Page, steps: Any, settings: Any, live_server: Any
) -> None:
    fake_ncalayer.point_settings_at(settings, f"ws://127.0.0.1:{_closed_port()}")
    page.context.add_cookies([{"name": "aips_language", "value": "ru", "url": live_server.url}])
    with steps("password"):
        _password_step(page, eds_person)
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    with steps("NCALayer is not running"):
        page.locator("[data-ncalayer-sign]").first.click()
        expect(page.locator("[data-ncalayer-status]")).to_contain_text(
            "NCALayer не запущен на этом компьютере."
        )
    assert not UserSession.objects.filter(user=eds_person).exists()
