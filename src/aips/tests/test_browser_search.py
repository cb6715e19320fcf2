"""End-to-end in a real Chromium: the header's search box and the indicator page (issue 15,
items 2 and 3). Bank A's maker finds a card by its reference, by text and by an indicator that a
card, an alert and a signal hold, and follows it to the indicator page; bank B's head, typing the
same things, finds nothing of bank A's (R67.4). Both pages fit 390 px."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aips.center.alerts import services as alert_services
from aips.center.alerts.tests.test_alerts import threat
from aips.center.incidents import services as incident_services
from aips.center.signals.tests.factories import ingest, module_actor, signal
from aips.conftest import card_data, ensure_threat_types
from aips.demo import USERS
from aips.shared.accounts.models import User
from aips.tests.conftest import sign_in

pytestmark = pytest.mark.browser

PASSWORDS = {u.key: u.password for u in USERS}
IP = "185.220.101.78"
TITLE = "Skimmer found on the lobby terminal"


def _search(page: Page, text: str) -> None:
    box = page.get_by_role("search").first.get_by_role("searchbox")
    box.fill(text)
    box.press("Enter")
    page.wait_for_load_state()


def test_r67_4_r67_8_search_box_reference_text_indicator_and_bank_b_isolation(
    personas: dict[str, User], page: Page, new_page: Callable[[], Page], steps: Any
) -> None:
    ensure_threat_types()
    maker = personas["bank_a_maker"]
    card = incident_services.card_create(actor=maker, **card_data(title=TITLE, indicators=[IP]))
    alert = alert_services.alert_create(
        actor=maker, **threat(title="Skimmer wave", indicators=[IP])
    )
    ingest(module_actor(maker.organization), [signal("scan", src_ip=IP)])

    steps.page = page
    sign_in(page, steps, maker, PASSWORDS["bank_a_maker"])
    with steps("a reference in the header's box opens the card"):
        _search(page, card.reference)
        expect(page).to_have_url(f"{page.url.split('/incidents/')[0]}/incidents/{card.pk}/")
    with steps("text finds the card by its title"):
        _search(page, "lobby terminal")
        expect(page.locator("#search-incidents")).to_contain_text(card.reference)
    with steps("an indicator finds the card, the alert and the signal"):
        _search(page, IP)
        expect(page.locator("#search-incidents")).to_contain_text(card.reference)
        expect(page.locator("#search-alerts")).to_contain_text(alert.reference)
        expect(page.locator("#search-signals")).to_be_visible()
    with steps("the indicator page counts every kind"):
        page.locator("#search-indicator a").click()
        expect(page.get_by_role("heading", name=f"Indicator: {IP}")).to_be_visible()
        expect(page.locator('#indicator-facts dd[data-kind="incidents"]')).to_have_text("1")
        expect(page.locator('#indicator-facts dd[data-kind="alerts"]')).to_have_text("1")
        expect(page.locator('#indicator-facts dd[data-kind="signals"]')).to_have_text("1")

    other = new_page()
    steps.page = other
    sign_in(other, steps, personas["bank_b_head"], PASSWORDS["bank_b_head"])
    with steps("bank B finds nothing of bank A's"):
        for text in (card.reference, alert.reference, "lobby terminal", IP):
            _search(other, text)
            expect(other.locator("#search-nothing")).to_be_visible()
            expect(other.locator("main")).not_to_contain_text(TITLE)
        other.goto(f"/indicators/?value={IP}")
        expect(other.locator('#indicator-facts dd[data-kind="incidents"]')).to_have_text("0")
        expect(other.locator("main")).not_to_contain_text(TITLE)
    with steps("both pages fit 390 px"):
        other.set_viewport_size({"width": 390, "height": 844})
        for path in (f"/search/?q={IP}", f"/indicators/?value={IP}", "/search/?q=lobby"):
            other.goto(path)
            assert int(other.evaluate("document.documentElement.scrollWidth")) <= 390, path
