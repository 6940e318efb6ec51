"""Signing in and out, the limits on attempts, CSRF, and who may open which page."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.editing import PASSWORD, csrf_token, make_user, post_form, sign_in
from tests.html import parse, text

PUBLIC_PREFIXES = (
    "/api/v1/",
    "/exchanges/",
    "/feed.atom",
    "/timeline",
    "/login",
    "/logout",
    "/oembed",
)
PUBLIC_PATHS = {"/", "/feed", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}


def test_sign_in_and_out(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    response = sign_in(client, "ED@example.org")
    assert (response.status_code, response.headers["location"]) == (303, "/editor")
    cookie = response.headers["set-cookie"]
    assert "swaptally_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert client.get("/editor").status_code == 200
    token = csrf_token(client, "/editor")
    out = client.post("/logout", data={"csrftoken": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/editor", follow_redirects=False).status_code == 303


def test_wrong_password_is_an_error_beside_the_field(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    response = sign_in(client, "ed@example.org", "wrong password")
    assert response.status_code == 400
    assert text(parse(response.text).select_one("#error-password")) == "wrong email or password"


def test_attempts_are_limited_per_account(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    for _ in range(5):
        assert sign_in(client, "ed@example.org", "wrong").status_code == 400
    blocked = sign_in(client, "ed@example.org", PASSWORD)
    assert blocked.status_code == 429
    assert "too many attempts" in text(parse(blocked.text).select_one("#error-password"))


def test_login_form_without_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    response = client.post("/login", data={"email": "ed@example.org", "password": PASSWORD})
    assert response.status_code == 403


def test_editor_form_without_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    response = client.post("/editor/exchanges/new", data={"slug": "x", "title": "X"})
    assert response.status_code == 403
    forged = client.post("/editor/exchanges/new", data={"slug": "x", "csrftoken": "forged"})
    assert forged.status_code == 403


def test_next_never_leaves_the_site(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    token = csrf_token(client, "/login")
    for target, expected in [("//evil.example/x", "/editor"), ("https://evil.example", "/editor"),
                             ("/editor/tokens", "/editor/tokens")]:  # fmt: skip
        client.cookies.pop("swaptally_session", None)
        response = client.post(
            "/login",
            data={
                "email": "ed@example.org",
                "password": PASSWORD,
                "csrftoken": token,
                "next": target,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == expected


def test_editor_pages_cannot_be_framed_but_public_pages_say_so_too(client: TestClient) -> None:
    login = client.get("/login")
    assert login.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"].split("; ")


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "1" if "id" in m.group(0) else "x", path)


def protected_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every route of the app (from its OpenAPI document) that is not public."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [
        (method.upper(), path)
        for path, operations in sorted(paths.items())
        if path not in PUBLIC_PATHS and not path.startswith(PUBLIC_PREFIXES)
        for method in sorted(operations)
    ]


def test_every_non_public_route_refuses_anonymous_users(client: TestClient) -> None:
    routes = protected_routes(client)
    assert {path for _, path in routes} >= {"/editor", "/admin/users", "/editor/stages/{stage_id}"}
    for method, path in routes:
        response = client.request(method, concrete(path), follow_redirects=False)
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/login?next="), (method, path)


def test_admin_routes_refuse_editors(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    token = csrf_token(client, "/editor")
    admin_routes = [(m, p) for m, p in protected_routes(client) if p.startswith("/admin")]
    assert len(admin_routes) >= 4
    for method, path in admin_routes:
        response = client.request(
            method, concrete(path), data={"csrftoken": token} if method == "POST" else None
        )
        assert response.status_code == 403, (method, path)


@pytest.mark.parametrize("path", ["/admin/users", "/admin/deleted"])
def test_admins_get_in(client: TestClient, session: Session, path: str) -> None:
    make_user(session, "boss@example.org", role="admin")
    sign_in(client, "boss@example.org")
    assert client.get(path).status_code == 200


def test_strangers_failures_never_lock_out_an_editor_on_a_known_device(
    client: TestClient, session: Session
) -> None:
    make_user(session, "ed@example.org")
    assert sign_in(client, "ed@example.org").status_code == 303  # this browser is now known
    post_form(client, "/editor", "/logout", {})
    with TestClient(client.app) as stranger:
        refused = [sign_in(stranger, "ed@example.org", "guess").status_code for _ in range(6)]
        assert refused == [400] * 5 + [429]
        assert sign_in(stranger, "ed@example.org", PASSWORD).status_code == 429
    assert sign_in(client, "ed@example.org").status_code == 303  # the editor's own allowance


def test_a_known_device_keeps_a_limit_of_its_own(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    post_form(client, "/editor", "/logout", {})
    assert [sign_in(client, "ed@example.org", "guess").status_code for _ in range(6)] == [
        *[400] * 5,
        429,
    ]
    assert sign_in(client, "ed@example.org").status_code == 429


def test_a_forged_or_anothers_device_cookie_gets_no_allowance(
    client: TestClient, session: Session
) -> None:
    make_user(session, "ed@example.org")
    make_user(session, "other@example.org")
    sign_in(client, "other@example.org")  # a device of the other account
    post_form(client, "/editor", "/logout", {})
    with TestClient(client.app) as stranger:
        for _ in range(5):
            sign_in(stranger, "ed@example.org", "guess")
    assert sign_in(client, "ed@example.org").status_code == 429
    client.cookies.set("swaptally_device", "1:forged")
    assert sign_in(client, "ed@example.org").status_code == 429


def test_an_over_long_email_is_a_counted_failed_sign_in(client: TestClient) -> None:
    email = "x" * 2000 + "@example.org"
    statuses = [sign_in(client, email, "guess").status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    first = sign_in(client, "y" * 2000 + "@example.org", "guess")
    assert text(parse(first.text).select_one("#error-password")) == "wrong email or password"
