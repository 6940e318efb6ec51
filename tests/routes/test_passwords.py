"""Passwords changed by their owner (current one required, other sessions ended) and reset by an
admin (every session of the user ended); bad input is an error beside its field, never a 500."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import accounts
from app.models import User
from tests.editing import PASSWORD, make_user, post_form, sign_in
from tests.html import parse, text

NEW = "a new and longer passphrase"


def second_browser(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    other = TestClient(client.app)
    assert sign_in(other, email, password).status_code == 303
    return other


def change(client: TestClient, current: str, new: str, again: str | None = None) -> Any:
    data = {"current_password": current, "new_password": new, "new_password_again": again or new}
    return post_form(client, "/editor/password", "/editor/password", data)


def test_no_password_can_be_changed_becomes_a_change_that_ends_other_sessions(
    client: TestClient, session: Session
) -> None:
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    other = second_browser(client, "ed@example.org")
    changed = change(client, PASSWORD, NEW)
    assert changed.status_code == 200
    notice = parse(changed.text).select_one("#password-changed")
    assert text(notice) == "Your password is changed. You are signed out everywhere else."
    assert client.get("/editor", follow_redirects=False).status_code == 200  # this one stays
    assert other.get("/editor", follow_redirects=False).status_code == 303  # the other ended
    client.cookies.pop("swaptally_session")
    assert sign_in(client, "ed@example.org", PASSWORD).status_code == 400
    assert sign_in(client, "ed@example.org", NEW).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "again", "field", "message"),
    [
        ("wrong password", NEW, NEW, "current_password", "wrong password"),
        (PASSWORD, "short", "short", "new_password", "use at least 10 characters"),
        (PASSWORD, "x" * 1001, "x" * 1001, "new_password", "use at most 1000 characters"),
        (PASSWORD, NEW, NEW + "!", "new_password_again", "the two new passwords differ"),
        ("x" * 100_000, NEW, NEW, "current_password", "wrong password"),
        ("", "", "", "new_password", "use at least 10 characters"),
    ],
)
def test_a_refused_change_is_an_error_beside_its_field(
    client: TestClient, session: Session, current: str, new: str, again: str, field: str,
    message: str,
) -> None:  # fmt: skip
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    refused = change(client, current, new, again)
    assert refused.status_code == 400
    page = parse(refused.text)
    assert text(page.select_one(f"#error-{field}")) == message
    assert page.select_one(f"#f-{field}")["aria-invalid"] == "true"  # type: ignore[index]
    assert all(box.get("value") == "" for box in page.select("input[type=password]"))
    assert sign_in(TestClient(client.app), "ed@example.org").status_code == 303  # unchanged


def test_guessing_the_current_password_is_limited(client: TestClient, session: Session) -> None:
    make_user(session, "ed@example.org")
    sign_in(client, "ed@example.org")
    statuses = [change(client, "guess", NEW).status_code for _ in range(5)]
    assert statuses == [400] * 5
    blocked = change(client, PASSWORD, NEW)
    assert blocked.status_code == 400
    error = parse(blocked.text).select_one("#error-current_password")
    assert text(error) == "too many attempts; try again in 15 minutes"


def test_an_admin_resets_a_password_ending_every_session_of_the_user(
    client: TestClient, session: Session
) -> None:
    make_user(session, "boss@example.org", role="admin")
    ed = make_user(session, "ed@example.org")
    editor = second_browser(client, "ed@example.org")
    with TestClient(client.app) as stranger:  # the account is locked for unknown browsers
        for _ in range(accounts.MAX_ATTEMPTS_PER_ACCOUNT):
            sign_in(stranger, "ed@example.org", "guess")
    sign_in(client, "boss@example.org")
    page = client.get(f"/admin/users/{ed.id}/password")
    assert page.status_code == 200
    assert parse(page.text).select_one(f'a[href="/admin/users/{ed.id}/password"]') is None
    users = parse(client.get("/admin/users").text)
    assert users.select_one(f'#user-{ed.id} a[href="/admin/users/{ed.id}/password"]')
    reset = post_form(client, "/admin/users", f"/admin/users/{ed.id}/password", {"password": NEW})
    assert (reset.status_code, reset.headers["location"]) == (303, "/admin/users")
    assert editor.get("/editor", follow_redirects=False).status_code == 303
    with TestClient(client.app) as fresh:
        assert sign_in(fresh, "ed@example.org", NEW).status_code == 303  # the limit is lifted


@pytest.mark.parametrize(
    ("password", "message"),
    [("", "use at least 10 characters"), ("short", "use at least 10 characters"),
     ("x" * 5000, "use at most 1000 characters")],
)  # fmt: skip
def test_a_refused_reset_is_an_error_beside_the_field(
    client: TestClient, session: Session, password: str, message: str
) -> None:
    make_user(session, "boss@example.org", role="admin")
    ed = make_user(session, "ed@example.org")
    sign_in(client, "boss@example.org")
    url = f"/admin/users/{ed.id}/password"
    refused = post_form(client, url, url, {"password": password})
    assert refused.status_code == 400
    assert text(parse(refused.text).select_one("#error-password")) == message
    session.refresh(ed)
    assert accounts.sign_in(session, email=ed.email, password=PASSWORD, client="t").user == ed


def test_an_admins_own_password_is_changed_on_the_editor_page(
    client: TestClient, session: Session
) -> None:
    boss = make_user(session, "boss@example.org", role="admin")
    sign_in(client, "boss@example.org")
    url = f"/admin/users/{boss.id}/password"
    assert client.get(url, follow_redirects=False).headers["location"] == "/editor/password"
    moved = post_form(client, "/admin/users", url, {"password": NEW})
    assert (moved.status_code, moved.headers["location"]) == (303, "/editor/password")
    assert session.get(User, boss.id) is not None
    assert accounts.sign_in(session, email=boss.email, password=PASSWORD, client="t").user


def test_a_reset_of_no_such_user_is_a_404(client: TestClient, session: Session) -> None:
    make_user(session, "boss@example.org", role="admin")
    sign_in(client, "boss@example.org")
    path = "/admin/users/999/password"
    assert client.get(path).status_code == 404
    assert post_form(client, "/admin/users", path, {"password": NEW}).status_code == 404
