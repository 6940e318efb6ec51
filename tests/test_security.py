"""Hostile input: source URLs that are not http(s), forms without a CSRF token, bodies over the
size limit (declared or streamed), path tricks, SQL in text, and custom error pages."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlmodel import Session

from app import accounts
from app.main import BODY_ALLOWANCES, MAX_BODY_BYTES
from tests.editing import csrf_token, make_user, post_form, sign_in
from tests.factories import SOURCE, make_exchange, stage_data
from tests.html import parse, text

SLUG = "istanbul-1000-for-1000"


@pytest.fixture
def auth(session: Session) -> dict[str, str]:
    user = make_user(session, "api@example.org")
    _, token = accounts.create_token(session, user=user, name="tests")
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def stage_body(**fields: Any) -> dict[str, Any]:
    sides = [{"key": key, "military": 270, "civilian": 120} for key in "ab"]
    return {"date": "2025-05-23", "status": "confirmed", "sides": sides, "sources": [SOURCE]} | {
        **fields
    }


# ---- source addresses ---------------------------------------------------------------------

NOT_HTTP = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "  javascript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",
    "https:/no-host",
]


@pytest.mark.parametrize("url", NOT_HTTP)
def test_api_refuses_source_urls_that_are_not_http(
    client: TestClient, session: Session, auth: dict[str, str], url: str
) -> None:
    make_exchange(session)
    body = stage_body(sources=[SOURCE | {"url": url}])
    response = client.post(f"/api/v1/exchanges/{SLUG}/stages", json=body, headers=auth)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "sources", 0, "url"]
    assert "http" in error["msg"]


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>"])
def test_the_stage_form_refuses_them_beside_the_field(
    client: TestClient, session: Session, url: str
) -> None:
    make_exchange(session)
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    page = f"/editor/exchanges/{SLUG}/stages/new"
    form = {"date": "2025-05-23", "same": "1", "published": "1", "notes": ""}
    form |= {"release_0_released_by": "russia", "release_0_received_by": "ukraine"}
    form |= {"release_0_military": "270", "release_0_civilian": "120"}
    form |= {"release_1_released_by": "ukraine", "release_1_received_by": "russia"}
    form |= {"source_0_url": url, "source_0_publisher": "Wire", "source_0_published_at": ""}
    response = post_form(client, page, page, form | {"source_0_claim": ""})
    assert response.status_code == 400
    error = parse(response.text).select_one("#error-source_0_url")
    assert "http" in text(error)
    assert url.split(":")[0] + ":" not in str(parse(response.text).select("a[href]"))


# ---- CSRF -------------------------------------------------------------------------------


def form_routes(client: TestClient) -> list[str]:
    """Every form a browser posts (the API's writes take a token, not a cookie)."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted(
        path for path, ops in paths.items() if "post" in ops and not path.startswith("/api/")
    )


def test_every_form_without_a_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data())
    make_user(session, "boss@example.org", role="admin")
    sign_in(client, "boss@example.org")
    routes = form_routes(client)
    assert {"/login", "/logout", "/editor/exchanges/new", "/admin/users"} <= set(routes)
    for path in routes:
        concrete = path.replace("{slug}", SLUG).replace("{stage_id}", "1")
        concrete = concrete.replace("{user_id}", "1").replace("{token_id}", "1")
        for data in ({"title": "x"}, {"title": "x", "csrftoken": "forged"}):
            response = client.post(concrete, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, data)


def test_htmx_requests_carry_the_token_in_a_header(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data())
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    token = csrf_token(client, "/editor")
    url = f"/editor/exchanges/{SLUG}/stages/preview"
    form = {"date": "2025-05-23", "release_0_military": "1"}
    assert client.post(url, data=form, headers={"HX-Request": "true"}).status_code == 403
    headers = {"HX-Request": "true", "x-csrftoken": token}
    assert client.post(url, data=form, headers=headers).status_code == 200


# ---- body size --------------------------------------------------------------------------


