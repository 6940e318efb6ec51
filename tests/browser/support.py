"""What the browser journeys share: the site under test, signing in, exchanges made through the
API, axe-core, and checks that focus is visible."""

import datetime as dt
import itertools
import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import Locator, Page, expect

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = PROJECT_ROOT / "node_modules/axe-core/axe.min.js"
PYM_SCRIPT = PROJECT_ROOT / "node_modules/pym.js/dist/pym.v1.min.js"
EDITORS = ("first.editor@example.org", "second.editor@example.org")
ADMIN = "admin@example.org"
PASSWORD = "correct horse battery staple"
PHONE = {"width": 360, "height": 740}
BLOCKING_IMPACTS = ("serious", "critical")
SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")
FIRST_STAGE = dt.date(2025, 5, 21)
_numbers = itertools.count(1)
# Screenshots for a person to look at (no test reads them) cost more than the checks beside them
# (a full page, light and dark, at each width): taken only with SCREENSHOTS=1. A failing test's
# pages are kept whatever this says (conftest.py).
SCREENSHOTS = os.environ.get("SCREENSHOTS", "") == "1"
# Straight to the loopback server, whatever proxy the environment names.
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Site:
    """The running app: where it answers, and an editor's API token for setting up data."""

    base_url: str
    token: str

    def api(
        self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str
    ) -> Any:
        """Calls the JSON API as the first editor; answers the body, with the ETag alongside."""
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                **{name.replace("_", "-"): value for name, value in headers.items()},
            },
        )
        with direct.open(request, timeout=10) as response:
            answer = json.load(response)
            answer["etag"] = response.headers.get("ETag")
            return answer

    def edit_stage(self, stage_id: int, changes: dict[str, Any]) -> None:
        current = self.api("GET", f"/api/v1/stages/{stage_id}")
        self.api("PATCH", f"/api/v1/stages/{stage_id}", changes, If_Match=current["etag"])

    def new_exchange(self, *, title: str, target: int = 500, stages: int = 1) -> str:
        """A published exchange of a test's own (Ukraine and Russia, `target` people each), with
        `stages` daily stages from 21 May 2025, each 100 military + 20 civilians per side."""
        slug = f"browser-{os.getpid()}-{next(_numbers)}"
        side_names = {"a": "Ukraine", "b": "Russia"}
        body = {
            "slug": slug,
            "title": title,
            "status": "in_progress",
            "agreed_on": "2025-05-16",
            "planned_stages": 5,
            "sides": [
                {"key": key, "name": name, "target": {"people": target}}
                for key, name in side_names.items()
            ],
            "stages": [
                {
                    "date": (FIRST_STAGE + dt.timedelta(days=day)).isoformat(),
                    "status": "confirmed",
                    "sides": [
                        {"key": key, "military": 100, "civilian": 20, "remains": None}
                        for key in side_names
                    ],
                    "sources": [
                        {
                            "url": f"https://news.example.org/{slug}/day-{day + 1}",
                            "publisher": "Example Wire",
                            "claim": "120 returned to each side",
                        }
                    ],
                }
                for day in range(stages)
            ],
        }
        self.api("POST", "/api/v1/exchanges", body)
        return slug

    def stage_ids(self, slug: str) -> list[int]:
        return [stage["id"] for stage in self.api("GET", f"/api/v1/exchanges/{slug}")["stages"]]


def keep_screenshot(of: Page | Locator, path: Path, *, full_page: bool = False) -> None:
    """A picture of a page (whole, if `full_page`) or of one element, if SCREENSHOTS=1."""
    if not SCREENSHOTS:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(of, Page):
        of.screenshot(path=path, full_page=full_page)
    else:
        of.screenshot(path=path)


def sign_in(page: Page, email: str = EDITORS[0], *, next_path: str = "/editor") -> None:
    page.goto(f"/login?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page. Frames are checked as pages of
    their own (the widget's tests), not from their host: axe is injected into the top only."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated by the driver, not added as a <script>: the pages' Content-Security-Policy
        # allows no inline script, and must stay on while they are checked.
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    results = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"], iframes: false}))
            .violations"""
    )
    return [v for v in results if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '')}".rstrip())
    return "\n".join(lines)


def assert_accessible_in_both_schemes(page: Page) -> None:
    """No serious or critical axe-core violation in light colours, nor in dark."""
    found = []
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        violations = axe_violations(page)
        if violations:
            found.append(f"in {scheme} colours:\n{describe(violations)}")
    assert found == [], f"axe-core on {page.url}, " + "\n".join(found)


FOCUS_STYLE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName.toLowerCase(),
        label: (el.getAttribute("aria-label") || el.textContent || el.name || el.id || "")
            .trim().slice(0, 60),
        id: el.id, name: el.getAttribute("name"), type: el.getAttribute("type"),
        outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
        boxShadow: style.boxShadow,
        hidden: el.offsetParent === null && style.position !== "fixed",
    };
}"""


def focused(page: Page) -> dict[str, Any] | None:
    result: dict[str, Any] | None = page.evaluate(FOCUS_STYLE)
    return result


def focus_is_visible(style: dict[str, Any]) -> bool:
    """A focus ring someone can see: an outline at least 2 px wide, or a box shadow."""
    outlined = style["outlineStyle"] not in ("none", "") and style["outlineWidth"] >= 2
    shadowed = style["boxShadow"] not in ("none", "")
    return outlined or shadowed
