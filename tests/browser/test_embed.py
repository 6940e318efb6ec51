"""Embeds on a newsroom's page from another origin: embed.js and pym.js size the iframe to the
widget, the widget shows a new stage without a reload, and the builder copies code that works."""

import os
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import HostSite, NewContext
from tests.browser.embedding import (
    LIVE_WITHIN,
    embed_js_page,
    pasted_page,
    pym_page,
    wait_until_sized,
    widget_frame,
)
from tests.browser.support import Site, assert_accessible_in_both_schemes


def add_stage(site: Site, slug: str, *, military: int, civilian: int) -> None:
    """What an editor's save does to the data (the phone journey saves through the form)."""
    site.api(
        "POST",
        f"/api/v1/exchanges/{slug}/stages",
        {
            "date": "2025-06-30",
            "status": "reported",
            "sides": [
                {"key": key, "military": military, "civilian": civilian} for key in ("a", "b")
            ],
            "sources": [{"url": "https://news.example.org/live", "publisher": "Example Wire"}],
        },
    )


def test_embed_js_sizes_the_widget_and_it_stays_live(
    new_context: NewContext, site: Site, host_site: HostSite
) -> None:
    slug = site.new_exchange(title="Embedded exchange", target=500)
    page = new_context().new_page()
    page.goto(embed_js_page(host_site, site.base_url, slug))
    assert not site.base_url.startswith(host_site.origin)
    widget = page.frame_locator("iframe").first
    figure = widget.locator(".st-side[data-side='a'] .st-figure")
    expect(figure).to_contain_text("120 of 500 returned to Ukraine")
    frame = widget_frame(page)
    wait_until_sized(page, frame)
    expect(page.locator("iframe")).to_have_attribute("title", re.compile("^Embedded exchange: "))
    for window in (page, frame):
        window.evaluate("() => { window.stillTheSameDocument = true; }")

    add_stage(site, slug, military=150, civilian=30)
    expect(figure).to_contain_text("300 of 500 returned to Ukraine", timeout=LIVE_WITHIN)
    expect(widget.locator("#st-live")).to_contain_text("300 of 500 returned to Ukraine")
    for window in (page, frame):
        assert window.evaluate("() => window.stillTheSameDocument === true"), "it reloaded"
    wait_until_sized(page, frame)


def test_pym_parent_sizes_the_widget_and_it_stays_live(
    new_context: NewContext, site: Site, host_site: HostSite
) -> None:
    slug = site.new_exchange(title="Pym exchange", target=500)
    page = new_context().new_page()
    page.goto(pym_page(host_site, site.base_url, slug))
    iframe = page.locator("#tally iframe")
    expect(iframe).to_have_attribute("src", re.compile(r"[?&]childId=tally(&|$)"))
    frame = widget_frame(page)
    height = wait_until_sized(page, frame)
    expect(iframe).to_have_attribute("height", f"{height}px")  # set by pym.js's parent

    add_stage(site, slug, military=10, civilian=0)
    figure = page.frame_locator("#tally iframe").locator(".st-side[data-side='b'] .st-figure")
    expect(figure).to_contain_text("130 of 500 returned to Russia", timeout=LIVE_WITHIN)


def test_builder_copies_code_that_works_elsewhere(
    new_context: NewContext, site: Site, host_site: HostSite
) -> None:
    slug = site.new_exchange(title="Builder exchange", target=500)
    page = new_context(permissions=["clipboard-read", "clipboard-write"]).new_page()
    page.goto(f"/exchanges/{slug}")
    builder = page.locator("#embed")
    builder.get_by_label("View").select_option("compact")
    builder.get_by_label("Theme").select_option("dark")
    code = page.locator("#embed-code-script")
    expect(code).to_have_value(re.compile(r"view=compact"))
    expect(code).to_have_value(re.compile(r"theme=dark"))
    expect(page.locator("iframe.embed-preview")).to_have_attribute(
        "src", re.compile(r"view=compact")
    )

    page.locator("button[data-copy='embed-code-script']").click()
    expect(page.locator("button[data-copy='embed-code-script'] + .copy-status")).to_have_text(
        "Copied"
    )
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == code.input_value()

    host = new_context().new_page()
    host.goto(pasted_page(host_site, f"builder-{slug}.html", copied))
    widget = host.frame_locator("iframe").first
    expect(widget.locator("#st-widget")).to_have_attribute("data-view", "compact")
    expect(widget.locator("#st-widget")).to_have_attribute("data-theme", "dark")
    expect(widget.locator(".st-side[data-side='a']")).to_contain_text("120 of 500")
    wait_until_sized(host, widget_frame(host))
    # The text for readers without iframes gives way once the widget works.
    expect(host.locator("blockquote[data-swaptally]")).to_be_hidden()


def test_pasted_code_without_javascript_reads_as_text(
    new_context: NewContext, site: Site, host_site: HostSite
) -> None:
    slug = site.new_exchange(title="Quoted exchange", target=500)
    page = new_context().new_page()
    page.goto(f"/exchanges/{slug}")
    code = page.locator("#embed-code-script").input_value()
    host = new_context(java_script_enabled=False).new_page()
    host.goto(pasted_page(host_site, f"no-js-{slug}.html", code))
    expect(host.locator("blockquote[data-swaptally]")).to_contain_text(
        "120 of 500 returned to Ukraine"
    )
    # The text alone: the iframe waits, hidden, for a script that shows it sized
    # (tests/browser/test_embed_hosts.py: every view, width and theme).
    expect(host.locator("iframe")).to_be_hidden()