def chunks(size: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """A body streamed in chunks, without a Content-Length (Transfer-Encoding: chunked)."""
    sent = 0
    while sent < size:
        yield b"x" * min(chunk, size - sent)
        sent += chunk


def test_a_declared_body_over_the_limit_is_413(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    make_exchange(session)
    body = b'{"notes": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = client.post(f"/api/v1/exchanges/{SLUG}/stages", content=body, headers=auth)
    assert response.status_code == 413
    assert "limit of 1,048,576 bytes" in response.json()["detail"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "x-request-id" in response.headers


def test_a_streamed_body_over_the_limit_is_413(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    make_exchange(session)
    headers = auth | {"Content-Type": "application/json"}
    response = client.post(
        f"/api/v1/exchanges/{SLUG}/stages", content=chunks(MAX_BODY_BYTES + 1), headers=headers
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_a_streamed_form_over_the_limit_is_413_before_the_csrf_check(
    client: TestClient, session: Session
) -> None:
    make_user(session, "ed@example.org")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/login", content=chunks(MAX_BODY_BYTES + 1), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "limit" in text(parse(response.text).select_one("main"))


def test_a_body_under_the_limit_is_read(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    make_exchange(session)
    body = stage_body(notes="x" * (MAX_BODY_BYTES // 2))
    response = client.post(f"/api/v1/exchanges/{SLUG}/stages", json=body, headers=auth)
    assert response.status_code == 422  # past the notes' own limit, but read and answered
    assert response.json()["detail"][0]["loc"] == ["body", "notes"]


def test_a_get_that_declares_a_body_over_the_limit_is_413_too(client: TestClient) -> None:
    """Requests that declare no body pass the limit unwrapped; one that does is refused by
    its length, whatever its method."""
    response = client.request("GET", "/embed.js", content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    streamed = client.request("GET", "/embed.js", content=chunks(MAX_BODY_BYTES + 1))
    assert streamed.request.headers["transfer-encoding"] == "chunked"
    assert streamed.status_code == 200  # never read: nothing to count
    assert client.get("/embed.js", headers={"Content-Length": "0"}).status_code == 200


def test_the_csv_import_may_send_more(client: TestClient) -> None:
    [(path, allowance)] = BODY_ALLOWANCES.items()
    assert allowance > MAX_BODY_BYTES
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    client.cookies.set("lang", "en")  # with a cookie, the CSRF check reads the whole form
    under = client.post(path, content=chunks(MAX_BODY_BYTES * 2), headers=headers)
    assert under.status_code == 403  # read through, then refused: it has no CSRF token
    over = client.post(path, content=chunks(allowance + 1), headers=headers)
    assert over.status_code == 413
    declared = client.post(path, content=b"x" * (allowance + 1), headers=headers)
    assert declared.status_code == 413


# ---- paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/exchanges/..%2F..%2Fetc%2Fpasswd",
        "/exchanges/%2e%2e",
        "/exchanges/%2e%2e%2fadmin%2fusers",
        f"/exchanges/{SLUG}%00",
        f"/exchanges/{SLUG}%2F..%2F..",
        f"/exchanges/{SLUG.upper()}",
        "/api/v1/exchanges/..%2F..%2Fetc%2Fpasswd",
        f"/api/v1/exchanges/{SLUG}%0d%0aSet-Cookie:%20x=1",
        "/static/..%2F..%2Fapp%2Fsettings.py",
        "/static/%2e%2e/%2e%2e/app/settings.py",
        "/static/vendor/htmx/..%2F..%2F..%2Fpackage.json",
        "/static/css/..%2f..%2f..%2f.git%2fconfig",
    ],
)
def test_path_tricks_are_404(client: TestClient, session: Session, path: str) -> None:
    make_exchange(session, stage_data())
    response = client.get(path)
    assert response.status_code == 404, response.text[:200]
    assert "set-cookie" not in response.headers or "x=1" not in response.headers["set-cookie"]


# ---- SQL in text ------------------------------------------------------------------------

SQL = ["'; DROP TABLE stage; --", "1' OR '1'='1", '"; DELETE FROM exchange WHERE ""="']


@pytest.mark.postgresql
def test_sql_in_text_is_stored_and_shown_literally(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    make_exchange(session, stage_data(notes=SQL[0]), title=SQL[1])
    response = client.post(
        f"/api/v1/exchanges/{SLUG}/stages",
        json=stage_body(date="2025-05-24", notes=SQL[2]),
        headers=auth,
    )
    assert response.status_code == 201
    assert response.json()["notes"] == SQL[2]
    tables = set(inspect(session.get_bind()).get_table_names())
    assert {"stage", "exchange"} <= tables
    detail = client.get(f"/api/v1/exchanges/{SLUG}").json()
    assert detail["title"] == SQL[1]
    assert [stage["notes"] for stage in detail["stages"]] == [SQL[0], SQL[2]]
    page = parse(client.get(f"/exchanges/{SLUG}").text)
    assert text(page.select_one("h1")) == SQL[1]
    assert SQL[0] in text(page.select_one("main"))
    # A search for SQL finds what contains it, not everything: the notes of one stage,
    # or the exchange title, which finds both its stages.
    found = {q: client.get("/api/v1/stages", params={"q": q}).json()["stages"] for q in SQL}
    assert [stage["notes"] for stage in found[SQL[0]]] == [SQL[0]]
    assert sorted(stage["notes"] for stage in found[SQL[1]]) == sorted([SQL[0], SQL[2]])
    assert [stage["notes"] for stage in found[SQL[2]]] == [SQL[2]]
    assert client.get("/api/v1/stages", params={"q": "' OR 1=1 --"}).json()["stages"] == []


# ---- error pages ------------------------------------------------------------------------


def test_a_missing_page_is_the_custom_404(client: TestClient) -> None:
    response = client.get("/no/such/page", headers={"Accept-Language": "uk"})
    assert response.status_code == 404
    page = parse(response.text)
    assert text(page.select_one("h1")) == "Не знайдено"
    assert page.select_one("a[href='/timeline']") is not None


def test_a_missing_api_resource_is_json(client: TestClient) -> None:
    response = client.get("/api/v1/exchanges/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "No exchange with slug 'nope'"}


def test_a_wrong_method_names_every_allowed_one(client: TestClient) -> None:
    response = client.delete(f"/api/v1/exchanges/{SLUG}")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, PATCH"
