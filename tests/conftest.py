"""Fixtures: a fresh SQLite file or PostgreSQL database per test, and an app built on it."""

import resource
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app import accounts, sample_data
from app.db import make_engine, metadata
from app.main import create_app
from app.settings import Settings
from tests.needs import unavailable
from tests.pg import PostgresServer, PostgresUnavailable, running_server

_STARTED = time.monotonic()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The run's time as CI reports it, and its CPU time: on a shared machine the wall clock
    says more about the neighbours than about the suite."""
    cpu = sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    terminalreporter.write_line(
        f"test time: {time.monotonic() - _STARTED:.0f} s wall, {cpu:.0f} s CPU (pytest and the"
        " processes it ran and waited for; not the PostgreSQL server's own)"
    )


def pytest_configure() -> None:
    """Passwords in tests are argon2id at its cheapest, not the app's 0.2 s a hash (the apps the
    suite serves get PASSWORD_HASHING=cheapest); test_accounts checks the app's own parameters."""
    accounts.use_password_hasher(accounts.hasher_for("cheapest"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        with running_server() as server:
            yield server
    except PostgresUnavailable as exc:
        unavailable("PostgreSQL", exc)


BACKENDS = ["sqlite", "postgresql"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test of the database runs on SQLite; those marked `postgresql` (the database decides
    their outcome: see the README's "Tests") run on PostgreSQL too, and so do the marked cases
    of a parametrized test (`pytest.param(..., marks=pytest.mark.postgresql)`)."""
    if "database_url" not in metafunc.fixturenames or any(
        "database_url" in marker.args[0]
        for marker in metafunc.definition.iter_markers("parametrize")
    ):
        return
    on_both = metafunc.definition.get_closest_marker("postgresql") is not None
    on_both = on_both or _cases_marked(metafunc.definition)
    metafunc.parametrize("database_url", BACKENDS if on_both else BACKENDS[:1], indirect=True)


def _cases_marked(definition: pytest.Item) -> bool:
    """Whether some cases of the test, not the whole test, are marked `postgresql`."""
    return any(
        mark.name == "postgresql"
        for marker in definition.iter_markers("parametrize")
        for case in marker.args[1]
        for mark in getattr(case, "marks", ())  # a pytest.param's
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked case by case runs on PostgreSQL with its marked cases only (the others are
    reported as deselected: they were never meant to run there)."""
    unmarked = [item for item in items if _unmarked_case_on_postgresql(item)]
    if unmarked:
        config.hook.pytest_deselected(items=unmarked)
        items[:] = [item for item in items if not _unmarked_case_on_postgresql(item)]


def _unmarked_case_on_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (
        callspec is not None
        and callspec.params.get("database_url") == "postgresql"
        and item.get_closest_marker("postgresql") is None
        and _cases_marked(item)
    )


@contextmanager
def empty_database(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    template: "SchemaTemplates | None" = None,
) -> Iterator[str]:
    """A new SQLite file, or a new database on the test run's PostgreSQL server: empty, or with
    the app's tables copied from `template`."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "swaptally.db"
        if template:
            shutil.copyfile(template.sqlite(), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    copy = template.postgresql(server) if template else None
    with server.new_database("test", template=copy) as url:
        yield url


@dataclass
class SchemaTemplates:
    """The app's tables made once per run on each backend, then copied into each test's
    database: a file copy, rather than a hundred statements and commits per test."""

    folder: Path
    made: dict[str, str] = field(default_factory=dict)  # backend: its template

    def sqlite(self) -> str:
        """The template file's path."""
        if "sqlite" not in self.made:
            self.made["sqlite"] = str(self.folder / "schema.db")
            _create_schema(f"sqlite:///{self.made['sqlite']}")
        return self.made["sqlite"]

    def postgresql(self, server: PostgresServer) -> str:
        """The template database's name on the run's server."""
        if "postgresql" not in self.made:
            self.made["postgresql"] = "schema_template"
            _create_schema(server.create_database(self.made["postgresql"]))
        return self.made["postgresql"]


def _create_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    engine.dispose()  # no connection left: SQLite folds its WAL back in, PostgreSQL can copy


@pytest.fixture(scope="session")
def schema_templates(tmp_path_factory: pytest.TempPathFactory) -> SchemaTemplates:
    return SchemaTemplates(tmp_path_factory.mktemp("schema"))


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    schema_templates: SchemaTemplates,
) -> Iterator[str]:
    """A new database per test: empty, or with the app's tables if the test uses `engine`."""
    template = schema_templates if "engine" in request.fixturenames else None
    with empty_database(request, tmp_path_factory, template) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def large_client(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    schema_templates: SchemaTemplates,
) -> Iterator[TestClient]:
    """An app on 200 generated exchanges and 20,000 stages, for a module of read-only tests."""
    with empty_database(request, tmp_path_factory, schema_templates) as url:
        engine = make_engine(url)
        sample_data.generate(engine, exchanges=200, stages=20_000)
        engine.dispose()
        settings = Settings(environment="test", database_url=url, secret_key="test-secret")
        with TestClient(create_app(settings)) as client:
            yield client


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The test's database, with the app's tables (as `metadata.create_all` makes them)."""
    engine = make_engine(database_url)
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
