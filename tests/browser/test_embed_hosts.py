"""Every host shows one whole representation of an embed: with /embed.js the sized widget alone,
without scripts (a CMS that strips them, an RSS reader) the text alone, and an iframe pasted on
its own at a height that holds the whole widget; in every view, at 300, 390 and 640 px, light and
dark; the oEmbed html in a WordPress-like page; the small widget of a missing exchange; and the
AMP recipe of the README, as far as it goes without the AMP runtime."""

import json
import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Frame, Page

from tests.browser.conftest import RESULTS, HostSite, NewContext
from tests.browser.support import Site, keep_screenshot

VIEWS = ("bar", "compact", "chart")
# The seeded Istanbul swap (two parties, three days) and the Yemen deal (three parties, notes).
ISTANBUL, YEMEN = "istanbul-1000-for-1000", "2023-04-yemen-887-deal"
README = Path(__file__).resolve().parents[2] / "README.md"
SCREENSHOTS = RESULTS / "embed-hosts"

# Whether an element is seen: a box, visible, and on top where it is (clip and height 0 are not).
SEEN = """(element) => {
  element.scrollIntoView({block: "center"});
  const box = element.getBoundingClientRect();
  if (box.width < 2 || box.height < 2) return false;
  if (getComputedStyle(element).visibility !== "visible") return false;
  const x = box.left + box.width / 2, y = box.top + Math.min(box.height / 2, 12);
  const hit = document.elementFromPoint(x, y);
  return hit !== null && (hit === element || element.contains(hit));
}"""
CONTENT = """() => ({height: Math.ceil(document.body.getBoundingClientRect().height),
  scrollHeight: document.documentElement.scrollHeight, innerHeight: window.innerHeight,
  scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})"""


def fetch(site: Site, path: str) -> str:
    with urllib.request.urlopen(f"{site.base_url}{path}") as response:
        body: bytes = response.read()
    return body.decode()


def codes(site: Site, slug: str, view: str, theme: str) -> dict[str, str]:
    """The builder's codes, as a journalist copies them from the exchange page."""
    query = urllib.parse.urlencode({"embed_view": view, "embed_theme": theme})
    page = BeautifulSoup(fetch(site, f"/exchanges/{slug}?{query}"), "html.parser")
    found = {}
    for kind in ("script", "iframe"):
        area = page.select_one(f"#embed-code-{kind}")
        assert area is not None
        found[kind] = area.get_text()
    return found


def oembed_html(site: Site, slug: str, view: str, theme: str) -> str:
    url = f"{site.base_url}/embed/{slug}?view={view}&theme={theme}"
    answer = json.loads(fetch(site, f"/oembed?url={urllib.parse.quote(url, safe='')}"))
    html: str = answer["html"]
    return html


def without_scripts(code: str) -> str:
    stripped = re.sub(r"<script\b[^>]*>.*?</script>", "", code, flags=re.DOTALL)
    assert "<script" not in stripped
    assert "<iframe" in stripped
    return stripped


def as_wordpress_keeps_it(html: str, secret: str) -> str:
    """What WordPress's wp_filter_oembed_result() makes of a discovered provider's html: only
    a, blockquote and a few iframe attributes kept, a secret added, and the iframe clipped out
    of sight (and not lazy) while there is a blockquote to fall back on."""
    page = BeautifulSoup(html, "html.parser")
    keep = {"a": {"href"}, "blockquote": set(), "iframe": {"src", "width", "height", "title"}}
    keep["iframe"] |= {"frameborder", "marginwidth", "marginheight", "scrolling"}
    for element in page.find_all(True):
        element.attrs = {k: v for k, v in element.attrs.items() if k in keep[element.name]}
    quote, frame = page.select_one("blockquote"), page.select_one("iframe")
    assert quote is not None
    assert frame is not None
    frame["src"] = f"{frame['src']}#?secret={secret}"
    frame["data-secret"] = quote["data-secret"] = secret
    quote["class"] = "wp-embedded-content"
    frame["style"] = "position: absolute; clip: rect(1px, 1px, 1px, 1px);"
    frame["class"] = "wp-embedded-content"
    frame["sandbox"] = "allow-scripts"
    frame["security"] = "restricted"
    return str(page)


