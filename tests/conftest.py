"""Fixtures: a fresh SQLite file or PostgreSQL database per test, and an app built on it."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app import sample_data
from app.db import make_engine, metadata
from app.main import create_app
from app.settings import Settings
from tests.needs import unavailable
from tests.pg import PostgresServer, PostgresUnavailable, running_server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        with running_server() as server:
            yield server
    except PostgresUnavailable as exc:
        unavailable("PostgreSQL", exc)


BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def empty_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A new SQLite file, or a new database on the test run's PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'swaptally.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.new_database("test") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database per test, on each backend."""
    with empty_database(request, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def large_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """An app on 200 generated exchanges and 20,000 stages, for a module of read-only tests."""
    with empty_database(request, tmp_path_factory) as url:
        engine = make_engine(url)
        metadata.create_all(engine)
        sample_data.generate(engine, exchanges=200, stages=20_000)
        engine.dispose()
        settings = Settings(environment="test", database_url=url, secret_key="test-secret")
        with TestClient(create_app(settings)) as client:
            yield client


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(environment="test", database_url=database_url, secret_key="test-secret")


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:  # noqa: ARG001 (schema)
    with TestClient(create_app(settings)) as client:
        yield client
