"""End-to-end in a real Chromium: an incident card's whole round trip, each person in their own
browser (separate cookies) against the live server.

R67.12: the bank's responsible employee (maker) fills in the card and sends it to the IS-unit
head, who approves it and so submits it to the center. R67.15: the center returns it for rework
with a reason, which starts the 3-working-day clock; the maker fixes it, the head approves again,
and the center accepts it and sees both submitted versions and what changed between them."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django.utils.dateformat import format as date_format
from playwright.sync_api import Page, expect

from aips.center.incidents.models import CardState, IncidentCard
from aips.demo import USERS
from aips.shared.accounts.models import User
from aips.tests import conftest as browser_fixtures

pytestmark = pytest.mark.browser

# The browser fixtures live next to the other browser tests; pytest applies that conftest only
# to src/aips/tests, so this module takes them over (the names are what tests ask for).
_allow_async_unsafe = browser_fixtures._allow_async_unsafe
browser = browser_fixtures.browser
page = browser_fixtures.page
steps = browser_fixtures.steps
new_page = browser_fixtures.new_page
_sign_in = browser_fixtures.sign_in

PASSWORDS = {u.key: u.password for u in USERS}
KIND_LABEL = "Unauthorized access to an information system"
TITLE = "Unauthorized access to the internet-banking admin console"
FIRST_IMPACT = "Operator accounts of the admin console exposed"
SECOND_IMPACT = (
    "Operator accounts of the admin console exposed; 14 customer profiles viewed, no money moved"
)
RETURN_REASON = "Say which customer data was viewed and whether any money moved."


def _open_card(page: Page, reference: str) -> None:
    """Through the menu and the list, as a person would."""
    nav = page.get_by_role("navigation", name="Main menu")
    nav.get_by_role("link", name="Incident cards", exact=True).click()
    expect(page.get_by_role("heading", name="Incident cards", exact=True)).to_be_visible()
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(f"^{reference}:"))).to_be_visible()


def _press(page: Page, transition: str, label: str) -> None:
    button = page.locator(f'button[data-transition="{transition}"]')
    expect(button).to_have_text(label)
    button.click()
    page.wait_for_load_state()


def _field(page: Page, label: str) -> Any:
    """A form field by its whole label (Django adds a colon), not one that merely contains it."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def _state(page: Page) -> Any:
    return page.locator("#card-state")


def _prop(page: Page, label: str) -> Any:
    """The <dd> right after the <dt> with this label on the card page."""
    return page.locator(
        f"xpath=//dl[contains(@class,'props')]/dt[normalize-space()='{label}']"
        "/following-sibling::dd[1]"
    )


