"""Editors' journeys: a stage entered from a phone with the live preview, which the public page
and an embedded widget then show; a stage whose sources' counts confirm it; two editors who save
the same stage, where the second sees the conflict and loses nothing; the stage form's releases
and sources; a change to the deal and an official total; and how the stage form looks on a
phone and a desktop."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RESULTS, HostSite, NewContext
from tests.browser.embedding import LIVE_WITHIN, embed_js_page
from tests.browser.support import (
    EDITORS,
    PHONE,
    SCHEMES,
    Site,
    assert_accessible_in_both_schemes,
    keep_screenshot,
    sign_in,
)

# Fields an editor types into, and controls they tap: on phones, 16 px text (or the browser
# zooms in) and 44 px targets.
TAPPABLE = "#stage-form input:not([type=hidden]), #stage-form select, #stage-form button"
SIZES = """(selector) => [...document.querySelectorAll(selector)]
    .filter((el) => el.checkVisibility())
    .map((el) => {
        const box = el.getBoundingClientRect();
        const label = el.type === "checkbox" ? document.querySelector(`label[for="${el.id}"]`)
            .getBoundingClientRect() : box;
        return {id: el.id || el.textContent.trim(), font: parseFloat(getComputedStyle(el).fontSize),
                height: Math.max(box.height, label.height), type: el.type};
    })"""


def preview_line(party: str) -> str:
    return f"#stage-preview li[data-side-name='{party}']"


def fill_source(page: Page, *, url: str, publisher: str, claim: str) -> None:
    row = page.locator(".source-row").first
    row.get_by_label("Address (http or https)").fill(url)
    row.get_by_label("Publisher (the outlet)").fill(publisher)
    row.get_by_label("Published on").fill("2025-05-22")
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
    phone.get_by_label("Date", exact=True).fill("2025-05-22")
    fill_source(
        phone,
        url="https://news.example.org/day-2",
        publisher="Example Wire",
        claim="150 soldiers and 30 civilians each way",
    )
    expect(phone.get_by_label("Same numbers for both sides")).to_be_checked()
    first = phone.get_by_role("group", name="Release 1")
    expect(first.get_by_label("Released by")).to_have_value("russia")
    expect(first.get_by_label("Received by")).to_have_value("ukraine")
    phone.locator("#f-release_0_military").fill("150")
    # The civilians are not known yet, so the tally is a lower bound until they are typed.
    expect(preview).to_have_text("Ukraine: at least 270 of 500 (54.0\u00a0%)")
    phone.locator("#f-release_0_civilian").fill("30")
    expect(preview).to_have_text("Ukraine: 300 of 500 (60.0\u00a0%)")
    expect(phone.locator(preview_line("Russia"))).to_have_text("Russia: 300 of 500 (60.0\u00a0%)")
    expect(phone.locator(".derived-status")).to_have_text("Status once saved: reported")

    # Publishing a stage whose only source is the press waits for the editor to confirm.
    phone.get_by_role("button", name="Publish", exact=True).click()
    check = phone.locator("#confirm-publish")
    expect(check).to_be_focused()
    expect(check.locator("li")).to_have_text([re.compile("^No source speaks for a side")])
    keep_screenshot(phone, RESULTS / "editor-pages" / "check-before-publishing-en-light.png")
    check.get_by_role("button", name="Publish", exact=True).click()
    expect(check.locator(".error")).to_have_text(
        "tick this to publish with these warnings, or save a draft"
    )
    check.get_by_label("I have checked these, publish anyway").check()
    check.get_by_role("button", name="Publish", exact=True).click()
    expect(phone).to_have_url(
        re.compile(rf"/editor/exchanges/{slug}\?saved=1&stage=\d+#stage-\d+$")
    )
    expect(phone.get_by_role("status")).to_have_text("Saved.")
    expect(phone.locator("#saved-stage")).to_have_text("The stage of 22 May 2025 is reported.")
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


def test_sources_counts_confirm_a_stage(page: Page, site: Site) -> None:
    """Each side's announcer gives the count the releases hold: the stage is confirmed."""
    slug = site.new_exchange(title="Confirmed by both")
    sign_in(page, next_path=f"/editor/exchanges/{slug}/stages/new")
    page.locator("#f-release_0_military").fill("100")
    page.locator("#f-release_0_civilian").fill("0")
    announcers = [("russia", "Russian Defence Ministry"), ("ukraine", "Coordination Headquarters")]
    page.get_by_role("button", name="Add another source").click()
    for index, (party, announcer) in enumerate(announcers):
        row = page.locator(".source-row").nth(index)
        row.get_by_label("Address (http or https)").fill(f"https://news.example.org/{party}")
        row.get_by_label("Publisher (the outlet)").fill("Example Wire")
        row.get_by_label("Announcer (who is quoted)").fill(announcer)
        row.get_by_label("Speaks for").select_option(party)
        for number, received in enumerate(("ukraine", "russia")):
            row.get_by_role("button", name="Add a count").click()
            count = row.get_by_role("group", name=f"Count {number + 1}")
            expect(count.get_by_label("Received by")).to_be_focused()
            count.get_by_label("Received by").select_option(received)
            count.get_by_label("People in all").fill("100")
    # The preview follows each keystroke; on a loaded machine the last one may come late.
    derived = page.locator(".derived-status")
    expect(derived).to_have_text("Status once saved: confirmed", timeout=30_000)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#saved-stage")).to_contain_text("is confirmed.")


