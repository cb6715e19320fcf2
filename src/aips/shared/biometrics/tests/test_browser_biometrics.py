"""The biometric pages in Chromium with the fake provider's client page: bind the IIN from the
security page (R57.9), then change the password after a failed and a passed check (R57.11)."""

from typing import Any

import pytest

from aips.conftest import totp_code
from aips.demo import USERS
from aips.shared.accounts.models import User
from aips.shared.biometrics.models import BiometricCheck, CheckResult
from aips.shared.biometrics.tests.helpers import IIN_A
from aips.tests.conftest import _allow_async_unsafe, browser, page, steps  # noqa: F401 - fixtures

PASSWORDS = {person.key: person.password for person in USERS}
NEW_PASSWORD = "Brand-New-Passphrase-2026"


@pytest.mark.browser
def test_r57_9_r57_11_browser_binds_the_iin_and_changes_the_password_with_the_fake_provider(
    transactional_db: None,
    live_server: Any,
    personas: dict[str, User],
    request: pytest.FixtureRequest,
) -> None:
    from playwright.sync_api import expect

    tab: Any = request.getfixturevalue("page")
    step: Any = request.getfixturevalue("steps")
    maker = personas["bank_a_maker"]

    with step("sign in with password and authenticator code"):
        tab.goto("/login/")
        tab.get_by_label("E-mail").fill(maker.email)
        tab.get_by_label("Password").fill(PASSWORDS["bank_a_maker"])
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.get_by_role("heading", name="Confirm it is you")).to_be_visible()
        tab.get_by_label("Code from your authenticator app").fill(totp_code(maker))
        tab.get_by_role("button", name="Continue").click()
        expect(tab.get_by_role("button", name="Sign out")).to_be_visible()

    with step("R57.11 the password page asks for an IIN first"):
        tab.goto("/profile/password/")
        tab.get_by_role("link", name="Bind my IIN with biometrics").click()

    with step("R57.9 bind the IIN with the fake provider"):
        tab.get_by_label("IIN").fill(IIN_A)
        tab.get_by_role("button", name="Continue to the camera").click()
        expect(tab.get_by_role("heading", name="Fake biometric provider")).to_be_visible()
        tab.get_by_role("button", name="Pass: a live face that matches").click()
        expect(tab.get_by_text("Your IIN is bound to your account.")).to_be_visible()
        maker.refresh_from_db()
        assert maker.iin == IIN_A

    with step("R57.11 a liveness failure, then a pass"):
        tab.goto("/profile/password/")
        tab.get_by_role("button", name="Identify with biometrics").click()
        tab.get_by_role("button", name="Liveness fails: a photo held up to the camera").click()
        expect(tab.get_by_text("Check 1 failed: Liveness not confirmed.")).to_be_visible()
        tab.get_by_role("link", name="Try again").click()
        tab.get_by_role("button", name="Pass: a live face that matches").click()
        expect(tab.get_by_text("Biometric check passed. Now change your password.")).to_be_visible()

    with step("R57.11 change the password"):
        tab.locator("#id_current_password").fill(PASSWORDS["bank_a_maker"])
        tab.locator("#id_new_password").fill(NEW_PASSWORD)
        tab.locator("#id_new_password_again").fill(NEW_PASSWORD)
        tab.get_by_label("Code from your authenticator app").fill(totp_code(maker, step_offset=1))
        tab.get_by_role("button", name="Save").click()
        expect(tab.get_by_text("Your password has been changed.")).to_be_visible()
        maker.refresh_from_db()
        assert maker.check_password(NEW_PASSWORD)
        results = list(BiometricCheck.objects.order_by("id").values_list("result", flat=True))
        assert results == [CheckResult.PASSED, CheckResult.LIVENESS_FAILED, CheckResult.PASSED]
