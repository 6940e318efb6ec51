"""A journalist citing a stage: a deep link highlights it, its link and citation copy in a click,
and the footnote markers land on their sources."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import NewContext
from tests.browser.support import SCHEMES

ISTANBUL = "/exchanges/istanbul-1000-for-1000"


def test_a_deep_link_highlights_its_stage_in_light_and_dark(new_context: NewContext) -> None:
    page = new_context().new_page()
    page.goto(ISTANBUL)
    first, second = page.locator(".stage").all()[:2]
    stage = second.get_attribute("id")
    page.goto(f"{ISTANBUL}#{stage}")
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        target = second.evaluate("(el) => getComputedStyle(el).backgroundColor")
        other = first.evaluate("(el) => getComputedStyle(el).backgroundColor")
        assert target != other, scheme
        assert second.evaluate("(el) => getComputedStyle(el).borderLeftWidth") == "4px"
    expect(second).to_be_in_viewport()


def test_copying_a_stage_link_and_its_citation(new_context: NewContext) -> None:
    page = new_context(permissions=["clipboard-read", "clipboard-write"]).new_page()
    page.goto(ISTANBUL)
    stage = page.locator(".stage").first
    stage_id = stage.get_attribute("id")
    stage.get_by_role("button", name="Copy link").click()
    expect(stage.locator(".stage-tools .copy-status").first).to_have_text("Link copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.endswith(f"{ISTANBUL}#{stage_id}")

    stage.get_by_text("Cite this stage").click()
    stage.locator(".cite").get_by_role("button", name="Copy citation").click()
    citation = page.evaluate("() => navigator.clipboard.readText()")
    assert citation.startswith("Swap Tally, “Istanbul")
    assert f"{ISTANBUL}#{stage_id}, accessed " in citation


def test_a_journalist_reaches_istanbul_in_two_actions_and_cites_day_two_in_one(
    new_context: NewContext,
) -> None:
    page = new_context(permissions=["clipboard-read", "clipboard-write"]).new_page()
    page.goto("/")
    page.get_by_label("Search titles").fill("istanbul '1,000")
    page.get_by_role("button", name="Search").click()  # action one
    expect(page.locator("#exchange-table .matching")).to_contain_text("1 exchange where")
    page.locator("#exchange-table").get_by_role("link", name=re.compile("^Istanbul")).click()
    expect(page).to_have_url(re.compile(f"{ISTANBUL}$"))  # action two
    day2 = page.locator(".stage").filter(has=page.get_by_role("heading", name=re.compile("24 May")))
    day2.locator(".stage-tools").get_by_role("button", name="Copy citation").click()  # one
    expect(day2.locator(".stage-tools .copy-status").last).to_have_text("Citation copied")
    citation = page.evaluate("() => navigator.clipboard.readText()")
    stage_id = day2.get_attribute("id")
    source = day2.locator(".sources li a").first.get_attribute("href")
    assert "24 May 2025" in citation
    assert "(source: " in citation
    assert str(source) in citation
    assert f"{ISTANBUL}#{stage_id}, accessed " in citation


def test_a_footnote_marker_lands_on_its_source(new_context: NewContext) -> None:
    page = new_context().new_page()
    page.goto(ISTANBUL)
    marker = page.locator(".stage").first.locator(".markers a").first
    expect(marker).to_have_accessible_name(re.compile(r"^sources? 1(–\d+)?$"))
    marker.click()
    expect(page).to_have_url(re.compile(r"#source-\d+-1$"))
    href = marker.get_attribute("href")
    assert href is not None
    expect(page.locator(href)).to_be_in_viewport()
