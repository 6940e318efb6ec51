"""Security headers: a Content-Security-Policy on every answer (scripts from our origin only, no
framing but embeds), nosniff, Referrer-Policy, HSTS behind https, no-store on editor, admin and
sign-in answers; and pages that such a policy does not break (no inline script, style or event
handler)."""

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import Tag
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.main import create_app
from app.middleware import SecurityHeaders
from app.settings import PROJECT_ROOT, Settings
from tests.editing import csrf_token, make_user, sign_in
from tests.factories import make_exchange, stage_data
from tests.html import parse

PUBLIC_PAGES = ["/", "/exchanges/istanbul-1000-for-1000", "/timeline", "/login"]
EDITOR_PAGES = [
    "/editor",
    "/editor/exchanges/istanbul-1000-for-1000",
    "/editor/exchanges/istanbul-1000-for-1000/stages/new",
    "/editor/tokens",
    "/admin/users",
]
MACHINE_URLS = ["/api/v1/exchanges", "/api/v1/stages.csv", "/feed.atom", "/openapi.json"]
ERRORS = ["/no-such-page", "/api/v1/exchanges/no-such-exchange"]


def policy(header: str) -> dict[str, str]:
    """A Content-Security-Policy as {directive: sources}."""
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {parts[0]: parts[1] if len(parts) > 1 else "" for parts in directives}


@pytest.fixture
def admin_client(client: TestClient, session: Session) -> TestClient:
    make_exchange(session, stage_data())
    make_user(session, "boss@example.org", role="admin")
    sign_in(client, "boss@example.org")
    return client


@pytest.mark.parametrize("path", PUBLIC_PAGES + EDITOR_PAGES + MACHINE_URLS + ERRORS)
def test_every_answer_has_the_policy_and_headers(admin_client: TestClient, path: str) -> None:
    response = admin_client.get(path)
    assert response.status_code in (200, 404)
    csp = policy(response.headers["content-security-policy"])
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers  # BASE_URL is http here


def test_hsts_when_the_site_is_served_over_https(database_url: str, engine: Engine) -> None:  # noqa: ARG001 (schema)
    settings = Settings(
        environment="test",
        database_url=database_url,
        secret_key="test-secret",
        base_url="https://swaptally.example",
    )
    with TestClient(create_app(settings)) as client:
        for path in ("/", "/api/v1/exchanges", "/no-such-page"):
            assert client.get(path).headers["strict-transport-security"] == "max-age=31536000"


