"""`swaptally backup` and `restore`: into an empty database they bring back every table, so the
tallies and the history are the same."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from app import accounts, seed, writes
from app.cli import cli
from app.db import make_engine, metadata
from app.main import create_app
from app.migrate import upgrade
from app.models import Stage
from app.settings import Settings
from tests.pg import PostgresServer

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"


@contextmanager
def empty_twin(database_url: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """Another empty database on the same backend (and server) as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{folder / 'restored.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.new_database("restored") as url:
        yield url


def every_row(database_url: str) -> dict[str, list[Any]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table.name: list(
                    connection.execute(select(table).order_by(*table.primary_key.columns))
                )
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def public_figures(database_url: str) -> dict[str, Any]:
    settings = Settings(environment="test", database_url=database_url, secret_key="test-secret")
    with TestClient(create_app(settings)) as client:
        return {
            path: client.get(path).json()
            for path in ("/api/v1/exchanges", "/api/v1/totals", "/api/v1/stages?limit=200")
        }


@pytest.fixture
def live(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database with the bundled exchanges, a user, and a deleted stage."""
    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        seed.load(session)
        session.commit()
        accounts.create_user(
            session, email="ed@example.org", password="a long password", role="editor"
        )
        stage = session.scalars(select(Stage).order_by(Stage.id)).first()
        assert stage is not None
        writes.delete_stage(
            session,
            stage=stage,
            expected_version=stage.version,
            actor="test",
            user_id=None,
            reason="duplicate",
        )
        session.commit()
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def cli_run(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(arguments))
    return result.exit_code, result.output


def test_restore_into_an_empty_database_gives_the_same_tallies_and_history(
    live: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_file = tmp_path / "swaptally.backup"
    assert cli_run("backup", str(backup_file)) == (0, f"Backup written to {backup_file}.\n")
    assert list(tmp_path.iterdir()) == [backup_file]  # nothing partial left beside it
    with empty_twin(live, request, tmp_path) as twin:
        monkeypatch.setenv("DATABASE_URL", twin)
        assert cli_run("restore", str(backup_file)) == (0, f"Restored {backup_file}.\n")
        assert every_row(twin) == every_row(live)
        assert public_figures(twin) == public_figures(live)
        # Exchanges, stages and official totals created, and one deletion.
        assert len(every_row(twin)["revision"]) == 72 + 96 + 38 + 1


def test_restore_replaces_what_the_database_holds(
    live: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_file = tmp_path / "swaptally.backup"
    before = every_row(live)
    assert cli_run("backup", str(backup_file))[0] == 0
    engine = make_engine(live)
    with Session(engine) as session:
        accounts.create_user(
            session, email="late@example.org", password="a long password", role="admin"
        )
        session.commit()
    engine.dispose()
    assert every_row(live) != before
    monkeypatch.setenv("DATABASE_URL", live)
    assert cli_run("restore", str(backup_file))[0] == 0
    assert every_row(live) == before


def test_restore_refuses_what_is_not_a_backup(live: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.backup"
    assert cli_run("restore", str(missing)) == (1, f"Error: no backup file at {missing}.\n")
    garbage = tmp_path / "garbage.backup"
    garbage.write_text("exchange,stage_id\n", encoding="utf-8")
    code, output = cli_run("restore", str(garbage))
    assert code == 1
    assert output.startswith("Error: ")
    assert every_row(live)["exchange"]  # untouched
