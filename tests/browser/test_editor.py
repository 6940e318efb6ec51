"""Editors' journeys: a stage entered from a phone with the live preview, which the public page
and an embedded widget then show; two editors who save the same stage, where the second sees the
conflict and loses nothing; the stage form's sides and sources."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import HostSite, NewContext
from tests.browser.embedding import LIVE_WITHIN, embed_js_page
from tests.browser.support import EDITORS, PHONE, Site, sign_in


def preview_line(side: str) -> str:
    return f"#stage-preview li[data-side-name='{side}']"


def fill_source(page: Page, *, url: str, publisher: str, claim: str) -> None:
    row = page.locator(".source-row").first
    row.get_by_label("Address (http or https)").fill(url)
    row.get_by_label("Who said it").fill(publisher)
    row.get_by_label("When").fill("2025-05-22")
    row.get_by_label("What they said, in one line").fill(claim)


def test_phone_editor_adds_a_stage_with_live_preview(
    new_context: NewContext, site: Site, host_site: HostSite
) -> None:
    slug = site.new_exchange(title="Phone entry exchange", target=500)
    # A newsroom's article on another origin already embeds the tally.
    article = new_context().new_page()
    article.goto(embed_js_page(host_site, site.base_url, slug))
    embedded = article.frame_locator("iframe").first.locator(".st-side[data-side='a'] .st-figure")
    expect(embedded).to_contain_text("120 of 500 returned to Ukraine")
    article.evaluate("() => { window.stillTheSameDocument = true; }")

    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()

    # Straight to the form: the editor is sent to sign in first, then brought back.
    phone.goto(f"/editor/exchanges/{slug}/stages/new")
    expect(phone).to_have_url(re.compile(r"/login\?next="))
    phone.get_by_label("Email").fill(EDITORS[0])
    phone.get_by_label("Password").fill("correct horse battery staple")
    phone.get_by_role("button", name="Sign in").click()
    expect(phone).to_have_url(re.compile(rf"/editor/exchanges/{slug}/stages/new$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("New stage")
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the stage form scrolls sideways on a phone ({width} px)"

    preview = phone.locator(preview_line("Ukraine"))
    expect(preview).to_have_text("Ukraine: 120 of 500 (24.0\u00a0%)")
    phone.get_by_label("Date").fill("2025-05-22")
    phone.get_by_label("Status").select_option("confirmed")
    fill_source(
        phone,
        url="https://news.example.org/day-2",
        publisher="Example Wire",
        claim="150 soldiers and 30 civilians each way",
    )
    expect(phone.get_by_label("Same numbers for both sides")).to_be_checked()
    phone.locator("#f-a_military").fill("150")
    # The civilians are not known yet, so the tally is a lower bound until they are typed.
    expect(preview).to_have_text("Ukraine: at least 270 of 500 (54.0\u00a0%)")
    phone.locator("#f-a_civilian").fill("30")
    expect(preview).to_have_text("Ukraine: 300 of 500 (60.0\u00a0%)")
    expect(phone.locator(preview_line("Russia"))).to_have_text("Russia: 300 of 500 (60.0\u00a0%)")

    phone.get_by_role("button", name="Save stage").click()
    expect(phone).to_have_url(re.compile(rf"/editor/exchanges/{slug}\?saved=1#stage-\d+$"))
    expect(phone.get_by_role("status")).to_have_text("Saved.")
    expect(phone.locator(".editor-stages li")).to_have_count(2)

    reader = new_context().new_page()
    reader.goto(f"/exchanges/{slug}")
    expect(reader.locator(".tally .side-tally[data-side='a'] .figure")).to_contain_text(
        "300 of 500 returned to Ukraine"
    )
    expect(reader.locator(".stages article.stage")).to_have_count(2)

    # The embedded widget catches up by itself: no reload of the article.
    expect(embedded).to_contain_text("300 of 500 returned to Ukraine", timeout=LIVE_WITHIN)
    assert article.evaluate("() => window.stillTheSameDocument === true")


def test_stage_form_errors_sit_beside_their_field(page: Page, site: Site) -> None:
    slug = site.new_exchange(title="Typo exchange")
    sign_in(page, next_path=f"/editor/exchanges/{slug}/stages/new")
    page.locator("#f-a_military").fill("12o")
    page.get_by_role("button", name="Save stage").click()
    military = page.locator("#f-a_military")
    expect(military).to_have_attribute("aria-invalid", "true")
    expect(military).to_have_value("12o")
    expect(page.locator("#error-a_military")).to_have_text(
        "enter a whole number, or leave it empty if not disclosed"
    )
    expect(page.locator("#error-sources")).to_have_text(
        "a published stage needs at least one source"
    )
    # Side B copies side A ("same numbers") in hidden fields: the typo is counted once.
    expect(page.locator("#stage-preview .error")).to_have_text("2 fields need attention.")


def test_two_editors_same_stage_second_sees_conflict(new_context: NewContext, site: Site) -> None:
    slug = site.new_exchange(title="Contested correction")
    [stage_id] = site.stage_ids(slug)
    first, second = new_context().new_page(), new_context().new_page()
    sign_in(first, EDITORS[0], next_path=f"/editor/stages/{stage_id}")
    sign_in(second, EDITORS[1], next_path=f"/editor/stages/{stage_id}")
    for page in (first, second):
        expect(page.get_by_role("heading", level=1)).to_have_text("Edit stage")

    first.locator("#f-a_military").fill("110")
    first.get_by_label(re.compile("^Reason for the change")).fill("Ministry corrected its count")
    first.get_by_role("button", name="Save stage").click()
    expect(first.get_by_role("status")).to_have_text("Saved.")

    second.locator("#f-a_military").fill("130")
    second.get_by_label("Notes").fill("Second editor's note")
    second.get_by_label(re.compile("^Reason for the change")).fill("Zelensky gave 130")
    second.get_by_role("button", name="Save stage").click()

    alert = second.get_by_role("alert")
    expect(alert).to_contain_text("Someone else saved this first")
    expect(alert.locator("pre.stored")).to_contain_text('"military": 110')
    # Everything the second editor typed is still in the form.
    expect(second.locator("#f-a_military")).to_have_value("130")
    expect(second.get_by_label("Notes")).to_have_value("Second editor's note")
    expect(second.get_by_label(re.compile("^Reason for the change"))).to_have_value(
        "Zelensky gave 130"
    )
    reader = new_context().new_page()
    reader.goto(f"/exchanges/{slug}")
    expect(reader.locator(".side-tally[data-side='a'] .breakdown")).to_contain_text("military 110")

    # Having compared, the second editor saves again on top of the first one's version.
    second.get_by_role("button", name="Save stage").click()
    expect(second.get_by_role("status")).to_have_text("Saved.")
    reader.reload()
    expect(reader.locator(".side-tally[data-side='a'] .breakdown")).to_contain_text("military 130")
    second.goto(f"/editor/stages/{stage_id}/history")
    history = second.locator("ol.history > li")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("Zelensky gave 130")
    expect(history.nth(1)).to_contain_text("Ministry corrected its count")


def test_same_numbers_toggles_side_b(page: Page, site: Site) -> None:
    slug = site.new_exchange(title="Mirrored sides")
    sign_in(page, next_path=f"/editor/exchanges/{slug}/stages/new")
    same = page.get_by_label("Same numbers for both sides")
    side_b = page.get_by_role("group", name="Returned to Russia")
    expect(side_b).to_be_hidden()
    same.uncheck()
    expect(side_b).to_be_visible()
    page.locator("#f-b_military").fill("7")
    same.check()
    expect(side_b).to_be_hidden()


def test_sources_added_and_removed(page: Page, site: Site) -> None:
    slug = site.new_exchange(title="Three sources")
    sign_in(page, next_path=f"/editor/exchanges/{slug}/stages/new")
    add = page.get_by_role("button", name="Add another source")
    add.click()
    add.click()
    rows = page.locator(".source-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(2)).to_have_accessible_name("Source 3")
    rows.nth(1).get_by_role("button", name="Remove this source").click()
    expect(rows).to_have_count(2)
    add.click()
    expect(rows).to_have_count(3)
    ids = page.locator(".source-row input").evaluate_all("inputs => inputs.map(i => i.id)")
    assert len(ids) == len(set(ids)) == 12, f"source fields share ids: {sorted(ids)}"
    for field in page.locator(".source-row input").all():
        expect(field).to_have_accessible_name(re.compile(r"\S"))
    rows.nth(2).get_by_role("button", name="Remove this source").click()
    expect(rows).to_have_count(2)
    for index, url in enumerate(("https://a.example.org/1", "https://b.example.org/2")):
        rows.nth(index).get_by_label("Address (http or https)").fill(url)
        rows.nth(index).get_by_label("Who said it").fill(f"Outlet {index + 1}")
    page.locator("#f-a_military").fill("12")
    page.locator("#f-a_civilian").fill("0")
    page.get_by_role("button", name="Save stage").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.goto(f"/exchanges/{slug}")
    newest = page.locator(".stages article.stage").last
    expect(newest.locator(".sources a")).to_have_count(2)