@pytest.fixture(scope="module")
def widget_slug(site: Site) -> str:
    return site.new_exchange(title="Widget under axe", target=500, stages=3)


WIDGETS = [
    "theme=light",
    "theme=dark",
    "theme=auto",
    "view=compact&theme=dark",
    "view=chart&theme=light",
    "view=chart&theme=dark",
    "lang=uk&side=b",
    "theme=light&transparent=1",
    "theme=dark&transparent=1",
    "as_of=2025-05-21",
]
# Without a background of its own, the widget shows the host page's: a dark theme is chosen for a
# dark page. (With theme=auto, the host page has to follow the reader's setting too.)
HOST_BACKGROUND = {"theme=dark&transparent=1": "#121417"}


@pytest.mark.parametrize("query", WIDGETS)
def test_widget_is_accessible(new_context: NewContext, widget_slug: str, query: str) -> None:
    # The widget allows only its own inline script; axe is injected, so its CSP is set aside.
    page = new_context(bypass_csp=True).new_page()
    page.goto(f"/embed/{widget_slug}?{query}")
    if query in HOST_BACKGROUND:
        page.add_style_tag(content=f"html {{ background: {HOST_BACKGROUND[query]}; }}")
    assert_accessible_in_both_schemes(page)


PARTIES = {"north": "the North", "east": "the East", "south": "the South"}


@pytest.fixture(scope="module")
def three_parties(site: Site) -> str:
    """A three-party exchange in the v2 shape, with a release outside the deal; its parties'
    slugs end in its own number (the seeded site has a Yemen deal of its own)."""
    slug = f"browser-three-{os.getpid()}"
    names = {f"{party}-{os.getpid()}": name for party, name in PARTIES.items()}
    north, east, south = names
    release = {"released_by": north, "people": 50}
    site.api(
        "POST",
        "/api/v1/exchanges",
        {
            "slug": slug,
            "title": "Three-party exchange",
            "status": "in_progress",
            "conflict": {"slug": f"compass-war-{os.getpid()}", "name": "Compass war"},
            "parties": [{"slug": party, "name": name} for party, name in names.items()],
            "terms": [
                {"planned_stages": 3, "targets": [{"received_by": p, "people": 100} for p in names]}
            ],
            "stages": [
                {
                    "date": "2023-04-14",
                    "releases": [
                        {"released_by": east, "received_by": north, "people": 80},
                        release | {"received_by": east},
                        release | {"received_by": south, "qualifier": "about"},
                        release | {"received_by": east, "outside_deal": True},
                    ],
                    "sources": [{"url": "https://news.example.org/three", "publisher": "Wire"}],
                }
            ],
        },
    )
    return slug


def test_embed_js_shows_the_parties_data_party_names(
    new_context: NewContext, site: Site, host_site: HostSite, three_parties: str
) -> None:
    north, _, south = (f"{party}-{os.getpid()}" for party in PARTIES)
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parties</title></head>
<body><h1>Two of three</h1>
<div data-swaptally="{three_parties}" data-party="{south},{north}" data-height="40">
Loading the tally</div>
<script async src="{site.base_url}/embed.js"></script>
</body></html>"""
    page = new_context().new_page()
    page.goto(host_site.page(f"parties-{three_parties}.html", html))
    expect(page.locator("iframe")).to_have_attribute(
        "src", f"{site.base_url}/embed/{three_parties}?party={south},{north}"
    )
    widget = page.frame_locator("iframe").first
    expect(widget.locator(".st-side")).to_have_count(2)
    expect(widget.locator(".st-side").first).to_have_attribute("data-party", south)
    expect(widget.locator(".st-side").first).to_contain_text(
        "about 50 of 100 returned to the South"
    )
    expect(widget.locator(".st-side[data-side='a']")).to_contain_text("80 of 100")
    wait_until_sized(page, widget_frame(page))


@pytest.mark.parametrize(
    "query", ["theme=light", "theme=dark", "view=chart&theme=dark", "view=compact&lang=uk"]
)
def test_a_three_party_widget_is_accessible(
    new_context: NewContext, three_parties: str, query: str
) -> None:
    page = new_context(bypass_csp=True).new_page()
    page.goto(f"/embed/{three_parties}?{query}")
    expect(page.locator(".st-side")).to_have_count(3)
    expect(page.locator(".st-outside")).to_have_count(1)
    assert_accessible_in_both_schemes(page)


def test_the_builder_of_a_three_party_exchange_is_accessible(
    new_context: NewContext, three_parties: str
) -> None:
    page = new_context().new_page()
    page.goto(f"/exchanges/{three_parties}")
    builder = page.locator("#embed")
    builder.get_by_label("the South").check()
    preview = page.locator("iframe.embed-preview")
    expect(preview).to_have_attribute("src", re.compile(r"\?party=south-\d+$"))
    builder.get_by_label("the North").check()
    expect(preview).to_have_attribute("src", re.compile(r"\?party=north-\d+,south-\d+$"))
    expect(page.locator("#embed-code-iframe")).to_have_value(re.compile(r"party=north-\d+,south-"))
    assert_accessible_in_both_schemes(page)
