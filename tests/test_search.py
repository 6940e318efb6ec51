"""Text search through its index (app/search.py): the stages the old scan found, the index in step
with every write, the same index from migrations as from create_all, and no 500 on odd text."""

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, delete, select, text
from sqlmodel import Session, col

from app import sample_data, search
from app.crud import counted_stage, visible_exchange
from app.db import make_engine, metadata
from app.migrate import downgrade, upgrade
from app.models import Exchange, Source, Stage
from app.timeline import TimelineFilters, count_stages, timeline_page
from tests.factories import SOURCE, add_stage, make_exchange, stage_data

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

PRAVDA = {
    "url": "https://www.pravda.com.ua/news/2025/05/24/7513-obmin/",
    "publisher": "Українська правда",
    "claim": "Повернулися 307 захисників",
}
TASS = SOURCE | {
    "url": "https://tass.example/mod",
    "publisher": "TASS",
    "announcer": "Russian Defence Ministry",
    "claim": "Russian MoD figure",
}
ODD_NOTES = (
    """Day two: 100% of the list; names_checked; "quoted" NEAR the border AND OR * - 'single'"""
)


@pytest.fixture
def stages(session: Session) -> None:
    """Three stages, each named by the first word of its notes."""
    istanbul = make_exchange(
        session,
        stage_data(date=dt.date(2025, 5, 23), notes="Azovstal defenders came home"),
        title_uk="Обмін 1000 на 1000 у Стамбулі",
        summary="Agreed at the talks on 16 May.",
        summary_uk="Домовлено на переговорах 16 травня.",
    )
    add_stage(session, istanbul, stage_data(date=dt.date(2025, 5, 24), notes=ODD_NOTES,
                                            sources=[PRAVDA]))  # fmt: skip
    make_exchange(
        session,
        stage_data(date=dt.date(2024, 1, 3), notes="Civilians held since 2022", sources=[TASS]),
        slug="belarus-swap",
        title="Belarus swap",
        sides=[{"key": "a", "name": "Ukraine"}, {"key": "b", "name": "Belarus"}],
    )


def found(session: Session, q: str) -> list[str]:
    """The first word of the notes of each stage the timeline finds for `q`, newest first."""
    stages = timeline_page(session, TimelineFilters(q=q)).stages
    assert count_stages(session, TimelineFilters(q=q)) == len(stages)
    return [stage.notes.split()[0] for stage in stages]


def scanned(session: Session, q: str) -> list[str]:
    """The same through the first version's lower(column) LIKE scan."""
    rows = session.execute(
        select(col(Stage.notes))
        .join(Exchange, col(Exchange.id) == Stage.exchange_id)
        .where(search._scanned(q), counted_stage(), visible_exchange())
        .order_by(col(Stage.date).desc(), col(Stage.id).desc())
    ).scalars()
    return [notes.split()[0] for notes in rows]


@pytest.mark.usefixtures("stages")
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("azov", ["Azovstal"]),  # part of a word
        ("AZOVSTAL", ["Azovstal"]),
        ("Azovstal defenders", ["Azovstal"]),
        ("istanbul", ["Day", "Azovstal"]),  # the exchange's title
        ("the talks on", ["Day", "Azovstal"]),  # its summary
        ("стамбул", ["Day", "Azovstal"]),  # its Ukrainian title, in either case
        ("СТАМБУЛІ", ["Day", "Azovstal"]),
        ("травня", ["Day", "Azovstal"]),  # its Ukrainian summary
        ("ЗАХИСНИКІВ", ["Day"]),  # a source's claim
        ("українська ПРАВДА", ["Day"]),  # a publisher
        ("tass", ["Civilians"]),
        ("defence ministry", ["Civilians"]),  # an announcer
        ("pravda.com.ua/news/2025", ["Day"]),  # a fragment of a URL
        ("/mod", ["Civilians"]),
        ("example wire", ["Azovstal"]),
        ("100%", ["Day"]),  # LIKE's wildcards are text
        ("0% of", ["Day"]),
        ("names_checked", ["Day"]),
        ("y_two", []),  # not "y two"
        ("two%the", []),
        ('"quoted"', ["Day"]),  # FTS5 syntax is text too
        ('quoted" NEAR', ["Day"]),
        ("AND OR * -", ["Day"]),
        ("'single'", ["Day"]),
        ("Azov*", []),
        ("Azovstal OR tass", []),
        ("Azovstal NEAR defenders", []),
        ("-Azovstal", []),
        ("Azovstal AND defenders", []),
        ('a"b', []),
        ("zzz", []),
        ("x" * 3000, []),
        # Shorter than a trigram: the scan, with the same meaning.
        ("%", ["Day"]),
        ("_", ["Day"]),
        ("'", ["Day"]),
        ("ст", ["Day", "Azovstal"]),
        ("Ci", ["Civilians"]),
        ("q", ["Day"]),
        ("j", []),
    ],
)
def test_finds_what_the_scan_found(session: Session, q: str, expected: list[str]) -> None:
    assert found(session, q) == expected
    assert scanned(session, q) == expected


