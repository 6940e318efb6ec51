"""An editor on a 390 px phone enters and publishes the 24 May 2025 stage of the Istanbul
exchange (307 each way, two sources, one of them Moscow's figures), every control reached by
thumb and nothing off screen. The test counts the steps (each tap, choice or typed field) and
writes the count (also a property of the test in the JUnit report), with screenshots, under
test-results/journey/."""

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import RESULTS, NewContext
from tests.browser.support import EDITORS, PASSWORD, Site

WIDTH = 390
PHONE: dict[str, Any] = {
    "viewport": {"width": WIDTH, "height": 844}, "is_mobile": True, "has_touch": True,
}  # fmt: skip
# Most steps a newsroom editor should need for a two-party stage with two sources.
STEP_BUDGET = 20
# Where the control is, once the browser has scrolled it into view for the thumb.
BOX = """(el) => {
  const box = el.getBoundingClientRect();
  const label = el.id && document.querySelector(`label[for="${el.id}"]`);
  const tall = ["checkbox", "radio"].includes(el.type) && label
    ? Math.max(box.height, label.getBoundingClientRect().height) : box.height;
  const hit = document.elementFromPoint((box.left + box.right) / 2, (box.top + box.bottom) / 2);
  const covered = !(el.contains(hit) || (label && label.contains(hit)));
  return {left: box.left, right: box.right, top: box.top, bottom: box.bottom, height: tall,
          covered, innerHeight: window.innerHeight,
          scrollWidth: document.documentElement.scrollWidth};
}"""


