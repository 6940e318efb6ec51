"""A journalist reaches the Istanbul exchange from the home page in two actions, with and without
JavaScript: a search and a click, or a sort and a click."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import NewContext

ISTANBUL = "Istanbul '1,000 for 1,000' exchange, 23-25 May 2025"
ISTANBUL_PAGE = re.compile(r"/exchanges/istanbul-1000-for-1000$")


def mark_document(page: Page) -> None:
    page.evaluate("() => { window.stillTheSameDocument = true; }")


@pytest.mark.parametrize("javascript", [True, False])
def test_search_then_click_reaches_istanbul(new_context: NewContext, javascript: bool) -> None:
    page = new_context(java_script_enabled=javascript).new_page()
    page.goto("/")
    if javascript:
        mark_document(page)
    page.get_by_label("Search titles").fill("istanbul '1,000")
    page.get_by_role("button", name="Search").click()  # action one
    expect(page).to_have_url(re.compile(r"/\?q=istanbul"))
    expect(page.locator("#exchange-table .matching")).to_contain_text("1 exchange where")
    if javascript:  # htmx swapped just the table
        assert page.evaluate("() => window.stillTheSameDocument === true")
    page.locator("#exchange-table").get_by_role("link", name=ISTANBUL).click()  # action two
    expect(page).to_have_url(ISTANBUL_PAGE)


@pytest.mark.parametrize("javascript", [True, False])
def test_sort_by_title_toggles_and_reaches_istanbul(
    new_context: NewContext, javascript: bool
) -> None:
    page = new_context(java_script_enabled=javascript).new_page()
    page.goto("/")
    header = page.locator("#exchange-table th").filter(has_text="Title")
    header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/\?sort=title&order=asc$"))
    header = page.locator("#exchange-table th").filter(has_text="Title")
    expect(header).to_have_attribute("aria-sort", "ascending")
    titles = page.locator("#exchange-table tbody td:nth-of-type(2)").all_inner_texts()
    assert titles == sorted(titles, key=str.casefold)
    header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/\?sort=title&order=desc$"))
    expect(page.locator("#exchange-table th[aria-sort]")).to_have_attribute(
        "aria-sort", "descending"
    )
    descending = page.locator("#exchange-table tbody td:nth-of-type(2)").all_inner_texts()
    # A page holds 50: the descending page starts where the ascending one could not reach.
    assert descending == sorted(descending, key=str.casefold, reverse=True)
    assert descending[0].casefold() >= titles[-1].casefold()
    page.locator("#exchange-table").get_by_role("link", name=ISTANBUL).click()
    expect(page).to_have_url(ISTANBUL_PAGE)


def test_a_ukrainian_reader_finds_a_ukrainian_title(new_context: NewContext) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/?lang=uk")
    # Other tests of this site may add exchanges with English titles only: take a Ukrainian one.
    titles = page.locator("#exchange-table tbody td:nth-of-type(2)").all_inner_texts()
    first = next(title for title in titles if re.search("[а-яіїєґ]", title, re.IGNORECASE))
    page.get_by_label("Пошук за назвою").fill(first.split()[0].lower())
    page.get_by_role("button", name="Пошук", exact=True).click()
    expect(page).to_have_url(re.compile(r"/\?q=%"))  # Cyrillic, percent-encoded
    expect(page.locator("#exchange-table tbody tr").filter(has_text=first)).to_have_count(1)