def _local_input(moment: Any) -> str:
    """The value a datetime-local input takes, in the server's (Almaty) time."""
    return str(timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M"))


def test_r67_12_r67_15_maker_head_center_return_fix_resubmit_accept(
    personas: dict[str, User],
    page: Page,
    new_page: Callable[[], Page],
    steps: Any,
) -> None:
    maker, head, analyst = (
        personas["bank_a_maker"],
        personas["bank_a_head"],
        personas["center_analyst"],
    )
    assert analyst.language == "kk"  # the cookie below is what keeps this page in English
    now = timezone.now()

    # 1. The maker prepares the card and sends it to the head.
    steps.page = page
    _sign_in(page, steps, maker, PASSWORDS["bank_a_maker"])
    with steps("maker opens a new incident card"):
        nav = page.get_by_role("navigation", name="Main menu")
        nav.get_by_role("link", name="Incident cards", exact=True).click()
        page.get_by_role("link", name="New incident card").click()
        expect(page.get_by_role("heading", name="New incident card")).to_be_visible()
    with steps("R67.12 maker fills in and saves the card"):
        page.get_by_label("Type of incident (R67.12)").select_option(label=KIND_LABEL)
        _field(page, "Title").fill(TITLE)
        page.get_by_label("Confidentiality (TLP)").select_option("GREEN")
        page.get_by_label("Detected at").fill(_local_input(now - timedelta(hours=1)))
        page.get_by_label("Started at").fill(_local_input(now - timedelta(hours=3)))
        page.get_by_label("Affected systems").fill("Internet-banking admin console")
        page.get_by_label("Attack vector").fill("Phished operator password, no second factor")
        page.get_by_label("Indicators of compromise").fill("203.0.113.7\nEvil-Login.example.com\n")
        _field(page, "Impact").fill(FIRST_IMPACT)
        page.get_by_label("Measures taken").fill("Operator accounts blocked, passwords rotated")
        with page.expect_response(
            lambda r: r.request.method == "POST" and "/new/" in r.url
        ) as posted:
            page.get_by_role("button", name="Save draft").click()
        assert posted.value.status == 302, "the form was refused"
        page.wait_for_load_state()
        card = IncidentCard.objects.get(organization=maker.organization, title=TITLE)
        reference = card.reference
        expect(page.get_by_role("heading", name=f"{reference}: {TITLE}")).to_be_visible()
        expect(_state(page)).to_have_text("Draft")
        expect(_prop(page, "Type")).to_have_text(KIND_LABEL)
        indicators = _prop(page, "Indicators of compromise")
        expect(indicators).to_contain_text("203.0.113.7")
        expect(indicators).to_contain_text("evil-login.example.com")  # normalized
        expect(_prop(page, "Impact")).to_have_text(FIRST_IMPACT)
    with steps("maker sends the card to the head"):
        _press(page, "request_approval", "Send to the head for approval")
        expect(_state(page)).to_have_text("Awaiting the head's approval")
        expect(page.locator('button[data-transition="approve"]')).to_have_count(0)

    # 2. The head approves: the card goes to the center.
    head_page = new_page()
    steps.page = head_page
    _sign_in(head_page, steps, head, PASSWORDS["bank_a_head"])
    with steps("R67.12 head approves and submits to the center"):
        _open_card(head_page, reference)
        expect(_state(head_page)).to_have_text("Awaiting the head's approval")
        _press(head_page, "approve", "Approve and submit to the center")
        expect(_state(head_page)).to_have_text("Submitted to the center")
        expect(head_page.locator("#time-to-submit")).not_to_have_text("—")

    # 3. The center returns it for rework with a reason: a 3-working-day deadline.
    analyst_page = new_page()
    steps.page = analyst_page
    _sign_in(analyst_page, steps, analyst, PASSWORDS["center_analyst"])
    with steps("R67.15 analyst returns the card for rework"):
        _open_card(analyst_page, reference)
        expect(_state(analyst_page)).to_have_text("Submitted to the center")
        analyst_page.get_by_label("Reason").fill(RETURN_REASON)
        _press(analyst_page, "return", "Return for rework (3 working days)")
        expect(_state(analyst_page)).to_have_text("Returned for rework")
        card.refresh_from_db()
        assert card.state == CardState.RETURNED
        assert card.deadline_at is not None
        deadline = analyst_page.locator(".deadline")
        expect(deadline).to_be_visible()
        # One format on every page, the zone named after it: "09.12.2026 23:59 (Almaty)".
        expect(deadline.locator("time")).to_contain_text(
            date_format(timezone.localtime(card.deadline_at), "d.m.Y H:i")
        )
        expect(deadline.locator(".remaining")).to_contain_text("left")
        expect(analyst_page.locator(".timeline")).to_contain_text(RETURN_REASON)

    # 4. The maker fixes the card and sends it again; the head approves again.
    steps.page = page
    with steps("R67.15 maker sees the reason and the deadline, and edits the card"):
        page.reload()
        expect(_state(page)).to_have_text("Returned for rework")
        expect(page.locator(".deadline")).to_be_visible()
        expect(page.locator(".timeline")).to_contain_text(RETURN_REASON)
        # Issue 15 item 5: the reason sits at the top, above the card's properties.
        reason = page.locator("#returned-reason")
        expect(reason).to_contain_text(RETURN_REASON)
        expect(reason).to_contain_text(analyst.full_name)
        reason_box, props_box = reason.bounding_box(), page.locator("dl.props").bounding_box()
        assert reason_box is not None
        assert props_box is not None
        assert reason_box["y"] + reason_box["height"] <= props_box["y"]
        step = page.locator('#timeline li[data-transition="return"]')
        expect(step).to_contain_text("Submitted to the center → Returned for rework")
        expect(step).to_contain_text(analyst.full_name)
        page.get_by_role("link", name="Edit", exact=True).click()
        expect(page.get_by_role("heading", name=f"Edit {reference}")).to_be_visible()
        expect(_field(page, "Impact")).to_have_value(FIRST_IMPACT)
        _field(page, "Impact").fill(SECOND_IMPACT)
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_role("heading", name=f"{reference}: {TITLE}")).to_be_visible()
        expect(page.locator(".messages")).to_contain_text("Changes saved.")
        expect(_prop(page, "Impact")).to_have_text(SECOND_IMPACT)
    with steps("maker sends the fixed card to the head again"):
        _press(page, "request_approval", "Send to the head for approval")
        expect(_state(page)).to_have_text("Awaiting the head's approval")
        expect(page.locator(".deadline")).to_be_visible()  # the rework clock keeps running

    steps.page = head_page
    with steps("head approves the fixed card"):
        head_page.reload()
        expect(_state(head_page)).to_have_text("Awaiting the head's approval")
        _press(head_page, "approve", "Approve and submit to the center")
        expect(_state(head_page)).to_have_text("Submitted to the center")

    # 5. The center accepts it and sees both versions and what changed.
    steps.page = analyst_page
    with steps("analyst accepts the resubmitted card"):
        analyst_page.reload()
        expect(_state(analyst_page)).to_have_text("Submitted to the center")
        expect(analyst_page.locator(".deadline")).to_have_count(0)
        # Accepting cannot be undone: the form asks for the confirmation box first.
        analyst_page.locator(
            'form:has(button[data-transition="accept"]) input[name="confirm"]'
        ).check()
        _press(analyst_page, "accept", "Accept")
        expect(_state(analyst_page)).to_have_text("Accepted by the center")
    with steps("two submitted versions and the diff of the impact"):
        expect(analyst_page.get_by_role("heading", name="Submitted versions")).to_be_visible()
        expect(analyst_page.get_by_text("2 versions submitted.")).to_be_visible()
        labels = analyst_page.locator("#version-diff dt")
        expect(labels).to_have_text(["Impact"])  # only the impact changed between the submissions
        expect(analyst_page.locator("#version-diff li.removed")).to_contain_text(FIRST_IMPACT)
        expect(analyst_page.locator("#version-diff li.added")).to_contain_text(SECOND_IMPACT)

    card.refresh_from_db()
    assert card.state == CardState.ACCEPTED
    assert card.version == 2
    assert card.deadline_at is None