class Journey:
    """The editor's steps, each checked for a thumb: on screen, 44 px tall, no sideways scroll."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.steps: list[str] = []
        self.folder = RESULTS / "journey"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _reach(self, control: Locator, what: str) -> None:
        control.scroll_into_view_if_needed()
        box = control.evaluate(BOX)
        assert box["left"] >= 0, f"{what} is off screen: {box}"
        assert box["right"] <= WIDTH, f"{what} is off screen: {box}"
        assert box["top"] >= 0, f"{what} is out of view: {box}"
        assert box["bottom"] <= box["innerHeight"], f"{what} is out of view: {box}"
        assert not box["covered"], f"{what} is covered (by the tally?): {box}"
        assert box["height"] >= 44, f"{what} is {box['height']} px tall: too small for a thumb"
        assert box["scrollWidth"] <= WIDTH, f"the page scrolls sideways at {what}: {box}"
        self.steps.append(what)

    def tap(self, control: Locator, what: str) -> None:
        self._reach(control, what)
        control.tap()

    def fill(self, control: Locator, value: str, what: str) -> None:
        self._reach(control, what)
        control.fill(value)

    def choose(self, control: Locator, value: str, what: str) -> None:
        self._reach(control, what)
        control.select_option(value)

    def shoot(self, name: str) -> None:
        self.page.screenshot(path=self.folder / f"{len(self.steps):02d}-{name}.png")


def test_an_editor_on_a_phone_publishes_the_24_may_2025_stage(
    new_context: NewContext, site: Site, record_property: Callable[[str, object], None]
) -> None:
    slug = site.new_exchange(title="Istanbul 1,000 for 1,000", target=1000, stages=0)
    page = new_context(**PHONE).new_page()
    page.goto(f"/login?next=/editor/exchanges/{slug}/stages/new")
    journey = Journey(page)
    journey.fill(page.get_by_label("Email"), EDITORS[0], "email")
    journey.fill(page.get_by_label("Password"), PASSWORD, "password")
    journey.tap(page.get_by_role("button", name="Sign in"), "sign in")
    expect(page.get_by_role("heading", level=1)).to_have_text("New stage")
    signing_in = len(journey.steps)
    journey.shoot("new-stage")

    journey.fill(page.get_by_label("Date", exact=True), "2025-05-24", "date")
    first = page.get_by_role("group", name="Release 1")
    # Returned to Ukraine by Russia, as pre-filled; "same numbers both ways" is ticked.
    expect(first.get_by_label("Received by")).to_have_value("ukraine")
    expect(page.get_by_label("Same numbers for both sides")).to_be_checked()
    journey.fill(first.get_by_label("Military"), "307", "released: military")
    journey.fill(first.get_by_label("Civilians"), "0", "released: civilians")
    preview = page.locator("#stage-preview")
    expect(preview.locator("li[data-party]")).to_have_text(
        ["Ukraine: 307 of 1,000 (30.7\u00a0%)", "Russia: 307 of 1,000 (30.7\u00a0%)"]
    )
    journey.shoot("figures")

    sources = page.locator("#source-rows > .source-row")
    kyiv = sources.nth(0)
    journey.fill(
        kyiv.get_by_label("Address (http or https)"),
        "https://babel.ua/en/news/118245-ukraine-returns-307-people-from-captivity-this-is-the"
        "-second-prisoner-exchange-in-the-1000-for-1000-format",
        "source 1: address",
    )
    journey.fill(kyiv.get_by_label("Publisher (the outlet)"), "Babel", "publisher")
    journey.fill(
        kyiv.get_by_label("Announcer (who is quoted)"), "Coordination Headquarters", "announcer"
    )
    journey.choose(kyiv.get_by_label("Speaks for"), "ukraine", "speaks for Ukraine")
    journey.tap(kyiv.get_by_text("Gives the figures above"), "gives the figures above")
    journey.tap(page.get_by_role("button", name="Add another source"), "add a source")
    expect(sources).to_have_count(2)
    moscow = sources.nth(1)
    journey.fill(
        moscow.get_by_label("Address (http or https)"),
        "https://unn.ua/en/news/russia-announced-the-second-round-of-prisoner-exchange-with"
        "-ukraine-in-the-format-of-307-for-307",
        "source 2: address",
    )
    journey.fill(moscow.get_by_label("Publisher (the outlet)"), "UNN", "publisher")
    journey.fill(
        moscow.get_by_label("Announcer (who is quoted)"), "Russian Defence Ministry", "announcer"
    )
    journey.choose(moscow.get_by_label("Speaks for"), "russia", "speaks for Russia")
    journey.tap(moscow.get_by_text("Gives the figures above"), "gives the figures above")
    # The tally stays in view while typing, and says the stage will be confirmed.
    expect(preview.locator(".derived-status")).to_have_text(
        "Status once saved: confirmed", timeout=30_000
    )
    box = preview.evaluate("(el) => el.getBoundingClientRect().bottom")
    assert box <= PHONE["viewport"]["height"], "the tally is out of view while typing"
    journey.shoot("sources")

    journey.tap(page.get_by_role("button", name="Publish", exact=True), "publish")
    expect(page).to_have_url(re.compile(rf"/editor/exchanges/{slug}\?saved=1&stage=\d+"))
    expect(page.locator("#saved-stage")).to_have_text("The stage of 24 May 2025 is confirmed.")
    journey.shoot("published")

    stage = site.api("GET", f"/api/v1/exchanges/{slug}")["stages"][0]
    assert [(r["received_by"], r["people"]) for r in stage["releases"]] == [
        ("ukraine", 307), ("russia", 307),
    ]  # fmt: skip
    assert [s["publisher"] for s in stage["sources"]] == ["Babel", "UNN"]
    assert [len(s["figures"]) for s in stage["sources"]] == [2, 2]
    entering = len(journey.steps) - signing_in
    report = f"{entering} steps to enter and publish the stage (+{signing_in} to sign in)"
    (journey.folder / "steps.txt").write_text(
        report + "\n" + "\n".join(journey.steps) + "\n", encoding="utf-8"
    )
    record_property("steps", entering)
    assert entering <= STEP_BUDGET, journey.steps


def test_in_ukrainian_moscows_different_count_is_shown_disputed_and_confirmed_before_publishing(
    new_context: NewContext, site: Site
) -> None:
    """The same stage in Ukrainian, but Moscow's announcer gives 300 where Kyiv's gives the
    releases' 307: the status turns disputed as it is typed, saying who says what, and
    publishing waits until the editor confirms it."""
    slug = site.new_exchange(title="Istanbul, in Ukrainian", target=1000, stages=0)
    page = new_context(**PHONE, locale="uk-UA").new_page()
    page.goto(f"/login?next=/editor/exchanges/{slug}/stages/new?lang=uk")
    page.locator("#email").fill(EDITORS[0])
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Новий етап")
    journey = Journey(page)
    journey.fill(page.locator("#f-date"), "2025-05-24", "дата")
    journey.fill(page.locator("#f-release_0_military"), "307", "військові")
    journey.fill(page.locator("#f-release_0_civilian"), "0", "цивільні")
    journey.fill(page.locator("#f-source_0_url"), "https://babel.ua/en/news/118245", "адреса")
    journey.fill(page.locator("#f-source_0_publisher"), "Babel", "видання")
    journey.choose(page.locator("#f-source_0_speaks_for"), "ukraine", "від України")
    journey.tap(page.get_by_text("Подає ті самі дані, що вище"), "ті самі дані")
    journey.tap(page.get_by_role("button", name="Додати ще джерело"), "ще джерело")
    moscow = page.locator("#source-rows > .source-row").nth(1)
    journey.fill(moscow.locator("input[type=url]"), "https://unn.ua/en/news/307", "адреса")
    journey.fill(moscow.locator("input[name$=_publisher]"), "UNN", "видання")
    journey.fill(moscow.locator("input[name$=_announcer]"), "Міноборони РФ", "речник")
    journey.choose(moscow.locator("select[name$=_speaks_for]"), "russia", "від Росії")
    journey.tap(moscow.get_by_role("button", name="Додати ще число"), "ще число")
    count = moscow.locator(".figure-row").first
    journey.choose(count.locator("select[name$=_received_by]"), "ukraine", "кому")
    journey.fill(count.locator("input[name$=_people]"), "300", "усього людей")
    status = page.locator("#stage-preview .derived-status")
    expect(status).to_contain_text("оспорюється", timeout=30_000)
    expect(status).to_contain_text("Міноборони РФ: 300")
    journey.shoot("uk-disputed")

    journey.tap(page.locator("#stage-form button.primary"), "опублікувати")
    check = page.locator("#confirm-publish")
    expect(check).to_be_focused()
    expect(check.locator("li")).to_have_text(
        ["Дані джерел розходяться: читачі бачитимуть цей етап як спірний."]
    )
    journey.shoot("uk-check")
    journey.tap(check.get_by_text("Я все перевірив(ла), опублікувати"), "перевірив(ла)")
    journey.tap(check.locator("button.primary"), "опублікувати")
    expect(page).to_have_url(re.compile(rf"/editor/exchanges/{slug}\?saved=1&stage=\d+"))
    stage = site.api("GET", f"/api/v1/exchanges/{slug}")["stages"][0]
    assert (stage["status"], stage["published"]) == ("disputed", True)
    assert [f["people"] for s in stage["sources"] for f in s["figures"]] == [307, 307, 300]
