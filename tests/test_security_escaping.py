"""Script and HTML payloads in every text field, written through the real write paths (the API,
the editors' forms, the admin's user form), come back escaped on every page and feed, and as
the same literal text in the JSON and CSV exports."""

import csv
import io
import json
from typing import Any
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import accounts
from app.embed import inline_assets
from app.settings import Settings
from tests.editing import PASSWORD, make_user, post_form, sign_in
from tests.html import parse

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
SINGLE_QUOTED = "'><svg onload=alert(1)>"
# What must never reach a page unescaped: markup that would run.
RAW = (SCRIPT, "<img src=x", "<svg onload")
ATOM = "{http://www.w3.org/2005/Atom}"
SLUG = "hostile"


def payload(field: str) -> str:
    """Every payload at once, tagged with the field it was typed into (SQL in text is
    test_security's)."""
    return f"{field} {SCRIPT} {ATTRIBUTE} {SINGLE_QUOTED}"


USER_EMAIL = f"{SCRIPT}{ATTRIBUTE}@example.org"
FIELDS = [
    "title",
    "description",
    "venue",
    "mediator",
    "side a",
    "side b",
    "exchange source",
    "exchange claim",
    "stage notes",
    "stage source",
    "stage claim",
    "form notes",
    "form source",
    "form claim",
    "reason",
    "token name",
]
# No whitespace (a URL cannot hold any): "/" separates the attributes as a browser reads them.
SOURCE_URL = f"https://example.org/report?q={ATTRIBUTE}{SCRIPT}".replace(" ", "/")

# Where each text shows, besides the JSON and CSV exports and the embeds (further down).
HTML_PAGES: dict[str, list[str]] = {
    "/": ["title", "side a", "side b"],
    f"/exchanges/{SLUG}": [field for field in FIELDS if field != "token name"],
    "/timeline": ["title", "side a", "side b"],
    "/feed": ["title", "stage notes"],
    f"/exchanges/{SLUG}/feed": ["title", "stage notes"],
    f"/timeline?q={SCRIPT}": [],
    "/editor": ["title"],
    f"/editor/exchanges/{SLUG}": ["title", "description", "venue", "side a", "side b"],
    f"/editor/exchanges/{SLUG}/history": [],
    "/editor/stages/{stage}": ["stage notes", "stage source", "stage claim"],
    "/editor/stages/{stage}/history": ["reason"],
    "/editor/tokens": ["token name"],
    "/admin/users": [],
}
FEEDS: dict[str, list[str]] = {
    "/feed.atom": ["title", "stage notes"],
    f"/exchanges/{SLUG}/feed.atom": ["title", "stage notes"],
}
JSON_URLS: dict[str, list[str]] = {
    "/api/v1/exchanges": ["title", "description", "venue", "mediator", "side a", "side b"],
    f"/api/v1/exchanges/{SLUG}": ["title", "stage notes", "stage source", "form notes"],
    "/api/v1/stages": ["stage notes", "stage claim", "form notes", "form claim"],
}
CSV_URLS: dict[str, list[str]] = {
    "/api/v1/stages.csv": ["title", "side a", "stage notes", "stage source", "form claim"],
    f"/api/v1/exchanges/{SLUG}/stages.csv": ["title", "side b", "form notes", "stage claim"],
}


def source(field: str) -> dict[str, str]:
    return {
        "url": SOURCE_URL,
        "publisher": payload(f"{field} source"),
        "claim": payload(f"{field} claim"),
    }


