"""End-to-end in a real Chromium: EDS-signed approvals through NCALayer (issue 16, item 4).

The page hands NCALayer the canonical form of what is approved (`static/aips/ncalayer.js`, with
`eds-approval.js` adding a typed reason); a fake NCALayer (`eds/tests/fake_ncalayer.py`: a
WebSocket server speaking its protocol) signs with the head's test key; the server verifies the
detached CMS against the test CA it trusts, stores it with the version and shows it.

R67.12: bank A's head approves an incident card with a signature. R67.13: bank A's head declines
an alert with a reason in Cyrillic across two lines, which the script puts into the signed bytes
exactly as the server does."""

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from aips.center.alerts import selectors as alert_selectors
from aips.center.alerts.models import RecipientStatus
from aips.center.incidents import services
from aips.center.incidents.models import CardState, IncidentCard
from aips.conftest import card_data, published_alert
from aips.demo import USERS
from aips.shared.accounts.models import User
from aips.shared.eds.tests import fake_ncalayer
from aips.shared.workflow.models import SignedAct
from aips.shared.workflow.tests.eds_helpers import Eds, eds_world
from aips.tests import conftest as browser_fixtures

pytestmark = pytest.mark.browser

# The browser fixtures live next to the other browser tests; pytest applies that conftest only
# to src/aips/tests, so this module takes them over (the names are what tests ask for).
_allow_async_unsafe = browser_fixtures._allow_async_unsafe
browser = browser_fixtures.browser
page = browser_fixtures.page
steps = browser_fixtures.steps
ncalayer = fake_ncalayer.ncalayer
_sign_in = browser_fixtures.sign_in

PASSWORDS = {u.key: u.password for u in USERS}


@pytest.fixture
def eds(personas: dict[str, User], settings: Any, tmp_path: Path) -> Eds:
    """Bank A's head bound to an IIN, with a signing key of a test CA the server trusts."""
    return eds_world(settings, tmp_path, personas["bank_a_head"])


def _card_awaiting(personas: dict[str, User]) -> IncidentCard:
    maker = personas["bank_a_maker"]
    card = services.card_create(actor=maker, **card_data(title="Phished operator console"))
    services.attachment_add(
        actor=maker,
        card=card,
        upload=SimpleUploadedFile("ids-alert.txt", b"alert tcp any any", "text/plain"),
    )
    return services.card_transition(actor=maker, card=card, name="request_approval")


def test_r67_12_head_approves_a_card_with_eds_through_ncalayer(
    personas: dict[str, User],
    eds: Eds,
    page: Page,
    steps: Any,
    ncalayer: fake_ncalayer.FakeNcaLayer,
) -> None:
    head = personas["bank_a_head"]
    ncalayer.key = eds.key
    card = _card_awaiting(personas)
    expected = services.card_document(actor=head, card=card, name="approve")
    assert expected is not None
    steps.page = page
    _sign_in(page, steps, head, PASSWORDS["bank_a_head"])
    with steps("the head opens the card awaiting approval"):
        page.goto(f"/incidents/{card.pk}/")
        expect(page.locator("#card-state")).to_have_text("Awaiting the head's approval")
    with steps("R67.12 the head signs the approval in NCALayer"):
        page.get_by_role("button", name="Sign with EDS: Approve and submit to the center").click()
        expect(page.locator("#card-state")).to_have_text("Submitted to the center")
    with steps("the card shows who signed, with the bundle"):
        signatures = page.locator("#signatures")
        expect(signatures).to_contain_text(f"IIN {eds.iin}")
        expect(signatures).to_contain_text("certificate valid, not revoked at signing time")
        expect(signatures.get_by_role("link", name="Download the signature bundle")).to_be_visible()
    [request] = ncalayer.requests
    args = request["args"]
    assert base64.b64decode(args["data"]) == expected.to_bytes()
    assert args["signingParams"]["encapsulate"] is False  # detached: the document stays ours
    assert args["signerParams"]["extKeyUsageOids"] == ["1.3.6.1.5.5.7.3.4"]  # a signing key
    card.refresh_from_db()
    assert card.state == CardState.SUBMITTED
    act = SignedAct.objects.get(object_id=card.pk, act="approve")
    assert bytes(act.document) == expected.to_bytes()
    assert act.version is not None
    assert act.version.number == 1


def test_r67_13_head_declines_an_alert_with_a_signed_reason_typed_in_the_page(
    personas: dict[str, User],
    eds: Eds,
    page: Page,
    steps: Any,
    ncalayer: fake_ncalayer.FakeNcaLayer,
) -> None:
    head = personas["bank_a_head"]
    ncalayer.key = eds.key
    alert = published_alert(personas, title="Macro dropper campaign")
    reason = 'Неприменимо: «макросы» запрещены политикой.\nСм. п. 4.2 "Правил ИБ".'
    steps.page = page
    _sign_in(page, steps, head, PASSWORDS["bank_a_head"])
    with steps("the head types the reason for declining"):
        page.goto(f"/alerts/{alert.pk}/")
        page.get_by_label("Reason for declining").fill(reason)
    with steps("signing without the confirmation box asks for it first"):
        button = page.get_by_role("button", name="Sign with EDS: Decline the recommendations")
        button.click()
        # ncalayer.js would have shown "Waiting for NCALayer" at once, in the click itself.
        status = page.locator("form:has([data-eds-sign=decline]) [data-ncalayer-status]")
        expect(status).to_be_hidden()
        assert ncalayer.requests == []
    with steps("R67.13 the head confirms and signs the refusal in NCALayer"):
        page.locator("form:has([data-eds-sign=decline]) input[name=confirm]").check()
        button.click()
        expect(page.locator("#recipient-status")).to_have_text("Recommendations declined")
    [request] = ncalayer.requests
    signed = json.loads(base64.b64decode(request["args"]["data"]))
    assert signed["decision"] == {"name": "decline", "reason": reason}
    recipient = alert_selectors.recipient_for(head, alert)
    assert recipient is not None
    assert recipient.status == RecipientStatus.DECLINED
    act = SignedAct.objects.get(act="decline")
    assert re.sub(r"\s+", " ", recipient.reason) == re.sub(r"\s+", " ", reason)
    assert json.loads(bytes(act.document))["decision"]["reason"] == reason