def test_stage_form_errors_sit_beside_their_field(page: Page, site: Site) -> None:
    slug = site.new_exchange(title="Typo exchange")
    sign_in(page, next_path=f"/editor/exchanges/{slug}/stages/new")
    page.locator("#f-release_0_military").fill("12o")
    page.locator("#f-release_0_civilian").fill("100001")
    page.get_by_role("button", name="Publish", exact=True).click()
    military = page.locator("#f-release_0_military")
    expect(military).to_have_attribute("aria-invalid", "true")
    expect(military).to_have_value("12o")
    expect(page.locator("#error-release_0_military")).to_have_text(
        "enter a whole number, or leave it empty if not disclosed"
    )
    expect(page.locator("#error-release_0_civilian")).to_have_text("must be at most 100000")
    expect(page.locator("#error-sources")).to_have_text(
        "a published stage needs at least one source"
    )
    # Release 2 copies release 1 ("same numbers") in hidden fields: the typos are counted once.
    expect(page.locator("#stage-preview .error")).to_have_text("3 fields need attention:")
    expect(page.get_by_role("group", name="Release 2")).to_be_hidden()
    # The summary at the top has focus, and each of its links takes the editor to the field.
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("3 fields need attention")
    summary.get_by_role("link", name=re.compile("^Release 1 · Civilians")).click()
    expect(page.locator("#f-release_0_civilian")).to_be_focused()


def test_two_editors_same_figure_second_chooses_between_both(
    new_context: NewContext, site: Site
) -> None:
    slug = site.new_exchange(title="Contested correction")
    [stage_id] = site.stage_ids(slug)
    first, second = new_context().new_page(), new_context().new_page()
    sign_in(first, EDITORS[0], next_path=f"/editor/stages/{stage_id}")
    sign_in(second, EDITORS[1], next_path=f"/editor/stages/{stage_id}")
    for page in (first, second):
        expect(page.get_by_role("heading", level=1)).to_have_text("Edit stage")

    first.locator("#f-release_0_military").fill("110")
    first.get_by_label(re.compile("^Reason for the change")).fill("Ministry corrected its count")
    first.get_by_role("button", name="Publish changes").click()
    expect(first.get_by_role("status")).to_have_text("Saved.")

    second.locator("#f-release_0_military").fill("130")
    second.get_by_label("Notes").fill("Second editor's note")
    second.get_by_label(re.compile("^Reason for the change")).fill("Zelensky gave 130")
    second.get_by_role("button", name="Publish changes").click()

    alert = second.get_by_role("alert")
    expect(alert).to_contain_text("Someone else saved this first")
    expect(alert).to_contain_text(f"{EDITORS[0]} saved it on")
    clash = alert.locator(".clash")
    expect(clash.locator("legend")).to_have_text("Released")
    expect(clash.locator(".clash-value").first).to_contain_text("130 military")
    expect(clash.locator(".clash-value").last).to_contain_text("110 military")
    # Everything the second editor typed is still in the form.
    expect(second.locator("#f-release_0_military")).to_have_value("130")
    expect(second.get_by_label("Notes")).to_have_value("Second editor's note")
    reader = new_context().new_page()
    reader.goto(f"/exchanges/{slug}")
    expect(reader.locator(".side-tally[data-side='a'] .breakdown")).to_contain_text("military 110")

    # Having compared, the second editor keeps their own figure.
    second.get_by_label("Keep yours").check()
    second.get_by_role("button", name="Publish changes").click()
    expect(second.get_by_role("status")).to_have_text("Saved.")
    reader.reload()
    expect(reader.locator(".side-tally[data-side='a'] .breakdown")).to_contain_text("military 130")
    second.goto(f"/editor/stages/{stage_id}/history")
    history = second.locator("ol.history > li")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("Zelensky gave 130")
    expect(history.nth(1)).to_contain_text("Ministry corrected its count")


