"""Accounts: argon2 passwords, expiring sessions, tokens, sign-in limits, deactivation."""

import datetime as dt
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlmodel import Session

from app import accounts
from app.models import LoginThrottle, User, UserSession
from app.settings import Settings

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

PASSWORD = "correct horse battery"


@pytest.fixture
def editor(session: Session) -> User:
    user = accounts.create_user(session, email=" Ed@Example.org ", password=PASSWORD, role="editor")
    session.commit()
    return user


def test_passwords_are_hashed_with_argon2(editor: User) -> None:
    assert editor.email == "ed@example.org"
    assert editor.password_hash.startswith("$argon2id$")
    assert PASSWORD not in editor.password_hash


def test_the_app_hashes_with_the_libraries_recommended_argon2id() -> None:
    """The suite hashes cheaply (tests/conftest.py); the app on its own does not."""
    script = "from app import accounts; print(accounts.password_hasher().hash('x'))"
    env = {name: value for name, value in os.environ.items() if name != "PASSWORD_HASHING"}
    hashed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_the_served_apps_of_the_suite_hash_as_cheaply(monkeypatch: pytest.MonkeyPatch) -> None:
    """PASSWORD_HASHING=cheapest, which tests/served.py gives the apps it starts."""
    monkeypatch.setattr(accounts, "_hashing", accounts._Hashing())  # as in a new process
    monkeypatch.setenv("PASSWORD_HASHING", "cheapest")
    assert accounts.password_hasher().hash("x").startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_production_refuses_cheap_hashing() -> None:
    with pytest.raises(ValidationError, match="PASSWORD_HASHING=cheapest"):
        Settings(environment="production", secret_key="s", password_hashing="cheapest")


@pytest.mark.usefixtures("editor")
def test_hashes_made_with_other_parameters_still_verify(session: Session) -> None:
    suites = accounts.password_hasher()
    accounts.use_password_hasher(accounts.hasher_for("recommended"))
    try:
        assert accounts.sign_in(session, email="ed@example.org", password=PASSWORD, client="c").user
    finally:
        accounts.use_password_hasher(suites)


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not-an-email", PASSWORD, "email"), ("x@example.org", "short", "password"),
     ("ED@example.org", PASSWORD, "email")],
)  # fmt: skip
@pytest.mark.usefixtures("editor")
def test_create_user_refuses(session: Session, email: str, password: str, field: str) -> None:
    with pytest.raises(accounts.AccountError) as refused:
        accounts.create_user(session, email=email, password=password, role="editor")
    assert refused.value.field == field


def test_sign_in_checks_the_password(session: Session, editor: User) -> None:
    signed_in = accounts.sign_in(session, email="ED@example.org", password=PASSWORD, client="c")
    assert signed_in.user == editor
    wrong = accounts.sign_in(session, email="ed@example.org", password="nope", client="c")
    assert (wrong.user, wrong.error) == (None, "wrong email or password")
    nobody = accounts.sign_in(session, email="who@example.org", password=PASSWORD, client="c")
    assert nobody.user is None


def test_sign_in_is_limited_per_account(session: Session, editor: User) -> None:
    for attempt in range(accounts.MAX_ATTEMPTS_PER_ACCOUNT):
        client = f"10.0.0.{attempt}"
        assert not accounts.sign_in(
            session, email=editor.email, password="x", client=client
        ).limited
    blocked = accounts.sign_in(session, email=editor.email, password=PASSWORD, client="other")
    assert (blocked.user, blocked.limited) == (None, True)


def test_sign_in_is_limited_per_client(session: Session, editor: User) -> None:
    for attempt in range(accounts.MAX_ATTEMPTS_PER_CLIENT):
        accounts.sign_in(session, email=f"u{attempt}@example.org", password="x", client="1.2.3.4")
    assert accounts.sign_in(
        session, email=editor.email, password=PASSWORD, client="1.2.3.4"
    ).limited
    assert accounts.sign_in(session, email=editor.email, password=PASSWORD, client="5.6.7.8").user


def test_sessions_expire_after_inactivity(session: Session, editor: User) -> None:
    token = accounts.start_session(session, user=editor)
    session.commit()
    assert accounts.session_user(session, token) == editor
    assert accounts.session_user(session, token + "x") is None
    stale = dt.datetime.now(dt.UTC) - accounts.SESSION_IDLE - dt.timedelta(minutes=1)
    session.execute(update(UserSession).values(last_seen_at=stale))
    session.commit()
    assert accounts.session_user(session, token) is None


def test_deactivation_ends_sessions_and_tokens_at_once(session: Session, editor: User) -> None:
    token = accounts.start_session(session, user=editor)
    _, api_token = accounts.create_token(session, user=editor, name="newsroom script")
    session.commit()
    assert accounts.token_user(session, api_token) == editor
    accounts.deactivate(session, user=editor)
    session.commit()
    assert accounts.session_user(session, token) is None
    assert accounts.token_user(session, api_token) is None
    assert accounts.sign_in(session, email=editor.email, password=PASSWORD, client="c").user is None
    accounts.reactivate(session, user=editor)
    session.commit()
    assert accounts.token_user(session, api_token) is None  # revoked tokens stay revoked


def test_tokens_are_shown_once_stored_hashed_and_revocable(session: Session, editor: User) -> None:
    token, plain = accounts.create_token(session, user=editor, name="CMS")
    session.commit()
    assert plain.startswith("st_")
    assert plain not in token.token_hash
    assert [t.name for t in accounts.list_tokens(session, user=editor)] == ["CMS"]
    assert accounts.revoke_token(session, user=editor, token_id=token.id or 0) is True
    assert accounts.revoke_token(session, user=editor, token_id=token.id or 0) is False
    session.commit()
    assert accounts.token_user(session, plain) is None
    with pytest.raises(accounts.AccountError):
        accounts.create_token(session, user=editor, name="  ")


def test_end_session_and_roles(session: Session, editor: User) -> None:
    token = accounts.start_session(session, user=editor)
    accounts.end_session(session, token)
    session.commit()
    assert accounts.session_user(session, token) is None
    accounts.set_role(session, user=editor, role="admin")
    session.commit()
    assert [(u.email, u.role) for u in accounts.list_users(session)] == [
        ("ed@example.org", "admin")
    ]


@pytest.mark.parametrize("length", [320, 393, 5000])
def test_an_over_long_email_or_client_address_never_overflows_the_key(
    session: Session, editor: User, length: int
) -> None:
    email, client = "x" * (length - 12) + "@example.org", "203.0.113.7, " * (length // 14)
    for _ in range(accounts.MAX_ATTEMPTS_PER_ACCOUNT):
        wrong = accounts.sign_in(session, email=email, password="x", client=client)
        assert (wrong.user, wrong.limited) == (None, False)
    assert accounts.sign_in(session, email=email, password="x", client=client).limited
    keys = session.scalars(select(LoginThrottle.key)).all()
    assert sorted(len(key) for key in keys) == [64, 64]
    assert accounts.sign_in(session, email=editor.email, password=PASSWORD, client="c").user
