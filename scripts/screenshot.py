"""Screenshots of AIPS for the docs, signed in as demo people (password and TOTP).

    .venv/bin/python scripts/screenshot.py [URL]          # the organizations list, center admin,
                                                          # 1280x800, to docs/screenshot.png
    .venv/bin/python scripts/screenshot.py --home [URL]   # each role's home screen, to
                                                          # docs/home-<role>.png (+ one at 390 px)
    .venv/bin/python scripts/screenshot.py --home --serve # the same on a server of its own

URL defaults to http://127.0.0.1:8000 and needs the demo data (`aips demo load`, which `make run`
does). `--serve` starts one instead: a fresh SQLite database in a temporary data directory,
migrated, with `aips demo load` (people and the demo month), served by `aips serve` on a free
local port and stopped afterwards. Needs Debian's /usr/bin/chromium; never `playwright install`."""

import argparse
import ast
import base64
import contextlib
import hashlib
import hmac
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

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


# The home screens for the docs: (demo person, file, viewport). Each role sees its own work.
HOME_SHOTS = [
    ("center_admin", "home-center-admin.png", (1200, 900)),
    ("center_analyst", "home-center-analyst.png", (1200, 900)),
    ("bank_a_head", "home-bank-head.png", (1200, 900)),
    ("bank_a_maker", "home-bank-maker.png", (1200, 900)),
    ("bank_a_head", "home-bank-head-390.png", (390, 844)),
]


def sign_in(context: BrowserContext, key: str, totp_secret: str | None = None) -> Page:
    """A new page signed in as the demo person `key` (password, then the second factor)."""
    email, password = demo_sign_in(key)
    if totp_secret:
        secret = totp_secret.strip().replace(" ", "").upper()
        totp_key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    else:
        totp_key = demo_totp_key(email)
    page = context.new_page()
    page.goto("/login/")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.wait_for_url(lambda url: not url.endswith("/login/"))
    if page.url.endswith("/login/verify/"):  # the second factor (R57.8)
        page.locator("input[name=code]").fill(totp_now(totp_key))
        page.locator("form:has(input[name=code]) button[type=submit]").click()
    # Signed in: the user's name and the sign-out button are in the header (folded into the
    # menu at phone width, so present rather than visible).
    expect(page.locator(".whoami")).to_be_attached()
    return page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def demo_server() -> Iterator[str]:
    """A throw-away AIPS with the demo data (people and month) on a free local port."""
    aips = str(Path(sys.executable).with_name("aips"))
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="aips-shots-") as data:
        env = {
            **os.environ,
            "AIPS_DATA_DIR": data,
            "AIPS_DATABASE_URL": "",
            "AIPS_BIND": f"127.0.0.1:{port}",
            "AIPS_WORKERS": "1",
        }
        for command in (
            ["migrate", "--no-input"],
            ["collectstatic", "--no-input", "-v", "0"],
            ["demo", "load"],
        ):
            # Our own entry point with fixed arguments.
            subprocess.run([aips, *command], env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
        server = subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
            [aips, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"{url}/login/", timeout=2):  # noqa: S310 - local
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                raise SystemExit("the demo server did not start")
            yield url
        finally:
            server.terminate()
            server.wait(timeout=20)


def shoot_homes(base: str, out: Path, language: str) -> int:
    """Each role's home screen (its work queue and, at the center, the tiles), viewport-sized so
    the files stay small; one bank head at phone width. One sign-in per person: a TOTP code is
    accepted once, so a second sign-in within the same 30 seconds would be refused."""
    pages: dict[str, Page] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            for key, name, (width, height) in HOME_SHOTS:
                if key not in pages:
                    context = browser.new_context(base_url=base, locale="en-US")
                    context.set_default_timeout(15_000)
                    context.add_cookies([{"name": "aips_language", "value": language, "url": base}])
                    pages[key] = sign_in(context, key)
                page = pages[key]
                page.set_viewport_size({"width": width, "height": height})
                response = page.goto("/")
                if response is None or response.status != 200:
                    status = response.status if response else "no response"
                    print(f"GET / as {key} answered {status}", file=sys.stderr)
                    return 1
                out.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out / name))
                print(f"saved {out / name}")
        finally:
            browser.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--language", default="en", choices=["kk", "ru", "en"])
    parser.add_argument(
        "--totp-secret", help="base32 authenticator secret (default: the demo one, as printed)"
    )
    parser.add_argument("--home", action="store_true", help="each role's home screen to docs/")
    parser.add_argument("--serve", action="store_true", help="start a demo server of its own")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(demo_server()) if args.serve else args.url.rstrip("/")
        if args.home:
            return shoot_homes(base, ROOT / "docs", args.language)
        return shoot_organizations(base, args.output, args.language, args.totp_secret)


def shoot_organizations(base: str, output: Path, language: str, totp_secret: str | None) -> int:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                base_url=base, viewport={"width": 1280, "height": 800}, locale="en-US"
            )
            context.set_default_timeout(15_000)
            context.add_cookies([{"name": "aips_language", "value": language, "url": base}])
            page = sign_in(context, "center_admin", totp_secret)
            response = page.goto("/organizations/")
            if response is None or response.status != 200:
                status = response.status if response else "no response"
                print(f"GET /organizations/ answered {status}", file=sys.stderr)
                return 1
            expect(page.locator("main table tbody tr").first).to_be_visible()
            output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(output))
        finally:
            browser.close()
    print(f"saved {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