def test_two_editors_different_fields_both_keep_their_change(
    new_context: NewContext, site: Site
) -> None:
    slug = site.new_exchange(title="Merged edits")
    [stage_id] = site.stage_ids(slug)
    first, second = new_context().new_page(), new_context().new_page()
    sign_in(first, EDITORS[0], next_path=f"/editor/stages/{stage_id}")
    sign_in(second, EDITORS[1], next_path=f"/editor/stages/{stage_id}")
    first.get_by_label("Notes").fill("First editor's note")
    first.get_by_role("button", name="Publish changes").click()
    expect(first.get_by_role("status")).to_have_text("Saved.")

    second.locator("#f-release_0_military").fill("130")
    second.get_by_label(re.compile("^Reason for the change")).fill("Zelensky gave 130")
    second.get_by_role("button", name="Publish changes").click()
    expect(second.locator("#merged")).to_contain_text("Notes")
    second.goto(f"/editor/stages/{stage_id}")
    expect(second.get_by_label("Notes")).to_have_value("First editor's note")
    expect(second.locator("#f-release_0_military")).to_have_value("130")


def test_same_numbers_toggles_the_second_release(page: Page, site: Site) -> None:
    slug = site.new_exchange(title="Mirrored releases")
    sign_in(page, next_path=f"/editor/exchanges/{slug}/stages/new")
    same = page.get_by_label("Same numbers for both sides")
    second = page.get_by_role("group", name="Release 2")
    expect(second).to_be_hidden()
    same.uncheck()
    expect(second).to_be_visible()
    expect(second.get_by_label("Released by")).to_have_value("ukraine")
    page.locator("#f-release_1_military").fill("7")
    same.check()
    expect(second).to_be_hidden()


