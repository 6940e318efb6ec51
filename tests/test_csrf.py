"""CSRF: tokens bound to the browser's session (or, before sign-in, to its pre-session cookie),
an Origin check, `__Host-` cookies behind https, and cookies or bodies that no parser here may
turn into a 500 (findings of the outside attack review, Hardening II)."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.types import ASGIApp, Message

from app import accounts
from app.csrf import CROSS_SITE, MISSING
from app.main import create_app
from app.settings import Settings
from tests.editing import PASSWORD, csrf_token, make_user, sign_in
from tests.factories import make_exchange
from tests.html import parse, text

NEW_EXCHANGE = "/editor/exchanges/new"
# An exchange form without a title: the form answers 400 once the CSRF check lets it through.
INCOMPLETE = {"slug": "x"}
SLUG = "istanbul-1000-for-1000"  # make_exchange's


def raw_request(app: ASGIApp, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """The status of one request sent to the app as raw ASGI, so that header bytes reach it as
    they are (the test client re-encodes them)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []
    body = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        return body.pop() if body else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    # In a thread of its own: the browser tests' Playwright keeps an event loop running in this
    # one for the whole session, and a second cannot start beside it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, app, scope, receive, send).result()
    return int(sent[0]["status"])


@pytest.fixture
def editor(client: TestClient, session: Session) -> TestClient:
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    return client


# ---- 1. cookies that are not UTF-8 -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/", 200),
        ("GET", "/login", 200),
        ("GET", "/api/v1/exchanges", 200),
        ("GET", "/editor", 303),
        ("POST", "/login", 403),
        ("POST", "/logout", 403),
    ],
)
@pytest.mark.parametrize(
    "cookie", [b"a=\xe9", b"swaptally_session=\xe9", b"swaptally_csrf=\xe9\xff", b"lang=\xe9"]
)
def test_a_cookie_that_is_not_utf8_is_no_500(
    client: TestClient, method: str, path: str, status: int, cookie: bytes
) -> None:
    assert raw_request(client.app, method, path, [(b"cookie", cookie)]) == status


# ---- 2. multipart bodies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [("/login", 403), ("/logout", 403), ("/healthz", 403), (NEW_EXCHANGE, 403), ("/", 403)],
)
@pytest.mark.parametrize("boundary", [True, False], ids=["boundary", "no-boundary"])
def test_a_multipart_post_with_a_cookie_is_no_500(
    client: TestClient, path: str, status: int, boundary: bool
) -> None:
    client.cookies.set("lang", "en")
    if boundary:
        response = client.post(path, files={"file": ("a.csv", b"x", "text/csv")})
    else:
        headers = {"Content-Type": "multipart/form-data"}
        response = client.post(path, content=b"--x\r\n", headers=headers)
    assert response.status_code == status


def test_a_multipart_post_without_a_boundary_but_with_the_token_is_a_400(
    editor: TestClient,
) -> None:
    headers = {"Content-Type": "multipart/form-data", "X-CSRFToken": csrf_token(editor, "/editor")}
    response = editor.post(NEW_EXCHANGE, content=b"--x\r\n", headers=headers)
    assert response.status_code == 400


def test_a_multipart_form_with_the_header_token_reaches_the_form(editor: TestClient) -> None:
    headers = {"X-CSRFToken": csrf_token(editor, "/editor")}
    response = editor.post(NEW_EXCHANGE, data=INCOMPLETE, files={"x": ("a", b"")}, headers=headers)
    assert response.status_code == 400  # the form's own answer: the title is missing


# ---- 3. what the check checks ------------------------------------------------------------


def test_a_bearer_header_does_not_skip_the_check_on_editor_routes(
    editor: TestClient, session: Session
) -> None:
    user = accounts.get_user_by_email(session, "ed@example.org")
    assert user is not None
    _, plain = accounts.create_token(session, user=user, name="script")
    session.commit()
    for bearer in ("Bearer nonsense", f"Bearer {plain}"):
        response = editor.post(NEW_EXCHANGE, data=INCOMPLETE, headers={"Authorization": bearer})
        assert response.status_code == 403, bearer