def index_rows(connection: Connection) -> dict[str, list[tuple[object, ...]]]:
    """On SQLite, each FTS5 table's rows; they must equal their table's searched columns."""
    rows = {}
    for name, columns in search.SEARCHED.items():
        names = ", ".join(columns)
        fts = connection.execute(
            text(f"SELECT rowid, {names} FROM {search.fts_table(name)} ORDER BY rowid")
        ).all()
        table = connection.execute(text(f"SELECT id, {names} FROM {name} ORDER BY id")).all()
        assert fts == table, name
        rows[name] = [tuple(row) for row in fts]
    return rows


@pytest.fixture(params=["create_all", "migrations"])
def made(request: pytest.FixtureRequest, database_url: str) -> Iterator[Engine]:
    """The test's database, its schema made by `metadata.create_all` or by the migrations."""
    engine = make_engine(database_url)
    if request.param == "create_all":
        metadata.create_all(engine)
    else:
        upgrade(database_url)
    yield engine
    engine.dispose()


def test_the_index_follows_every_write(made: Engine) -> None:
    with Session(made) as session:
        exchange = make_exchange(session, stage_data(notes="Kherson defenders"), title="Minsk swap")
        stage = session.exec(select(Stage)).scalars().one()
        assert found(session, "kherson") == ["Kherson"]
        assert found(session, "minsk") == ["Kherson"]

        stage.notes = "Odesa sailors"  # an edited note
        exchange.title = "Riyadh swap"  # and title
        session.add_all([stage, exchange])
        session.commit()
        assert found(session, "kherson") == []
        assert found(session, "odesa") == ["Odesa"]
        assert found(session, "minsk") == []
        assert found(session, "riyadh") == ["Odesa"]

        source = Source(
            exchange_id=exchange.id, stage_id=stage.id, url="https://example.org/new",
            publisher="Suspilne", claim="Прибули до Чернігова",
        )  # fmt: skip
        session.add(source)
        session.commit()
        assert found(session, "suspilne") == ["Odesa"]
        assert found(session, "чернігова") == ["Odesa"]
        source.claim = "Прибули до Сум"
        session.add(source)
        session.commit()
        assert found(session, "чернігова") == []
        assert found(session, "до сум") == ["Odesa"]
        session.delete(source)
        session.commit()
        assert found(session, "suspilne") == []

        second = add_stage(session, exchange, stage_data(notes="Sumy medics"))
        assert found(session, "medics") == ["Sumy"]
        if made.dialect.name == "sqlite":
            assert len(index_rows(session.connection())["stage"]) == 2
        session.delete(second)
        session.commit()
        assert found(session, "medics") == []
        if made.dialect.name == "sqlite":
            assert len(index_rows(session.connection())["stage"]) == 1
        # Deleting a stage takes its sources with it, and out of the index.
        session.add(Source(exchange_id=exchange.id, stage_id=stage.id, url="https://example.org/a",
                           publisher="Suspilne"))  # fmt: skip
        session.commit()
        session.execute(delete(Stage))
        session.commit()
        if made.dialect.name == "sqlite":
            rows = index_rows(session.connection())
            assert (rows["stage"], rows["source"]) == ([], [])
        assert found(session, "riyadh") == []
        assert found(session, "suspilne") == []


