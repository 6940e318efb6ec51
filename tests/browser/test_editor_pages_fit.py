"""Every editor and admin page on a phone: nothing off screen from 320 px, text in inputs of at
least 16 px (else phones zoom in), and every control at least 44 px tall; on a desktop, nothing
off screen either. With screenshots of each at 390 px and 1280 px, light and dark, under
test-results/editor-pages/ for a person to look at (with SCREENSHOTS=1)."""

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import RESULTS
from tests.browser.support import ADMIN, SCHEMES, SCREENSHOTS, Site, keep_screenshot, sign_in

# Every control a thumb uses: fields, buttons, and links that are not words inside a sentence.
MEASURE = """() => {
  const controls = [...document.querySelectorAll("main input:not([type=hidden]), main select, "
      + "main textarea, main button, main a, .editor-nav a, .editor-nav button")]
    .filter((el) => el.checkVisibility());
  const problems = [];
  for (const el of controls) {
    const tag = el.tagName.toLowerCase();
    const box = el.getBoundingClientRect();
    const label = el.id && document.querySelector(`label[for="${el.id}"]`);
    const height = ["checkbox", "radio"].includes(el.type) && label
      ? Math.max(box.height, label.getBoundingClientRect().height) : box.height;
    const inSentence = tag === "a" && getComputedStyle(el).display === "inline"
      && el.closest("p, li, td, dd");
    const name = `${tag} ${el.name || el.id || el.textContent.trim().slice(0, 30)}`;
    if (height < 44 && !inSentence) problems.push(`${name}: ${Math.round(height)} px tall`);
    const font = parseFloat(getComputedStyle(el).fontSize);
    if (["input", "select", "textarea"].includes(tag) && !["checkbox", "radio"].includes(el.type)
        && font < 16) problems.push(`${name}: ${font} px text`);
  }
  return {width: document.documentElement.scrollWidth, problems};
}"""


@pytest.fixture(scope="module")
def admin_state(browser: Browser, site: Site) -> dict[str, Any]:
    context = browser.new_context(base_url=site.base_url)
    page = context.new_page()
    sign_in(page, ADMIN)
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


@pytest.fixture(scope="module")
def pages(site: Site) -> dict[str, str]:
    slug = site.new_exchange(title="Looked at on a phone", stages=2)
    stage = site.stage_ids(slug)[0]
    # A correction with a long source address, so the history shows its words at their widest.
    long_url = "https://news.example.org/" + "a-very-long-path-segment-" * 6
    site.edit_stage(
        stage,
        {
            "sides": [
                {"key": "a", "military": 100, "civilian": 20},
                {"key": "b", "military": 115, "civilian": 20},
            ],
            "sources": [{"url": long_url, "publisher": "Example Wire", "claim": "135 to Russia"}],
            "reason": f"15 wounded were returned too ({long_url})",
        },
    )
    return {
        "editor home": "/editor",
        "new exchange": "/editor/exchanges/new",
        "exchange": f"/editor/exchanges/{slug}",
        "terms": f"/editor/exchanges/{slug}/terms",
        "new stage": f"/editor/exchanges/{slug}/stages/new",
        "stage": f"/editor/stages/{stage}",
        "stage history": f"/editor/stages/{stage}/history",
        "exchange history": f"/editor/exchanges/{slug}/history",
        "official totals": "/editor/conflicts/russia-ukraine-war",
        "import": "/editor/import",
        "api tokens": "/editor/tokens",
        "password": "/editor/password",
        "users": "/admin/users",
        "user's password": "/admin/users/1/password",  # the first editor's
        "deleted stages": "/admin/deleted",
    }


@pytest.mark.parametrize("lang", ["en", "uk"])
@pytest.mark.parametrize("width", [320, 390, 1280])
def test_every_editor_page_fits_a_phone(
    browser: Browser,
    site: Site,
    admin_state: dict[str, Any],
    pages: dict[str, str],
    width: int,
    lang: str,
) -> None:
    on_a_phone = width < 640
    phone: dict[str, Any] = {"is_mobile": on_a_phone, "has_touch": on_a_phone}
    phone["viewport"] = {"width": width, "height": 800}
    anonymous = browser.new_context(base_url=site.base_url, **phone)
    context = browser.new_context(base_url=site.base_url, storage_state=admin_state, **phone)
    found: dict[str, Any] = {}
    folder = RESULTS / "editor-pages"
    try:
        visits = [(anonymous.new_page(), "sign-in", "/login")]
        page: Page = context.new_page()
        visits += [(page, name, path) for name, path in pages.items()]
        for page, name, path in visits:
            page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            expect(page.locator("main h1")).to_be_visible()
            measured = page.evaluate(MEASURE)
            if not on_a_phone:  # a mouse needs no 44 px; the page must still fit
                measured["problems"] = []
            if measured["width"] > width or measured["problems"]:
                found[name] = measured
            if width != 320 and SCREENSHOTS:
                for scheme in SCHEMES:
                    page.emulate_media(color_scheme=scheme)
                    slug = name.replace(" ", "-").replace("'", "")
                    shot = folder / f"{slug}-{lang}-{scheme}{'' if on_a_phone else '-1280'}.png"
                    keep_screenshot(page, shot, full_page=True)
    finally:
        context.close()
        anonymous.close()
    assert not found, found
