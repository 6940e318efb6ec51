"""axe-core on every kind of page, in light and then dark colours: no serious or critical
violations."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import NewContext
from tests.browser.support import (
    ADMIN,
    EDITORS,
    Site,
    assert_accessible_in_both_schemes,
    sign_in,
)


@pytest.fixture(scope="module")
def stage_under_test(site: Site) -> tuple[str, int]:
    slug = site.new_exchange(title="Accessible exchange", stages=2)
    return slug, site.stage_ids(slug)[0]


def _signed_in(browser: Any, site: Site, email: str) -> dict[str, Any]:
    """A signed-in account's cookies, so that each page below need not sign in again."""
    context = browser.new_context(base_url=site.base_url)
    page = context.new_page()
    sign_in(page, email)
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


@pytest.fixture(scope="module")
def editor_state(browser: Any, site: Site) -> dict[str, Any]:
    return _signed_in(browser, site, EDITORS[0])


@pytest.fixture(scope="module")
def admin_state(browser: Any, site: Site) -> dict[str, Any]:
    return _signed_in(browser, site, ADMIN)


PUBLIC_PAGES = {
    "dashboard": "/",
    "exchange": "/exchanges/istanbul-1000-for-1000",
    "exchange with remains and disputes": "/exchanges/2025-istanbul-2-bodies",
    "timeline": "/timeline",
    "timeline filtered": "/timeline?exchange=2025-istanbul-2-bodies&status=reported",
    "timeline with an error": "/timeline?from=not-a-date",
    "timeline, empty": "/timeline?q=nothing-matches-this",
    "dashboard in Ukrainian": "/?lang=uk",
    "feed as a page": "/feed",
    "an exchange's feed in Ukrainian": "/exchanges/istanbul-1000-for-1000/feed?lang=uk",
    "login": "/login",
    "not found": "/exchanges/no-such-exchange",
}


@pytest.mark.parametrize("path", PUBLIC_PAGES.values(), ids=PUBLIC_PAGES.keys())
def test_public_pages(page: Page, path: str) -> None:
    page.goto(path)
    assert_accessible_in_both_schemes(page)


def test_login_with_an_error(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#error-password")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    assert_accessible_in_both_schemes(page)


def _new_stage(page: Page, slug: str, _stage: int) -> None:
    page.goto(f"/editor/exchanges/{slug}/stages/new")
    page.get_by_label("Same numbers for both sides").uncheck()  # both sides' fields shown
    page.get_by_role("button", name="Add another source").click()
    expect(page.locator(".source-row")).to_have_count(2)


def _stage_with_errors(page: Page, slug: str, _stage: int) -> None:
    page.goto(f"/editor/exchanges/{slug}/stages/new")
    page.locator("#f-release_0_military").fill("lots")
    page.get_by_label("Date").fill("2009-01-01")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#error-release_0_military")).to_be_visible()


def _stage_with_preview_warnings(page: Page, slug: str, _stage: int) -> None:
    page.goto(f"/editor/exchanges/{slug}/stages/new")
    page.get_by_label("Address (http or https)").fill("https://news.example.org/warn")
    page.get_by_label("Publisher (the outlet)").fill("Example Wire")
    page.locator("#f-release_0_military").fill("5000")
    page.locator("#f-release_0_civilian").fill("0")
    expect(page.locator("#stage-preview .warning").first).to_be_visible()


def _check_before_publishing(page: Page, slug: str, _stage: int) -> None:
    page.goto(f"/editor/exchanges/{slug}/stages/new")
    page.get_by_label("Address (http or https)").fill("https://news.example.org/check")
    page.get_by_label("Publisher (the outlet)").fill("Example Wire")
    page.locator("#f-release_0_military").fill("10")
    page.get_by_role("button", name="Publish", exact=True).click()
    check = page.locator("#confirm-publish")
    expect(check).to_be_focused()
    check.get_by_role("button", name="Publish", exact=True).click()  # unticked: an error
    expect(check.locator(".error")).to_be_visible()


def _conflict(page: Page, _slug: str, stage: int) -> None:
    page.goto(f"/editor/stages/{stage}")
    # Not the stored version (versions start at 1, so 0 is refused as a lost form): a conflict.
    page.locator("#stage-form input[name=version]").evaluate("input => { input.value = '9'; }")
    page.get_by_label("Notes").fill("stale edit")
    page.get_by_role("button", name="Publish changes").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _goto(path: str) -> Callable[[Page, str, int], None]:
    def visit(page: Page, slug: str, stage: int) -> None:
        page.goto(path.format(slug=slug, stage=stage))

    return visit


EDITOR_PAGES: dict[str, Callable[[Page, str, int], None]] = {
    "editor home": _goto("/editor"),
    "new exchange": _goto("/editor/exchanges/new"),
    "edit exchange": _goto("/editor/exchanges/{slug}"),
    "new stage": _new_stage,
    "stage with errors": _stage_with_errors,
    "stage preview warnings": _stage_with_preview_warnings,
    "check before publishing": _check_before_publishing,
    "edit stage": _goto("/editor/stages/{stage}"),
    "stage conflict": _conflict,
    "stage history": _goto("/editor/stages/{stage}/history"),
    "exchange history": _goto("/editor/exchanges/{slug}/history"),
    "api tokens": _goto("/editor/tokens"),
    "terms": _goto("/editor/exchanges/{slug}/terms"),
    "official totals": _goto("/editor/conflicts/russia-ukraine-war"),
    "import": _goto("/editor/import"),
    "password": _goto("/editor/password"),
}
ADMIN_PAGES = {
    "users": "/admin/users",
    "a user's password": "/admin/users/1/password",
    "deleted stages": "/admin/deleted",
}


@pytest.mark.parametrize("arrive", EDITOR_PAGES.values(), ids=EDITOR_PAGES.keys())
def test_editor_pages(
    new_context: NewContext,
    editor_state: dict[str, Any],
    stage_under_test: tuple[str, int],
    arrive: Callable[[Page, str, int], None],
) -> None:
    page = new_context(storage_state=editor_state).new_page()
    arrive(page, *stage_under_test)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible_in_both_schemes(page)


@pytest.mark.parametrize("path", ADMIN_PAGES.values(), ids=ADMIN_PAGES.keys())
def test_admin_pages(new_context: NewContext, admin_state: dict[str, Any], path: str) -> None:
    page = new_context(storage_state=admin_state).new_page()
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible_in_both_schemes(page)
