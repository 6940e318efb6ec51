"""`swaptally export`: the API's own CSV and JSON, and a CSV that `swaptally import` reads back."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from app import seed
from app.cli import cli
from app.db import make_engine, metadata
from app.main import create_app
from app.settings import Settings
from tests.factories import add_stage, make_exchange, stage_data


@pytest.fixture
def seeded(client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The bundled exchanges, plus a draft stage and an exchange with nothing published."""
    seed.load(session)
    session.commit()
    exchange = make_exchange(session, slug="drafts-only", title="Drafts only")
    add_stage(session, exchange, stage_data(published=False))
    monkeypatch.setenv("DATABASE_URL", str(session.get_bind().url.render_as_string(False)))
    return client


def export(*options: str) -> str:
    result = CliRunner().invoke(cli, ["export", *options])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode()  # `stdout` would turn the CSV's CRLF into LF


def tallies(exchanges: list[dict[str, Any]]) -> dict[str, Any]:
    """What an import can carry: each exchange's title, stage count and returned figures."""
    return {
        exchange["slug"]: (
            exchange["title"],
            exchange["stages_count"],
            [(s["key"], s["name"], s["returned"], s["undisclosed"]) for s in exchange["sides"]],
        )
        for exchange in exchanges
        if exchange["stages_count"]
    }


def stages(client: TestClient) -> list[tuple[Any, ...]]:
    """Every published stage as the API shows it, less its id and version."""
    found = client.get("/api/v1/stages", params={"limit": 200}).json()
    assert found["next"] is None
    shown = [
        (s["exchange"], s["date"], s["status"], s["notes"], s["sides"], s["sources"])
        for s in found["stages"]
    ]
    return sorted(shown, key=json.dumps)  # ids differ, so stages of one day may swap places


def test_csv_is_the_api_export_of_every_published_stage(seeded: TestClient) -> None:
    assert export() == seeded.get("/api/v1/stages.csv").text
    assert export("--format", "csv") == export()
    assert "drafts-only" not in export()


def test_json_lists_each_published_exchange_as_the_api_shows_it(seeded: TestClient) -> None:
    listed = seeded.get("/api/v1/exchanges").json()
    details = [seeded.get(f"/api/v1/exchanges/{e['slug']}").json() for e in listed]
    assert json.loads(export("--format", "json")) == details
    assert len(details) == 27


def test_csv_round_trips_through_import(
    seeded: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = tmp_path / "export.csv"
    exported.write_text(export(), encoding="utf-8")
    runner = CliRunner()
    again = runner.invoke(cli, ["import", str(exported)])
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1] == "0 created, 0 updated, 37 unchanged, 0 refused"

    target = f"sqlite:///{tmp_path / 'imported.db'}"
    engine = make_engine(target)
    metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", target)
    imported = runner.invoke(cli, ["import", str(exported)])
    assert imported.stdout.splitlines()[-1] == "37 created, 0 updated, 0 unchanged, 0 refused"
    settings = Settings(environment="test", database_url=target, secret_key="test-secret")
    with TestClient(create_app(settings)) as copy:
        assert tallies(copy.get("/api/v1/exchanges").json()) == tallies(
            seeded.get("/api/v1/exchanges").json()
        )
        assert stages(copy) == stages(seeded)


def test_export_needs_a_migrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(cli, ["export"])
    assert (result.exit_code, result.stderr) == (
        1,
        "No schema yet: run `swaptally migrate` first.\n",
    )
