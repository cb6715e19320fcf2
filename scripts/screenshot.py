"""Screenshot of a running AIPS for the docs: signs in as the demo center administrator and saves
the organizations list, 1280x800, to docs/screenshot.png.

    .venv/bin/python scripts/screenshot.py [URL]        # URL defaults to http://127.0.0.1:8000

Needs the demo data (`aips demo load`, which `make run` does) and Debian's /usr/bin/chromium;
never `playwright install`."""

import argparse
import ast
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
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


def demo_sign_in(key: str = "center_admin") -> tuple[str, str]:
    """E-mail and password of a demo persona, read from aips/demo.py without importing Django."""
    tree = ast.parse((ROOT / "src/aips/demo.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "DemoUser"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == key
        ):
            email, password = (ast.literal_eval(arg) for arg in node.args[2:4])
            return str(email), str(password)
    raise SystemExit(f"no demo user {key!r} in src/aips/demo.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--language", default="en", choices=["kk", "ru", "en"])
    args = parser.parse_args()
    base = args.url.rstrip("/")
    email, password = demo_sign_in()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                base_url=base, viewport={"width": 1280, "height": 800}, locale="en-US"
            )
            context.set_default_timeout(15_000)
            context.add_cookies([{"name": "aips_language", "value": args.language, "url": base}])
            page = context.new_page()
            page.goto("/login/")
            page.locator("input[name=email]").fill(email)
            page.locator("input[name=password]").fill(password)
            page.locator("form[action='/login/'] button[type=submit]").click()
            # Signed in: the sign-out button is in the header.
            expect(page.locator(".whoami")).to_be_visible()
            response = page.goto("/organizations/")
            if response is None or response.status != 200:
                status = response.status if response else "no response"
                print(f"GET /organizations/ answered {status}", file=sys.stderr)
                return 1
            expect(page.locator("main table tbody tr").first).to_be_visible()
            args.output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.output))
        finally:
            browser.close()
    print(f"saved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