def test_the_api_takes_no_cookie_authority_so_needs_no_csrf_token(
    editor: TestClient, session: Session
) -> None:
    """Why /api/ is exempt: its writes authenticate with a Bearer token only."""
    body = {"slug": "x", "title": "X"}
    assert editor.post("/api/v1/exchanges", json=body).status_code == 401
    user = accounts.get_user_by_email(session, "ed@example.org")
    assert user is not None
    _, plain = accounts.create_token(session, user=user, name="script")
    session.commit()
    response = editor.post(
        "/api/v1/exchanges", json=body, headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 201  # a cookie beside the Bearer token asks for no CSRF token


def test_an_attackers_own_cookie_and_token_pair_is_refused(
    editor: TestClient, settings: Settings, session: Session
) -> None:
    """The attacker plants their pre-session cookie in the editor's browser (from a sibling
    subdomain, or over plain http) and posts the token that goes with it."""
    make_user(session, "mallory@example.org")
    with TestClient(create_app(settings)) as attacker:
        planted = csrf_token(attacker, "/login")
        cookies = dict(attacker.cookies.items())
    assert cookies != {}
    for name, value in cookies.items():
        editor.cookies.delete(name)
        editor.cookies.set(name, value, domain="testserver.local")
    response = editor.post(NEW_EXCHANGE, data=INCOMPLETE | {"csrftoken": planted})
    assert response.status_code == 403


def test_an_attackers_signed_in_token_is_refused(
    editor: TestClient, settings: Settings, session: Session
) -> None:
    make_user(session, "mallory@example.org")
    with TestClient(create_app(settings)) as attacker:
        sign_in(attacker, "mallory@example.org")
        theirs = csrf_token(attacker, "/editor")
    response = editor.post(NEW_EXCHANGE, data=INCOMPLETE | {"csrftoken": theirs})
    assert response.status_code == 403


def test_a_token_is_bound_to_the_session_it_was_shown_in(editor: TestClient) -> None:
    before = csrf_token(editor, "/editor")
    assert editor.post(NEW_EXCHANGE, data=INCOMPLETE | {"csrftoken": before}).status_code == 400
    editor.post("/logout", data={"csrftoken": before})
    sign_in(editor, "ed@example.org")
    assert editor.post(NEW_EXCHANGE, data=INCOMPLETE | {"csrftoken": before}).status_code == 403
    after = csrf_token(editor, "/editor")
    assert after != before
    assert editor.post(NEW_EXCHANGE, data=INCOMPLETE | {"csrftoken": after}).status_code == 400


def test_the_token_before_sign_in_is_refused_after(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    anonymous = csrf_token(client, "/login")
    sign_in(client, "ed@example.org")
    response = client.post(NEW_EXCHANGE, data=INCOMPLETE | {"csrftoken": anonymous})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Origin": "http://testserver.evil.example"}, 403),
        ({"Referer": "https://evil.example/page"}, 403),
        ({"Referer": "http://[broken/page"}, 403),
        ({"Origin": "http://testserver"}, 400),  # the request's own host
        ({"Origin": "http://127.0.0.1:8000"}, 400),  # BASE_URL
        ({"Referer": "http://testserver/editor/exchanges/new"}, 400),
        ({}, 400),  # neither: the token alone decides
    ],
)
def test_a_request_from_another_origin_is_refused(
    editor: TestClient, headers: dict[str, str], status: int
) -> None:
    data = INCOMPLETE | {"csrftoken": csrf_token(editor, NEW_EXCHANGE)}
    assert editor.post(NEW_EXCHANGE, data=data, headers=headers).status_code == status


