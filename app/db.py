"""Database engine from settings, the constraint naming convention, and sessions."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, create_engine

import app.models  # noqa: F401  (registers every table on the metadata)
from app import data_revision, search

metadata: MetaData = SQLModel.metadata
# create_all (tests, fresh files) gets the triggers that migration 0004 gives migrated databases.
event.listen(metadata, "after_create", data_revision.create_triggers)
# And the text search index that migration 0008 builds (FTS5 tables are not in the metadata).
event.listen(metadata, "after_create", search.create_index)
event.listen(metadata, "before_drop", search.drop_index)

SQLITE_BUSY_TIMEOUT_MS = 5000
PG_CONNECT_TIMEOUT_SECONDS = 5


def make_engine(database_url: str) -> Engine:
    """The engine; its errors never carry the statement's parameters (password and token
    hashes, emails), since they end up in the logs."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        # A server that went away answers 503 within seconds rather than hanging each request.
        connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS}
        return create_engine(
            url, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True
        )
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
    # SQLite's own lower() folds ASCII only, so "київ" would never find "Київ". Python's str.lower
    # is the same simple Unicode mapping as PostgreSQL's lower() in a UTF-8 locale, so a search
    # finds the same stages on both.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def iter_session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