def test_releases_and_sources_added_and_removed(page: Page, site: Site) -> None:
    slug = site.new_exchange(title="Three sources")
    sign_in(page, next_path=f"/editor/exchanges/{slug}/stages/new")
    releases = page.locator("#release-rows > .release-row")
    expect(releases).to_have_count(2)  # the spare row is for editors without a script
    page.get_by_role("button", name="Add another release").click()
    expect(releases).to_have_count(3)
    expect(releases.nth(2)).to_have_accessible_name("Release 3")
    expect(releases.nth(2).get_by_label("Received by")).to_be_focused()
    releases.nth(2).get_by_label("Released by").select_option("russia")
    releases.nth(2).get_by_label("Received by").select_option("ukraine")
    releases.nth(2).get_by_label("People in all").fill("31")
    releases.nth(2).get_by_label(re.compile("^Outside the deal")).check()

    add = page.get_by_role("button", name="Add another source")
    add.click()
    add.click()
    rows = page.locator("#source-rows > .source-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(2)).to_have_accessible_name("Source 3")
    rows.nth(1).get_by_role("button", name="Remove this source").click()
    expect(rows).to_have_count(2)
    add.click()
    expect(rows).to_have_count(3)
    fields = page.locator(".source-row input, .source-row select")
    ids = fields.evaluate_all("fields => fields.map(f => f.id)")
    assert len(ids) == len(set(ids)) == 21, f"source fields share ids: {sorted(ids)}"
    for field in fields.all():
        expect(field).to_have_accessible_name(re.compile(r"\S"))
    rows.nth(2).get_by_role("button", name="Remove this source").click()
    expect(rows).to_have_count(2)
    for index, url in enumerate(("https://a.example.org/1", "https://b.example.org/2")):
        rows.nth(index).get_by_label("Address (http or https)").fill(url)
        rows.nth(index).get_by_label("Publisher (the outlet)").fill(f"Outlet {index + 1}")
    rows.nth(0).get_by_label("Speaks for").select_option("ukraine")
    page.locator("#f-release_0_military").fill("12")
    page.locator("#f-release_0_civilian").fill("0")
    expect(page.locator(preview_line("Ukraine"))).to_have_text(
        "Ukraine: 132 of 500 (26.4\u00a0%) · plus 31 outside the deal"
    )
    page.get_by_role("button", name="Publish", exact=True).click()
    # 12 where the earlier stage had 120: worth a second look before it goes out.
    check = page.locator("#confirm-publish")
    expect(check.locator("li")).to_have_text([re.compile("^A count is far from those")])
    check.get_by_label("I have checked these, publish anyway").check()
    check.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.goto(f"/exchanges/{slug}")
    newest = page.locator(".stages article.stage").last
    expect(newest.locator(".sources a")).to_have_count(2)


def test_a_change_to_the_deal_and_an_official_total(page: Page, site: Site) -> None:
    slug = site.new_exchange(title="Extended deal", target=500)
    sign_in(page, next_path=f"/editor/exchanges/{slug}")
    page.get_by_role("link", name="Record a change to the deal").click()
    expect(page.get_by_label("Kind")).to_have_value("amendment")
    assert_accessible_in_both_schemes(page)
    page.get_by_label("In force from").fill("2025-05-23")
    page.get_by_label("What changed").fill("200 more each way")
    for party in ("Ukraine", "Russia"):
        page.get_by_role("group", name=f"{party} is to receive").get_by_label("People").fill("700")
    page.get_by_role("button", name="Save this version").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator(".editor-terms li").nth(1)).to_contain_text(
        "amendment · in force from 23 May 2025"
    )
    reader = page.context.new_page()
    reader.goto(f"/api/v1/exchanges/{slug}")
    assert '"kind":"amendment"' in reader.content().replace(" ", "")

    page.get_by_role("link", name="Russia-Ukraine war").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Russia-Ukraine war")
    assert_accessible_in_both_schemes(page)
    page.get_by_label("Party").select_option("ukraine")
    page.get_by_label("As of").fill("2026-03-11")
    page.get_by_label("Figure", exact=True).fill("8050")
    page.get_by_label("Address (http or https)").fill("https://news.example.org/koordshtab")
    page.get_by_label("Publisher (the outlet)").fill("Ukrinform")
    page.get_by_role("button", name="Save official total").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator(".editor-totals li").first).to_contain_text(
        "Ukraine: 8,050 people · as of 11 March 2026"
    )


@pytest.mark.parametrize(("width", "lang"), [(320, "uk"), (390, "en"), (1280, "en")])
def test_the_stage_form_fits_phones_and_desktops(
    new_context: NewContext, site: Site, width: int, lang: str
) -> None:
    """No sideways scrolling from 320 px (in Ukrainian, whose words are longer), errors shown;
    on phones, text of 16 px in inputs (or the browser zooms in) and targets of 44 px."""
    slug = site.new_exchange(title="Looked at")
    phone = width < 640
    options = {"viewport": {"width": width, "height": 900}, "is_mobile": phone}
    page = new_context(**options, has_touch=phone).new_page()
    sign_in(page)
    page.goto(f"/editor/exchanges/{slug}/stages/new?lang={lang}")
    page.locator("#f-release_0_military").fill("12o")
    page.locator("#f-release_0_civilian").fill("30")
    page.locator("#stage-form button.primary").click()
    expect(page.locator("#error-release_0_military")).to_be_visible()
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        used = page.evaluate("() => document.documentElement.scrollWidth")
        assert used <= width, f"the stage form scrolls sideways at {width} px ({used} px)"
    if phone:
        sizes = page.evaluate(SIZES, TAPPABLE)
        small_text = [s for s in sizes if s["type"] != "checkbox" and s["font"] < 16]
        small_targets = [s for s in sizes if s["height"] < 44]
        assert (len(sizes), small_text, small_targets) == (28, [], [])
