"""Every public page at 320, 390 and 1280 px, in English and Ukrainian: nothing off screen
(wide tables scroll in their own box), with screenshots in light and dark under
test-results/public-pages/ for a person to look at (with SCREENSHOTS=1)."""

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import RESULTS
from tests.browser.support import SCHEMES, Site, keep_screenshot

# What sticks out of the page: the widest element whose right edge passes the viewport, unless
# it sits in a box that scrolls on its own.
MEASURE = """(width) => {
  const sticking = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.right <= width + 0.5 || !el.checkVisibility()) continue;
    let scroller = el.parentElement;
    while (scroller && getComputedStyle(scroller).overflowX === "visible") {
      scroller = scroller.parentElement;
    }
    if (scroller && scroller !== document.body && scroller !== document.documentElement) continue;
    sticking.push(`${el.tagName.toLowerCase()}${el.className ? "." + el.className : ""}`
      + ` to ${Math.round(box.right)} px`);
  }
  return {width: document.documentElement.scrollWidth, sticking: sticking.slice(0, 5)};
}"""
PAGES = {
    "home": "/",
    "exchange": "/exchanges/istanbul-1000-for-1000",
    "exchange with remains": "/exchanges/2025-istanbul-2-bodies",
    "timeline": "/timeline",
    "timeline filtered": "/timeline?party=russia&status=confirmed",
    "timeline disputed": "/timeline?status=disputed",  # who said what; a coalition's long name
    "feed": "/feed",
    "sign-in": "/login",
    "not found": "/exchanges/no-such-exchange",
}


@pytest.mark.parametrize("lang", ["en", "uk"])
@pytest.mark.parametrize("width", [320, 390, 1280])
def test_every_public_page_fits_its_screen(
    browser: Browser, site: Site, width: int, lang: str
) -> None:
    phone = width < 640
    options: dict[str, Any] = {"is_mobile": phone, "has_touch": phone}
    context = browser.new_context(
        base_url=site.base_url, viewport={"width": width, "height": 900}, **options
    )
    folder = RESULTS / "public-pages"
    found = {}
    try:
        page = context.new_page()
        for name, path in PAGES.items():
            page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            expect(page.locator("main h1")).to_be_visible()
            for scheme in SCHEMES:
                page.emulate_media(color_scheme=scheme)
                measured = page.evaluate(MEASURE, width)
                if measured["width"] > width:
                    found[f"{name} ({scheme})"] = measured
                if width != 320:
                    slug = name.replace(" ", "-")
                    shot = folder / f"{slug}-{lang}-{scheme}-{width}.png"
                    keep_screenshot(page, shot, full_page=True)
    finally:
        context.close()
    assert not found, found
