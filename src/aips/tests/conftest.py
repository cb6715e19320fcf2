"""Browser-only fixtures: a real Chromium (Debian's /usr/bin/chromium, never a downloaded build)
driven by Playwright against pytest-django's live server (static files come from the finders:
the root conftest switches to the plain storage, and the live server serves them)."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium hangs on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


@pytest.fixture
def _allow_async_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    # Playwright's sync API runs an event loop in the test thread, which trips Django's
    # async-unsafe guard on every ORM call the test makes. Only the browser tests turn it off
    # (a module-level os.environ here would turn it off for the whole session).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(_allow_async_unsafe: None) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh page in English (the language cookie the switcher would set); relative URLs go to
    the live server."""
    from django.core.cache import cache

    # Every test signs in from 127.0.0.1, and the sign-in limits (30 a minute per address) live
    # in the cache, which the database flush between live-server tests does not empty: a fast
    # machine ran past the limit mid-session. Each test starts with its own budget.
    cache.clear()
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 800}
    )
    context.add_cookies([{"name": "aips_language", "value": "en", "url": live_server.url}])
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


class Steps:
    """`with steps("name"):` screenshots the page into test-artifacts/ when the step fails."""

    def __init__(self, page: Any, directory: Path, test_name: str) -> None:
        self.page = page
        self.directory = directory
        self.test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name)
        self.count = 0

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.count += 1
        try:
            yield
        except BaseException:
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
            target = self.directory / f"{self.test_name}-{self.count:02d}-{slug}.png"
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                self.page.screenshot(path=str(target), full_page=True)
                print(f"screenshot of the failing step: {target}")
            except Exception as exc:  # never hide the real failure behind this one
                print(f"could not save a screenshot of the failing step: {exc}")
            raise


@pytest.fixture
def steps(page: Any, request: pytest.FixtureRequest) -> Steps:
    return Steps(page, request.config.rootpath / "test-artifacts", request.node.name)


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """Another person's browser: a fresh context (own cookies), in English like `page` — the
    language cookie (the switcher's) wins over a persona's own preferred language."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(
            base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 800}
        )
        context.add_cookies([{"name": "aips_language", "value": "en", "url": live_server.url}])
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


def sign_in(page: Any, steps: Any, user: Any, password: str) -> None:
    """Password, then the authenticator code, as a person would type them."""
    import re

    from playwright.sync_api import expect

    from aips.conftest import totp_code

    with steps(f"sign in as {user.email}"):
        page.goto("/login/")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/login/verify/$"))
        page.get_by_label("Code from your authenticator app").fill(totp_code(user))
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
