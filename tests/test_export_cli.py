"""`swaptally export`: the API's own CSV and JSON, and a CSV that `swaptally import` reads back."""

import csv
import io
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

# The seed's exchange with no stage yet (announced): a file of stages has no row for it.
NO_STAGES = "2025-istanbul-3-1200"


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


def carried(exchanges: list[dict[str, Any]]) -> dict[str, Any]:
    """What a file of stages carries of each exchange that has some: title, conflict, parties,
    and every tally figure. Not its terms (targets, percents, what remains), nor the figures
    announcers gave (the range, and which party a dispute is about)."""
    counted = (
        "received_by", "name", "headline", "qualifier", "people", "military", "civilian",
        "remains", "outside_deal", "undisclosed",
    )  # fmt: skip
    return {
        exchange["slug"]: (
            exchange["title"],
            exchange["conflict"],
            [(party["slug"], party["name"]) for party in exchange["parties"]],
            exchange["stages_count"],
            [tuple(tally[name] for name in counted) for tally in exchange["tally"]],
            [(s["key"], s["name"], s["returned"], s["undisclosed"]) for s in exchange["sides"]],
        )
        for exchange in exchanges
        if exchange["stages_count"]
    }


def totals(client: TestClient) -> dict[str, Any]:
    """The all-time sums per conflict and party, without the Ukrainian names, the official
    totals and the count of exchanges (the file has no row for an exchange without stages)."""
    found = client.get("/api/v1/totals").json()
    left_out = {"name_uk", "official", "exchanges_count"}
    return {
        conflict["slug"]: (
            conflict["name"],
            [
                {k: v for k, v in party.items() if k not in left_out}
                for party in conflict["parties"]
            ],
        )
        for conflict in found["conflicts"]
    } | {
        "sides": [
            {k: v for k, v in side.items() if k != "exchanges_count"} for side in found["sides"]
        ]
    }


def stages(client: TestClient) -> list[tuple[Any, ...]]:
    """Every published stage as the API shows it, less its id and version, and less what comes
    of the announcers' figures: whether it is confirmed, and the figures themselves."""
    found = client.get("/api/v1/stages", params={"limit": 200}).json()
    assert found["next"] is None
    shown = [
        (
            s["exchange"],
            s["date"],
            s["status"] == "disputed",
            s["notes"],
            s["releases"],
            s["sides"],
            [{k: v for k, v in source.items() if k != "figures"} for source in s["sources"]],
        )
        for s in found["stages"]
    ]
    return sorted(shown, key=json.dumps)  # ids differ, so stages of one day may swap places


def test_csv_is_the_api_export_of_every_published_stage(seeded: TestClient) -> None:
    exported = export()
    assert exported == seeded.get("/api/v1/stages.csv").text
    assert export("--format", "csv") == exported
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert (len(rows), len({row["stage_id"] for row in rows})) == (204, 96)
    assert "drafts-only" not in exported


def test_json_lists_each_published_exchange_as_the_api_shows_it(seeded: TestClient) -> None:
    listed = seeded.get("/api/v1/exchanges").json()
    details = [seeded.get(f"/api/v1/exchanges/{e['slug']}").json() for e in listed]
    assert json.loads(export("--format", "json")) == details
    assert len(details) == 73


@pytest.mark.postgresql
def test_csv_round_trips_through_import(
    seeded: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = tmp_path / "export.csv"
    exported.write_text(export(), encoding="utf-8")
    runner = CliRunner()
    again = runner.invoke(cli, ["import", str(exported)])
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1] == "0 created, 0 updated, 96 unchanged, 0 refused"

    target = f"sqlite:///{tmp_path / 'imported.db'}"
    engine = make_engine(target)
    metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", target)
    imported = runner.invoke(cli, ["import", str(exported)])
    assert imported.stdout.splitlines()[-1] == "96 created, 0 updated, 0 unchanged, 0 refused"
    twice = runner.invoke(cli, ["import", str(exported)])
    assert twice.stdout.splitlines()[-1] == "0 created, 0 updated, 96 unchanged, 0 refused"
    settings = Settings(environment="test", database_url=target, secret_key="test-secret")
    with TestClient(create_app(settings)) as copy:
        listed = seeded.get("/api/v1/exchanges").json()
        assert carried(copy.get("/api/v1/exchanges").json()) == carried(listed)
        assert len(carried(listed)) == 71
        assert NO_STAGES in {exchange["slug"] for exchange in listed}
        assert totals(copy) == totals(seeded)
        assert stages(copy) == stages(seeded)


def test_export_needs_a_migrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(cli, ["export"])
    assert (result.exit_code, result.stderr) == (
        1,
        "No schema yet: run `swaptally migrate` first.\n",
    )