def search_objects(engine: Engine) -> set[tuple[str, ...]]:
    """What the database holds for the search: SQLite's FTS5 tables and triggers, PostgreSQL's
    indexes and extension, each with its SQL."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                text("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name LIKE :n"),
                {"n": "%_search%"},
            ).all()
        else:
            rows = connection.execute(
                text(
                    "SELECT 'index', indexname, tablename, indexdef FROM pg_indexes "
                    "WHERE indexname LIKE :n UNION ALL "
                    "SELECT 'extension', extname, '', '' FROM pg_extension "
                    "WHERE extname = 'pg_trgm'"
                ),
                {"n": "%_search"},
            ).all()
    return {tuple(re.sub(r"\s+", " ", str(value or "")) for value in row) for row in rows}


def expected_objects(dialect: str) -> set[tuple[str, ...]]:
    """Written out here, not read from app/search.py."""
    if dialect != "sqlite":
        gin = "CREATE INDEX {0}_search ON public.{1} USING gin ({2})"
        return {
            ("extension", "pg_trgm", "", ""),
            ("index", "ix_stage_search", "stage",
             gin.format("ix_stage", "stage", "notes gin_trgm_ops")),
            ("index", "ix_exchange_search", "exchange",
             gin.format("ix_exchange", "exchange", "title gin_trgm_ops, title_uk gin_trgm_ops, "
                        "description gin_trgm_ops, summary_uk gin_trgm_ops")),
            ("index", "ix_source_search", "source",
             gin.format("ix_source", "source", "claim gin_trgm_ops, publisher gin_trgm_ops, "
                        "announcer gin_trgm_ops, url gin_trgm_ops")),
        }  # fmt: skip
    columns = {
        "stage": "notes",
        "exchange": "title, title_uk, description, summary_uk",
        "source": "claim, publisher, announcer, url",
    }
    objects = set()
    for table, names in columns.items():
        fts = f"{table}_search"
        new = ", ".join(f"new.{name}" for name in names.split(", "))
        add = f"INSERT INTO {fts} (rowid, {names}) VALUES (new.id, {new});"
        remove = f"DELETE FROM {fts} WHERE rowid = old.id;"
        objects |= {
            ("table", fts, fts, f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, "
             "tokenize = 'trigram')"),
            ("trigger", f"{fts}_insert", table,
             f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END"),
            ("trigger", f"{fts}_update", table,
             f"CREATE TRIGGER {fts}_update AFTER UPDATE OF id, {names} ON {table} "
             f"BEGIN {remove} {add} END"),
            ("trigger", f"{fts}_delete", table,
             f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {remove} END"),
        }  # fmt: skip
        objects |= {("table", fts + suffix, fts + suffix, "") for suffix in ("_data", "_idx",
                    "_content", "_docsize", "_config")}  # fmt: skip
    return objects


def shadow_sql_blank(objects: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Shadow tables' own SQL is FTS5's business: compare their names only."""
    return {
        (kind, name, table, "" if name.endswith(search.FTS5_SHADOW_SUFFIXES) else sql)
        for kind, name, table, sql in objects
    }


def test_migrations_and_create_all_make_the_same_index(made: Engine) -> None:
    assert shadow_sql_blank(search_objects(made)) == expected_objects(made.dialect.name)


def test_upgrade_fills_the_index_and_downgrade_removes_it(database_url: str) -> None:
    upgrade(database_url, "0007")
    engine = make_engine(database_url)
    try:
        sample_data.generate(engine, exchanges=20, stages=200)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT notes, published FROM stage")).all()
        word = sample_data.SEARCH_WORD
        expected = sum(1 for notes, published in rows if published and word in notes)
        upgrade(database_url)
        with Session(engine) as session:
            assert count_stages(session, TimelineFilters(q=word.upper())) == expected
            assert found(session, word.lower()[1:]) == scanned(session, word)[:50]
            if engine.dialect.name == "sqlite":
                assert len(index_rows(session.connection())["stage"]) == 200
        downgrade(database_url, "0007")
        left = {("extension", "pg_trgm", "", "")} if engine.dialect.name != "sqlite" else set()
        assert search_objects(engine) == left
        with engine.begin() as connection:  # no trigger left behind writes to a dropped table
            connection.execute(text("UPDATE stage SET notes = 'edited'"))
            connection.execute(text("DELETE FROM source"))
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "q",
    [
        "%00", "a%00b%00c", "%22", "%22%22%22", "%27", "*", "NEAR(", "NEAR(a b, 2)", "AND",
        "%5C", "%25_%25", "%ff%fe", "%F0%9F%99%82", "%C3%A9t%C3%A9", "%E2%80%AE", "x" * 20_000,
        "%22" + "a" * 5000 + "%22", "(", ")", "^", ":", "{a b}:c", "col:value",
    ],
)  # fmt: skip
def test_odd_text_is_searched_never_a_500(client: TestClient, q: str) -> None:
    for path in ("/api/v1/stages", "/timeline"):
        assert client.get(f"{path}?q={q}").status_code == 200, path