@pytest.fixture
def bare_app() -> Iterator[TestClient]:
    """SecurityHeaders alone around routes that set their own policy or none."""

    def own_policy(_request: Request) -> PlainTextResponse:
        headers = {"Content-Security-Policy": "default-src 'none'; frame-ancestors *"}
        return PlainTextResponse("widget", headers=headers)

    def no_policy(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("plain")

    routes = [
        Route("/embed/own", own_policy),
        Route("/embed/plain", no_policy),
        Route("/embed.js", no_policy),
        Route("/editor/plain", no_policy),
    ]
    with TestClient(SecurityHeaders(Starlette(routes=routes))) as client:
        yield client


def test_a_route_keeps_its_own_policy(bare_app: TestClient) -> None:
    response = bare_app.get("/embed/own")
    assert response.headers.get_list("content-security-policy") == [
        "default-src 'none'; frame-ancestors *"
    ]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/embed/plain", "/embed.js"])
def test_embeds_may_be_framed_by_any_site(bare_app: TestClient, path: str) -> None:
    response = bare_app.get(path)
    csp = policy(response.headers["content-security-policy"])
    assert (csp["frame-ancestors"], csp["script-src"]) == ("*", "'self'")
    assert "x-frame-options" not in response.headers


def test_other_pages_may_not_be_framed(bare_app: TestClient) -> None:
    response = bare_app.get("/editor/plain")
    assert policy(response.headers["content-security-policy"])["frame-ancestors"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"


def test_api_docs_allow_their_assets_and_inline_script_by_hash_only(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    csp = policy(response.headers["content-security-policy"])
    [inline] = re.findall(r"<script>(.*?)</script>", response.text, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    sources = csp["script-src"].split()
    assert f"'sha256-{digest}'" in sources
    assert "'unsafe-inline'" not in sources
    assert "'unsafe-eval'" not in sources
    assert csp["frame-ancestors"] == "'none'"
    assert client.get("/redoc").status_code == 404  # it would need fonts and workers from afar


# ---- private pages are never stored ----------------------------------------------------


PRIVATE_PAGES = [*EDITOR_PAGES, "/editor/import", "/editor/no-such-page", "/admin/deleted"]


@pytest.mark.parametrize("path", [*PRIVATE_PAGES, "/login"])
def test_editor_admin_and_sign_in_pages_are_not_stored(admin_client: TestClient, path: str) -> None:
    response = admin_client.get(path, follow_redirects=False)
    assert response.headers["cache-control"] == "no-store"


def test_the_page_that_shows_a_new_api_token_is_not_stored(admin_client: TestClient) -> None:
    token = csrf_token(admin_client, "/editor/tokens")
    response = admin_client.post("/editor/tokens", data={"name": "script", "csrftoken": token})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_sign_in_answers_and_refusals_are_not_stored(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    answers = [
        client.get("/editor", follow_redirects=False),  # the redirect to /login
        client.post("/login", data={"email": "ed@example.org"}),  # no token: 403
        sign_in(client, "ed@example.org", "wrong password"),  # 400
        sign_in(client, "ed@example.org"),  # 303, with the session cookie
    ]
    assert [answer.status_code for answer in answers] == [303, 403, 400, 303]
    assert [answer.headers["cache-control"] for answer in answers] == ["no-store"] * 4


def test_public_pages_keep_their_caching(client: TestClient) -> None:
    assert client.get("/").headers["cache-control"].startswith("public, ")
    assert "no-store" not in client.get("/api/v1/exchanges").headers["cache-control"]


# ---- pages that a strict policy does not break --------------------------------------------

# Not embeds: the widget inlines its CSS and script, allowed by hash in its own policy
# (tests/routes/test_embed.py), and embed codes are pasted into other sites' pages.
TEMPLATE_FILES = sorted(
    path for path in (PROJECT_ROOT / "templates").rglob("*.html") if path.parent.name != "embed"
)
INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\shx-on|\son[a-z]+=|javascript:|js:"
)


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda path: path.name)
def test_templates_have_no_inline_script_style_or_handlers(template: Path) -> None:
    assert INLINE_CODE.findall(template.read_text(encoding="utf-8")) == []


def scripts_and_styles_are_files_of_ours(page: Tag) -> None:
    for script in page.select("script"):
        assert str(script["src"]).startswith("/static/"), script
        assert script.get_text() == ""
    assert page.select("style") == []
    assert page.select("[style]") == []
    for element in page.find_all(True):
        handlers = [name for name in element.attrs if name.startswith(("on", "hx-on"))]
        assert handlers == [], element.name
    config = page.select_one('meta[name="htmx-config"]')
    assert config is not None
    assert '"allowEval": false' in str(config["content"])
    assert '"includeIndicatorStyles": false' in str(config["content"])


@pytest.mark.parametrize("path", PUBLIC_PAGES + EDITOR_PAGES + ["/no-such-page"])
def test_rendered_pages_load_code_from_our_files_only(admin_client: TestClient, path: str) -> None:
    scripts_and_styles_are_files_of_ours(parse(admin_client.get(path).text))


def test_the_editor_script_is_served(admin_client: TestClient) -> None:
    page = parse(admin_client.get(EDITOR_PAGES[2]).text)
    sources = [str(script["src"]) for script in page.select("script")]
    assert "/static/js/editor.js" in sources
    script = admin_client.get("/static/js/editor.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    # The behaviours that were hx-on attributes before the policy.
    for hook in ('box.name === "same"', ".remove-row", ".add-row"):
        assert hook in script.text
