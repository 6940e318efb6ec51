"""Caching: the data revision moves with every write, on both databases and through migrations;
ETags, 304s and Cache-Control; two app processes on one database never keep a stale tally."""

import asyncio
import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from app import data_revision, sample_data, writes
from app.caching import REVISION_HOLD_SECONDS, HttpCache, RenderCache, Rendered, etag_matches
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.models import Exchange, StageRelease
from app.settings import Settings
from tests.factories import add_stage, make_exchange, stage_data
from tests.html import parse, texts

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

WIDGET = "/embed/istanbul-1000-for-1000"


def revision(engine: Engine) -> int | None:
    with engine.connect() as connection:
        return data_revision.read(connection)


def test_every_kind_of_write_moves_the_revision(engine: Engine, session: Session) -> None:
    seen = [revision(engine)]
    exchange = make_exchange(session)
    seen.append(revision(engine))
    stage = add_stage(session, exchange, stage_data())
    seen.append(revision(engine))
    writes.update_stage(
        session,
        stage=stage,
        data=stage_data(a=(271, 120)),
        expected_version=1,
        actor="test",
        reason="ministry corrected",
    )
    session.commit()
    seen.append(revision(engine))
    writes.delete_stage(
        session,
        stage=stage,
        expected_version=stage.version,
        actor="test",
        user_id=None,
        reason="duplicate",
    )
    session.commit()
    seen.append(revision(engine))
    session.execute(update(StageRelease).values(qualifier="about"))  # Core, outside writes.py
    session.commit()
    seen.append(revision(engine))
    sample_data.generate(engine, exchanges=2, stages=10)  # bulk inserts on a raw connection
    seen.append(revision(engine))
    assert seen[0] == 0
    assert all(later > earlier for earlier, later in itertools.pairwise(seen)), seen


def test_reads_and_rollbacks_leave_the_revision(engine: Engine, session: Session) -> None:
    make_exchange(session)
    before = revision(engine)
    session.execute(update(Exchange).values(title="Not saved"))
    session.rollback()
    session.execute(text("SELECT count(*) FROM stage"))
    session.commit()
    assert revision(engine) == before


def test_postgresql_counts_a_transaction_once(
    engine: Engine, session: Session, database_url: str
) -> None:
    """PostgreSQL's deferred trigger moves the counter once per transaction, at commit; SQLite
    lets one writer in at a time, and counts rows."""
    make_exchange(session, stage_data(), stage_data(date=dt.date(2025, 5, 24)))
    # The conflict, two parties, the exchange, its two parties, its terms and two targets; per
    # stage: the stage, two releases, its source, the exchange's updated_at.
    rows = 1 + 2 + 1 + 2 + 1 + 2 + 2 * (1 + 2 + 1 + 1)
    expected = 1 if database_url.startswith("postgresql") else rows
    assert revision(engine) == expected


def test_a_migrated_database_counts_writes(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert revision(engine) == 0
        with Session(engine) as session:
            exchange = make_exchange(session)
            first = revision(engine)
            add_stage(session, exchange, stage_data())
            with session.begin():
                session.execute(update(Exchange).values(venue="Istanbul"))
                session.execute(update(StageRelease).values(qualifier="at_least"))
        assert first is not None
        assert first > 0
        assert (revision(engine) or 0) > first
    finally:
        engine.dispose()


# ---- HTTP ----------------------------------------------------------------------------------


def test_widget_answers_304_to_its_etag(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data())
    first = client.get(WIDGET)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert len(etag) == 34
    assert first.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=600"
    assert "vary" not in first.headers
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(WIDGET, headers={"If-None-Match": sent})
        assert (again.status_code, again.content) == (304, b""), sent
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == first.headers["cache-control"]
    stale = client.get(WIDGET, headers={"If-None-Match": '"not-this-one"'})
    assert (stale.status_code, stale.content) == (200, first.content)


def test_cache_control_follows_the_settings(database_url: str, engine: Engine) -> None:  # noqa: ARG001
    settings = Settings(
        environment="test",
        database_url=database_url,
        secret_key="test-secret",
        cache_max_age=30,
        cache_stale_while_revalidate=90,
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/totals")
    assert response.headers["cache-control"] == "public, max-age=30, stale-while-revalidate=90"


def app_session(client: TestClient) -> Session:
    """A session on the app's own engine: writing through it is writing in the app's process."""
    return Session(client.app.state.engine)  # type: ignore[attr-defined]


def test_a_write_changes_the_widget_at_once_in_the_writing_process(client: TestClient) -> None:
    session = app_session(client)
    exchange = make_exchange(session, stage_data())
    first = client.get(WIDGET)
    add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))
    second = client.get(WIDGET, headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.headers["etag"] != first.headers["etag"]
    assert texts(parse(second.text), ".st-figure strong") == ["697", "697"]


def test_an_edit_elsewhere_keeps_the_etag(client: TestClient, session: Session) -> None:
    """The ETag hashes the body: a new exchange does not make every widget download again."""
    make_exchange(session, stage_data())
    etag = client.get(WIDGET).headers["etag"]
    make_exchange(session, slug="another-swap")
    again = client.get(WIDGET, headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_read_api_has_etags_and_304s(client: TestClient) -> None:
    session = app_session(client)
    exchange = make_exchange(session, stage_data())
    paths = [
        "/api/v1/exchanges",
        "/api/v1/exchanges/istanbul-1000-for-1000",
        "/api/v1/totals",
        "/api/v1/stages?status=reported",
        "/api/v1/stages.csv",
        "/api/v1/exchanges/istanbul-1000-for-1000/stages.csv",
    ]
    etags = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "vary" not in response.headers
        assert response.headers["cache-control"].startswith("public, max-age=60"), path
        etags[path] = response.headers["etag"]
        again = client.get(path, headers={"If-None-Match": etags[path]})
        assert (again.status_code, again.content) == (304, b""), path
    csv = client.get("/api/v1/stages.csv")
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.headers["content-disposition"] == 'attachment; filename="swaptally-stages.csv"'
    add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))
    for path in paths:
        response = client.get(path, headers={"If-None-Match": etags[path]})
        assert response.status_code == 200, path
        assert response.headers["etag"] != etags[path], path