# WordPress's wp-embed.js, the part that answers a widget: a message with the iframe's secret
# hides the blockquote, shows the iframe and sets its height, kept between 200 and 1000 px.
WP_EMBED = """<script>
window.addEventListener("message", function (e) {
  var data = e.data;
  if (!data || !data.secret || !data.message || /[^a-zA-Z0-9]/.test(data.secret)) return;
  var quotes = document.querySelectorAll('blockquote[data-secret="' + data.secret + '"]');
  var frames = document.querySelectorAll('iframe[data-secret="' + data.secret + '"]');
  for (var i = 0; i < quotes.length; i++) quotes[i].style.display = "none";
  for (i = 0; i < frames.length; i++) {
    if (e.source !== frames[i].contentWindow) continue;
    frames[i].removeAttribute("style");
    if (data.message === "height") {
      var height = parseInt(data.value, 10);
      if (height > 1000) height = 1000; else if (~~height < 200) height = 200;
      frames[i].height = height;
    }
  }
});
</script>"""


def host_page(host: HostSite, name: str, width: int, blocks: dict[str, str], tail: str = "") -> str:
    """A newsroom's article: each block in a column `width` px wide, on a page of its own origin."""
    columns = "\n".join(
        f'<section id="{key}" style="width:{width}px;margin:0 0 24px">{html}</section>'
        for key, html in blocks.items()
    )
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Article</title>
<style>body{{margin:8px;font:16px Georgia,serif}} blockquote{{margin:0;padding:8px;
border-left:4px solid #ccc}}</style></head>
<body>{columns}{tail}</body></html>"""
    return host.page(name, html)


def seen(page: Page, selector: str) -> bool:
    result: bool = page.locator(selector).evaluate(SEEN)
    return result


def frame_of(page: Page, selector: str) -> Frame:
    handle = page.locator(selector).element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_selector("#st-widget", state="attached")
    return frame


def assert_whole(page: Page, selector: str, label: str) -> dict[str, Any]:
    """The iframe shows its widget whole: no content below its bottom edge, none scrolled."""
    frame_height = page.locator(selector).evaluate("(f) => f.getBoundingClientRect().height")
    content: dict[str, Any] = frame_of(page, selector).evaluate(CONTENT)
    assert content["height"] <= frame_height, (label, content, frame_height)
    assert content["scrollHeight"] <= content["innerHeight"], (label, content)
    assert content["scrollWidth"] <= content["innerWidth"], (label, content)
    return content | {"frame": frame_height}


def assert_no_host_overflow(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0


def wait_until_shown(page: Page, selector: str) -> None:
    page.wait_for_function(
        """(s) => { const f = document.querySelector(s);
          return getComputedStyle(f).visibility === "visible"
            && f.getBoundingClientRect().height > 20; }""",
        arg=selector,
    )


def screenshot(page: Page, name: str) -> None:
    keep_screenshot(page, SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.fixture(scope="module")
def pasted(site: Site) -> dict[tuple[str, str, str], dict[str, str]]:
    """Every code once: (slug, view, theme) to the script code, the iframe alone and oEmbed's."""
    found = {}
    for slug in (ISTANBUL, YEMEN):
        for view in VIEWS:
            for theme in ("light", "dark"):
                found[slug, view, theme] = codes(site, slug, view, theme) | {
                    "oembed": oembed_html(site, slug, view, theme)
                }
    return found


WIDTHS = (300, 390, 640)
THEMES = ("light", "dark")


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_with_the_host_script_the_sized_widget_alone(
    new_context: NewContext, host_site: HostSite, pasted: Any, width: int, theme: str
) -> None:
    blocks = {view: pasted[ISTANBUL, view, theme]["script"] for view in VIEWS}
    # An old code, pasted before iframes were hidden: the host script gives it one face too.
    old = pasted[ISTANBUL, "bar", theme]["script"].replace(
        ' hidden style="display:none;', ' style="'
    )
    blocks["old"] = old
    # The div form: its own content until the widget reports, then the widget in its place.
    blocks["div"] = (
        f'<div data-swaptally="{ISTANBUL}" data-view="compact" data-theme="{theme}">'
        '<p class="own">The tally, in the newsroom\'s words</p></div>'
    )
    page = new_context(viewport={"width": 1000, "height": 3000}).new_page()
    page.goto(host_page(host_site, f"scripts-{width}-{theme}.html", width, blocks))
    for key in blocks:
        frame = f"#{key} iframe"
        text = f"#{key} .own" if key == "div" else f"#{key} blockquote"
        wait_until_shown(page, frame)
        page.wait_for_function(
            "(s) => getComputedStyle(document.querySelector(s)).display === 'none'", arg=text
        )
        assert (seen(page, text), seen(page, frame)) == (False, True), key
        assert_whole(page, frame, f"{key} at {width} px, {theme}")
    assert_no_host_overflow(page)
    screenshot(page, f"scripts-{width}-{theme}")


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_without_scripts_the_text_alone_and_an_iframe_alone_fits(
    new_context: NewContext, host_site: HostSite, pasted: Any, width: int, theme: str
) -> None:
    """The script code with its script stripped reads as text; the iframe code, which has no
    script to size it, holds the whole widget at its first height."""
    blocks = {}
    for view in VIEWS:
        blocks[f"quote-{view}"] = without_scripts(pasted[ISTANBUL, view, theme]["script"])
        blocks[f"oembed-{view}"] = pasted[ISTANBUL, view, theme]["oembed"]
        for slug in (ISTANBUL, YEMEN):
            blocks[f"iframe-{view}-{slug}"] = pasted[slug, view, theme]["iframe"]
    page = new_context(viewport={"width": 1000, "height": 3000}).new_page()
    page.goto(host_page(host_site, f"stripped-{width}-{theme}.html", width, blocks))
    for key in blocks:
        if key.startswith("iframe-"):
            frame_of(page, f"#{key} iframe")
            assert seen(page, f"#{key} iframe"), key
            assert_whole(page, f"#{key} iframe", f"{key} at {width} px, {theme}")
        else:
            assert (seen(page, f"#{key} blockquote"), seen(page, f"#{key} iframe")) == (
                True,
                False,
            ), key
    assert_no_host_overflow(page)
    screenshot(page, f"stripped-{width}-{theme}")


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_oembed_html_in_a_wordpress_like_page(
    new_context: NewContext, host_site: HostSite, pasted: Any, width: int, theme: str
) -> None:
    """WordPress keeps a discovered provider's blockquote and iframe, clips the iframe out of
    sight and lets wp-embed.js bring it back when the widget posts its height with the secret."""
    blocks = {
        view: as_wordpress_keeps_it(pasted[ISTANBUL, view, theme]["oembed"], f"s{n}x{width}")
        for n, view in enumerate(VIEWS)
    }
    context = new_context(viewport={"width": 1000, "height": 3000})
    bare = context.new_page()  # a theme that strips wp-embed.js, or a feed reader
    bare.goto(host_page(host_site, f"wp-bare-{width}-{theme}.html", width, blocks))
    for view in VIEWS:
        frame_of(bare, f"#{view} iframe")  # loaded, out of sight
        assert (seen(bare, f"#{view} blockquote"), seen(bare, f"#{view} iframe")) == (True, False)
    page = context.new_page()
    page.goto(host_page(host_site, f"wp-{width}-{theme}.html", width, blocks, WP_EMBED))
    for view in VIEWS:
        frame = f"#{view} iframe"
        wait_until_shown(page, frame)
        page.wait_for_function("(s) => !document.querySelector(s).hasAttribute('style')", arg=frame)
        assert (seen(page, f"#{view} blockquote"), seen(page, frame)) == (False, True), view
        assert_whole(page, frame, f"WordPress {view} at {width} px, {theme}")
        border = page.locator(frame).evaluate("(f) => getComputedStyle(f).borderTopWidth")
        assert border == "0px"  # frameborder="0" survives WordPress, the style does not
    assert_no_host_overflow(page)
    screenshot(page, f"wordpress-{width}-{theme}")


@pytest.mark.parametrize(("width", "theme"), [(300, "light"), (640, "dark")])
def test_a_missing_exchange_and_a_bad_option_are_small_widgets_in_the_article(
    new_context: NewContext, site: Site, host_site: HostSite, width: int, theme: str
) -> None:
    frames = {
        "gone": f"/embed/no-such-swap?theme={theme}",
        "gone-uk": f"/embed/no-such-swap?theme={theme}&lang=uk",
        "option": f"/embed/{ISTANBUL}?view=pie&theme={theme}",
    }
    blocks = {
        key: f'<iframe src="{site.base_url}{path}" width="100%" height="40" scrolling="no" '
        f'style="border:0;width:100%" data-swaptally-frame="x"></iframe>'
        for key, path in frames.items()
    }
    tail = f'<script async src="{site.base_url}/embed.js"></script>'
    page = new_context(viewport={"width": 1000, "height": 1500}).new_page()
    page.goto(host_page(host_site, f"errors-{width}-{theme}.html", width, blocks, tail))
    for key in frames:
        frame = frame_of(page, f"#{key} iframe")
        page.wait_for_function(
            "(s) => document.querySelector(s).getBoundingClientRect().height > 40",
            arg=f"#{key} iframe",
        )
        assert_whole(page, f"#{key} iframe", key)
        assert frame.locator("header, nav").count() == 0
    assert "no longer available" in frame_of(page, "#gone iframe").inner_text("#st-widget")
    assert "більше не доступний" in frame_of(page, "#gone-uk iframe").inner_text("#st-widget")
    assert "view option" in frame_of(page, "#option iframe").inner_text("#st-widget")
    screenshot(page, f"errors-{width}-{theme}")


def amp_recipe() -> str:
    """The amp-iframe of the README's AMP recipe."""
    found = re.search(r"<amp-iframe\b.*?</amp-iframe>", README.read_text(), flags=re.DOTALL)
    assert found is not None, "the README's Embedding section has an amp-iframe recipe"
    return found.group(0)


def test_the_amp_recipe_is_resizable_with_an_overflow_element() -> None:
    recipe = BeautifulSoup(amp_recipe(), "html.parser")
    frame = recipe.select_one("amp-iframe")
    assert frame is not None
    assert frame.has_attr("resizable")
    assert frame["layout"] == "fixed-height"
    assert frame["height"].isdigit()  # type: ignore[union-attr]
    assert str(frame["src"]).startswith("https://")  # AMP frames only https
    assert set(str(frame["sandbox"]).split()) >= {"allow-scripts", "allow-same-origin"}
    overflow = frame.select_one("[overflow]")
    assert overflow is not None
    assert (overflow["role"], overflow["tabindex"]) == ("button", "0")
    placeholder = frame.select_one("amp-img[placeholder]")
    assert placeholder is not None
    assert re.search(r"/embed/[a-z0-9-]+\.png", str(placeholder["src"]))


def test_in_the_amp_recipes_sandbox_the_widget_asks_amp_for_its_height(
    new_context: NewContext, site: Site, host_site: HostSite
) -> None:
    """Without the AMP runtime (no network here): the recipe's frame as a plain iframe with its
    sandbox, and a listener where amp-iframe's would be, hears `embed-size` with the height."""
    recipe = BeautifulSoup(amp_recipe(), "html.parser").select_one("amp-iframe")
    assert recipe is not None
    src = re.sub(r"^https://[^/]+", site.base_url, str(recipe["src"]))
    src = src.replace("/embed/istanbul-1000-for-1000", f"/embed/{ISTANBUL}")
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>AMP</title></head>
<body><script>window.sizes = []; addEventListener("message", function (e) {{
  var data = e.data;
  if (data && data.sentinel === "amp" && data.type === "embed-size") sizes.push(data.height);
}});</script>
<iframe src="{src}" sandbox="{recipe["sandbox"]}" height="{recipe["height"]}"
 style="width:360px;border:0"></iframe></body></html>"""
    page = new_context().new_page()
    page.goto(host_site.page("amp-like.html", html))
    frame = frame_of(page, "iframe")
    page.wait_for_function("() => window.sizes.length > 0")
    height = frame.evaluate("() => Math.ceil(document.body.getBoundingClientRect().height)")
    assert page.evaluate("() => window.sizes[window.sizes.length - 1]") == height
