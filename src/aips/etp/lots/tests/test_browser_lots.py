"""A lot's public page at phone width in a real Chromium: reached from the catalogue without
signing in, the portfolio's figures readable without the page scrolling sideways."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aips.shared.accounts.models import User

pytestmark = pytest.mark.browser


def test_public_portfolio_page_at_phone_width(
    page: Page, steps: Any, personas: dict[str, User]
) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    with steps("the catalogue lists the published portfolio"):
        page.goto("/")
        page.get_by_role("link", name="Portfolio of 5 retail loans").click()
    with steps("its public page: the aggregates, no debtor"):
        expect(page.locator("#aggregates")).to_contain_text("Astana")
        expect(page.locator("body")).not_to_contain_text("801122500204")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375 + 1
