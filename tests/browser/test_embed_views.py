"""The widget's views in a real browser at a phone's, a small and a wide column: compact stays
compact, the chart's text keeps its size, nothing overflows sideways, in light and dark."""

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import NewContext
from tests.browser.support import Site

SLUG = "istanbul-1000-for-1000"  # in the bundled seed: 1,000 for 1,000 over three days
WIDTHS = (300, 390, 640)

MEASURE = """() => {
  const figures = [...document.querySelectorAll('.st-figure')].map((p) => {
    const line = parseFloat(getComputedStyle(p).lineHeight);
    return Math.round(p.getBoundingClientRect().height / line);
  });
  const chart = [...document.querySelectorAll('.st-chart text')]
    .filter((t) => getComputedStyle(t).display !== 'none')
    .map((t) => getComputedStyle(t).fontSize);
  const target = document.querySelector('.st-chart .target-label');
  return {
    figureLines: figures,
    chartFonts: [...new Set(chart)],
    target: target ? target.textContent.trim() : null,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}"""


def measured(page: Page, site: Site, query: str) -> dict[str, Any]:
    page.goto(f"{site.base_url}/embed/{SLUG}?{query}")
    result: dict[str, Any] = page.evaluate(MEASURE)
    return result


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_views_fit_narrow_and_wide_columns(new_context: NewContext, site: Site, theme: str) -> None:
    context = new_context()
    chart_fonts = set()
    for width in WIDTHS:
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": 700})
        compact = measured(page, site, f"view=compact&theme={theme}")
        assert compact["overflow"] == 0, (width, "compact")
        assert sum(compact["figureLines"]) <= 2 or width > 300, compact
        if width == 300:
            assert compact["figureLines"] == [1, 1]
        bar = measured(page, site, f"view=bar&theme={theme}")
        assert bar["overflow"] == 0, (width, "bar")
        chart = measured(page, site, f"view=chart&theme={theme}")
        assert chart["overflow"] == 0, (width, "chart")
        assert chart["target"] == "target 1,000"
        assert len(chart["chartFonts"]) == 1, chart
        chart_fonts |= set(chart["chartFonts"])
        page.close()
    [size] = chart_fonts  # the same at every width
    assert float(size.removesuffix("px")) >= 11