def test_the_sign_in_form_checks_the_origin_too(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    token = csrf_token(client, "/login")
    form = {"email": "ed@example.org", "password": PASSWORD, "csrftoken": token}
    headers = {"Origin": "https://evil.example"}
    response = client.post("/login", data=form, headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert "swaptally_session" not in client.cookies


def test_a_refusal_says_why_in_the_readers_language(editor: TestClient) -> None:
    response = editor.post(NEW_EXCHANGE, data=INCOMPLETE, headers={"Accept-Language": "uk"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == "uk"


def test_an_htmx_patch_with_a_forged_header_is_refused(editor: TestClient) -> None:
    response = editor.patch("/editor/stages/1", headers={"X-CSRFToken": "forged\u00e9".encode()})
    assert response.status_code == 403


# ---- cookies behind https ----------------------------------------------------------------


@pytest.fixture
def https_client(database_url: str, engine: Engine) -> Iterator[TestClient]:  # noqa: ARG001 (schema)
    settings = Settings(
        environment="test",
        database_url=database_url,
        secret_key="test-secret",
        base_url="https://swaptally.example",
    )
    app = create_app(settings)
    with TestClient(app, base_url="https://swaptally.example") as client:
        yield client


def set_cookies(response: Any) -> dict[str, str]:
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}


def test_cookies_get_the_host_prefix_behind_https(
    https_client: TestClient, session: Session
) -> None:
    make_user(session, "ed@example.org")
    [pre_session] = set_cookies(https_client.get("/login")).values()
    assert pre_session.startswith("__Host-swaptally_csrf=")
    signed_in = sign_in(https_client, "ed@example.org")
    assert signed_in.status_code == 303
    cookies = set_cookies(signed_in)
    assert list(cookies) == ["__Host-swaptally_session", "__Host-swaptally_device"]
    for line in (pre_session, *cookies.values()):
        attributes = {part.strip().lower() for part in line.split(";")[1:]}
        assert {"secure", "path=/", "httponly", "samesite=lax"} <= attributes
        assert not any(attribute.startswith("domain") for attribute in attributes)
    assert https_client.get("/editor").status_code == 200
    token = csrf_token(https_client, "/editor")
    out = https_client.post("/logout", data={"csrftoken": token}, follow_redirects=False)
    assert out.status_code == 303
    [cleared] = set_cookies(out).values()
    assert cleared.startswith('__Host-swaptally_session=""')
    assert "secure" in cleared.lower()
    assert https_client.get("/editor", follow_redirects=False).status_code == 303


def test_cookies_keep_their_plain_names_over_http(client: TestClient) -> None:
    assert list(set_cookies(client.get("/login"))) == ["swaptally_csrf"]


# ---- embeds: no token on safe requests, the usual check on unsafe ones ----------------------


def refusal(response: Any) -> str:
    """Why a request was refused: JSON's detail, or the error page's message."""
    if response.headers["content-type"].startswith("application/json"):
        return str(response.json()["detail"])
    return text(parse(response.text).select_one("main p"))


@pytest.mark.parametrize("path", ["/embed/some-exchange", "/embed/some-exchange.svg", "/embed.js"])
def test_an_unsafe_request_to_an_embed_with_a_cookie_is_checked_as_anywhere(
    client: TestClient, path: str
) -> None:
    """Safe requests to embeds skip the CSRF middleware (no form, no session there): unsafe
    ones must not. A cookie makes the check apply; its refusal comes before the 405."""
    client.cookies.set("lang", "en")
    refused = client.post(path, headers={"Origin": "https://evil.example"})
    assert (refused.status_code, refusal(refused)) == (403, CROSS_SITE)
    missing = client.post(path)  # from our own origin, but with no token
    assert (missing.status_code, refusal(missing)) == (403, MISSING)


def test_an_unsafe_request_to_an_embed_without_cookies_is_the_405(client: TestClient) -> None:
    response = client.post("/embed/some-exchange")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_a_widget_with_a_session_cookie_sets_no_csrf_cookie(
    editor: TestClient, session: Session
) -> None:
    make_exchange(session)
    for _ in range(2):  # rendered, then from the cache
        response = editor.get(f"/embed/{SLUG}")
        assert response.status_code == 200
        assert "set-cookie" not in response.headers
