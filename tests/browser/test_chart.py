"""The exchange page's chart in Chromium at 300, 390 and 1280 px, in English and Ukrainian: its
text keeps one CSS size (at least 12 px) at every width, no two of its labels overlap, none sticks
out of the screen; each stage's point is reached by Tab and shows its date and figures;
"Show as table" opens the same figures. Screenshots in light and dark go to test-results/chart/
(with SCREENSHOTS=1)."""

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import RESULTS
from tests.browser.support import SCHEMES, Site, focus_is_visible, focused, keep_screenshot

ISTANBUL = "/exchanges/istanbul-1000-for-1000"  # equal figures both ways: the lines coincide
YEMEN = "/exchanges/2023-04-yemen-887-deal"  # long party names
BODIES = "/exchanges/2025-istanbul-2-bodies"  # a deal of remains: thousands of bodies
WIDTHS = (300, 390, 1280)

# Every text the chart shows now (the tips only on hover or focus): its class, its text, its
# computed font size and its box on the page.
TEXTS = """() => [...document.querySelectorAll("figure.chart svg text")].map((el) => {
  const box = el.getBoundingClientRect();
  return {
    kind: el.getAttribute("class"), text: el.textContent.trim(),
    size: getComputedStyle(el).fontSize, shown: el.checkVisibility(),
    box: [box.left, box.top, box.right, box.bottom],
  };
})"""


def _texts(page: Page) -> list[dict[str, Any]]:
    texts: list[dict[str, Any]] = page.evaluate(TEXTS)
    return texts


def _overlapping(shown: list[dict[str, Any]]) -> list[tuple[str, str]]:
    found = []
    for i, one in enumerate(shown):
        for other in shown[i + 1 :]:
            (l1, t1, r1, b1), (l2, t2, r2, b2) = one["box"], other["box"]
            if l1 < r2 and l2 < r1 and t1 < b2 and t2 < b1:
                found.append((one["text"], other["text"]))
    return found


@pytest.mark.parametrize("lang", ["en", "uk"])
def test_chart_text_keeps_its_size_and_labels_never_overlap(
    browser: Browser, site: Site, lang: str
) -> None:
    folder = RESULTS / "chart"
    sizes: dict[int, list[str]] = {}
    for width in WIDTHS:
        phone = width < 640
        context = browser.new_context(
            base_url=site.base_url,
            viewport={"width": width, "height": 900},
            is_mobile=phone,
            has_touch=phone,
        )
        try:
            page = context.new_page()
            for path in (ISTANBUL, YEMEN, BODIES):
                page.goto(f"{path}?lang={lang}")
                texts = _texts(page)
                shown = [t for t in texts if t["shown"]]
                kinds = {t["kind"].split()[0] for t in shown}
                assert kinds == {"tick", "target-label", "line-label"}, (width, path, kinds)
                assert all(float(t["size"].removesuffix("px")) >= 12 for t in texts), texts
                assert _overlapping(shown) == [], (width, path)
                frame = page.locator("figure.chart").bounding_box()
                assert frame is not None
                left, right = frame["x"] - 0.5, frame["x"] + frame["width"] + 0.5
                outside = [t["text"] for t in shown if t["box"][0] < left or t["box"][2] > right]
                assert outside == [], (width, path)
                if path == ISTANBUL:
                    sizes[width] = [t["size"] for t in texts]
                    dates = [t["text"] for t in shown if "date" in t["kind"]]
                    assert len(dates) == 3, dates  # the first, the middle and the last stage
                chart = page.locator("figure.chart")
                for scheme in SCHEMES:
                    page.emulate_media(color_scheme=scheme)
                    name = path.rsplit("/", 1)[-1]
                    keep_screenshot(chart, folder / f"{name}-{lang}-{scheme}-{width}.png")
        finally:
            context.close()
    assert sizes[300] == sizes[390] == sizes[1280]


def test_equal_lines_are_labelled_apart_with_their_final_figures(page: Page) -> None:
    page.goto(ISTANBUL)
    labels = page.locator("figure.chart .line-label")
    expect(labels).to_have_text(["Ukraine 1,000", "Russia 1,000"])
    expect(page.locator("figure.chart .target-label")).to_have_text(["target 1,000"])
    ukraine, russia = (labels.nth(i).bounding_box() for i in range(2))
    assert ukraine is not None
    assert russia is not None
    assert (
        ukraine["y"] + ukraine["height"] <= russia["y"]
        or russia["y"] + russia["height"] <= (ukraine["y"])
    )
    # Both coinciding lines show: side b dashed and thinner over side a, its points rings.
    style = """(selector) => { const s = getComputedStyle(document.querySelector(selector));
      return [s.strokeWidth, s.strokeDasharray, s.fill]; }"""
    assert page.evaluate(style, "polyline.series-a") == ["4px", "none", "none"]
    assert page.evaluate(style, "polyline.series-b") == ["2px", "7px, 5px", "none"]
    assert page.evaluate(style, "circle.marker-b")[2] == "none"
    assert page.evaluate(style, "circle.marker-a")[2] != "none"


def test_each_stage_point_is_reached_by_tab_and_shows_its_date(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{ISTANBUL}?lang=uk")
    (RESULTS / "chart").mkdir(parents=True, exist_ok=True)
    points = page.locator("figure.chart a.point")
    expect(points).to_have_count(3)
    expect(points.nth(0)).to_have_accessible_name("23 травня 2025 р.: Україна 390, Росія 390")
    page.locator("figure.chart figcaption").click()  # Tab from just before the chart
    for i in range(3):
        page.keyboard.press("Tab")
        expect(points.nth(i)).to_be_focused()
        ring = focused(page)
        assert ring is not None
        assert focus_is_visible(ring), ring
        tip = page.locator("figure.chart .tip").nth(i)
        expect(tip).to_be_visible()
        date = ["23 травня 2025 р.", "24 травня 2025 р.", "25 травня 2025 р."][i]
        expect(tip.locator(".tip-date")).to_have_text(date)
        keep_screenshot(page.locator("figure.chart"), RESULTS / "chart" / f"tip-{i}-uk-390.png")
    expect(page.locator("figure.chart .tip").nth(2).locator("tspan")).to_have_text(
        ["25 травня 2025 р.", "Україна", "1 000", "Росія", "1 000"]
    )
    page.keyboard.press("Tab")  # on past the last point: no trap
    expect(page.locator("figure.chart summary")).to_be_focused()
    expect(page.locator("figure.chart .tip").nth(2)).to_be_hidden()
    points.nth(1).locator("circle.marker-a").hover()
    expect(page.locator("figure.chart .tip").nth(1)).to_be_visible()


def test_show_as_table_opens_the_same_figures(page: Page) -> None:
    page.goto(ISTANBUL)
    table = page.locator("figure.chart details table")
    expect(table).to_be_hidden()
    page.get_by_text("Show as table").click()
    expect(table).to_be_visible()
    expect(table.locator("thead th")).to_have_text(["Date", "Ukraine", "Russia"])
    expect(table.locator("tbody tr")).to_have_text(
        ["23 May 2025 390 390", "24 May 2025 697 697", "25 May 2025 1,000 1,000"],
        use_inner_text=True,
    )
