"""The data survives the migrations: a database at revision 0004 (the two-side schema), holding the
bundled seed and its edge cases (tests/data/v1_rows.json), upgraded to head, gives every answer
the app gave at 0004 (tests/data/v1_answers.json), on SQLite and PostgreSQL.

Both files come from scripts/make_v1_fixture.py, run once on the code of revision 0004; the
answers are cut down by tests/migration_answers.py, here as there.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Date, DateTime, MetaData, Table, text
from sqlmodel import Session, col, select

from app import crud, seed, writes
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.models import Exchange, MeasureRange, Stage, StageCreate
from app.settings import Settings
from tests.migration_answers import answers

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

DATA = Path(__file__).parent / "data"
V1_REVISION = "0004"
# A seeded exchange an editor changes before the new seed comes.
EDITED = "2025-10-02-205"
# Parents before children, for the foreign keys.
INSERT_ORDER = ("user", "exchange", "exchange_side", "stage", "stage_side", "source", "revision")


def read_json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def typed(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """A row of the JSON file as its columns take it: ISO strings back to dates and datetimes."""
    assert set(row) == set(table.columns.keys()), table.name
    values = dict(row)
    for name, value in row.items():
        column_type = table.columns[name].type
        if value is None:
            continue
        if isinstance(column_type, DateTime):
            values[name] = dt.datetime.fromisoformat(value)
        elif isinstance(column_type, Date):
            values[name] = dt.date.fromisoformat(value)
    return values


def insert_rows(connection: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    tables = MetaData()
    tables.reflect(connection, only=INSERT_ORDER)
    quote = connection.dialect.identifier_preparer.quote
    for name in INSERT_ORDER:
        if not rows[name]:
            continue
        table = tables.tables[name]
        connection.execute(table.insert(), [typed(table, row) for row in rows[name]])
        if connection.dialect.name == "postgresql":
            # Explicit ids leave the sequence behind: the next insert would reuse id 1.
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{quote(name)}', 'id'), max(id))"
                    f" FROM {quote(name)}"
                )
            )


def answered_urls(client: TestClient, slugs: list[str]) -> set[str]:
    """Every source URL the API shows on these exchanges and their stages."""
    urls: set[str] = set()
    for slug in slugs:
        exchange = client.get(f"/api/v1/exchanges/{slug}").json()
        urls |= {source["url"] for source in exchange["sources"]}
        urls |= {source["url"] for stage in exchange["stages"] for source in stage["sources"]}
    return urls


def test_every_answer_survives_the_upgrade_from_0004(database_url: str) -> None:
    rows = read_json("v1_rows.json")
    recorded = read_json("v1_answers.json")
    assert set(rows) == set(INSERT_ORDER)
    upgrade(database_url, V1_REVISION)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            insert_rows(connection, rows)
        upgrade(database_url)  # to head

        settings = Settings(environment="test", database_url=database_url, secret_key="test-secret")
        with TestClient(create_app(settings)) as client, Session(engine) as session:
            now = answers(session, client, slugs=list(recorded["exchanges"]))
            published = [slug for slug, answer in now["api"].items() if "status_code" not in answer]
            urls = answered_urls(client, published)
        with engine.connect() as connection:
            stored = list(connection.scalars(text("SELECT url FROM source")))
    finally:
        engine.dispose()

    assert now["totals"] == recorded["totals"]
    assert now["api_totals"] == recorded["api_totals"]
    assert now["api_exchange_slugs"] == recorded["api_exchange_slugs"]
    for slug, answer in recorded["exchanges"].items():
        assert now["exchanges"][slug] == answer, slug
        assert now["api"][slug] == recorded["api"][slug], slug
    assert now == recorded

    v1_urls = [row["url"] for row in rows["source"]]
    assert len(stored) == len(v1_urls)
    assert len(set(stored)) == len(set(v1_urls))
    assert [url for url in v1_urls if url not in urls and url not in stored] == []


def test_seeding_an_upgraded_database_revises_only_what_the_seed_alone_wrote(
    database_url: str,
) -> None:
    upgrade(database_url, V1_REVISION)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            insert_rows(connection, read_json("v1_rows.json"))
        upgrade(database_url)
        with Session(engine) as session:
            edited = session.scalars(
                select(Stage).join(Exchange).where(col(Exchange.slug) == EDITED)
            ).one()
            snapshot = writes.stage_snapshot(session, edited, with_sides=False)
            data = StageCreate.model_validate(snapshot)
            writes.update_stage(
                session,
                stage=edited,
                data=data.model_copy(update={"notes": "An editor's note."}),
                expected_version=edited.version,
                actor="editor@example.org",
            )
            kept = writes.stage_snapshot(session, edited)
            session.commit()

            first = seed.load(session)
            session.commit()
            again = seed.load(session)

            assert (first.added, again) == (46, writes.SeedReport(added=0, revised=0))
            assert first.revised > 0
            assert writes.stage_snapshot(session, edited) == kept
            disputed = crud.get_exchange(session, slug="2024-01-31-uae-207-195")
            assert disputed is not None
            [stage] = disputed.stages
            assert (stage.status, [p.range for p in disputed.tally]) == (
                "disputed",
                [{"people": MeasureRange(min=195, max=207)}, None],
            )
            easter = crud.get_exchange(session, slug="2025-04-19-easter-277")
            assert easter is not None
            [ukraine, russia] = easter.tally
            assert (russia.people, russia.outside_deal.people) == (246, 15)
            assert (ukraine.people, ukraine.outside_deal.people) == (246, 31)
            [revised] = [
                r
                for r in writes.history(session, entity="stage", entity_id=easter.stages[0].id)
                if r.reason == writes.SEED_REVISED
            ]
            assert (revised.actor, revised.is_correction) == ("seed", True)
    finally:
        engine.dispose()
