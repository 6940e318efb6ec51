"""swaptally create-user, set-password and create-token on a real, migrated SQLite file."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from app import accounts
from app.cli import cli
from app.db import make_engine

PASSWORD = "correct horse battery"


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'var' / 'swaptally.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def runner(sqlite_url: str) -> CliRunner:  # noqa: ARG001 (sets DATABASE_URL)
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    return runner


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def create_user(runner: CliRunner, *args: str, password: str = PASSWORD) -> tuple[int, str]:
    result = runner.invoke(cli, ["create-user", *args, "--password-stdin"], input=password + "\n")
    return result.exit_code, result.output


def test_create_user_reads_the_password_from_stdin(runner: CliRunner, session: Session) -> None:
    assert create_user(runner, "Ed@Example.org", "--role", "admin") == (
        0,
        "Created admin ed@example.org.\n",
    )
    signed_in = accounts.sign_in(session, email="ed@example.org", password=PASSWORD, client="t")
    assert signed_in.user is not None
    assert signed_in.user.role == "admin"


def test_create_user_is_an_editor_unless_told(runner: CliRunner) -> None:
    assert create_user(runner, "ed@example.org") == (0, "Created editor ed@example.org.\n")


def test_create_user_asks_for_the_password_twice(runner: CliRunner, session: Session) -> None:
    typed = f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n"
    result = runner.invoke(cli, ["create-user", "ed@example.org"], input=typed)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden as typed
    assert "do not match" in result.output
    assert result.output.endswith("Created editor ed@example.org.\n")
    signed_in = accounts.sign_in(session, email="ed@example.org", password=PASSWORD, client="t")
    assert signed_in.user is not None


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", PASSWORD, "Error: email: enter an email address.\n"),
        ("ed@example.org", "short", "Error: password: use at least 10 characters.\n"),
        ("ed@example.org", "", "Error: password: use at least 10 characters.\n"),
    ],
)
def test_create_user_refuses_bad_input(
    runner: CliRunner, email: str, password: str, message: str
) -> None:
    assert create_user(runner, email, password=password) == (1, message)


def test_create_user_refuses_a_duplicate(runner: CliRunner) -> None:
    assert create_user(runner, "ed@example.org")[0] == 0
    assert create_user(runner, "ED@example.org", "--role", "admin") == (
        1,
        "Error: email: a user with this email exists already.\n",
    )


def test_create_user_refuses_an_unknown_role(runner: CliRunner) -> None:
    exit_code, output = create_user(runner, "ed@example.org", "--role", "superuser")
    assert exit_code == 2
    assert "superuser" in output


def test_create_token_prints_it_last(runner: CliRunner, session: Session) -> None:
    create_user(runner, "ed@example.org")
    result = runner.invoke(cli, ["create-token", "ED@example.org", "--name", "newsroom script"])
    assert result.exit_code == 0, result.output
    *before, token = result.output.splitlines()
    assert before == ["API token 'newsroom script' for ed@example.org. It is shown only this once:"]
    user = accounts.token_user(session, token)
    assert user is not None
    assert user.email == "ed@example.org"
    [stored] = accounts.list_tokens(session, user=user)
    assert (stored.name, token not in stored.token_hash) == ("newsroom script", True)


def test_create_token_refuses_unknown_and_inactive_users(
    runner: CliRunner, session: Session
) -> None:
    unknown = runner.invoke(cli, ["create-token", "who@example.org", "--name", "x"])
    assert (unknown.exit_code, unknown.output) == (
        1,
        "Error: email: no active user 'who@example.org'.\n",
    )
    create_user(runner, "ed@example.org")
    user = accounts.get_user_by_email(session, "ed@example.org")
    assert user is not None
    accounts.deactivate(session, user=user)
    session.commit()
    inactive = runner.invoke(cli, ["create-token", "ed@example.org", "--name", "x"])
    assert (inactive.exit_code, inactive.output) == (
        1,
        "Error: email: no active user 'ed@example.org'.\n",
    )


def test_create_token_needs_a_name(runner: CliRunner) -> None:
    create_user(runner, "ed@example.org")
    blank = runner.invoke(cli, ["create-token", "ed@example.org", "--name", "  "])
    assert (blank.exit_code, blank.output) == (
        1,
        "Error: name: give the token a name of up to 100 characters.\n",
    )
    assert runner.invoke(cli, ["create-token", "ed@example.org"]).exit_code == 2


@pytest.mark.usefixtures("sqlite_url")
def test_account_commands_need_a_migrated_database() -> None:
    result = CliRunner().invoke(
        cli, ["create-user", "ed@example.org", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert (result.exit_code, result.output) == (
        1,
        "No schema yet: run `swaptally migrate` first.\n",
    )


NEW = "a new and longer passphrase"


def set_password(runner: CliRunner, email: str, password: str = NEW) -> tuple[int, str]:
    result = runner.invoke(cli, ["set-password", email, "--password-stdin"], input=password + "\n")
    return result.exit_code, result.output


def test_set_password_replaces_it_and_ends_every_session(
    runner: CliRunner, session: Session
) -> None:
    create_user(runner, "ed@example.org")
    user = accounts.get_user_by_email(session, "ed@example.org")
    assert user is not None
    browser = accounts.start_session(session, user=user)
    session.commit()
    assert set_password(runner, "ED@example.org") == (
        0,
        "New password set for ed@example.org; their sessions have ended.\n",
    )
    session.expire_all()
    assert accounts.session_user(session, browser) is None
    assert (
        accounts.sign_in(session, email="ed@example.org", password=PASSWORD, client="t").user
        is None
    )
    assert accounts.sign_in(session, email="ed@example.org", password=NEW, client="t").user


def test_set_password_asks_twice_hidden(runner: CliRunner, session: Session) -> None:
    create_user(runner, "ed@example.org")
    typed = f"{NEW}\nsomething else\n{NEW}\n{NEW}\n"
    result = runner.invoke(cli, ["set-password", "ed@example.org"], input=typed)
    assert result.exit_code == 0, result.output
    assert NEW not in result.output
    assert "do not match" in result.output
    assert accounts.sign_in(session, email="ed@example.org", password=NEW, client="t").user


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("who@example.org", NEW, "Error: email: no user 'who@example.org'.\n"),
        ("ed@example.org", "short", "Error: password: use at least 10 characters.\n"),
        ("ed@example.org", "", "Error: password: use at least 10 characters.\n"),
        ("ed@example.org", "x" * 1001, "Error: password: use at most 1000 characters.\n"),
    ],
)
def test_set_password_refuses_bad_input(
    runner: CliRunner, session: Session, email: str, password: str, message: str
) -> None:
    create_user(runner, "ed@example.org")
    assert set_password(runner, email, password) == (1, message)
    assert accounts.sign_in(session, email="ed@example.org", password=PASSWORD, client="t").user


@pytest.mark.usefixtures("sqlite_url")
def test_set_password_needs_a_migrated_database() -> None:
    result = CliRunner().invoke(
        cli, ["set-password", "ed@example.org", "--password-stdin"], input=NEW + "\n"
    )
    assert (result.exit_code, result.output) == (
        1,
        "No schema yet: run `swaptally migrate` first.\n",
    )
