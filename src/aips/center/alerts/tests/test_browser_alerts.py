"""End-to-end in a real Chromium: an alert's acknowledgement round trip (R67.13), each person in
their own browser (separate cookies) against the live server.

The center's analyst writes a TLP:GREEN threat alert and publishes it directly: every active
organization receives it. Bank A's IS-unit head accepts its recommendations (within 1 working
day), bank A's responsible employee marks it processed once they are applied, and the center's
compliance matrix shows bank A's copy as processed, in time."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aips.center.alerts.models import Alert, AlertRecipient, AlertState, RecipientStatus
from aips.conftest import ensure_threat_types
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
TITLE = "Ransomware operators phish bank treasury staff"
RECOMMENDATIONS = "Block the sender domains and disable Office macros from the internet."


def _field(page: Page, label: str) -> Any:
    """A form field by its whole label (Django adds a colon), not one that merely contains it."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def _open_alert(page: Page, reference: str) -> None:
    """Through the menu and the list, as a person would."""
    nav = page.get_by_role("navigation", name="Main menu")
    nav.get_by_role("link", name="Alerts", exact=True).click()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(f"^{reference}:"))).to_be_visible()


def _press(page: Page, selector: str, label: str) -> None:
    button = page.locator(selector)
    expect(button).to_have_text(label)
    button.click()
    page.wait_for_load_state()


def test_r67_13_center_publishes_bank_head_accepts_maker_processes_center_matrix_shows_it(
    personas: dict[str, User],
    page: Page,
    new_page: Callable[[], Page],
    steps: Any,
) -> None:
    ensure_threat_types()
    analyst, head, maker = (
        personas["center_analyst"],
        personas["bank_a_head"],
        personas["bank_a_maker"],
    )
    bank_a = head.organization
    assert analyst.language == "kk"  # the `page` fixture's language cookie keeps her in English

    # 1. The center writes a TLP:GREEN threat alert and publishes it to every organization.
    steps.page = page
    _sign_in(page, steps, analyst, PASSWORDS["center_analyst"])
    with steps("analyst opens a new alert"):
        nav = page.get_by_role("navigation", name="Main menu")
        nav.get_by_role("link", name="Alerts", exact=True).click()
        page.get_by_role("link", name="New alert").click()
        expect(page.get_by_role("heading", name="New alert")).to_be_visible()
    with steps("R67.3.3 analyst fills in the threat alert"):
        _field(page, "Kind of alert").select_option(label="Threat alert")
        _field(page, "Title").fill(TITLE)
        _field(page, "Source").fill("CERT-KZ")
        _field(page, "Threat level").select_option(label="High")
        _field(page, "Confidentiality (TLP)").select_option("GREEN")
        _field(page, "Description").fill("Phishing e-mails with a macro dropper.")
        _field(page, "Recommendations").fill(RECOMMENDATIONS)
        _field(page, "Indicators of compromise").fill("203.0.113.66\ninvoice-kz.example.com")
        _field(page, "Threat type").select_option(
            label="Malicious code (virus, worm, trojan, ransomware)"
        )
        with page.expect_response(
            lambda r: r.request.method == "POST" and "/new/" in r.url
        ) as posted:
            page.get_by_role("button", name="Save draft").click()
        assert posted.value.status == 302, "the form was refused"
        page.wait_for_load_state()
        alert = Alert.objects.get(title=TITLE)
        reference = alert.reference
        expect(page.get_by_role("heading", name=f"{reference}: {TITLE}")).to_be_visible()
        expect(page.locator("#alert-state")).to_have_text("Draft")
    with steps("R67.13 analyst publishes it to every organization"):
        # Publishing cannot be undone: the form asks for the confirmation box first.
        page.locator(
            'form:has(button[data-transition="publish_direct"]) input[name="confirm"]'
        ).check()
        _press(page, 'button[data-transition="publish_direct"]', "Publish to organizations")
        expect(page.locator("#alert-state")).to_have_text("Published")
        bank_a_row = page.locator(f'#recipients tr[data-organization="{bank_a.bin}"]')
        expect(bank_a_row).to_contain_text("Delivered")
        expect(bank_a_row.locator(".deadline")).to_be_visible()
    alert.refresh_from_db()
    assert alert.state == AlertState.PUBLISHED
    recipient = AlertRecipient.objects.get(alert=alert, organization=bank_a)
    assert recipient.deadline_at is not None

    # 2. Bank A's IS-unit head accepts the recommendations.
    head_page = new_page()
    steps.page = head_page
    _sign_in(head_page, steps, head, PASSWORDS["bank_a_head"])
    with steps("R67.13 bank A's head sees the alert and its deadline"):
        _open_alert(head_page, reference)
        expect(head_page.locator("#alert-recommendations")).to_have_text(RECOMMENDATIONS)
        expect(head_page.locator("#recipient-status")).to_have_text("Delivered")
        expect(head_page.locator("#our-acknowledgement .deadline")).to_be_visible()
        expect(head_page.locator("#recipients")).to_have_count(0)  # nobody else's answers
    with steps("R67.13 bank A's head accepts"):
        _press(
            head_page,
            'button[data-recipient-action="accept"]',
            "Accept the recommendations",
        )
        expect(head_page.locator("#recipient-status")).to_have_text("Recommendations accepted")
        expect(head_page.locator("#recipient-late")).to_have_count(0)
        expect(head_page.locator('button[data-recipient-action="processed"]')).to_be_visible()

    # 3. Bank A's maker marks it processed once the recommendations are applied.
    maker_page = new_page()
    steps.page = maker_page
    _sign_in(maker_page, steps, maker, PASSWORDS["bank_a_maker"])
    with steps("R67.13 bank A's maker marks the alert processed"):
        _open_alert(maker_page, reference)
        expect(maker_page.locator("#recipient-status")).to_have_text("Recommendations accepted")
        expect(maker_page.locator('button[data-recipient-action="accept"]')).to_have_count(0)
        _press(maker_page, 'button[data-recipient-action="processed"]', "Mark processed")
        expect(maker_page.locator("#recipient-status")).to_have_text("Processed")

    # 4. The center's compliance matrix shows bank A's copy processed, in time.
    steps.page = page
    with steps("R67.13 the center's matrix shows bank A processed"):
        page.goto("/alerts/")
        page.get_by_role("link", name="Acknowledgement compliance").click()
        expect(page.get_by_role("heading", name="Acknowledgement compliance")).to_be_visible()
        cell = page.locator(
            f'#compliance-matrix tr[data-alert="{reference}"] td[data-organization="{bank_a.bin}"]'
        )
        expect(cell).to_contain_text("Processed")
        expect(cell.locator(".overdue")).to_have_count(0)
        bank_b_cell = page.locator(
            f'#compliance-matrix tr[data-alert="{reference}"] '
            f'td[data-organization="{personas["bank_b_head"].organization.bin}"]'
        )
        expect(bank_b_cell).to_contain_text("Delivered")

    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.PROCESSED
    assert recipient.responded_by == head
    assert recipient.processed_by == maker
    assert not recipient.late
