"""The interactive API reference at /api/v1/docs in a real Chromium, under the site's CSP as it
is: Swagger UI loads the schema and lists the operations, and the browser reports no CSP
violation and no script error (R57.26)."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aips.demo import USERS
from aips.shared.accounts.models import User
from aips.tests.conftest import sign_in

pytestmark = pytest.mark.browser

# Recorded by the page itself; an init script is not subject to the page's CSP.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""
PASSWORDS = {u.key: u.password for u in USERS}


def test_r57_26_api_reference_renders_under_the_csp(db: None, page: Page, steps: Any) -> None:
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.add_init_script(RECORD_VIOLATIONS)
    with steps("open the API reference"):
        with page.expect_response(lambda r: r.url.endswith("/api/v1/openapi.json")) as schema:
            response = page.goto("/api/v1/docs")
        assert response is not None
        assert response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert schema.value.status == 200
    with steps("the operations are listed"):
        expect(page.get_by_role("heading", name="AIPS API")).to_be_visible()
        ingest = page.locator(".opblock", has_text="signals_ingest")
        expect(ingest).to_be_visible()
        expect(ingest.locator(".opblock-summary-path")).to_have_text("/api/v1/signals")
        expect(page.locator(".opblock", has_text="incidents_list")).to_be_visible()
    with steps("an operation opens"):
        ingest.locator(".opblock-summary").first.click()
        expect(ingest.locator(".opblock-body")).to_be_visible()
    with steps("no CSP violation, no script error"):
        violations = page.evaluate("window.__cspViolations")
        assert violations == [], violations
        csp_messages = [m for m in console if "Content Security Policy" in m]
        assert csp_messages == [], csp_messages
        errors = [m for m in console if m.startswith(("error", "pageerror"))]
        assert errors == [], errors


def test_r57_26_api_reference_try_it_out_uses_the_session_with_csrf(
    personas: dict[str, User], page: Page, steps: Any
) -> None:
    """Signed in, "Try it out" on a write reaches the operation: the page hands Swagger UI the
    CSRF token (the cookie is HttpOnly), so the answer is the operation's own 422, not a 403."""
    sign_in(page, steps, personas["bank_a_maker"], PASSWORDS["bank_a_maker"])
    with steps("open incidents_create and try it out with an empty body"):
        page.goto("/api/v1/docs")
        create = page.locator(".opblock", has_text="incidents_create")
        create.locator(".opblock-summary").first.click()
        create.get_by_role("button", name="Try it out").click()
        create.locator("textarea.body-param__text").fill("{}")
    with steps("execute: the API answers with field errors"):
        with page.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith("/api/v1/incidents")
        ) as answer:
            create.get_by_role("button", name="Execute").click()
        assert answer.value.status == 422, answer.value.text()
        assert answer.value.request.headers.get("x-csrftoken")