@pytest.fixture
def hostile(client: TestClient, session: Session) -> dict[str, Any]:
    """Payloads written as people and scripts write them; the client is signed in as admin."""
    make_user(session, "boss@example.org", role="admin")
    sign_in(client, "boss@example.org")
    created = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {"email": USER_EMAIL, "password": PASSWORD, "role": "admin"},
    )
    assert created.status_code in (200, 303), created.text
    client.cookies.clear()
    assert sign_in(client, USER_EMAIL).status_code == 303
    named = post_form(client, "/editor/tokens", "/editor/tokens", {"name": payload("token name")})
    assert named.status_code == 200
    user = accounts.get_user_by_email(session, USER_EMAIL)
    assert user is not None
    _, token = accounts.create_token(session, user=user, name="tests")
    session.commit()
    auth = {"Authorization": f"Bearer {token}"}

    sides = [
        {"key": "a", "name": payload("side a"), "target": {"people": 1000}},
        {"key": "b", "name": payload("side b"), "target": {"people": 1000}},
    ]
    stage = {
        "date": "2025-05-23",
        "status": "confirmed",
        "notes": payload("stage notes"),
        "sides": [{"key": key, "military": 270, "civilian": 120} for key in "ab"],
        "sources": [source("stage")],
    }
    exchange = {
        "slug": SLUG,
        "title": payload("title"),
        "description": payload("description"),
        "venue": payload("venue"),
        "mediators": [payload("mediator")],
        "status": "in_progress",
        "agreed_on": "2025-05-16",
        "sides": sides,
        "sources": [source("exchange")],
        "stages": [stage],
    }
    response = client.post("/api/v1/exchanges", json=exchange, headers=auth)
    assert response.status_code == 201, response.text
    [stage_id] = [stage["id"] for stage in response.json()["stages"]]
    parties = [party["slug"] for party in response.json()["parties"]]

    page = f"/editor/exchanges/{SLUG}/stages/new"
    form = {"date": "2025-05-24", "same": "1", "published": "1", "confirmed": "no-receiving-source"}
    for index, (released, received) in enumerate(((1, 0), (0, 1))):
        form[f"release_{index}_released_by"] = parties[released]
        form[f"release_{index}_received_by"] = parties[received]
    form |= {"release_0_military": "307", "release_0_civilian": ""}
    form |= {"notes": payload("form notes"), "source_0_url": SOURCE_URL}
    form |= {"source_0_publisher": payload("form source")}
    form |= {"source_0_claim": payload("form claim")}
    saved = post_form(client, page, page, form | {"source_0_published_at": ""})
    assert saved.status_code == 303, saved.text

    current = client.get(f"/api/v1/stages/{stage_id}", headers=auth)
    corrected = {"sides": [{"key": key, "military": 271, "civilian": 120} for key in "ab"]}
    patched = client.patch(
        f"/api/v1/stages/{stage_id}",
        json=corrected | {"reason": payload("reason")},
        headers=auth | {"If-Match": current.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text
    return {"stage": stage_id}


def visible(page: BeautifulSoup) -> str:
    """What a reader sees and what the attributes hold, entities decoded."""
    attributes = [
        " ".join(value) if isinstance(value, list) else str(value)
        for element in page.find_all(True)
        for value in element.attrs.values()
    ]
    return page.get_text(" ") + " ".join(attributes)


def assert_inert(body: str, url: str) -> None:
    for raw in RAW:
        assert raw not in body, f"{raw!r} unescaped on {url}"


@pytest.mark.parametrize("url", list(HTML_PAGES))
def test_pages_escape_every_text(client: TestClient, hostile: dict[str, Any], url: str) -> None:
    response = client.get(url.format(**hostile))
    assert response.status_code == 200, response.text[:300]
    assert_inert(response.text, url)
    page = parse(response.text)
    assert [s for s in page.select("script") if not s.get("src")] == []
    assert [e.name for e in page.find_all(True) if any(a.startswith("on") for a in e.attrs)] == []
    shown = visible(page)
    for field in HTML_PAGES[url]:
        assert payload(field) in shown, f"{field} not shown as text on {url}"
    if url.startswith(("/editor", "/admin")):
        assert USER_EMAIL in shown  # the signed-in user's name, in the editors' bar
    assert f"src={SCRIPT}" not in shown


@pytest.mark.parametrize("url", list(FEEDS))
def test_feeds_escape_every_text(client: TestClient, hostile: dict[str, Any], url: str) -> None:  # noqa: ARG001 (data)
    response = client.get(url)
    assert response.status_code == 200
    assert_inert(response.text, url)
    feed = ElementTree.fromstring(response.content)
    titles = [element.text or "" for element in feed.iter(f"{ATOM}title")]
    # Entry content is HTML that feed readers render: once unescaped, it must still be inert.
    contents = [parse(element.text or "") for element in feed.iter(f"{ATOM}content")]
    assert contents
    for content in contents:
        assert content.select("script, img, svg, [onerror], [onload]") == []
    shown = " ".join(titles + [content.get_text(" ") for content in contents])
    for field in FEEDS[url]:
        assert payload(field) in shown, f"{field} not in {url}"


@pytest.mark.parametrize("url", list(JSON_URLS))
def test_json_keeps_the_literal_text(client: TestClient, hostile: dict[str, Any], url: str) -> None:  # noqa: ARG001 (data)
    response = client.get(url)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    strings = json.dumps(response.json(), ensure_ascii=False)
    for field in JSON_URLS[url]:
        assert json.dumps(payload(field), ensure_ascii=False) in strings, f"{field} in {url}"


@pytest.mark.parametrize("url", list(CSV_URLS))
def test_csv_keeps_the_literal_text(client: TestClient, hostile: dict[str, Any], url: str) -> None:  # noqa: ARG001 (data)
    response = client.get(url)
    assert response.headers["content-type"].startswith("text/csv")
    cells = {cell for row in csv.reader(io.StringIO(response.text)) for cell in row}
    for field in CSV_URLS[url]:
        assert any(payload(field) in cell for cell in cells), f"{field} in {url}"


def test_the_history_names_the_hostile_user_escaped(
    client: TestClient, hostile: dict[str, Any]
) -> None:
    response = client.get(f"/editor/stages/{hostile['stage']}/history")
    assert_inert(response.text, "history")
    assert USER_EMAIL.lower() in visible(parse(response.text)).lower()


# ---- embeds: the widget inlines its own script (allowed by hash), nothing else -----------

WIDGETS = [f"/embed/{SLUG}", f"/embed/{SLUG}?view=chart&lang=uk", f"/embed/{SLUG}?side=b"]


@pytest.mark.parametrize("url", WIDGETS)
def test_widgets_escape_every_text(client: TestClient, hostile: dict[str, Any], url: str) -> None:  # noqa: ARG001 (data)
    response = client.get(url)
    assert response.status_code == 200
    assert_inert(response.text, url)
    page = parse(response.text)
    inline = [script.get_text() for script in page.select("script")]
    assert inline == [str(inline_assets().js)]
    assert [e.name for e in page.find_all(True) if any(a.startswith("on") for a in e.attrs)] == []
    assert payload("title") in visible(page)


def test_svg_image_escapes_every_text(client: TestClient, hostile: dict[str, Any]) -> None:  # noqa: ARG001 (data)
    response = client.get(f"/embed/{SLUG}.svg")
    assert response.status_code == 200
    assert_inert(response.text, "svg")
    root = ElementTree.fromstring(response.content)  # well-formed despite the payloads
    tags = {element.tag.rpartition("}")[2] for element in root.iter()}
    assert tags <= {"svg", "title", "rect", "g", "text"}
    words = " ".join(element.text or "" for element in root.iter())
    for field in ("title", "side a", "side b"):
        assert field in words


def test_oembed_html_escapes_every_text(
    client: TestClient,
    hostile: dict[str, Any],  # noqa: ARG001 (data)
    settings: Settings,
) -> None:
    page_url = f"{str(settings.base_url).rstrip('/')}/exchanges/{SLUG}"
    found = client.get("/oembed", params={"url": page_url})
    assert found.status_code == 200, found.text
    answer = found.json()
    assert payload("title") == answer["title"]  # JSON keeps the literal text
    assert_inert(answer["html"], "oembed")
    code = parse(answer["html"])
    assert code.select("script") == []
    assert [e.name for e in code.find_all(True) if any(a.startswith("on") for a in e.attrs)] == []
    assert payload("title") in visible(code)