def test_errors_are_not_cached(client: TestClient, session: Session) -> None:
    assert client.get(WIDGET).status_code == 404
    assert client.get("/api/v1/exchanges/istanbul-1000-for-1000").status_code == 404
    make_exchange(session)
    assert client.get(WIDGET).status_code == 200
    assert client.get("/api/v1/exchanges/istanbul-1000-for-1000").status_code == 200


# ---- two processes on one database -------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def two_apps(settings: Settings, engine: Engine) -> Iterator[tuple[FastAPI, FastAPI]]:  # noqa: ARG001
    """Two app instances, each with its own engine and cache, as two workers or replicas."""
    first, second = create_app(settings), create_app(settings)
    yield first, second
    first.state.engine.dispose()
    second.state.engine.dispose()


def test_an_edit_reaches_another_process_within_the_hold(
    two_apps: tuple[FastAPI, FastAPI],
) -> None:
    writer_app, reader_app = two_apps
    clock = Clock()
    cache: HttpCache = reader_app.state.http_cache
    cache.revision.clock = clock
    cache.revision.hold = REVISION_HOLD_SECONDS  # as outside tests
    with TestClient(writer_app) as writer, TestClient(reader_app) as reader:
        session = app_session(writer)
        exchange = make_exchange(session, stage_data())
        before = reader.get(WIDGET)
        assert texts(parse(before.text), ".st-figure strong") == ["390", "390"]
        assert writer.get(WIDGET).headers["etag"] == before.headers["etag"]

        add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))
        assert texts(parse(writer.get(WIDGET).text), ".st-figure strong") == ["697", "697"]
        # The reader trusts the revision it read for at most the hold (one second)...
        clock.now += cache.revision.hold / 2
        held = reader.get(WIDGET, headers={"If-None-Match": before.headers["etag"]})
        assert held.status_code == 304
        # ...and then reads it again: new figures, a new ETag, no 304 for the old one.
        clock.now += cache.revision.hold
        after = reader.get(WIDGET, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert texts(parse(after.text), ".st-figure strong") == ["697", "697"]
        assert after.headers["etag"] == writer.get(WIDGET).headers["etag"]


@pytest.mark.parametrize(
    ("environment", "max_age", "hold"),
    [("production", 60, REVISION_HOLD_SECONDS), ("production", 0, 0), ("test", 60, 0)],
)
def test_hold_never_outlasts_max_age(
    database_url: str, environment: str, max_age: int, hold: float
) -> None:
    settings = Settings(
        environment=environment,  # type: ignore[arg-type]
        database_url=database_url,
        secret_key="s",
        cache_max_age=max_age,
    )
    engine = make_engine(database_url)
    try:
        assert HttpCache(engine, settings).revision.hold == hold
    finally:
        engine.dispose()


# ---- the pieces ----------------------------------------------------------------------------


def test_render_cache_keeps_one_revision_and_evicts_least_recent() -> None:
    cache = RenderCache(max_bytes=10)
    four = Rendered.of(b"1234", "text/plain")
    cache.put("a", 1, four)
    cache.put("b", 1, four)
    assert cache.get("a", 1) == four
    assert cache.get("a", 2) is None
    cache.put("c", 1, four)  # 12 bytes: "b", the least recently used, goes
    assert (cache.get("b", 1), cache.get("a", 1), len(cache)) == (None, four, 2)


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abcd"', False),
        ("abc", False),
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches


def test_missing_counter_row_disables_the_cache(
    client: TestClient, session: Session, engine: Engine
) -> None:
    make_exchange(session, stage_data())
    session.execute(text("DELETE FROM data_revision"))
    session.commit()
    assert revision(engine) is None
    assert client.get(WIDGET).status_code == 200
    cache: HttpCache = client.app.state.http_cache  # type: ignore[attr-defined]
    assert len(cache.renders) == 0


def test_requests_in_flight_wait_for_one_render(settings: Settings, engine: Engine) -> None:
    """After an edit, a hot page is rendered once, not by every request that comes meanwhile;
    an answer not to keep (an error page) is rendered by each."""
    cache = HttpCache(engine, settings)
    calls = {"kept": 0, "not kept": 0}

    def request() -> Request:
        return Request({"type": "http", "method": "GET", "headers": [], "query_string": b""})

    async def kept() -> Rendered | Response:
        calls["kept"] += 1
        await asyncio.sleep(0.05)
        return Rendered.of(b"page", "text/html")

    async def not_kept() -> Rendered | Response:
        calls["not kept"] += 1
        await asyncio.sleep(0.05)
        return Response(b"gone", status_code=404)

    async def many() -> list[Response]:
        answers = [cache.respond(request(), "page", kept) for _ in range(5)]
        answers += [cache.respond(request(), "gone", not_kept) for _ in range(3)]
        return await asyncio.gather(*answers)

    answers = asyncio.run(many())
    assert [answer.status_code for answer in answers] == [200] * 5 + [404] * 3
    assert {answer.body for answer in answers[:5]} == {b"page"}
    assert calls == {"kept": 1, "not kept": 3}
