"""End-to-end checks in a real Chromium: what a person at the center actually clicks through.

R57.26: the sign-in page shows the cyber-hygiene advice and its form turns autocomplete off;
signing in takes the password, then the authenticator's code (R57.8).
R67.5: the center registers an organization; a bad BIN is reported next to the BIN field.
R67.6: the center creates an account for that organization; phones are normalized to E.164.
And the interface switches to Kazakh from the language switcher."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aips.conftest import totp_code
from aips.demo import USERS
from aips.shared.accounts.models import User

pytestmark = pytest.mark.browser

ADMIN = next(u for u in USERS if u.key == "center_admin")
NEW_ORG_BIN = "990840001239"  # valid check digit, not in the demo data
BAD_BIN = "123456789012"  # check digit wrong (…013 would be valid)


def _prop(page: Page, label: str) -> Any:
    """The <dd> right after the <dt> with this label on a detail page."""
    return page.locator(
        f"xpath=//dl[contains(@class,'props')]/dt[normalize-space()='{label}']"
        "/following-sibling::dd[1]"
    )


def _sign_in_as_center_admin(page: Page, steps: Any) -> None:
    admin = User.objects.get(email=ADMIN.email)
    with steps("login page in English"):
        response = page.goto("/login/")
        assert response is not None
        assert response.status == 200
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="Sign in to AIPS")).to_be_visible()
    with steps("R57.26 cyber hygiene and autocomplete off"):
        expect(page.locator("#cyber-hygiene")).to_be_visible()
        login_form = page.locator("form", has=page.get_by_role("button", name="Sign in"))
        expect(login_form).to_have_attribute("autocomplete", "off")
        expect(login_form.get_by_label("Password")).to_have_attribute("autocomplete", "off")
    with steps("sign in"):
        page.get_by_label("E-mail").fill(ADMIN.email)
        page.get_by_label("Password").fill(ADMIN.password)
        page.get_by_role("button", name="Sign in").click()
    with steps("second factor: the authenticator's code"):
        expect(page).to_have_url(re.compile(r"/login/verify/$"))
        expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
        page.get_by_label("Code from your authenticator app").fill(totp_code(admin))
        page.get_by_role("button", name="Continue").click()
    with steps("signed in"):
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _open_new_organization_form(page: Page, steps: Any) -> None:
    with steps("organizations, new organization"):
        nav = page.get_by_role("navigation", name="Main menu")
        nav.get_by_role("link", name="Organizations", exact=True).click()
        expect(page.get_by_role("heading", name="Organizations", exact=True)).to_be_visible()
        page.get_by_role("link", name="New organization").click()
        expect(page.get_by_role("heading", name="New organization")).to_be_visible()


def _save(page: Page, path_part: str) -> int:
    """Press Save and return the status of the POST the form sent."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and path_part in r.url
    ) as posted:
        page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    return int(posted.value.status)


def test_r57_26_r67_5_r67_6_center_admin_creates_org_and_user_then_reads_kazakh(
    personas: dict[str, User], page: Page, steps: Any
) -> None:
    _sign_in_as_center_admin(page, steps)
    _open_new_organization_form(page, steps)

    with steps("R67.5 fill and save the organization"):
        page.get_by_label("Official name").fill('JSC "Test Steppe Bank"')
        page.get_by_label("BIN").fill(NEW_ORG_BIN)
        page.get_by_label("E-mail").fill("security@steppebank.example.kz")
        page.get_by_label("Kind").select_option("bank")
        assert _save(page, "/organizations/new/") == 302  # redirected to the new profile
        expect(page.get_by_role("heading", name='JSC "Test Steppe Bank"')).to_be_visible()
        expect(_prop(page, "BIN")).to_have_text(NEW_ORG_BIN)

    with steps("R67.6 new user for that organization"):
        page.get_by_role("link", name="New user").click()
        expect(page.get_by_role("heading", name="New user")).to_be_visible()
        organization = page.get_by_label("Organization")
        expect(organization.locator("option:checked")).to_have_text('JSC "Test Steppe Bank"')
        page.get_by_label("Surname").fill("Abenov")
        page.get_by_label("Given name").fill("Marat")
        page.get_by_label("Position").fill("IS engineer")
        page.get_by_label("E-mail").fill("m.abenov@steppebank.example.kz")
        page.get_by_label("Contact phones").fill("8 701 123 45 67")
        page.get_by_label("Role").select_option("org_responsible")
        assert _save(page, "/users/new/") == 302  # redirected to the new account
        expect(page.get_by_role("heading", name="Abenov Marat")).to_be_visible()
        expect(_prop(page, "Contact phones")).to_have_text("+77011234567")
        expect(_prop(page, "Organization")).to_have_text('JSC "Test Steppe Bank"')
        created = User.objects.select_related("organization").get(
            email="m.abenov@steppebank.example.kz"
        )
        assert created.phones == ["+77011234567"]
        assert created.role == "org_responsible"
        assert created.organization.bin == NEW_ORG_BIN

    with steps("switch to Kazakh"):
        page.locator("form.langs").get_by_role("button", name="Қазақша").click()
        expect(page.locator("html")).to_have_attribute("lang", "kk")
        nav = page.get_by_role("navigation")  # the main menu; its label is in Kazakh now too
        expect(nav.get_by_role("link", name="Ұйымдар", exact=True)).to_be_visible()
        expect(nav.get_by_role("link", name="Пайдаланушылар", exact=True)).to_be_visible()


def test_r67_5_invalid_bin_is_reported_next_to_the_bin_field(
    personas: dict[str, User], page: Page, steps: Any
) -> None:
    _sign_in_as_center_admin(page, steps)
    _open_new_organization_form(page, steps)

    with steps("R67.5 a BIN with a wrong check digit"):
        page.get_by_label("Official name").fill('LLP "Typo Finance"')
        page.get_by_label("BIN").fill(BAD_BIN)
        page.get_by_label("E-mail").fill("it@typo.example.kz")
        page.get_by_label("Kind").select_option("bank")
        assert _save(page, "/organizations/new/") == 422
        bin_group = page.locator(".field", has=page.get_by_label("BIN"))
        expect(bin_group).to_have_class("field invalid")
        expect(bin_group.locator(".errorlist")).to_contain_text("check digit")
        expect(page.get_by_label("BIN")).to_have_attribute("aria-invalid", "true")
        # Only the BIN is wrong; the other fields keep what was typed.
        expect(page.locator(".errorlist")).to_have_count(1)
        expect(page.get_by_label("Official name")).to_have_value('LLP "Typo Finance"')
