"""Phone width and the visual language, in a real Chromium (issue 15, items 6 and 7).

At 390 px (a common phone) and at 360 px (the narrowest the issue names) no main page scrolls
sideways: the main work lists become stacked cards (each cell labelled with its column), other
tables scroll inside their own box, the menu folds into one "Menu" line that names the current
section. At desktop width fifty rows of a list stay compact. TLP badges carry the colours
FIRST defines for TLP 2.0 (coloured text on black), and every badge on the pages visited reads at
WCAG AA contrast (4.5:1)."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aips.conftest import _build_matrix_objects
from aips.demo import USERS
from aips.shared.accounts.models import User
from aips.tests.conftest import sign_in

pytestmark = pytest.mark.browser

PASSWORDS = {u.key: u.password for u in USERS}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 360, "height": 740}
# The main work lists, stacked as cards below 600 px (`table.stack-narrow` in aips.css).
STACKED = {
    "/incidents/": "#card-list",
    "/alerts/": "#alert-list",
    "/requests/": "#request-list",
    "/signals/": "#signal-feed",
    "/audit/": "#audit-list",
    "/users/": "#user-list",
    "/signals/findings/": "#finding-list",
}
# Each stacked row's display, and each labelled cell's label as the stylesheet shows it.
CARD_STYLE = """(selector) => {
  const table = document.querySelector(selector);
  if (!table) return null;
  const rows = [...table.querySelectorAll(':scope > tbody > tr')];
  return {
    rows: rows.map(r => getComputedStyle(r).display),
    labels: [...table.querySelectorAll('td[data-label]')].map(
      td => [td.dataset.label, getComputedStyle(td, '::before').content]),
  };
}"""

# FIRST TLP 2.0 (https://www.first.org/tlp/): font colours on a black background.
FIRST_TLP = {
    "RED": "rgb(255, 43, 43)",
    "AMBER": "rgb(255, 192, 0)",
    "AMBER+STRICT": "rgb(255, 192, 0)",
    "GREEN": "rgb(51, 255, 0)",
    "CLEAR": "rgb(255, 255, 255)",
}
BLACK = "rgb(0, 0, 0)"

# Each badge's text and background colours, the background taken from the nearest ancestor
# that paints one.
BADGE_COLOURS = """() => [...document.querySelectorAll('.badge')].map(b => {
  let bg = 'rgba(0, 0, 0, 0)';
  for (let e = b; e && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent'); e = e.parentElement) {
    bg = getComputedStyle(e).backgroundColor;
  }
  return {text: b.textContent.trim(), fg: getComputedStyle(b).color, bg: bg};
})"""


def _rgb(value: str) -> tuple[float, float, float]:
    parts = value[value.index("(") + 1 : value.index(")")].split(",")
    red, green, blue = (float(p) for p in parts[:3])
    return red, green, blue


def _luminance(value: str) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(c) for c in _rgb(value))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(fg: str, bg: str) -> float:
    light, dark = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _pages(objects: dict[str, Any], persona: str) -> list[str]:
    pages = [
        "/",
        "/incidents/",
        f"/incidents/{objects['card'].pk}/",
        "/alerts/",
        f"/alerts/{objects['published_alert'].pk}/",
        "/requests/",
        f"/requests/{objects['inquiry_sent'].pk}/",
        "/signals/",
        "/organizations/",
        "/notifications/",
        "/profile/",
    ]
    if persona == "center_admin":
        pages += [
            "/audit/",
            "/users/",
            "/signals/findings/",
            "/security-updates/",
            "/exchange/partners/",
            "/exchange/partners/new/",
        ]
    else:
        pages += ["/alerts/batches/", "/alerts/import/batch/"]
    return pages


def _check_widths(page: Page, paths: list[str]) -> dict[str, int]:
    widths = {}
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        widths[path] = int(page.evaluate("document.documentElement.scrollWidth"))
        for badge in page.evaluate(BADGE_COLOURS):
            ratio = contrast(badge["fg"], badge["bg"])
            assert ratio >= 4.5, f"{path}: badge {badge['text']!r} contrast {ratio:.2f}"
    return widths


@pytest.mark.parametrize("persona", ["center_admin", "bank_a_maker"])
def test_main_pages_fit_390px_without_sideways_scroll(
    personas: dict[str, User], browser: Any, live_server: Any, steps: Any, persona: str
) -> None:
    objects = _build_matrix_objects(personas)
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=PHONE)
    context.add_cookies([{"name": "aips_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    try:
        steps.page = page
        sign_in(page, steps, personas[persona], PASSWORDS[persona])
        with steps("every main page at 390 px"):
            widths = _check_widths(page, _pages(objects, persona))
            too_wide = {path: w for path, w in widths.items() if w > PHONE["width"]}
            assert not too_wide, f"pages wider than {PHONE['width']} px: {too_wide}"
        with steps("every main page at 360 px, the work lists as labelled cards"):
            page.set_viewport_size(NARROW)
            paths = _pages(objects, persona)
            widths = _check_widths(page, paths)
            too_wide = {path: w for path, w in widths.items() if w > NARROW["width"]}
            assert not too_wide, f"pages wider than {NARROW['width']} px: {too_wide}"
            for path, selector in STACKED.items():
                if path not in paths:
                    continue
                page.goto(path)
                style = page.evaluate(CARD_STYLE, selector)
                assert style is not None, path
                assert set(style["rows"]) == {"block"}, path
                assert style["labels"], path
                for label, shown in style["labels"]:
                    assert label, path
                    assert shown == f'"{label}: "', (path, label, shown)
            page.set_viewport_size(PHONE)
        with steps("the menu is one line naming the current section, and opens"):
            page.goto("/alerts/")
            nav = page.get_by_role("navigation", name="Main menu")
            summary = nav.locator("summary")
            expect(summary).to_be_visible()
            expect(summary).to_contain_text("Alerts")
            link = nav.get_by_role("link", name="Alerts", exact=True)
            expect(link).to_be_hidden()
            summary.click()
            expect(link).to_be_visible()
            expect(link).to_have_attribute("aria-current", "page")
            page.goto(f"/alerts/{objects['published_alert'].pk}/")
            expect(
                page.get_by_role("navigation", name="Main menu").locator("[aria-current]")
            ).to_have_attribute("aria-current", "true")
    finally:
        context.close()


def test_tlp_badges_have_first_colours_and_the_wide_menu_is_open(
    personas: dict[str, User], page: Page, steps: Any
) -> None:
    from aips.center.alerts import services as alert_services
    from aips.conftest import alert_data

    analyst = personas["center_analyst"]
    for tlp in FIRST_TLP:
        alert_services.alert_create(actor=analyst, **alert_data(title=f"Alert {tlp}", tlp=tlp))
    sign_in(page, steps, analyst, PASSWORDS["center_analyst"])
    with steps("TLP badges in FIRST colours"):
        page.goto("/alerts/")
        for tlp, colour in FIRST_TLP.items():
            badge = page.locator(f'.badge.tlp[data-tlp="{tlp}"]').first
            expect(badge).to_have_text(f"TLP:{tlp}")
            expect(badge).to_have_css("color", colour)
            expect(badge).to_have_css("background-color", BLACK)
    with steps("at desktop width the grouped menu is open, the current section marked"):
        nav = page.get_by_role("navigation", name="Main menu")
        expect(nav.locator("summary")).to_be_hidden()
        expect(nav.get_by_role("group", name="Monitoring")).to_be_visible()
        expect(nav.get_by_role("link", name="Alerts", exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        expect(nav.get_by_role("link", name="Signals", exact=True)).to_be_visible()


def test_fifty_list_rows_stay_compact_at_desktop_width(
    personas: dict[str, User], page: Page, steps: Any
) -> None:
    """The issue's complaint: "fifty rows take 5,000 px". At 1280 px a list of fifty cards
    (reference and title, TLP, organization, type, status, deadline) averages at most 48 px a
    row, and the cells are a table again, not cards."""
    from aips.center.incidents import services as incident_services
    from aips.conftest import card_data

    maker = personas["bank_a_maker"]
    for n in range(50):
        incident_services.card_create(
            actor=maker, **card_data(title=f"Card-not-present fraud wave {n:02d} at the gateway")
        )
    sign_in(page, steps, maker, PASSWORDS["bank_a_maker"])
    with steps("fifty rows at 1280 px"):
        page.goto("/incidents/?page_size=50")
        rows = page.locator("#card-list > tbody > tr")
        expect(rows).to_have_count(50)
        heights = page.evaluate(
            """() => [...document.querySelectorAll('#card-list > tbody > tr')]
                .map(r => r.getBoundingClientRect().height)"""
        )
        average = sum(heights) / len(heights)
        assert average <= 48, f"rows average {average:.1f} px"
        assert (
            page.evaluate(
                "getComputedStyle(document.querySelector('#card-list > tbody > tr')).display"
            )
            == "table-row"
        )
