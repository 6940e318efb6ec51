"""Build tests/data/v1_rows.json and tests/data/v1_answers.json: a database at revision 0004 (the
two-side schema) with the bundled seed and the edge cases the data migration must carry, and the
app's answers on it, which tests/test_migration_data.py expects again after upgrading to head.

Run once with the code of revision 0004, from the repository root; the output is committed:

    PYTHONPATH=. .venv/bin/python scripts/make_v1_fixture.py

Every write goes through app/writes.py as the editor does it. Its clock is replaced by one that
starts at FIXED_START and moves one second per reading, so that the rows are the same each run.
"""

import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import JSON, Date, DateTime, Engine, MetaData, event, select
from sqlmodel import Session, col

from app import crud, seed, writes
from app.db import make_engine
from app.main import create_app
from app.migrate import head_revisions, upgrade
from app.models import Exchange, ExchangeCreate, Revision, Stage, StageCreate
from app.settings import PROJECT_ROOT, Settings
from tests.migration_answers import answers

V1_REVISION = "0004"
TABLES = ("exchange", "exchange_side", "stage", "stage_side", "source", "revision", "user")
DATA = PROJECT_ROOT / "tests/data"
FIXED_START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
ACTOR = "fixture@example.org"


def fixed_clock() -> Iterator[dt.datetime]:
    now = FIXED_START
    while True:
        yield now
        now += dt.timedelta(seconds=1)


def source(url: str, publisher: str, claim: str, published_at: str | None = None) -> dict[str, Any]:
    return {"url": url, "publisher": publisher, "published_at": published_at, "claim": claim}


def side(key: str, **figures: int | None) -> dict[str, Any]:
    return {"key": key} | figures


def stage(day: str, a: dict[str, Any], b: dict[str, Any], **fields: Any) -> StageCreate:
    fields.setdefault("sources", [source(f"https://example.org/{day}", "Example Wire", "Both.")])
    return StageCreate.model_validate({"date": day, "sides": [a, b]} | fields)


def exchange(slug: str, title: str, *stages: StageCreate, **fields: Any) -> ExchangeCreate:
    return ExchangeCreate.model_validate({"slug": slug, "title": title, **fields, "stages": stages})


def targets(a_name: str, b_name: str, **target: int) -> list[dict[str, Any]]:
    return [
        {"key": "a", "name": a_name, "target": target},
        {"key": "b", "name": b_name, "target": target},
    ]


def stage_row(session: Session, slug: str, day: str) -> Stage:
    query = (
        select(Stage)
        .join(Exchange, col(Exchange.id) == Stage.exchange_id)
        .where(col(Exchange.slug) == slug, col(Stage.date) == dt.date.fromisoformat(day))
        .order_by(col(Stage.id))
    )
    return session.scalars(query).one()


