"""The same journeys with JavaScript switched off, where the pages promise to work without it:
filtering the timeline, signing in and entering a stage (htmx only enhances them)."""

import re

from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import NewContext
from tests.browser.support import PHONE, Site, sign_in

BODIES_SLUG = "2025-istanbul-2-bodies"


def without_js(new_context: NewContext, **options: object) -> BrowserContext:
    return new_context(java_script_enabled=False, **options)


def test_timeline_filters_without_javascript(new_context: NewContext) -> None:
    page = without_js(new_context).new_page()
    page.goto("/timeline")
    everything = page.locator("#timeline-results .stage-summary").count()
    page.get_by_label("Exchange").select_option(BODIES_SLUG)
    page.get_by_label("Status").select_option("reported")
    expect(page).to_have_url(re.compile(r"/timeline$"))  # nothing happens until the form is sent
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"exchange={BODIES_SLUG}.*status=reported"))
    # The seed's five Istanbul-2 body rounds: the last is disputed (1,245 or 1,248), four reported.
    expect(page.locator("#timeline-results .stage-summary")).to_have_count(4)
    expect(page.get_by_label("Status")).to_have_value("reported")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/timeline$"))
    expect(page.locator("#timeline-results .stage-summary")).to_have_count(everything)

    page.go_forward()
    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url(re.compile(r"/timeline$"))
    expect(page.get_by_label("Exchange")).to_have_value("")


def test_timeline_pages_without_javascript(new_context: NewContext, site: Site) -> None:
    slug = site.new_exchange(title="Many small stages", stages=53)  # a page holds 50
    page = without_js(new_context).new_page()
    page.goto(f"/timeline?exchange={slug}")
    stages = page.locator("#timeline-results .stage-summary")
    expect(stages).to_have_count(50)
    newest = stages.first.inner_text()
    page.get_by_role("link", name=re.compile("Older stages")).click()
    expect(page).to_have_url(re.compile(r"page="))
    expect(stages).to_have_count(3)
    expect(stages.first.locator("time")).to_have_attribute("datetime", "2025-05-23")
    page.get_by_role("link", name=re.compile("Newest")).click()
    expect(stages).to_have_count(50)
    expect(stages.first).to_have_text(newest)


def test_stage_entry_without_javascript(new_context: NewContext, site: Site) -> None:
    slug = site.new_exchange(title="No-script entry", target=500)
    page = without_js(new_context, viewport=PHONE).new_page()
    sign_in(page, next_path=f"/editor/exchanges/{slug}/stages/new")
    page.get_by_label("Date").fill("2025-05-22")
    # Different numbers each way: unticking "same" must show release 2 without a script.
    page.get_by_label("Same numbers for both sides").uncheck()
    expect(page.get_by_role("group", name="Release 2")).to_be_visible()
    page.locator("#f-release_0_military").fill("200")
    page.locator("#f-release_0_civilian").fill("5")
    page.locator("#f-release_1_military").fill("150")
    page.locator("#f-release_1_civilian").fill("0")
    row = page.locator(".source-row").first
    row.get_by_label("Address (http or https)").fill("https://news.example.org/no-script")
    row.get_by_label("Publisher (the outlet)").fill("Example Wire")
    # Buttons that only a script can work are not offered without one; a spare row is.
    expect(page.get_by_role("button", name="Add another source")).to_be_hidden()
    expect(page.get_by_role("button", name="Remove this source")).to_be_hidden()
    spare = page.locator("#source-rows > .source-row").nth(1)
    expect(spare.locator("legend").first).to_have_text("Source 2")
    spare.get_by_label("Address (http or https)").fill("https://news.example.org/second")
    spare.get_by_label("Publisher (the outlet)").fill("Second Wire")
    spare.get_by_label("Speaks for").select_option("independent")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    page.goto(f"/exchanges/{slug}")
    expect(page.get_by_role("link", name=re.compile("Second Wire"))).to_have_count(1)
    expect(page.locator(".side-tally[data-side='a'] .figure")).to_contain_text(
        "325 of 500 returned to Ukraine"
    )
    expect(page.locator(".side-tally[data-side='b'] .figure")).to_contain_text(
        "270 of 500 returned to Russia"
    )


def test_errors_without_javascript(new_context: NewContext, site: Site) -> None:
    slug = site.new_exchange(title="No-script typo")
    page = without_js(new_context).new_page()
    sign_in(page, next_path=f"/editor/exchanges/{slug}/stages/new")
    page.locator("#f-release_0_military").fill("-4")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#error-release_0_military")).to_have_text("must be at least 0")
    expect(page.locator("#f-release_0_military")).to_have_value("-4")


def test_embed_builder_without_javascript(new_context: NewContext, site: Site) -> None:
    slug = site.new_exchange(title="No-script builder")
    page = without_js(new_context).new_page()
    page.goto(f"/exchanges/{slug}")
    builder = page.locator("#embed")
    builder.get_by_label("View").select_option("chart")
    builder.get_by_label("Language").select_option("uk")
    builder.get_by_role("button", name="Update the code").click()
    expect(page).to_have_url(re.compile(r"embed_view=chart.*#embed$"))
    code = page.locator("#embed-code-script")
    expect(code).to_have_value(re.compile(r"view=chart"))
    expect(code).to_have_value(re.compile(r"lang=uk"))
    # Copying needs a script; without one the code is there to select by hand.
    expect(builder.locator("button[data-copy]")).to_have_count(4)
    for button in builder.locator("button[data-copy]").all():
        expect(button).to_be_hidden()
