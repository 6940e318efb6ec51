"""Host pages on a newsroom's origin that embed the widget, and how to read what they show."""

import shutil

from playwright.sync_api import Frame, Page, expect

from tests.browser.conftest import HostSite
from tests.browser.support import PYM_SCRIPT

POLL = 5  # seconds between the widget's checks for new figures (the least it accepts)
LIVE_WITHIN = (POLL + 15) * 1000  # ms: one poll of the widget, with room for a slow machine
# A first height far from any real one, so that a sized iframe proves the messages arrived.
TINY = 40


def embed_js_page(host: HostSite, app_url: str, slug: str) -> str:
    """A page that embeds with our host script: <div data-swaptally> + embed.js."""
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Newsroom article</title></head>
<body><h1>Prisoners come home</h1><p>Reporting from the border.</p>
<div data-swaptally="{slug}" data-poll="{POLL}" data-height="{TINY}">Loading the tally</div>
<p id="after">The article goes on below the widget.</p>
<script async src="{app_url}/embed.js"></script>
</body></html>"""
    return host.page(f"embed-js-{slug}.html", html)


def pym_page(host: HostSite, app_url: str, slug: str) -> str:
    """A page that embeds with pym.js's own parent library, as many newsrooms already do."""
    shutil.copyfile(PYM_SCRIPT, host.root / "pym.v1.min.js")
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pym article</title></head>
<body><h1>Exchange under way</h1>
<div id="tally"></div>
<script src="pym.v1.min.js"></script>
<script>
new pym.Parent("tally", "{app_url}/embed/{slug}?poll={POLL}", {{title: "Swap Tally"}});
</script>
</body></html>"""
    return host.page(f"pym-{slug}.html", html)


def pasted_page(host: HostSite, name: str, code: str) -> str:
    """A page with an embed code pasted as is, as a CMS would keep it."""
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pasted code</title></head>
<body><h1>Article</h1>{code}</body></html>"""
    return host.page(name, html)


def widget_frame(page: Page) -> Frame:
    """The widget's frame, once the iframe has loaded it."""
    expect(page.frame_locator("iframe").first.locator("#st-widget")).to_be_attached()
    handle = page.locator("iframe").first.element_handle()
    frame = handle.content_frame()
    assert frame is not None
    return frame


def wait_until_sized(page: Page, frame: Frame) -> int:
    """Waits for the iframe to take its widget's height (within a pixel); returns it."""
    height: int = frame.evaluate("() => Math.ceil(document.body.getBoundingClientRect().height)")
    assert height > TINY
    page.wait_for_function(
        """(height) => Math.abs(document.querySelector("iframe").getBoundingClientRect().height
                                - height) <= 1""",
        arg=height,
    )
    return height
