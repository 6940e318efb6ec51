"""A reader's journey: dashboard, an exchange, the timeline's filters with htmx, Ukrainian."""

import re

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import NewContext

ISTANBUL = "Istanbul '1,000 for 1,000' exchange, 23-25 May 2025"
BODIES_SLUG = "2025-istanbul-2-bodies"
BODIES = "Repatriation of fallen soldiers under the Istanbul-2 deal, June 2025"


def results(page: Page) -> list[str]:
    """The dates of the stages listed, as the page shows them."""
    return page.locator("#timeline-results .stage-summary time").all_inner_texts()


def mark_document(page: Page) -> None:
    """A flag that a full page load would wipe: its survival shows htmx swapped in place."""
    page.evaluate("() => { window.stillTheSameDocument = true; }")


def same_document(page: Page) -> bool:
    return bool(page.evaluate("() => window.stillTheSameDocument === true"))


def test_dashboard_to_an_exchange(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Returned, by conflict")
    page.get_by_role("link", name=ISTANBUL).click()
    expect(page).to_have_url(re.compile(r"/exchanges/istanbul-1000-for-1000$"))
    tally = page.locator(".tally .side-tally[data-side='a'] .figure")
    expect(tally).to_contain_text("1,000 of 1,000 returned to Ukraine")
    expect(page.locator(".stages article.stage")).to_have_count(3)
    expect(page.get_by_role("group", name="People returned, cumulative, by stage")).to_be_visible()


def test_timeline_filters_address_back_and_shared_link(new_context: NewContext) -> None:
    page = new_context().new_page()
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Timeline").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Timeline of stages")
    mark_document(page)

    page.get_by_label("Exchange").select_option(label=BODIES)
    expect(page).to_have_url(re.compile(rf"/timeline\?.*exchange={BODIES_SLUG}"))
    expect(page.locator("#timeline-results .stage-summary")).to_have_count(5)
    by_exchange = results(page)
    filtered_url = page.url

    page.get_by_label("Status").select_option("reported")
    expect(page).to_have_url(re.compile(r"status=reported"))
    expect(page.locator("#timeline-results .stage-summary")).to_have_count(4)
    expect(page.locator("#timeline-results .badge")).to_have_text(["reported"] * 4)
    by_status = results(page)
    assert same_document(page), "a filter reloaded the whole page instead of htmx swapping it"

    page.go_back()
    expect(page).to_have_url(filtered_url)
    expect(page.locator("#timeline-results .stage-summary")).to_have_count(5)
    assert results(page) == by_exchange
    expect(page.get_by_label("Exchange")).to_have_value(BODIES_SLUG)
    expect(page.get_by_label("Status")).to_have_value("")

    page.go_forward()
    expect(page).to_have_url(re.compile(r"status=reported"))
    expect(page.locator("#timeline-results .stage-summary")).to_have_count(4)

    # The address, copied into another browser, reproduces the view and the form.
    shared = new_context().new_page()
    shared.goto(page.url)
    expect(shared.locator("#timeline-results .stage-summary")).to_have_count(4)
    assert results(shared) == by_status
    expect(shared.get_by_label("Exchange")).to_have_value(BODIES_SLUG)
    expect(shared.get_by_label("Status")).to_have_value("reported")


def test_search_as_you_type_and_clear(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/timeline")
    mark_document(page)
    page.get_by_label("Search titles, notes and sources").fill("azovstal")
    expect(page).to_have_url(re.compile(r"q=azovstal"))
    expect(page.locator("#timeline-results .stage-summary")).not_to_have_count(0)
    for text in page.locator("#timeline-results .stage-summary a").all_inner_texts():
        assert text, "a result without its exchange's title"
    page.get_by_label("Search titles, notes and sources").fill("no stage says this 9f3b")
    expect(page.locator("#timeline-results .empty")).to_have_text("No stage matches these filters.")
    assert same_document(page)


def test_switch_to_ukrainian(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/exchanges/istanbul-1000-for-1000")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Українська").click()
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.locator(".tally .side-tally[data-side='a'] .figure")).to_contain_text(
        "Україна: повернуто 1\u00a0000 з 1\u00a0000"  # the party's Ukrainian name
    )
    # The choice is remembered: the next page, reached by a link, is in Ukrainian too.
    main_menu = page.get_by_role("navigation", name="Головне меню")
    main_menu.get_by_role("link", name="Хронологія").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Хронологія етапів")
    expect(page.get_by_role("button", name="Фільтрувати")).to_be_visible()


def test_a_removed_filter_lands_on_the_new_count_with_a_clean_address(
    context: BrowserContext,
) -> None:
    page = context.new_page()
    page.goto(f"/timeline?exchange={BODIES_SLUG}&status=reported")
    count = page.locator("#result-count")
    expect(count).to_have_text("4 stages where")
    mark_document(page)
    page.get_by_role("link", name="Remove the filter Status: reported").click()
    expect(count).to_have_text("5 stages where")
    expect(count).to_be_focused()
    expect(page).to_have_url(re.compile(rf"/timeline\?exchange={BODIES_SLUG}$"))
    expect(page.locator("#timeline-results")).not_to_have_attribute("aria-busy", "true")
    assert same_document(page)
    # The form's empty fields never reach the address.
    page.get_by_label("Status").select_option("confirmed")
    expect(page).to_have_url(re.compile(rf"/timeline\?exchange={BODIES_SLUG}&status=confirmed$"))
