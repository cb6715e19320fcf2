"""Screenshot of a running AIPS for the docs: signs in as the demo center administrator and saves
the organizations list, 1280x800, to docs/screenshot.png.

    .venv/bin/python scripts/screenshot.py [URL]        # URL defaults to http://127.0.0.1:8000

Needs the demo data (`aips demo load`, which `make run` does) and Debian's /usr/bin/chromium;
never `playwright install`."""

import argparse
import ast
import base64
import hashlib
import hmac
import struct
import sys
import time
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


def demo_totp_key(email: str) -> bytes:
    """The demo person's authenticator secret; mirrors aips.demo.demo_totp_key (that module needs
    a configured Django to import). `aips demo load` prints the same secret in base32."""
    return hashlib.sha1(f"aips-demo-totp:{email}".encode(), usedforsecurity=False).digest()


def totp_now(key: bytes, *, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 with django-otp's defaults (HMAC-SHA1, 30-second steps, 6 digits)."""
    counter = struct.pack(">Q", int(time.time()) // step)
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--language", default="en", choices=["kk", "ru", "en"])
    parser.add_argument(
        "--totp-secret", help="base32 authenticator secret (default: the demo one, as printed)"
    )
    args = parser.parse_args()
    base = args.url.rstrip("/")
    email, password = demo_sign_in()
    if args.totp_secret:
        secret = args.totp_secret.strip().replace(" ", "").upper()
        totp_key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    else:
        totp_key = demo_totp_key(email)

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
            page.wait_for_url(lambda url: not url.endswith("/login/"))
            if page.url.endswith("/login/verify/"):  # the second factor (R57.8)
                page.locator("input[name=code]").fill(totp_now(totp_key))
                page.locator("main form button[type=submit]").click()
            # Signed in: the user's name and the sign-out button are in the header.
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
