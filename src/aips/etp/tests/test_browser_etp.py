"""The ETP in a real Chromium: the public catalogue at `/` without signing in, then an operator's
sign-in with the password and the authenticator's code (R57.8) on the ETP's own sign-in page,
which carries the cyber-hygiene notice under the ETP's branding (R57.26.1, R57.26.4)."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aips.conftest import totp_code
from aips.demo_etp import USERS
from aips.shared.accounts.models import User

pytestmark = pytest.mark.browser

ADMIN = next(u for u in USERS if u.key == "operator_admin")


def test_r57_26_r57_8_etp_home_then_an_operator_signs_in(
    page: Page, steps: Any, personas: dict[str, User]
) -> None:
    with steps("the public catalogue"):
        page.goto("/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        # The demo lots (aips/demo_etp.py) are published.
        expect(page.locator("#lots")).to_contain_text("Consumer loan, 400 days overdue")
        expect(page.locator(".brand")).to_contain_text("ETP")
    with steps("the ETP's sign-in page"):
        page.get_by_role("link", name="Sign in").click()
        expect(page.get_by_role("heading", name="Sign in to the ETP")).to_be_visible()
        expect(page.locator("#cyber-hygiene")).to_be_visible()
    with steps("password, then the authenticator's code"):
        page.get_by_label("E-mail").fill(ADMIN.email)
        page.get_by_label("Password").fill(ADMIN.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/login/verify/$"))
        page.get_by_label("Code from your authenticator app").fill(
            totp_code(User.objects.get(email=ADMIN.email))
        )
        page.get_by_role("button", name="Continue").click()
    with steps("the operator's workspace"):
        expect(page).to_have_url(re.compile(r"/workspace/$"))
        expect(page.locator("#workspace-duties")).to_contain_text("accounts")
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
