"""Helpers for driving the editors' side through HTTP, as a browser would."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import accounts
from app.models import Role, User
from tests.html import parse

PASSWORD = "correct horse battery"


def make_user(session: Session, email: str, role: Role = "editor") -> User:
    user = accounts.create_user(session, email=email, password=PASSWORD, role=role)
    session.commit()
    return user


def csrf_token(client: TestClient, url: str) -> str:
    """The CSRF token of the form on `url` (the page also sets the matching cookie)."""
    field = parse(client.get(url).text).select_one('input[name="csrftoken"]')
    assert field is not None, f"no CSRF field on {url}"
    return str(field["value"])


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrftoken": token, "next": "/editor"},
        follow_redirects=False,
    )


def post_form(client: TestClient, page: str, url: str, data: dict[str, Any]) -> Any:
    """Submit a form the way a browser does: token from the page, then the POST."""
    return client.post(
        url, data={**data, "csrftoken": csrf_token(client, page)}, follow_redirects=False
    )