def add_edge_cases(session: Session) -> None:
    """The shapes of data the bundled seed lacks, each in an exchange of its own."""
    cases = [
        exchange(
            "edge-remains-only",
            "Only remains moved",
            stage("2025-03-01", side("a", remains=50), side("b", remains=40)),
            status="completed",
            sides=targets("Ukraine", "Russia", remains=100),
        ),
        exchange(
            "edge-partial-figures",
            "Figures disclosed in part",
            # Only a people total: the split was not disclosed.
            stage("2025-04-01", side("a", people=120), side("b", people=115), status="confirmed"),
            # Military known, civilians unknown, on both sides.
            stage(
                "2025-04-08",
                side("a", military=80),
                side("b", military=75, remains=3),
                status="disputed",
            ),
            # Every figure null on side a; two stages on one date (ordered by id).
            stage("2025-04-08", side("a"), side("b", military=10, civilian=5)),
            status="in_progress",
            planned_stages=5,
            sides=targets("Ukraine", "Russia", people=500),
        ),
        exchange(
            "edge-drafts-and-deletions",
            "A draft, a deleted stage and a stage published late",
            stage("2025-05-01", side("a", military=10, civilian=0), side("b", military=10)),
            stage("2025-05-02", side("a", military=99), side("b", military=99), published=False),
            stage("2025-05-03", side("a", military=7, civilian=1), side("b", people=8)),
            stage("2025-05-04", side("a", people=6), side("b", people=6), published=False),
            status="in_progress",
            sides=targets("Ukraine", "Russia", people=100),
        ),
        exchange(
            "edge-exchange-sources-and-remains-targets",
            "Exchange-level sources; targets for people, its parts and remains",
            stage(
                "2025-06-01",
                side("a", military=150, civilian=50, remains=20),
                side("b", military=190, civilian=10, remains=30),
            ),
            status="in_progress",
            agreed_on="2025-05-20",
            venue="Abu Dhabi",
            mediators=["UAE", "Qatar"],
            sides=targets("Ukraine", "Russia", people=300, military=200, civilian=100, remains=50),
            sources=[
                source("https://example.org/agreement", "Example Wire", "300.", "2025-05-20"),
                source("https://example.org/agreement-b", "Other Wire", "Bodies too."),
            ],
        ),
        exchange(
            "edge-armenia-azerbaijan",
            "Armenia and Azerbaijan",
            stage("2024-01-17", side("a", military=32), side("b", military=2)),
            status="stalled",
            sides=targets("Armenia", "Azerbaijan", people=40),
        ),
        exchange(
            "edge-reversed-sides",
            "Russia named first",
            stage("2025-07-01", side("a", military=84), side("b", military=80, civilian=4)),
            status="completed",
            sides=targets("Russia", "Ukraine", people=84),
        ),
        exchange(
            "edge-unpublished-exchange",
            "Not published yet",
            stage("2025-08-01", side("a", military=5, civilian=5), side("b", military=10)),
            published=False,
            sides=targets("Ukraine", "Russia", people=10),
        ),
        exchange(
            "edge-corrected-stage",
            "A published stage corrected with a reason",
            stage("2025-09-01", side("a", military=100), side("b", military=100)),
            status="completed",
            sides=targets("Ukraine", "Russia", people=200),
        ),
        exchange(
            "edge-ukrainian-text",
            "Обмін полоненими з українським текстом",
            stage(
                "2025-10-01",
                side("a", military=185, civilian=20),
                side("b", military=185, civilian=20),
                status="confirmed",
                notes="Повернулися 185 військових і 20 цивільних. «Лапки» — і апостроф: п'ять.",  # noqa: RUF001
                sources=[
                    source(
                        "https://uk.wikipedia.org/wiki/Обмін_полоненими",
                        "Координаційний штаб з питань поводження з військовополоненими",
                        "Додому повернулися 205 українців.",
                        "2025-10-01",
                    ),
                    source("https://t.me/koordshtab/1", "Коордштаб", "Ще один обмін."),
                ],
            ),
            status="completed",
            description="Опис українською.",
            sides=targets("Україна", "Росія", people=205),
        ),
        exchange("edge-no-stages", "Announced, nothing moved yet", status="announced"),
    ]
    for data in cases:
        writes.create_exchange(session, data=data, actor=ACTOR, reason="migration fixture")
    session.commit()

    deleted = stage_row(session, "edge-drafts-and-deletions", "2025-05-03")
    writes.delete_stage(session, stage=deleted, actor=ACTOR, user_id=None, reason="duplicate")
    late = stage_row(session, "edge-drafts-and-deletions", "2025-05-04")
    published = stage(
        "2025-05-04", side("a", people=6), side("b", people=6), notes="Published a day late."
    )
    writes.update_stage(
        session, stage=late, data=published, expected_version=late.version, actor=ACTOR
    )
    corrected = stage_row(session, "edge-corrected-stage", "2025-09-01")
    writes.update_stage(
        session,
        stage=corrected,
        data=stage(
            "2025-09-01",
            side("a", military=95, civilian=5),
            side("b", military=100),
            status="confirmed",
            notes="Corrected: 5 of Ukraine's returnees were civilians.",
            sources=[
                source("https://example.org/2025-09-01", "Example Wire", "Both."),
                source("https://example.org/correction", "Example Wire", "95 + 5.", "2025-09-02"),
            ],
        ),
        expected_version=corrected.version,
        actor=ACTOR,
        reason="The ombudsman's list counts 5 civilians.",
    )
    session.commit()


def plain(value: Any) -> Any:
    """A column value as JSON holds it: dates and UTC datetimes (SQLite stores no offset) as ISO."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def dump_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of TABLES as the schema at 0004 holds it, in id order."""
    tables = MetaData()
    tables.reflect(engine, only=TABLES)
    with engine.connect() as connection:
        return {
            name: [
                {column: plain(value) for column, value in row._mapping.items()}
                for row in connection.execute(
                    select(tables.tables[name]).order_by(tables.tables[name].c.id)
                )
            ]
            for name in TABLES
        }


def check_types(engine: Engine) -> None:
    """Only dates and datetimes need converting back (JSON columns hold JSON): fail loudly on
    any other column the JSON file could not carry as it is."""
    tables = MetaData()
    tables.reflect(engine, only=TABLES)
    for table in tables.tables.values():
        for column in table.columns:
            if isinstance(column.type, Date | DateTime | JSON):
                continue
            assert column.type.python_type in (int, str, bool), (table.name, column.name)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    assert head_revisions() == {V1_REVISION}, "the fixture pins the schema at revision 0004"
    clock = fixed_clock()
    writes.utcnow = lambda: next(clock)
    # Revision.at comes from the model's default; set it from the same clock.
    event.listen(Revision, "before_insert", lambda _m, _c, row: setattr(row, "at", next(clock)))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'v1.db'}"
        upgrade(url, V1_REVISION)
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                seed.load(session)
                add_edge_cases(session)
            check_types(engine)
            rows = dump_rows(engine)
            settings = Settings(environment="test", database_url=url, secret_key="fixture")
            with TestClient(create_app(settings)) as client, Session(engine) as session:
                slugs = sorted(crud.exchange_slugs(session))
                recorded = answers(session, client, slugs=slugs)
        finally:
            engine.dispose()
    DATA.mkdir(parents=True, exist_ok=True)
    write_json(DATA / "v1_rows.json", rows)
    write_json(DATA / "v1_answers.json", recorded)
    counts = ", ".join(f"{name} {len(rows[name])}" for name in TABLES)
    print(f"Wrote {DATA / 'v1_rows.json'} ({counts}) and v1_answers.json ({len(slugs)} exchanges).")  # noqa: T201


if __name__ == "__main__":
    main()
