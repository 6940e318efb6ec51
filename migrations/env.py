"""Alembic environment: the app's metadata, and the database from the app's settings."""

from typing import Any

from alembic import context
from sqlalchemy import Connection

from app import search
from app.db import make_engine, metadata
from app.models import UTCDateTime
from app.settings import Settings

config = context.config


def render_item(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    # Our UTC wrapper is DateTime(timezone=True) in the database: keep revisions free of app code.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    # The text search's FTS5 tables (and their shadow tables) and pg_trgm indexes are made by
    # DDL, not the metadata: Alembic can describe neither, and would offer to drop them.
    # tests/test_search.py checks that migrations and create_all make the same ones.
    if type_ == "table":
        return name not in search.sqlite_object_names()
    if type_ == "index":
        return name not in search.TRIGRAM_INDEXES
    return True


def run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies a table and drops the original: with foreign keys on, that drop
        # would cascade to every child row. Off for the run (a no-op inside a transaction), then
        # checked: the migrations must leave no dangling reference behind.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if dangling:
                raise RuntimeError(f"the migration left dangling references: {dangling[:5]}")
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = config.attributes.get("database_url") or Settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        run_migrations(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported: run them against a database.")
run_migrations_online()
