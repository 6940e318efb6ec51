"""Keyboard only: every editor action is reachable with Tab, works with Enter or Space, and the
focused control always shows a visible focus ring."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    EDITORS,
    PASSWORD,
    Site,
    assert_accessible_in_both_schemes,
    focus_is_visible,
    focused,
)

MAX_TABS = 400
# What a keyboard user must be able to reach: everything interactive that is shown.
INTERACTIVE = (
    "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    "[tabindex]:not([tabindex='-1'])"
)
LABEL_CONTROLS = """(root) => {
    const shown = [...document.querySelectorAll(root)].filter(
        (el) => !el.disabled && el.checkVisibility({visibilityProperty: true}));
    // The skip link sits off-screen until focused: it counts as reachable, not as shown.
    const all = [...document.querySelectorAll(root)];
    all.forEach((el, i) => { el.dataset.kb = String(i); });
    return shown.map((el) => ({kb: el.dataset.kb, tag: el.tagName.toLowerCase(),
        text: (el.textContent || el.name || el.id || "").trim().slice(0, 50)}));
}"""


def press_tab(page: Page, *, back: bool = False) -> dict[str, Any]:
    page.keyboard.press("Shift+Tab" if back else "Tab")
    state = focused(page)
    assert state is not None, "Tab left the page"
    return state


def tab_to(page: Page, pattern: str) -> dict[str, Any]:
    """Tab forward until the focused control's id, name or text matches; check each ring."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        state = focused(page)
        if state is None:
            continue
        assert focus_is_visible(state), f"no visible focus on {state}"
        if any(re.fullmatch(pattern, str(state[key] or "")) for key in ("id", "name", "label")):
            return state
    raise AssertionError(f"Tab never reached {pattern!r} on {page.url}")


def sweep(page: Page) -> None:
    """Tab through the whole page: every shown control is reached, each with a visible ring."""
    shown = page.evaluate(LABEL_CONTROLS, INTERACTIVE)
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    reached: set[str] = set()
    invisible: list[dict[str, Any]] = []
    previous = None
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        current = page.evaluate(
            "() => document.activeElement === document.body ? null"
            " : document.activeElement.dataset.kb"
        )
        if current == previous:
            continue  # the day, month and year parts of one date field
        if current is None or current in reached:
            break  # past the end of the page, or round again
        reached.add(current)
        previous = current
        style = focused(page)
        if style is not None and not focus_is_visible(style):
            invisible.append(style)
    else:
        raise AssertionError(f"more than {MAX_TABS} stops on {page.url}")
    missed = [control for control in shown if control["kb"] not in reached]
    assert missed == [], f"not reachable with Tab on {page.url}: {missed}"
    assert invisible == [], f"focus not visible on {page.url}: {invisible}"


def keyboard_sign_in(page: Page, next_path: str) -> None:
    page.goto(f"/login?next={next_path}")
    skip = press_tab(page)
    assert skip["label"] == "Skip to content"
    assert focus_is_visible(skip)
    tab_to(page, "email")
    page.keyboard.type(EDITORS[0])
    tab_to(page, "password")
    page.keyboard.type(PASSWORD)
    tab_to(page, "Sign in")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_keyboard_only_stage_entry(page: Page, site: Site) -> None:
    slug = site.new_exchange(title="Keyboard exchange", target=500)
    keyboard_sign_in(page, "/editor")
    tab_to(page, "Keyboard exchange")
    tab_to(page, "Add stage")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/editor/exchanges/{slug}/stages/new$"))

    tab_to(page, "f-same")
    page.keyboard.press("Space")
    expect(page.get_by_role("group", name="Release 2")).to_be_visible()
    tab_to(page, "f-release_0_military")
    page.keyboard.type("40")
    tab_to(page, "f-release_0_civilian")
    page.keyboard.type("2")
    tab_to(page, "f-release_1_military")
    page.keyboard.type("41")
    tab_to(page, "f-release_1_civilian")
    page.keyboard.type("0")
    tab_to(page, "Add another release")
    page.keyboard.press("Enter")
    expect(page.locator("#release-rows > .release-row")).to_have_count(3)
    expect(page.get_by_role("group", name="Release 3").get_by_label("Received by")).to_be_focused()
    tab_to(page, "Remove this release")
    page.keyboard.press("Enter")
    expect(page.locator("#release-rows > .release-row")).to_have_count(2)
    expect(page.get_by_role("button", name="Add another release")).to_be_focused()
    tab_to(page, "f-source_0_url")
    page.keyboard.type("https://news.example.org/keyboard")
    tab_to(page, "f-source_0_publisher")
    page.keyboard.type("Example Wire")
    tab_to(page, "f-source_0_speaks_for")
    page.keyboard.press("ArrowUp")  # from "press / not known" to "independent"
    expect(page.locator("#f-source_0_speaks_for")).to_have_value("independent")
    tab_to(page, "Add a count")
    page.keyboard.press("Enter")
    expect(page.locator("#f-source_0_figure_0_received_by")).to_be_focused()

    tab_to(page, "Add another source")
    page.keyboard.press("Enter")
    expect(page.locator(".source-row")).to_have_count(2)
    # Focus moves into the new source, where the editor means to type next.
    new_row = page.locator(".source-row").nth(1)
    expect(new_row.get_by_label("Address (http or https)")).to_be_focused()
    tab_to(page, "Remove this source")
    assert page.evaluate("() => document.activeElement.closest('.source-row').dataset.index") == "1"
    page.keyboard.press("Enter")
    expect(page.locator(".source-row")).to_have_count(1)
    # ... and back to the button after a source is removed, rather than lost to the page.
    expect(page.get_by_role("button", name="Add another source")).to_be_focused()

    expect(page.locator("#stage-preview li[data-side-name='Russia']")).to_have_text(
        "Russia: 161 of 500 (32.2\u00a0%)"
    )
    tab_to(page, "Publish")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator("#saved-stage")).to_contain_text("is reported.")


@pytest.mark.parametrize(
    "path",
    [
        "/editor",
        "/editor/exchanges/new",
        "/editor/exchanges/{slug}",
        "/editor/exchanges/{slug}/stages/new",
        "/editor/stages/{stage}",
        "/editor/stages/{stage}/history",
        "/editor/exchanges/{slug}/terms",
        "/editor/conflicts/russia-ukraine-war",
        "/editor/tokens",
    ],
)
def test_every_editor_control_is_reachable(page: Page, site: Site, path: str) -> None:
    slug = site.new_exchange(title="Swept exchange", stages=1)
    [stage] = site.stage_ids(slug)
    # A second revision, so that the history offers "Restore this version".
    site.edit_stage(stage, {"notes": "edited"})
    keyboard_sign_in(page, path.format(slug=slug, stage=stage))
    sweep(page)


def test_every_page_in_the_editors_menu(page: Page) -> None:
    """Pages reached from the editors' menu, whatever it lists as the editor grows: each passes
    axe-core and the keyboard sweep."""
    keyboard_sign_in(page, "/editor")
    menu = page.get_by_role("navigation", name="Editors").get_by_role("link")
    paths = [str(link.get_attribute("href")) for link in menu.all()]
    assert "/editor/exchanges/new" in paths
    for path in paths:
        page.goto(path)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        assert_accessible_in_both_schemes(page)
        sweep(page)
